/**
 * virtio block device ("virtio-blk", virtio 1.2 5.2) over the modern virtio
 * PCI transport (PCI 1af4:1042, revision 1, subsystem 1af4:0002, class
 * 010000), backed by a disk image through the shared disk store.
 *
 * Offers VERSION_1, INDIRECT_DESC and EVENT_IDX (props), RING_RESET,
 * SEG_MAX, SIZE_MAX, BLK_SIZE, FLUSH, DISCARD, WRITE_ZEROES (props), RO
 * (prop readOnly), MQ when numQueues > 1. Requests IN, OUT, FLUSH, GET_ID,
 * DISCARD, WRITE_ZEROES; anything else is UNSUPP.
 * Layout, interrupts and DMA tags: ../transport/pci-transport.ts, ./device.ts.
 */
import { DeviceConfigError, type DeviceFactory } from '../../device.js';
import type { PropTable } from '../../../sim/props.js';
import { openDiskImage } from '../../disk-image.js';
import { PCI_GUEST_ERRORS } from '../../pci/guest-errors.js';
import { VIRTIO_GUEST_ERRORS } from '../transport/guest-errors.js';
import { VIRTIO_PCI_DEVICE_BASE, VIRTIO_PCI_VENDOR } from '../transport/regs.js';
import { VirtioBlk, type VirtioBlkConfig } from './device.js';
import { virtioBlkDecoder } from './decode.js';
import { VIRTIO_BLK_GUEST_ERRORS } from './guest-errors.js';
import { BLK_CLASS_CODE, BLK_ID_BYTES, VIRTIO_ID_BLOCK } from './regs.js';

export { VirtioBlk } from './device.js';
export { virtioBlkDecoder } from './decode.js';

export const virtioBlkProps = {
  image: {
    type: 'string', default: '', required: true,
    doc: 'Disk image file, relative to the machine file directory; its size must be a multiple of blkSize',
  },
  writeThrough: {
    type: 'boolean', default: false,
    doc: 'false: the image file is never modified, writes go to an in-memory copy-on-write overlay; true: writes are also written to the file',
  },
  readOnly: { type: 'boolean', default: false, doc: 'Offer VIRTIO_BLK_F_RO: writes, discards and write zeroes fail with IOERR' },
  blkSize: { type: 'number', default: 512, integer: true, doc: 'blk_size (VIRTIO_BLK_F_BLK_SIZE): the optimal block size, 512 or 4096; sectors stay 512 bytes' },
  numQueues: {
    type: 'number', default: 1, integer: true, min: 1, max: 64,
    doc: 'Request queues (num_queues); more than 1 offers VIRTIO_BLK_F_MQ',
  },
  queueSize: {
    type: 'number', default: 256, integer: true, min: 2, max: 32768,
    doc: 'Largest queue_size per request queue (a power of 2); also its reset value',
  },
  msixVectors: {
    type: 'number', default: 0, integer: true, min: 0, max: 2048,
    doc: 'MSI-X table entries (0 = numQueues + 1: one per queue plus the config vector)',
  },
  maxInflight: {
    type: 'number', default: 128, integer: true, min: 1, max: 4096,
    doc: 'Requests the device holds at once (all queues); when all are busy it stops consuming the available ring until one completes',
  },
  segMax: { type: 'number', default: 126, integer: true, min: 1, max: 1024, doc: 'seg_max: most data segments per request (VIRTIO_BLK_F_SEG_MAX)' },
  sizeMax: { type: 'number', default: 65536, integer: true, min: 512, doc: 'size_max: largest segment in bytes (VIRTIO_BLK_F_SIZE_MAX)' },
  flush: { type: 'boolean', default: true, doc: 'Offer VIRTIO_BLK_F_FLUSH (the FLUSH request)' },
  discard: { type: 'boolean', default: true, doc: 'Offer VIRTIO_BLK_F_DISCARD (contents of discarded sectors are kept)' },
  writeZeroes: { type: 'boolean', default: true, doc: 'Offer VIRTIO_BLK_F_WRITE_ZEROES' },
  maxDiscardSectors: { type: 'number', default: 65536, integer: true, min: 1, max: 0xffffffff, doc: 'max_discard_sectors: sectors per discard segment' },
  maxDiscardSeg: { type: 'number', default: 8, integer: true, min: 1, max: 256, doc: 'max_discard_seg: segments per DISCARD request' },
  maxWriteZeroesSectors: { type: 'number', default: 65536, integer: true, min: 1, max: 0xffffffff, doc: 'max_write_zeroes_sectors: sectors per write zeroes segment' },
  maxWriteZeroesSeg: { type: 'number', default: 8, integer: true, min: 1, max: 256, doc: 'max_write_zeroes_seg: segments per WRITE_ZEROES request' },
  indirectDesc: { type: 'boolean', default: true, doc: 'Offer VIRTIO_F_INDIRECT_DESC' },
  eventIdx: { type: 'boolean', default: true, doc: 'Offer VIRTIO_F_EVENT_IDX (used_event / avail_event suppression)' },
  serial: { type: 'string', default: 'SIMRUN-VBLK-0001', doc: 'Device ID string returned by GET_ID, up to 20 printable ASCII characters' },
  readLatencyUs: { type: 'number', default: 50, min: 0, doc: 'Media latency of an IN request, in microseconds' },
  writeLatencyUs: { type: 'number', default: 20, min: 0, doc: 'Media latency of an OUT, DISCARD or WRITE_ZEROES request, in microseconds' },
  flushLatencyUs: { type: 'number', default: 200, min: 0, doc: 'Latency of a FLUSH request, in microseconds' },
  latencyJitterPct: {
    type: 'number', default: 0, min: 0, max: 100,
    doc: 'Seeded jitter applied to media latencies, +-percent (0 = exact latencies)',
  },
  faultIoErrorSector: {
    type: 'number', default: 0, integer: true, min: 0,
    doc: 'Fault: first sector of a range whose IN/OUT/DISCARD/WRITE_ZEROES requests fail with IOERR (with faultIoErrorCount)',
  },
  faultIoErrorCount: {
    type: 'number', default: 0, integer: true, min: 0,
    doc: 'Fault: sectors in the failing range from faultIoErrorSector (0 = off)',
  },
  faultHangRequest: {
    type: 'number', default: 0, integer: true, min: 0,
    doc: 'Fault: the n-th request the device accepts (counted from power-on) never completes, until the device is reset (0 = off)',
  },
} as const satisfies PropTable;

