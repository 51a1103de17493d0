/**
 * The command list engine of one port (AHCI 1.3.1 5.3, 5.5, 5.6; ATA
 * commands per ACS-3; NCQ per SATA 3.x 13.6):
 *
 * - pump: issue the next PxCI slot (round robin from CCS + 1): fetch its
 *   command header ("ahci.cmdhdr") and command FIS ("ahci.cfis"), check
 *   them, and hand the command to the device.
 * - non-queued commands run one at a time (the device is busy, PxTFD.BSY);
 *   their data moves through the PRD table and they end with a D2H Register
 *   FIS (DMA, non-data) or a PIO Setup FIS (PIO data-in: IDENTIFY, READ LOG
 *   EXT), PRDBC written back, PxCI bit cleared.
 * - queued commands (READ/WRITE FPDMA QUEUED) are accepted by a D2H FIS
 *   that clears their PxCI bit; they complete later, in any order, with a
 *   Set Device Bits FIS whose SActive bits clear PxSACT.
 * - an error sets PxTFD.ERR and PxIS.TFES and halts the port: nothing more
 *   is issued until software clears and sets PxCMD.ST (6.2.2).
 */
import type { Duration } from '../../sim/time.js';
import { AtaCmd, AtaErr, LOG_DIRECTORY, LOG_NCQ_ERROR, SetFeature, STS_ERROR, STS_READY, Sts, ataCommandName } from './ata.js';
import { buildD2h, buildPioSetup, buildSdb, D2H_LEN, PIO_SETUP_LEN, SDB_LEN } from './fis.js';
import type { AhciHba } from './hba.js';
import {
  OP_ABORT, OP_FLUSH, OP_IDENTIFY, OP_NONE, OP_READ, OP_READ_LOG, OP_SET_FEATURES, OP_WRITE, SLOT_EXEC, SLOT_HUNG,
  SLOT_IDLE, SLOT_NCQ_ACTIVE, SLOT_NCQ_SENT, type AhciPort,
} from './port.js';
import {
  CMD_CCS_SHIFT, CMD_CCS_MASK, CMD_ST, CMDHDR_SIZE, CTBA_ALIGN, IS_DHRS, IS_DPS, IS_IFS, IS_OFS, IS_PSS, IS_SDBS, IS_TFES,
  RFIS_PSFIS, RFIS_RFIS, RFIS_SDBFIS, SERR_ERR_P, SSTS_DET_PHY, hex,
} from './regs.js';
import { AhciHostileTiming, AhciTiming } from './timing.js';
import { PRD_DBA_ODD, PRD_ODD, PRD_RESERVED, XFER_HBFS, XFER_OK, XFER_SHORT } from './transfer.js';

// Event kinds (hba.ts dispatches them): a0 = port, a1 = slot generation * 32 + slot.
export const EV_PUMP = 1;
export const EV_ACCEPT = 2;
export const EV_DONE = 3;
export const EV_NCQ_DONE = 4;

const SECTOR = 512;

function slotArg(p: AhciPort, slot: number): number {
  return p.slotGen[slot]! * 32 + slot;
}

/** The slot an event names, or -1 if the slot has moved on since it was scheduled. */
function slotOf(p: AhciPort, arg: number): number {
  const slot = arg % 32;
  return Math.floor(arg / 32) === p.slotGen[slot] ? slot : -1;
}

// ---------------------------------------------------------------- issue

/** Issues the next command of PxCI, if the port may (5.3.2). */
export function pump(h: AhciHba, p: AhciPort): void {
  if ((p.cmd & CMD_ST) === 0 || p.halted || p.deviceBusy || p.ciPending === 0) return;
  if (!p.hasDevice || (p.ssts & 0xf) !== SSTS_DET_PHY || (p.tfd & Sts.BSY) !== 0) {
    // No device or no link (or the device is still in its reset): nothing can be sent.
    if (!p.hasDevice || (p.ssts & 0xf) !== SSTS_DET_PHY) {
      const fresh = p.ciPending & ~p.ciNoDevice;
      if (fresh !== 0) {
        p.ciNoDevice = (p.ciNoDevice | fresh) >>> 0;
        h.err('ahci.cmd.no-device', `port ${p.index}: PxCI ${hex(fresh)} issued with ${p.hasDevice ? 'the link down' : 'no device attached'} (PxSSTS.DET=${p.ssts & 0xf}): the commands are not sent`);
      }
    }
    return;
  }
  let slot = p.nextSlot;
  while ((p.ciPending & (1 << slot)) === 0) slot = (slot + 1) & 31;
  p.ciPending = (p.ciPending & ~(1 << slot)) >>> 0;
  p.nextSlot = (slot + 1) & 31;
  p.cmd = ((p.cmd & ~CMD_CCS_MASK) | (slot << CMD_CCS_SHIFT)) >>> 0;
  if (!fetch(h, p, slot)) return;
  issue(h, p, slot);
  if (!p.deviceBusy) h.schedulePump(p);
}

