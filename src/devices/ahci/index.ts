/**
 * AHCI 1.3.1 host bus adapter with SATA disks ("ahci").
 *
 * ABAR = BAR5 (32-bit memory, 8 KiB): generic host control at 0x00, port p
 * at 0x100 + p * 0x80. PCI class 01:06:01. Capabilities: PM, MSI (one
 * message, 64-bit). INTA#. Ports 0..ports-1 are implemented (PI); each may
 * hold a disk backed by an image file (`disks`), others show no device.
 * DMA tags: "ahci.cmdhdr" (command headers; PRDBC write-back), "ahci.cfis"
 * (command FISes), "ahci.prdt" (PRD entries), "ahci.fis" (received FISes
 * posted to the FIS area), "data" (sector and IDENTIFY/log data).
 */
import { checkAsciiProp, DeviceConfigError, type DeviceFactory } from '../device.js';
import type { PropTable } from '../../sim/props.js';
import { Disk, openDiskImage } from '../disk-image.js';
import { PCI_GUEST_ERRORS } from '../pci/guest-errors.js';
import { AhciHba, type AhciConfig } from './hba.js';
import { ahciDecoder } from './decode.js';
import { AHCI_GUEST_ERRORS } from './guest-errors.js';

export { AhciHba } from './hba.js';
export { ahciDecoder } from './decode.js';

/** Intel ICH9 AHCI (8086:2922, as QEMU's q35 machine), subsystem 1af4:1100; class 01:06:01. */
export const AHCI_PCI_IDS = {
  vendorId: 0x8086,
  deviceId: 0x2922,
  subsystemVendorId: 0x1af4,
  subsystemId: 0x1100,
  classCode: 0x010601,
} as const;

const SECTOR = 512;

export const ahciProps = {
  disks: {
    type: 'string', default: '', required: true,
    doc: 'Disk image per port, comma separated, relative to the machine file directory: "a.img,,b.img" puts disks on ports 0 and 2, port 1 empty. Each image is a non-zero multiple of 512 bytes',
  },
  ports: {
    type: 'number', default: 1, integer: true, min: 1, max: 32,
    doc: 'Ports implemented (CAP.NP + 1, PI bits 0..ports-1); at least the number of entries in disks',
  },
  writeThrough: {
    type: 'boolean', default: false,
    doc: 'false: the image files are never modified, writes go to an in-memory copy-on-write overlay; true: writes are also written to the files',
  },
  model: { type: 'string', default: 'simrun SATA SSD', doc: 'Model number (IDENTIFY words 27-46), up to 40 ASCII characters' },
  serial: {
    type: 'string', default: 'SIMRUN-AHCI-0001',
    doc: 'Serial number (IDENTIFY words 10-19) of the disk on port 0; the disk on port n gets "-n" appended; 20 ASCII characters at most in all',
  },
  firmware: { type: 'string', default: '1.0', doc: 'Firmware revision (IDENTIFY words 23-26), up to 8 ASCII characters' },
  ncqDepth: { type: 'number', default: 32, integer: true, min: 1, max: 32, doc: 'NCQ queue depth of the disks (IDENTIFY word 75 + 1): tags at or above it are aborted' },
  linkSpeed: { type: 'number', default: 3, integer: true, min: 1, max: 3, doc: 'SATA generation: 1 (1.5 Gb/s), 2 (3 Gb/s), 3 (6 Gb/s); CAP.ISS, PxSSTS.SPD and the data transfer time' },
  staggeredSpinUp: {
    type: 'boolean', default: false,
    doc: 'CAP.SSS: disks spin up (and their links come up) only when software sets PxCMD.SUD; false: at power-on and HBA reset',
  },
  readLatencyUs: { type: 'number', default: 80, min: 0, doc: 'Media latency of a read, in microseconds (plus the link transfer time)' },
  writeLatencyUs: { type: 'number', default: 30, min: 0, doc: 'Media latency of a write, in microseconds (plus the link transfer time)' },
  flushLatencyUs: { type: 'number', default: 500, min: 0, doc: 'Latency of FLUSH CACHE (EXT), in microseconds' },
  latencyJitterPct: {
    type: 'number', default: 0, min: 0, max: 100,
    doc: 'Seeded jitter applied to media latencies, +-percent (0 = exact latencies)',
  },
  linkUpDelayUs: {
    type: 'number', default: 1000, min: 0,
    doc: 'COMRESET released (or power-on, HBA reset, spin-up) to the link up (PxSSTS.DET=3), in microseconds; the signature FIS follows 50 us later',
  },
  faultPort: { type: 'number', default: 0, integer: true, min: 0, max: 31, doc: 'Port the fault props apply to' },
  faultMediaErrorLba: { type: 'number', default: 0, integer: true, min: 0, doc: 'Fault: first sector of a range whose reads fail with UNC (see faultMediaErrorSectors)' },
  faultMediaErrorSectors: {
    type: 'number', default: 0, integer: true, min: 0,
    doc: 'Fault: number of sectors from faultMediaErrorLba whose reads fail (Error UNC, PxTFD.ERR, PxIS.TFES; queued reads: NCQ error log 10h); 0 = off',
  },
  faultLinkDropUs: {
    type: 'number', default: 0, min: 0,
    doc: 'Fault: time from power-on (us) when the link of faultPort drops (PxSSTS.DET=0, PxSERR.DIAG.N, PxIS.PRCS); commands on the device are lost; 0 = off',
  },
  faultLinkDownUs: {
    type: 'number', default: 0, min: 0,
    doc: 'Fault: how long the dropped link stays down (us) before the device returns and the link comes up again; 0 = it never returns',
  },
  faultHangCommand: {
    type: 'number', default: 0, integer: true, min: 0,
    doc: 'Fault: the n-th command issued to the disk on faultPort never completes (counted from power-on); 0 = off',
  },
} as const satisfies PropTable;

