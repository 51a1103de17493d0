/**
 * NVMe 1.4 controller device ("nvme"): one active namespace backed by a disk
 * image, among `namespaces` valid NSIDs (the others inactive).
 *
 * BAR0 (64-bit memory, 16 KiB): registers 0x0000, doorbells 0x1000 (DSTRD 0),
 * MSI-X table 0x2000, PBA 0x3000. Capabilities: PM, MSI (32 vectors, 64-bit,
 * per-vector mask), MSI-X (msixVectors entries), PCIe. INTA#.
 * DMA tags: "nvme.asqe"/"nvme.sqe" (64-byte admin / I/O submission entries),
 * "nvme.acqe"/"nvme.cqe" (16-byte completion entries), "nvme.prp" (PRP
 * lists), "data" (command data).
 */
import { checkAsciiProp, DeviceConfigError, type DeviceFactory } from '../device.js';
import type { PropTable } from '../../sim/props.js';
import { NvmeController, type NvmeConfig } from './controller.js';
import { openDiskImage } from '../disk-image.js';
import { nvmeDecoder } from './decode.js';
import { NVME_GUEST_ERRORS } from './guest-errors.js';
import { PCI_GUEST_ERRORS } from '../pci/guest-errors.js';

export { NvmeController } from './controller.js';
export { Disk } from '../disk-image.js';
export { nvmeDecoder } from './decode.js';

/** QEMU's NVMe PCI IDs (Red Hat 1b36:0010, subsystem 1af4:1100); class 01:08:02 (NVMe I/O controller). */
export const NVME_PCI_IDS = {
  vendorId: 0x1b36,
  deviceId: 0x0010,
  subsystemVendorId: 0x1af4,
  subsystemId: 0x1100,
  classCode: 0x010802,
} as const;

export const nvmeProps = {
  image: {
    type: 'string', default: '', required: true,
    doc: 'Disk image file backing namespace 1, relative to the machine file directory; its size must be a multiple of lbaSize',
  },
  writeThrough: {
    type: 'boolean', default: false,
    doc: 'false: the image file is never modified, writes go to an in-memory copy-on-write overlay; true: writes are also written to the file',
  },
  lbaSize: { type: 'number', default: 512, integer: true, doc: 'Logical block size in bytes: 512 or 4096 (LBA format 0, LBADS)' },
  maxQueueEntries: {
    type: 'number', default: 1024, integer: true, min: 2, max: 65536,
    doc: 'Largest I/O queue the controller accepts, in entries (CAP.MQES + 1)',
  },
  ioQueuePairs: {
    type: 'number', default: 16, integer: true, min: 1, max: 255,
    doc: 'I/O submission/completion queue pairs granted (Set Features Number of Queues)',
  },
  msixVectors: { type: 'number', default: 17, integer: true, min: 1, max: 256, doc: 'MSI-X table entries (the table lives at BAR0 + 0x2000)' },
  readLatencyUs: { type: 'number', default: 80, min: 0, doc: 'Media latency of a Read, in microseconds' },
  writeLatencyUs: { type: 'number', default: 20, min: 0, doc: 'Media latency of a Write, in microseconds' },
  flushLatencyUs: { type: 'number', default: 200, min: 0, doc: 'Media latency of a Flush, in microseconds' },
  latencyJitterPct: {
    type: 'number', default: 0, min: 0, max: 100,
    doc: 'Seeded jitter applied to media latencies, +-percent (0 = exact latencies)',
  },
  readyDelayMs: {
    type: 'number', default: 1, min: 0,
    doc: 'Time from CC.EN = 1 to CSTS.RDY = 1, in milliseconds; at most CAP.TO (timeout500ms x 500 ms)',
  },
  timeout500ms: { type: 'number', default: 20, integer: true, min: 1, max: 255, doc: 'CAP.TO: worst-case ready time the driver may wait, in 500 ms units' },
  serial: { type: 'string', default: 'SIMRUN0000000001', doc: 'Serial number (Identify SN), up to 20 ASCII characters' },
  model: { type: 'string', default: 'simrun NVMe SSD', doc: 'Model number (Identify MN), up to 40 ASCII characters' },
  firmware: { type: 'string', default: '1.0', doc: 'Firmware revision (Identify FR), up to 8 ASCII characters' },
  mdts: {
    type: 'number', default: 5, integer: true, min: 1, max: 10,
    doc: 'Maximum Data Transfer Size: 2^mdts pages of 4 KiB (5 = 128 KiB)',
  },
  mediaChannels: {
    type: 'number', default: 8, integer: true, min: 1, max: 256,
    doc: 'Media operations in flight at once; further commands queue (and can be aborted) until a channel frees',
  },
  namespaces: {
    type: 'number', default: 1, integer: true, min: 1, max: 0xfffffffe,
    doc: 'Number of Namespaces (Identify Controller NN): NSIDs 1..namespaces are valid; only activeNsid is active (backed by image), the others are inactive',
  },
  activeNsid: {
    type: 'number', default: 1, integer: true, min: 1, max: 0xfffffffe,
    doc: 'The NSID of the one active namespace, backed by image (1..namespaces); Identify of another valid NSID returns zeroes and I/O to it completes with Invalid Field in Command',
  },
  faultStallIo: {
    type: 'number', default: 0, integer: true, min: 0,
    doc: 'Fault: the n-th Read or Write the controller accepts hangs (queued, never started) until the host aborts it, deletes its SQ or resets (0 = off)',
  },
} as const satisfies PropTable;