/** Fetches the command header and command FIS of `slot` into h.hdr / h.cfis; false if the port stopped. */
function fetch(h: AhciHba, p: AhciPort, slot: number): boolean {
  const hdrAddr = p.clbAddr + slot * CMDHDR_SIZE;
  if (!h.dma.read(hdrAddr, h.hdr, 0, CMDHDR_SIZE, 'ahci.cmdhdr')) {
    h.hostBusFatal(p, `fetching command header ${slot} at ${hex(hdrAddr)}`);
    return false;
  }
  const v = h.hdrView;
  const dw0 = v.getUint32(0, true);
  let ctbaLo = v.getUint32(8, true);
  if ((ctbaLo & (CTBA_ALIGN - 1)) !== 0) {
    h.err('ahci.cmdhdr.ctba-unaligned', `port ${p.index} slot ${slot}: CTBA ${hex(ctbaLo)} is not 128-byte aligned (4.2.2); bits 6:0 ignored`);
    ctbaLo = (ctbaLo & ~(CTBA_ALIGN - 1)) >>> 0;
  }
  const ctba = v.getUint32(12, true) * 0x1_0000_0000 + ctbaLo;
  const cfl = dw0 & 0x1f;
  p.slotCtba[slot] = ctba;
  p.slotPrdtl[slot] = dw0 >>> 16;
  if (cfl < 2 || cfl > 16) {
    h.err('ahci.cmdhdr.cfl', `port ${p.index} slot ${slot}: CFL=${cfl} dwords (must be 2..16, 4.2.2): the FIS cannot be sent; PxIS.IFS`);
    interfaceFatal(h, p);
    return false;
  }
  h.cfis.fill(0);
  if (!h.dma.read(ctba, h.cfis, 0, cfl * 4, 'ahci.cfis')) {
    h.hostBusFatal(p, `fetching the command FIS of slot ${slot} at ${hex(ctba)}`);
    return false;
  }
  if (h.cfis[0] !== 0x27 || (h.cfis[1]! & 0x80) === 0) {
    h.err('ahci.cfis.type', `port ${p.index} slot ${slot}: command FIS type ${hex(h.cfis[0]!)} C=${h.cfis[1]! >>> 7} is not a Register H2D command FIS (27h, C=1); the device rejects it: PxIS.IFS`);
    interfaceFatal(h, p);
    return false;
  }
  return true;
}

/** PxIS.IFS with PxSERR.ERR.P (6.1.2): the port stops. */
function interfaceFatal(h: AhciHba, p: AhciPort): void {
  p.serr = (p.serr | SERR_ERR_P) >>> 0;
  p.halted = true;
  h.counters.errors++;
  h.raise(p, IS_IFS);
}

function lba48(c: Uint8Array): number {
  return (c[4]! | (c[5]! << 8) | (c[6]! << 16)) + (c[8]! | (c[9]! << 8) | (c[10]! << 16)) * 0x1000000;
}

function lba28(c: Uint8Array): number {
  return c[4]! | (c[5]! << 8) | (c[6]! << 16) | ((c[7]! & 0x0f) << 24);
}

