/**
 * Guest errors of the virtio PCI transport ("virtio.*") and of split
 * virtqueues ("virtq.*"), shared by every virtio device type: code ->
 * meaning and the virtio 1.2 section. A device adds its own catalogue
 * (e.g. ../blk/guest-errors.ts) and the PCI function's.
 */
import type { GuestErrorCatalogue } from '../../device.js';

export const VIRTQ_GUEST_ERRORS = {
  'virtq.avail.idx': {
    meaning: 'The available ring idx moved more than the queue size past what the device consumed; the device needs a reset (DEVICE_NEEDS_RESET)',
    spec: 'virtio 1.2 2.7.6, 2.1.2',
  },
  'virtq.avail.head': {
    meaning: 'An available ring entry names a descriptor outside the descriptor table; the device needs a reset',
    spec: 'virtio 1.2 2.7.6, 2.1.2',
  },
  'virtq.desc.next': {
    meaning: 'A descriptor\'s next index is outside the descriptor (or indirect) table; the device needs a reset',
    spec: 'virtio 1.2 2.7.5',
  },
  'virtq.desc.loop': {
    meaning: 'A descriptor chain is longer than the queue size or its indirect table: a loop; the device needs a reset',
    spec: 'virtio 1.2 2.7.5.2, 2.7.5.3.1',
  },
  'virtq.desc.chain-too-long': {
    meaning: 'An indirect table holds more descriptors than the queue size; the device needs a reset',
    spec: 'virtio 1.2 2.7.5.3.1',
  },
  'virtq.desc.chain-bytes': {
    meaning: 'A descriptor chain carries more than 2^32 bytes; the device needs a reset',
    spec: 'virtio 1.2 2.7.5.2',
  },
  'virtq.desc.order': {
    meaning: 'A device-readable descriptor follows a device-writable one in a chain; the device needs a reset',
    spec: 'virtio 1.2 2.7.4.2',
  },
  'virtq.desc.indirect-nested': {
    meaning: 'A descriptor inside an indirect table sets INDIRECT again; the device needs a reset',
    spec: 'virtio 1.2 2.7.5.3.1',
  },
  'virtq.desc.indirect-next': {
    meaning: 'A descriptor sets both INDIRECT and NEXT; the device needs a reset',
    spec: 'virtio 1.2 2.7.5.3.1',
  },
  'virtq.desc.indirect-feature': {
    meaning: 'A descriptor sets INDIRECT although VIRTIO_F_INDIRECT_DESC was not negotiated; the device needs a reset',
    spec: 'virtio 1.2 2.7.5.3.1',
  },
  'virtq.desc.indirect-len': {
    meaning: 'An indirect descriptor\'s length is 0 or not a multiple of 16 (the descriptor size); the device needs a reset',
    spec: 'virtio 1.2 2.7.5.3',
  },
  'virtq.dma': {
    meaning: 'A ring access (descriptor, available or used ring) was refused by the DMA port (memory not mapped for DMA, bus mastering off); the device needs a reset',
    spec: 'virtio 1.2 2.1.2, 2.7',
  },
} as const satisfies GuestErrorCatalogue;