export const nvmeFactory: DeviceFactory<typeof nvmeProps> = {
  type: 'nvme',
  description: 'NVMe 1.4 controller with one active namespace backed by a disk image (namespaces: NN, inactive NSIDs)',
  props: nvmeProps,
  pciIds: { vendorId: NVME_PCI_IDS.vendorId, deviceId: NVME_PCI_IDS.deviceId, classCode: NVME_PCI_IDS.classCode },
  decoder: nvmeDecoder,
  // PCI function rules (config space, BARs, MSI/MSI-X) are checked for every PCI device.
  guestErrors: { ...PCI_GUEST_ERRORS, ...NVME_GUEST_ERRORS },
  create(ctx, props) {
    if (props.lbaSize !== 512 && props.lbaSize !== 4096) {
      throw new DeviceConfigError('lbaSize', `must be 512 or 4096, got ${props.lbaSize}`);
    }
    if (props.readyDelayMs > props.timeout500ms * 500) {
      throw new DeviceConfigError('readyDelayMs', `${props.readyDelayMs} ms exceeds CAP.TO (timeout500ms ${props.timeout500ms} x 500 ms = ${props.timeout500ms * 500} ms)`);
    }
    if (props.activeNsid > props.namespaces) {
      throw new DeviceConfigError('activeNsid', `${props.activeNsid} is above namespaces (${props.namespaces}): the active NSID must be 1..namespaces`);
    }
    checkAsciiProp('serial', props.serial, 20);
    checkAsciiProp('model', props.model, 40);
    checkAsciiProp('firmware', props.firmware, 8);
    if (props.image === '') throw new DeviceConfigError('image', 'is required: the disk image file backing the namespace');
    const disk = openDiskImage(ctx.baseDir, 'image', props.image, props.lbaSize, props.writeThrough, `lbaSize (${props.lbaSize})`, ctx.fixtureName);
    const cfg: NvmeConfig = {
      vendorId: NVME_PCI_IDS.vendorId,
      deviceId: NVME_PCI_IDS.deviceId,
      subsystemVendorId: NVME_PCI_IDS.subsystemVendorId,
      subsystemId: NVME_PCI_IDS.subsystemId,
      lbaSize: props.lbaSize,
      maxQueueEntries: props.maxQueueEntries,
      ioQueuePairs: props.ioQueuePairs,
      msixVectors: props.msixVectors,
      readLatencyUs: props.readLatencyUs,
      writeLatencyUs: props.writeLatencyUs,
      flushLatencyUs: props.flushLatencyUs,
      latencyJitterPct: props.latencyJitterPct,
      readyDelayMs: props.readyDelayMs,
      timeout500ms: props.timeout500ms,
      serial: props.serial,
      model: props.model,
      firmware: props.firmware,
      mdts: props.mdts,
      mediaChannels: props.mediaChannels,
      faultStallIo: props.faultStallIo,
      namespaces: props.namespaces,
      activeNsid: props.activeNsid,
    };
    return new NvmeController(ctx, cfg, disk);
  },
};