/** Hands the fetched command (h.cfis) of `slot` to the device. */
function issue(h: AhciHba, p: AhciPort, slot: number): void {
  const c = h.cfis;
  const cmd = c[2]!;
  const write = (h.hdr[0]! & 0x40) !== 0;
  p.slotCmd[slot] = cmd;
  p.slotError[slot] = 0;
  p.commandsIssued++;
  const hang = h.cfg.faultHangCommand > 0 && p.index === h.cfg.faultPort && p.commandsIssued === h.cfg.faultHangCommand;

  if (cmd === AtaCmd.READ_FPDMA_QUEUED || cmd === AtaCmd.WRITE_FPDMA_QUEUED) {
    const isWrite = cmd === AtaCmd.WRITE_FPDMA_QUEUED;
    if (write !== isWrite) directionError(h, p, slot, cmd, write);
    const tag = c[12]! >>> 3;
    if (tag !== slot) h.err('ahci.ncq.tag-mismatch', `port ${p.index} slot ${slot}: ${ataCommandName(cmd)} carries tag ${tag}; the tag must be the command slot (8.2)`);
    if ((p.sact & (1 << slot)) === 0) h.err('ahci.ncq.sact-not-set', `port ${p.index} slot ${slot}: ${ataCommandName(cmd)} issued without PxSACT bit ${slot} set first (5.3.2)`);
    let sectors = c[3]! | (c[11]! << 8);
    if (sectors === 0) sectors = 65536;
    p.slotLba[slot] = lba48(c);
    p.slotSectors[slot] = sectors;
    p.slotOp[slot] = isWrite ? OP_WRITE : OP_READ;
    if (tag >= h.cfg.ncqDepth) {
      h.err('ahci.ncq.tag-beyond-depth', `port ${p.index} slot ${slot}: tag ${tag} is beyond the queue depth ${h.cfg.ncqDepth} (IDENTIFY word 75): aborted`);
      p.slotOp[slot] = OP_ABORT;
      p.slotError[slot] = AtaErr.ABRT;
    } else {
      checkRange(h, p, slot);
    }
    p.slotState[slot] = hang ? SLOT_HUNG : SLOT_NCQ_SENT;
    p.deviceBusy = true;
    h.queue.schedule(h.delay(AhciTiming.NCQ_ACCEPT, AhciHostileTiming.NCQ_ACCEPT), h.target, EV_ACCEPT, p.index, slotArg(p, slot));
    return;
  }

  // A non-queued command.
  p.deviceBusy = true;
  p.activeSlot = slot;
  p.tfd = (p.tfd & 0xff00) | Sts.BSY;
  p.slotState[slot] = hang ? SLOT_HUNG : SLOT_EXEC;
  p.slotLba[slot] = 0;
  p.slotSectors[slot] = 0;
  p.slotFeature[slot] = c[3]!;
  let latency: Duration = AhciTiming.COMMAND_LATENCY;
  /** Hostile range for fixed device latencies; null for media latencies (mediaDelay varies those itself). */
  let range: readonly [Duration, Duration] | null = AhciHostileTiming.COMMAND_LATENCY;
  if (p.ncqOutstanding !== 0) {
    // SATA 13.6.2: a non-queued command while queued ones are outstanding is an error for all of them.
    h.err('ahci.ncq.mixed', `port ${p.index} slot ${slot}: ${ataCommandName(cmd)} issued while queued commands ${hex(p.ncqOutstanding)} are outstanding: the device aborts it and them`);
    p.dropQueued();
    p.slotOp[slot] = OP_ABORT;
    p.slotError[slot] = AtaErr.ABRT;
  } else {
    switch (cmd) {
      case AtaCmd.READ_DMA_EXT:
      case AtaCmd.WRITE_DMA_EXT:
      case AtaCmd.READ_DMA:
      case AtaCmd.WRITE_DMA: {
        const ext = cmd === AtaCmd.READ_DMA_EXT || cmd === AtaCmd.WRITE_DMA_EXT;
        const isWrite = cmd === AtaCmd.WRITE_DMA_EXT || cmd === AtaCmd.WRITE_DMA;
        if (write !== isWrite) directionError(h, p, slot, cmd, write);
        let sectors = ext ? c[12]! | (c[13]! << 8) : c[12]!;
        if (sectors === 0) sectors = ext ? 65536 : 256;
        p.slotLba[slot] = ext ? lba48(c) : lba28(c);
        p.slotSectors[slot] = sectors;
        p.slotOp[slot] = isWrite ? OP_WRITE : OP_READ;
        if (!checkRange(h, p, slot)) break;
        if (isWrite) {
          if (!writeData(h, p, slot)) return;
          latency = h.mediaDelay(h.writeLatency, sectors * SECTOR);
        } else {
          latency = h.mediaDelay(h.readLatency, sectors * SECTOR);
        }
        range = null;
        break;
      }
      case AtaCmd.FLUSH_CACHE:
      case AtaCmd.FLUSH_CACHE_EXT:
        p.slotOp[slot] = OP_FLUSH;
        latency = h.mediaDelay(h.flushLatency, 0);
        range = null;
        break;
      case AtaCmd.IDENTIFY_DEVICE:
        if (write) directionError(h, p, slot, cmd, write);
        p.slotOp[slot] = OP_IDENTIFY;
        latency = AhciTiming.IDENTIFY_LATENCY;
        range = AhciHostileTiming.IDENTIFY_LATENCY;
        break;
      case AtaCmd.SET_FEATURES:
        p.slotOp[slot] = OP_SET_FEATURES;
        break;
      case AtaCmd.READ_LOG_EXT:
        p.slotOp[slot] = OP_READ_LOG;
        p.slotFeature[slot] = c[4]!; // log address (LBA 7:0)
        p.slotSectors[slot] = c[12]! | (c[13]! << 8);
        break;
      default:
        h.err('ahci.ata.unsupported', `port ${p.index} slot ${slot}: ${ataCommandName(cmd)} is not implemented by the device: aborted (ABRT)`);
        p.slotOp[slot] = OP_ABORT;
        p.slotError[slot] = AtaErr.ABRT;
    }
  }
  if (hang) return;
  const d = range === null ? latency : h.delay(latency, range);
  h.queue.schedule(d, h.target, EV_DONE, p.index, slotArg(p, slot));
}