export const VIRTIO_TRANSPORT_GUEST_ERRORS = {
  'virtio.common.width': {
    meaning: 'A common configuration field accessed with other than its natural width (8/16/32 bits, 64-bit fields as two 32-bit halves): a read returns the bytes, a write is dropped',
    spec: 'virtio 1.2 4.1.3.1',
  },
  'virtio.common.read-only': {
    meaning: 'A write to a read-only common configuration field (device_feature, num_queues, config_generation, queue_notify_off, queue_notify_data) or past the structure; ignored',
    spec: 'virtio 1.2 4.1.4.3',
  },
  'virtio.status.reserved': {
    meaning: 'device_status written with bits the driver may not set (DEVICE_NEEDS_RESET or undefined bits); they are ignored',
    spec: 'virtio 1.2 2.1.1',
  },
  'virtio.status.cleared': {
    meaning: 'device_status written with a set bit cleared, other than by writing 0 (reset); the bits stay set',
    spec: 'virtio 1.2 2.1.1',
  },
  'virtio.status.order': {
    meaning: 'A status bit set out of the initialization order (DRIVER before ACKNOWLEDGE, FEATURES_OK before DRIVER, DRIVER_OK before FEATURES_OK); DRIVER_OK without FEATURES_OK is not accepted',
    spec: 'virtio 1.2 3.1.1',
  },
  'virtio.features.refused': {
    meaning: 'FEATURES_OK set with features the device cannot accept (VERSION_1 not accepted, a bit not offered, a device-specific dependency); FEATURES_OK reads back clear',
    spec: 'virtio 1.2 2.2.2, 3.1.1, 6.1',
  },
  'virtio.features.late': {
    meaning: 'driver_feature written after FEATURES_OK was set; ignored',
    spec: 'virtio 1.2 3.1.1',
  },
  'virtio.vector.invalid': {
    meaning: 'An MSI-X vector outside the table written to config_msix_vector or queue_msix_vector; the device stores VIRTIO_MSI_NO_VECTOR (mapping failed)',
    spec: 'virtio 1.2 4.1.4.3.1, 4.1.5.1.2',
  },
  'virtio.queue.select': {
    meaning: 'A queue field accessed while queue_select names a queue the device does not have; writes are ignored, reads return 0',
    spec: 'virtio 1.2 4.1.4.3',
  },
  'virtio.queue.size': {
    meaning: 'queue_size written with 0, a value that is not a power of 2, or more than the maximum; ignored',
    spec: 'virtio 1.2 2.7, 4.1.4.3.2',
  },
  'virtio.queue.enabled': {
    meaning: 'A queue\'s size or ring addresses written while the queue is enabled; ignored',
    spec: 'virtio 1.2 4.1.4.3.2',
  },
  'virtio.queue.enable-zero': {
    meaning: 'queue_enable written with 0 (the driver must not; a queue is disabled by queue_reset or device reset); ignored',
    spec: 'virtio 1.2 4.1.4.3.2',
  },
  'virtio.queue.enable-invalid': {
    meaning: 'queue_enable set to 1 with a misaligned or unset ring address; the queue stays disabled',
    spec: 'virtio 1.2 2.7, 4.1.4.3.2',
  },
  'virtio.queue.reset-feature': {
    meaning: 'queue_reset written without VIRTIO_F_RING_RESET negotiated; ignored',
    spec: 'virtio 1.2 4.1.4.3.2',
  },
  'virtio.notify.offset': {
    meaning: 'A notification written to an address that is not queue_notify_off x notify_off_multiplier of an existing queue, or with a value that is not that queue\'s index',
    spec: 'virtio 1.2 4.1.4.4, 4.1.5.2',
  },
  'virtio.notify.width': {
    meaning: 'A notification written with other than 16 bits (VIRTIO_F_NOTIFICATION_DATA is not offered); honoured',
    spec: 'virtio 1.2 4.1.5.2',
  },
  'virtio.notify.not-ready': {
    meaning: 'A queue notified before DRIVER_OK, or while it is not enabled; ignored',
    spec: 'virtio 1.2 3.1.1, 4.1.5.2',
  },
  'virtio.isr.write': {
    meaning: 'A write to the ISR status (read-only, cleared by reading); ignored',
    spec: 'virtio 1.2 4.1.4.5',
  },
  'virtio.device-cfg.access': {
    meaning: 'A device configuration access past its end, misaligned, or a write to a read-only field; reads return 0, writes are ignored',
    spec: 'virtio 1.2 4.1.3.1',
  },
  'virtio.pci-cfg.access': {
    meaning: 'A VIRTIO_PCI_CAP_PCI_CFG window access with a bar, offset or length the device does not serve (length 1, 2 or 4, aligned, in the structures BAR); reads 0, writes ignored',
    spec: 'virtio 1.2 4.1.4.9',
  },
  'virtio.bar.unused': {
    meaning: 'An access to a BAR offset outside every virtio structure; reads 0, writes ignored',
    spec: 'virtio 1.2 4.1.4',
  },
} as const satisfies GuestErrorCatalogue;

export type VirtqGuestErrorCode = keyof typeof VIRTQ_GUEST_ERRORS;
export type VirtioTransportGuestErrorCode = keyof typeof VIRTIO_TRANSPORT_GUEST_ERRORS;

/** Every transport and ring code, for a device factory's catalogue. */
export const VIRTIO_GUEST_ERRORS = { ...VIRTIO_TRANSPORT_GUEST_ERRORS, ...VIRTQ_GUEST_ERRORS } as const;