export const virtioBlkFactory: DeviceFactory<typeof virtioBlkProps> = {
  type: 'virtio-blk',
  description: 'virtio 1.2 block device over the modern virtio PCI transport, backed by a disk image',
  props: virtioBlkProps,
  pciIds: { vendorId: VIRTIO_PCI_VENDOR, deviceId: VIRTIO_PCI_DEVICE_BASE + VIRTIO_ID_BLOCK, classCode: BLK_CLASS_CODE },
  decoder: virtioBlkDecoder,
  guestErrors: { ...PCI_GUEST_ERRORS, ...VIRTIO_GUEST_ERRORS, ...VIRTIO_BLK_GUEST_ERRORS },
  create(ctx, props) {
    if (props.blkSize !== 512 && props.blkSize !== 4096) {
      throw new DeviceConfigError('blkSize', `must be 512 or 4096, got ${props.blkSize}`);
    }
    if ((props.queueSize & (props.queueSize - 1)) !== 0) {
      throw new DeviceConfigError('queueSize', `must be a power of 2, got ${props.queueSize}`);
    }
    if (props.serial.length > BLK_ID_BYTES || !/^[\x20-\x7e]*$/.test(props.serial)) {
      throw new DeviceConfigError('serial', `must be up to ${BLK_ID_BYTES} printable ASCII characters, got ${JSON.stringify(props.serial)}`);
    }
    const msixVectors = props.msixVectors === 0 ? props.numQueues + 1 : props.msixVectors;
    if (props.image === '') throw new DeviceConfigError('image', 'is required: the disk image file backing the device');
    const disk = openDiskImage(ctx.baseDir, 'image', props.image, props.blkSize, props.writeThrough, `blkSize (${props.blkSize})`, ctx.fixtureName);
    const cfg: VirtioBlkConfig = {
      numQueues: props.numQueues,
      queueSize: props.queueSize,
      msixVectors,
      maxInflight: props.maxInflight,
      segMax: props.segMax,
      sizeMax: props.sizeMax,
      blkSize: props.blkSize,
      readOnly: props.readOnly,
      flush: props.flush,
      discard: props.discard,
      writeZeroes: props.writeZeroes,
      maxDiscardSectors: props.maxDiscardSectors,
      maxDiscardSeg: props.maxDiscardSeg,
      maxWriteZeroesSectors: props.maxWriteZeroesSectors,
      maxWriteZeroesSeg: props.maxWriteZeroesSeg,
      indirectDesc: props.indirectDesc,
      eventIdx: props.eventIdx,
      serial: props.serial,
      readLatencyUs: props.readLatencyUs,
      writeLatencyUs: props.writeLatencyUs,
      flushLatencyUs: props.flushLatencyUs,
      latencyJitterPct: props.latencyJitterPct,
      faultIoErrorSector: props.faultIoErrorSector,
      faultIoErrorCount: props.faultIoErrorCount,
      faultHangRequest: props.faultHangRequest,
    };
    return new VirtioBlk(ctx, cfg, disk);
  },
};