function directionError(h: AhciHba, p: AhciPort, slot: number, cmd: number, w: boolean): void {
  h.err('ahci.cmdhdr.direction', `port ${p.index} slot ${slot}: command header W=${w ? 1 : 0} for ${ataCommandName(cmd)}, which ${w ? 'reads' : 'writes'} the device (4.2.2)`);
}

/** Rejects (IDNF) a transfer beyond the last sector; true when in range. */
function checkRange(h: AhciHba, p: AhciPort, slot: number): boolean {
  const end = p.slotLba[slot]! + p.slotSectors[slot]!;
  if (end <= p.disk!.blocks) return true;
  h.err('ahci.ata.lba-out-of-range', `port ${p.index} slot ${slot}: ${ataCommandName(p.slotCmd[slot]!)} LBA ${p.slotLba[slot]} + ${p.slotSectors[slot]} sectors goes beyond the last sector ${p.disk!.blocks - 1}: IDNF`);
  p.slotOp[slot] = OP_ABORT;
  p.slotError[slot] = AtaErr.IDNF | AtaErr.ABRT;
  return false;
}

/** Moves a write's data from the host into the disk; false if the port stopped. */
function writeData(h: AhciHba, p: AhciPort, slot: number): boolean {
  const bytes = p.slotSectors[slot]! * SECTOR;
  return transfer(h, p, slot, bytes, false, null);
}

/** Runs the PRD walk for `slot`; handles PRD guest errors, DPS, HBFS and OFS. False if the port stopped. */
function transfer(h: AhciHba, p: AhciPort, slot: number, bytes: number, toHost: boolean, src: Uint8Array | null): boolean {
  const w = h.walker;
  const r = w.run(p.slotCtba[slot]!, p.slotPrdtl[slot]!, bytes, toHost, p.disk, p.slotLba[slot]! * SECTOR, src);
  if ((w.flags & PRD_ODD) !== 0) h.err('ahci.prdt.odd-count', `port ${p.index} slot ${slot}: a PRD entry has DBC bit 0 clear (odd byte count); bit 0 is always 1 (4.2.3.3)`);
  if ((w.flags & PRD_RESERVED) !== 0) h.err('ahci.prdt.reserved', `port ${p.index} slot ${slot}: a PRD entry sets DBC bits 30:22 (over 4 MiB per entry, 4.2.3.3); ignored`);
  if ((w.flags & PRD_DBA_ODD) !== 0) h.err('ahci.prdt.dba-unaligned', `port ${p.index} slot ${slot}: a PRD entry DBA has bit 0 set (buffers are word aligned, 4.2.3.3)`);
  if (r === XFER_HBFS) {
    h.hostBusFatal(p, `moving the data of slot ${slot}`);
    return false;
  }
  if (r === XFER_SHORT) {
    h.err('ahci.prdt.short', `port ${p.index} slot ${slot}: ${ataCommandName(p.slotCmd[slot]!)} moves ${bytes} bytes but its ${p.slotPrdtl[slot]} PRD entries describe ${w.bytes}: PxIS.OFS`);
    p.halted = true;
    h.counters.errors++;
    h.raise(p, IS_OFS);
    return false;
  }
  if (toHost) h.counters.bytesRead += bytes;
  else h.counters.bytesWritten += bytes;
  if (w.interrupt) h.raise(p, IS_DPS);
  return true;
}

