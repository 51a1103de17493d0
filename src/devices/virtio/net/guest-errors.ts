/**
 * Guest errors of the virtio network device ("virtio.net.*"): code ->
 * meaning and the virtio 1.2 section. The transport's and rings' codes are
 * in ../transport/guest-errors.ts; the PCI function's in ../../pci. An RX
 * frame dropped for want of posted buffers is not a guest error (real
 * NICs drop too): it is counted in stats (rxDropped) and shown by stall().
 */
import type { GuestErrorCatalogue } from '../../device.js';

export const VIRTIO_NET_GUEST_ERRORS = {
  'virtio.net.tx-header': {
    meaning: 'A transmitq chain with fewer device-readable bytes than the 12-byte virtio_net_hdr; completed, nothing sent',
    spec: 'virtio 1.2 5.1.6, 5.1.6.2',
  },
  'virtio.net.tx-gso': {
    meaning: 'A transmitted header with gso_type other than NONE (no GSO/TSO feature is offered); completed, nothing sent',
    spec: 'virtio 1.2 5.1.6.2.1',
  },
  'virtio.net.tx-size': {
    meaning: 'A transmitted frame shorter than the 14-byte Ethernet header or longer than mtu + 14 (+ 4 with a VLAN tag); completed, nothing sent',
    spec: 'virtio 1.2 5.1.4.1, 5.1.6.2',
  },
  'virtio.net.tx-csum': {
    meaning: 'A transmitted header with NEEDS_CSUM whose csum_start + csum_offset + 2 lies past the frame (nothing sent), or NEEDS_CSUM without VIRTIO_NET_F_CSUM negotiated (sent unchanged)',
    spec: 'virtio 1.2 5.1.6.2, 5.1.6.2.1',
  },
  'virtio.net.tx-flags': {
    meaning: 'A transmitted header with flags other than NEEDS_CSUM (DATA_VALID and RSC_INFO are for received packets); the bits are ignored and the frame sent',
    spec: 'virtio 1.2 5.1.6.2.1',
  },
  'virtio.net.tx-writable': {
    meaning: 'A transmitq chain with device-writable descriptors; they are ignored and the frame sent',
    spec: 'virtio 1.2 5.1.6.2',
  },
  'virtio.net.rx-header': {
    meaning: 'A receiveq chain with device-readable descriptors or fewer than 12 writable bytes (no room for the virtio_net_hdr); returned with length 0',
    spec: 'virtio 1.2 5.1.6.3, 5.1.6.4',
  },
  'virtio.net.rx-buffer-small': {
    meaning: 'A received frame does not fit: without MRG_RXBUF the next receive buffer is shorter than header + frame, or with it more buffers than the device gathers for one frame would be needed; the frame is dropped and the buffers kept',
    spec: 'virtio 1.2 5.1.6.3.1, 5.1.6.4.1',
  },
  'virtio.net.ctrl-format': {
    meaning: 'A controlq chain without the 2-byte class/command header, without a device-writable ack byte, or with command data of the wrong size; acknowledged with VIRTIO_NET_ERR when there is an ack byte',
    spec: 'virtio 1.2 5.1.6.5',
  },
  'virtio.net.ctrl-unsupported': {
    meaning: 'A control command of a class or command the device does not offer or whose feature was not negotiated (VLAN, ANNOUNCE, MQ, GUEST_OFFLOADS, RX extras, ...); acknowledged with VIRTIO_NET_ERR',
    spec: 'virtio 1.2 5.1.6.5',
  },
} as const satisfies GuestErrorCatalogue;

export type VirtioNetGuestErrorCode = keyof typeof VIRTIO_NET_GUEST_ERRORS;
