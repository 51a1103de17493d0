/**
 * Guest errors of the virtio block device ("virtio.blk.*"): code -> meaning
 * and the virtio 1.2 section. The transport's and rings' codes are in
 * ../transport/guest-errors.ts; the PCI function's in ../../pci.
 */
import type { GuestErrorCatalogue } from '../../device.js';

export const VIRTIO_BLK_GUEST_ERRORS = {
  'virtio.blk.header': {
    meaning: 'A request whose device-readable part is shorter than the 16-byte header (type, reserved, sector); completed with IOERR',
    spec: 'virtio 1.2 5.2.6',
  },
  'virtio.blk.no-status': {
    meaning: 'A request with no device-writable byte for the status; returned on the used ring with length 0 and no status written',
    spec: 'virtio 1.2 5.2.6',
  },
  'virtio.blk.data-len': {
    meaning: 'An IN or OUT request whose data is not a multiple of 512 bytes; completed with IOERR',
    spec: 'virtio 1.2 5.2.6',
  },
  'virtio.blk.range': {
    meaning: 'A request for sectors past capacity; completed with IOERR',
    spec: 'virtio 1.2 5.2.6',
  },
  'virtio.blk.read-only': {
    meaning: 'A write (OUT, DISCARD, WRITE_ZEROES) to a device that offers VIRTIO_BLK_F_RO; completed with IOERR, nothing written',
    spec: 'virtio 1.2 5.2.6.2',
  },
  'virtio.blk.unsupported': {
    meaning: 'A request type the device does not support or whose feature was not negotiated (e.g. FLUSH without VIRTIO_BLK_F_FLUSH); completed with UNSUPP',
    spec: 'virtio 1.2 5.2.6',
  },
  'virtio.blk.segments': {
    meaning: 'A request with more descriptors than seg_max data segments plus header and status; completed with IOERR',
    spec: 'virtio 1.2 5.2.4, 5.2.6',
  },
  'virtio.blk.segment-size': {
    meaning: 'A descriptor longer than size_max with VIRTIO_BLK_F_SIZE_MAX negotiated; the request is still served',
    spec: 'virtio 1.2 5.2.4',
  },
  'virtio.blk.dwz': {
    meaning: 'A DISCARD or WRITE_ZEROES request whose data is not whole 16-byte segments, has more segments than max_*_seg, more sectors than max_*_sectors, or a range past capacity; completed with IOERR',
    spec: 'virtio 1.2 5.2.4, 5.2.6',
  },
  'virtio.blk.dwz-flags': {
    meaning: 'A DISCARD with the unmap flag, or a DISCARD / WRITE_ZEROES with unknown flags; completed with UNSUPP',
    spec: 'virtio 1.2 5.2.6.2',
  },
} as const satisfies GuestErrorCatalogue;

export type VirtioBlkGuestErrorCode = keyof typeof VIRTIO_BLK_GUEST_ERRORS;