/** Reads from the fault range (faultMediaErrorLba/Sectors on faultPort) fail with UNC. */
function mediaError(h: AhciHba, p: AhciPort, slot: number): boolean {
  const cfg = h.cfg;
  if (cfg.faultMediaErrorSectors === 0 || p.index !== cfg.faultPort) return false;
  const lba = p.slotLba[slot]!;
  return lba < cfg.faultMediaErrorLba + cfg.faultMediaErrorSectors && lba + p.slotSectors[slot]! > cfg.faultMediaErrorLba;
}

// ---------------------------------------------------------------- non-queued completion

/** A non-queued command's execution finished (its latency elapsed). */
export function onDone(h: AhciHba, p: AhciPort, arg: number): void {
  const slot = slotOf(p, arg);
  if (slot < 0 || p.slotState[slot] !== SLOT_EXEC) return;
  switch (p.slotOp[slot]) {
    case OP_READ:
      if (mediaError(h, p, slot)) {
        finish(h, p, slot, STS_ERROR, AtaErr.UNC, false, 0);
        return;
      }
      if (!transfer(h, p, slot, p.slotSectors[slot]! * SECTOR, true, null)) return endAfterStop(p);
      h.counters.reads++;
      finish(h, p, slot, STS_READY, 0, false, h.walker.bytes);
      return;
    case OP_WRITE:
      h.counters.writes++;
      finish(h, p, slot, STS_READY, 0, false, p.slotSectors[slot]! * SECTOR);
      return;
    case OP_FLUSH:
      h.counters.flushes++;
      finish(h, p, slot, STS_READY, 0, false, 0);
      return;
    case OP_IDENTIFY:
      h.counters.otherCommands++;
      if (!transfer(h, p, slot, 512, true, h.identify(p))) return endAfterStop(p);
      finish(h, p, slot, STS_READY, 0, true, 512);
      return;
    case OP_SET_FEATURES:
      h.counters.otherCommands++;
      if (setFeatures(h, p, slot)) finish(h, p, slot, STS_READY, 0, false, 0);
      else finish(h, p, slot, STS_ERROR, AtaErr.ABRT, false, 0);
      return;
    case OP_READ_LOG:
      h.counters.otherCommands++;
      readLog(h, p, slot);
      return;
    case OP_ABORT:
    case OP_NONE:
    default:
      finish(h, p, slot, STS_ERROR, p.slotError[slot]! || AtaErr.ABRT, false, 0);
  }
}

/** The port stopped during a transfer (HBFS/OFS): the device gave up the command. */
function endAfterStop(p: AhciPort): void {
  p.deviceBusy = false;
  p.activeSlot = -1;
  p.tfd &= ~Sts.BSY;
}

/** SET FEATURES (ACS-3 7.45): the subcommands a SATA disk driver uses. */
function setFeatures(h: AhciHba, p: AhciPort, slot: number): boolean {
  const f = p.slotFeature[slot]!;
  switch (f) {
    case SetFeature.ENABLE_WRITE_CACHE: p.writeCache = true; return true;
    case SetFeature.DISABLE_WRITE_CACHE: p.writeCache = false; return true;
    case SetFeature.ENABLE_READ_LOOK_AHEAD: p.readLookAhead = true; return true;
    case SetFeature.DISABLE_READ_LOOK_AHEAD: p.readLookAhead = false; return true;
    case SetFeature.SET_TRANSFER_MODE:
    case SetFeature.ENABLE_SATA_FEATURE:
    case SetFeature.DISABLE_SATA_FEATURE:
      return true;
    default:
      h.err('ahci.ata.unsupported', `port ${p.index} slot ${slot}: SET FEATURES subcommand ${hex(f)} is not supported: aborted (ABRT)`);
      return false;
  }
}

/**
 * READ LOG EXT (ACS-3 7.24): the General Purpose Log Directory (00h) and the
 * NCQ Command Error log (10h, A.14), one page each; reading log 10h clears it.
 */