export const ahciFactory: DeviceFactory<typeof ahciProps> = {
  type: 'ahci',
  description: 'AHCI 1.3.1 SATA host bus adapter with up to 32 ports, SATA disks backed by disk images',
  props: ahciProps,
  pciIds: { vendorId: AHCI_PCI_IDS.vendorId, deviceId: AHCI_PCI_IDS.deviceId, classCode: AHCI_PCI_IDS.classCode },
  decoder: ahciDecoder,
  guestErrors: { ...PCI_GUEST_ERRORS, ...AHCI_GUEST_ERRORS },
  create(ctx, props) {
    const entries = props.disks.split(',').map((s) => s.trim());
    if (entries.every((e) => e === '')) throw new DeviceConfigError('disks', 'is required: at least one disk image, e.g. "disk.img" or "a.img,,b.img"');
    if (entries.length > props.ports) {
      throw new DeviceConfigError('disks', `names ${entries.length} ports but ports is ${props.ports}: raise ports or remove entries`);
    }
    checkAsciiProp('model', props.model, 40);
    checkAsciiProp('firmware', props.firmware, 8);
    const lastSuffix = entries.length > 1 ? `-${entries.length - 1}`.length : 0;
    checkAsciiProp('serial', props.serial, 20 - lastSuffix);
    if (props.faultPort >= props.ports) {
      throw new DeviceConfigError('faultPort', `port ${props.faultPort} is not implemented (ports is ${props.ports})`);
    }
    const disks: (Disk | null)[] = [];
    const closeAll = (): void => { for (const d of disks) d?.close(); };
    for (let i = 0; i < entries.length; i++) {
      const name = entries[i]!;
      if (name === '') {
        disks.push(null);
        continue;
      }
      let disk: Disk;
      try {
        disk = openDiskImage(ctx.baseDir, `disks[${i}]`, name, SECTOR, props.writeThrough, '512', ctx.fixtureName);
      } catch (e) {
        closeAll();
        throw e;
      }
      disks.push(disk);
    }
    const cfg: AhciConfig = {
      vendorId: AHCI_PCI_IDS.vendorId,
      deviceId: AHCI_PCI_IDS.deviceId,
      subsystemVendorId: AHCI_PCI_IDS.subsystemVendorId,
      subsystemId: AHCI_PCI_IDS.subsystemId,
      ports: props.ports,
      model: props.model,
      serial: props.serial,
      firmware: props.firmware,
      ncqDepth: props.ncqDepth,
      gen: props.linkSpeed,
      staggeredSpinUp: props.staggeredSpinUp,
      readLatencyUs: props.readLatencyUs,
      writeLatencyUs: props.writeLatencyUs,
      flushLatencyUs: props.flushLatencyUs,
      latencyJitterPct: props.latencyJitterPct,
      linkUpDelayUs: props.linkUpDelayUs,
      faultPort: props.faultPort,
      faultMediaErrorLba: props.faultMediaErrorLba,
      faultMediaErrorSectors: props.faultMediaErrorSectors,
      faultLinkDropUs: props.faultLinkDropUs,
      faultLinkDownUs: props.faultLinkDownUs,
      faultHangCommand: props.faultHangCommand,
    };
    return new AhciHba(ctx, cfg, disks);
  },
};