function readLog(h: AhciHba, p: AhciPort, slot: number): void {
  const log = p.slotFeature[slot]!;
  const buf = h.page;
  buf.fill(0);
  if (p.slotSectors[slot] !== 1 || (log !== LOG_DIRECTORY && log !== LOG_NCQ_ERROR)) {
    h.err('ahci.ata.unsupported', `port ${p.index} slot ${slot}: READ LOG EXT of log ${hex(log)}, ${p.slotSectors[slot]} pages: only one page of log 00h or 10h is supported: aborted`);
    finish(h, p, slot, STS_ERROR, AtaErr.ABRT, false, 0);
    return;
  }
  if (log === LOG_DIRECTORY) {
    buf[0] = 1; // General Purpose Logging version 1
    buf[LOG_NCQ_ERROR * 2] = 1; // log 10h: one page
  } else if (p.ncqErrValid) {
    buf[0] = p.ncqErrTag & 0x1f; // NQ = 0: the error was a queued command
    buf[2] = p.ncqErrStatus;
    buf[3] = p.ncqErrError;
    const lba = p.ncqErrLba;
    buf[4] = lba & 0xff; buf[5] = (lba >>> 8) & 0xff; buf[6] = (lba >>> 16) & 0xff; buf[7] = 0x40;
    const hi = Math.floor(lba / 0x1000000);
    buf[8] = hi & 0xff; buf[9] = (hi >>> 8) & 0xff; buf[10] = (hi >>> 16) & 0xff;
    buf[12] = p.ncqErrCount & 0xff; buf[13] = (p.ncqErrCount >>> 8) & 0xff;
    let sum = 0;
    for (let i = 0; i < 511; i++) sum += buf[i]!;
    buf[511] = (256 - (sum & 0xff)) & 0xff;
    p.ncqErrValid = false;
  } else {
    buf[0] = 0x80; // NQ = 1: no queued command error to report
  }
  if (!transfer(h, p, slot, 512, true, buf)) return endAfterStop(p);
  finish(h, p, slot, STS_READY, 0, true, 512);
}

/**
 * Ends a non-queued command (5.6.1, 5.6.2): PRDBC written back, then a D2H
 * Register FIS (or, for PIO data-in, a PIO Setup FIS whose E_Status ends
 * it), PxTFD from its status and error, PxCI bit cleared. An error status
 * leaves the PxCI bit set, raises PxIS.TFES and halts the port (6.1.2).
 */
function finish(h: AhciHba, p: AhciPort, slot: number, status: number, error: number, pio: boolean, bytes: number): void {
  p.slotState[slot] = SLOT_IDLE;
  p.deviceBusy = false;
  p.activeSlot = -1;
  const hdrAddr = p.clbAddr + slot * CMDHDR_SIZE;
  if (!h.dma.write32(hdrAddr + 4, bytes, 'ahci.cmdhdr')) {
    h.hostBusFatal(p, `writing PRDBC of slot ${slot} at ${hex(hdrAddr + 4)}`);
    p.tfd &= ~Sts.BSY;
    return;
  }
  const lba = p.slotLba[slot]!;
  const count = p.slotSectors[slot]!;
  let ok: boolean;
  if (pio) {
    buildPioSetup(h.fis, Sts.DRQ | Sts.DRDY, error, status, bytes, lba, count);
    ok = h.postFis(p, RFIS_PSFIS, PIO_SETUP_LEN);
  } else {
    buildD2h(h.fis, true, status, error, lba, count);
    ok = h.postFis(p, RFIS_RFIS, D2H_LEN);
  }
  p.tfd = (error << 8) | status;
  if (!ok) return;
  if ((status & Sts.ERR) !== 0) {
    taskFileError(h, p, slot, pio ? IS_PSS : IS_DHRS);
    return;
  }
  p.ci = (p.ci & ~(1 << slot)) >>> 0;
  h.raise(p, pio ? IS_PSS : IS_DHRS);
  h.schedulePump(p);
}

/** PxIS.TFES (6.1.2): the port halts with the failed command's PxCI/PxSACT bit still set. */
function taskFileError(h: AhciHba, p: AhciPort, slot: number, also: number): void {
  p.halted = true;
  h.counters.errors++;
  h.tracer.milestone(h.queue.now, h.dev, 'port.tfes', p.index, slot);
  h.raise(p, also | IS_TFES);
}

// ---------------------------------------------------------------- queued commands

/** The device accepts (or rejects) a queued command: D2H Register FIS, PxCI bit cleared (5.6.4). */
export function onAccept(h: AhciHba, p: AhciPort, arg: number): void {
  const slot = slotOf(p, arg);
  if (slot < 0) return;
  const st = p.slotState[slot];
  if (st !== SLOT_NCQ_SENT && st !== SLOT_HUNG) return;
  p.deviceBusy = false;
  const bit = 1 << slot;
  if (p.slotOp[slot] === OP_ABORT) {
    // A rejected queued command: D2H with ERR; the device aborts every queued command.
    p.slotState[slot] = SLOT_IDLE;
    buildD2h(h.fis, true, STS_ERROR, p.slotError[slot]!, p.slotLba[slot]!, 0);
    p.tfd = (p.slotError[slot]! << 8) | STS_ERROR;
    if (!h.postFis(p, RFIS_RFIS, D2H_LEN)) return;
    p.dropQueued();
    taskFileError(h, p, slot, IS_DHRS);
    return;
  }
  buildD2h(h.fis, false, STS_READY, 0, 0, 0);
  p.tfd = STS_READY;
  if (!h.postFis(p, RFIS_RFIS, D2H_LEN)) return;
  p.ci = (p.ci & ~bit) >>> 0;
  p.ncqOutstanding = (p.ncqOutstanding | bit) >>> 0;
  h.counters.ncqCommands++;
  if (st === SLOT_HUNG) {
    h.schedulePump(p);
    return;
  }
  p.slotState[slot] = SLOT_NCQ_ACTIVE;
  const bytes = p.slotSectors[slot]! * SECTOR;
  const write = p.slotOp[slot] === OP_WRITE;
  if (write && !transfer(h, p, slot, bytes, false, null)) return;
  h.queue.schedule(h.mediaDelay(write ? h.writeLatency : h.readLatency, bytes), h.target, EV_NCQ_DONE, p.index, slotArg(p, slot));
  h.schedulePump(p);
}

/**
 * A queued command finished on the device: data to the host (reads), then a
 * Set Device Bits FIS with its SActive bit, I = 1 (5.6.4.2): PxSACT bit
 * cleared, PxIS.SDBS. A media error instead sends an SDB FIS with ERR and
 * no SActive bit, records the NCQ Command Error log, aborts every queued
 * command and raises PxIS.TFES (SATA 13.6.3.2).
 */
export function onNcqDone(h: AhciHba, p: AhciPort, arg: number): void {
  const slot = slotOf(p, arg);
  if (slot < 0 || p.slotState[slot] !== SLOT_NCQ_ACTIVE) return;
  const bit = 1 << slot;
  const read = p.slotOp[slot] === OP_READ;
  if (read && mediaError(h, p, slot)) {
    p.ncqErrValid = true;
    p.ncqErrTag = slot;
    p.ncqErrStatus = STS_ERROR;
    p.ncqErrError = AtaErr.UNC;
    p.ncqErrLba = Math.max(p.slotLba[slot]!, h.cfg.faultMediaErrorLba);
    p.ncqErrCount = p.slotSectors[slot]!;
    p.dropQueued();
    buildSdb(h.fis, true, STS_ERROR, AtaErr.UNC, 0);
    if (!h.postFis(p, RFIS_SDBFIS, SDB_LEN)) return;
    p.tfd = sdbTfd(p.tfd, STS_ERROR, AtaErr.UNC);
    taskFileError(h, p, slot, IS_SDBS);
    return;
  }
  if (read && !transfer(h, p, slot, p.slotSectors[slot]! * SECTOR, true, null)) return;
  p.slotState[slot] = SLOT_IDLE;
  p.ncqOutstanding = (p.ncqOutstanding & ~bit) >>> 0;
  if (read) h.counters.reads++;
  else h.counters.writes++;
  buildSdb(h.fis, true, STS_READY, 0, bit);
  if (!h.postFis(p, RFIS_SDBFIS, SDB_LEN)) return;
  p.tfd = sdbTfd(p.tfd, STS_READY, 0);
  p.sact = (p.sact & ~bit) >>> 0;
  h.raise(p, IS_SDBS);
}

/** PxTFD after a Set Device Bits FIS: status bits 6:4 and 2:0 and the error from the FIS, BSY and DRQ kept (5.6.4.2). */
function sdbTfd(tfd: number, status: number, error: number): number {
  return (error << 8) | (tfd & (Sts.BSY | Sts.DRQ)) | (status & 0x77);
}
