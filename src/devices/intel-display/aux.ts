/**
 * DP AUX channel of one DDI port (DDI_AUX_CTL at 0x64010 + 0x100·port, data
 * 0x64014..0x64024; offsets here are relative to the port's block start),
 * with the DisplayPort sink behind it: a small DPCD (DP 1.2) and the EDID
 * over I2C-over-AUX.
 *
 * Bits per Linux drivers/gpu/drm/i915/display/intel_dp_aux_regs.h; the
 * sequence per intel_dp_aux.c (intel_dp_aux_xfer, skl_get_aux_send_ctl):
 * the driver packs the request into DATA1..5 (byte 0 in bits 31:24), writes
 * CTL = SEND_BUSY | DONE | TIME_OUT_ERROR | RECEIVE_ERROR (those three W1C)
 * | INTERRUPT | TIME_OUT | MESSAGE_SIZE(request bytes) | sync pulses, waits
 * for SEND_BUSY to clear, checks the error bits, and reads MESSAGE_SIZE
 * reply bytes from DATA1..5.
 *
 * What the model does:
 * - Request time: (sync pulses (CTL 4:0, +1) + 8) µs + 8 µs per byte at the
 *   1 Mbit/s AUX rate; the sink answers 10 µs later with a reply of
 *   (16 + 8) µs + 8 µs per byte. SEND_BUSY stays set until then; then DONE,
 *   MESSAGE_SIZE = reply bytes, reply in DATA1..5.
 * - No DP sink (nothing connected, or an HDMI/DVI monitor on the port): no
 *   reply; after the CTL time-out (27:26: 400, 600, 800, 1600 µs) DONE |
 *   TIME_OUT_ERROR.
 * - `auxNak` sink: every request gets the 1-byte native AUX_NACK reply (0x10).
 * - Interrupt on done: `hooks.irq()` when the transaction ends with CTL
 *   bit 29 set at its start.
 * - Native read (0x9) / write (0x8) of the DPCD (below), up to 16 bytes.
 *   I2C-over-AUX (request bit 3 clear): write (0), read (1), write status
 *   update (2), MOT (bit 2); address-only requests (3 header bytes) are
 *   START/STOP; the EEPROM at 0x50 and segment pointer at 0x30 behave as on
 *   GMBUS (gmbus.ts); without MOT the transaction ends (segment back to 0).
 *   Other I2C addresses, or an `edidNak` sink, get I2C_NACK (0x40).
 *
 * DPCD (DP 1.2, read-only unless noted): 000 DPCD_REV 0x12, 001 MAX_LINK_RATE
 * 0x14 (HBR2), 002 MAX_LANE_COUNT 0x84 (4 lanes, enhanced framing), 003
 * MAX_DOWNSPREAD 0x01, 004 NORP 0x01, 006 8b/10b 0x01, 008 local EDID 0x02;
 * 100-10F link configuration (RW: LINK_BW_SET, LANE_COUNT_SET,
 * TRAINING_PATTERN_SET, TRAINING_LANEx_SET...); 200 SINK_COUNT 0x01;
 * 202-204 lane status: clock recovery done on the configured lanes while
 * TPS1 is set, CR + channel EQ + symbol lock (and interlane align) with
 * TPS2/TPS3 or no pattern; 600 SET_POWER (RW, 0x01 D0). Everything else
 * reads 0, writes to it are ACKed and dropped.
 */
import type { EventQueue, EventHandle } from '../../sim/event-queue.js';
import { NO_EVENT } from '../../sim/event-queue.js';
import { FNV_OFFSET, fnvBytes, fnvNumber } from '../../sim/hash.js';
import type { Duration } from '../../sim/time.js';
import type { GuestErrorCatalogue } from '../device.js';
import type { MonitorSpec } from './monitors.js';

export const DDI_AUX_BASE = 0x64010;
export const DDI_AUX_STRIDE = 0x100;
export const AUX_CTL = 0x00;
export const AUX_DATA1 = 0x04;
/** Bytes of one port's AUX block (CTL + DATA1..5). */
export const AUX_BLOCK_SIZE = 0x18;

export const AUX_CTL_SEND_BUSY = 1 << 31;
export const AUX_CTL_DONE = 1 << 30;
export const AUX_CTL_INTERRUPT = 1 << 29;
export const AUX_CTL_TIME_OUT_ERROR = 1 << 28;
export const AUX_CTL_TIME_OUT_SHIFT = 26;
export const AUX_CTL_RECEIVE_ERROR = 1 << 25;
export const AUX_CTL_MESSAGE_SIZE_SHIFT = 20;
export const AUX_CTL_MESSAGE_SIZE_MASK = 0x1f << 20;
export const AUX_CTL_SYNC_PULSE_MASK = 0x1f;
/** W1C status bits. */
const AUX_CTL_STATUS = AUX_CTL_DONE | AUX_CTL_TIME_OUT_ERROR | AUX_CTL_RECEIVE_ERROR;
/** Time-outs of CTL 27:26 on SKL-GLK (3 = "max" = 1.6 ms), µs. */
export const AUX_TIMEOUT_US: readonly number[] = [400, 600, 800, 1600];

// AUX request commands (DP 1.2 2.7; Linux drm_dp.h DP_AUX_*).
export const AUX_I2C_WRITE = 0x0;
export const AUX_I2C_READ = 0x1;
export const AUX_I2C_WRITE_STATUS_UPDATE = 0x2;
export const AUX_I2C_MOT = 0x4;
export const AUX_NATIVE_WRITE = 0x8;
export const AUX_NATIVE_READ = 0x9;
// Reply byte 0 (the command nibble in bits 7:4): native 5:4, I2C 7:6.
export const AUX_REPLY_ACK = 0x00;
export const AUX_REPLY_NATIVE_NACK = 0x10;
export const AUX_REPLY_NATIVE_DEFER = 0x20;
export const AUX_REPLY_I2C_NACK = 0x40;
export const AUX_REPLY_I2C_DEFER = 0x80;
/** Most data bytes in one AUX request or reply (DP 1.2). */
export const AUX_MAX_PAYLOAD = 16;

/** DPCD addresses the model gives meaning to. */
export const DPCD = {
  REV: 0x000, MAX_LINK_RATE: 0x001, MAX_LANE_COUNT: 0x002, MAX_DOWNSPREAD: 0x003, NORP: 0x004,
  MAIN_LINK_CHANNEL_CODING: 0x006, RECEIVE_PORT0_CAP_0: 0x008,
  LINK_BW_SET: 0x100, LANE_COUNT_SET: 0x101, TRAINING_PATTERN_SET: 0x102,
  SINK_COUNT: 0x200, LANE0_1_STATUS: 0x202, LANE2_3_STATUS: 0x203, LANE_ALIGN_STATUS_UPDATED: 0x204, SINK_STATUS: 0x205,
  SET_POWER: 0x600,
} as const;
/** DPCD bytes stored (0x000..0x6FF); reads above read 0. */
const DPCD_SIZE = 0x700;

/** Time the sink takes to answer, and its reply preamble (sync + SYNC END + STOP), µs. */
const SINK_TURNAROUND_US = 10;
const REPLY_OVERHEAD_US = 24;
/** Request overhead beyond the sync pulses: SYNC END + STOP, µs. */
const REQUEST_OVERHEAD_US = 8;

export const AUX_GUEST_ERRORS = {
  'dpaux.reg.unknown': {
    meaning: 'An access inside a DDI AUX block at an offset that is no register; reads 0, writes are dropped',
    spec: 'intel_dp_aux_regs.h DP_AUX_CH_CTL, DP_AUX_CH_DATA (5 registers)',
  },
  'dpaux.busy': {
    meaning: 'DDI_AUX_CTL written with SEND_BUSY while a transaction is in progress; ignored',
    spec: 'intel_dp_aux.c intel_dp_aux_xfer (wait for SEND_BUSY clear before sending)',
  },
  'dpaux.data-while-busy': {
    meaning: 'A DDI_AUX_DATA register written while SEND_BUSY is set; stored, but the request was latched at the start and the reply overwrites it',
    spec: 'intel_dp_aux.c intel_dp_aux_xfer',
  },
  'dpaux.size': {
    meaning: 'SEND_BUSY with a message size of 0 or more than 20 bytes: nothing is sent; the channel ends with DONE | RECEIVE_ERROR',
    spec: 'intel_dp_aux.c intel_dp_aux_xfer ("Only 5 data registers!"; message sizes of 0 or >20 are not allowed)',
  },
  'dpaux.request.malformed': {
    meaning: 'An AUX request the sink cannot parse (fewer than 3 header bytes, a native request without a length byte, a write whose data does not match its length, a reserved command): no reply, the channel times out',
    spec: 'DP 1.2 2.7.5 (AUX request syntax); intel_dp_aux.c intel_dp_aux_header',
  },
  'dpaux.request.too-long': {
    meaning: 'An AUX read or write of more than 16 data bytes; the sink answers AUX_NACK',
    spec: 'DP 1.2 2.7.5 (at most 16 data bytes per transaction)',
  },
} as const satisfies GuestErrorCatalogue;

export type AuxGuestError = keyof typeof AUX_GUEST_ERRORS;

export interface AuxHooks {
  irq(): void;
  guestErr(code: AuxGuestError, msg: string): void;
}

const EV_DONE = 1;
/** Completion kinds (event a0). */
const END_REPLY = 0;
const END_TIMEOUT = 1;
const END_RECEIVE_ERROR = 2;

export class DpAux {
  private readonly target: number;
  private ev: EventHandle = NO_EVENT;
  private ctl = 0;
  private readonly dataRegs = new Uint32Array(5);
  /** Request and reply bytes (scratch, reused). */
  private readonly req = new Uint8Array(20);
  private readonly reply = new Uint8Array(20);
  private replyLen = 0;
  private irqOnDone = false;

  // Sink state.
  private readonly dpcd = new Uint8Array(DPCD_SIZE);
  private sinkSeen: MonitorSpec | null = null;
  private i2cAddr = -1;
  private i2cRead = false;
  private segment = 0;
  private wordAddr = 0;
  private firstByte = true;

  constructor(private readonly queue: EventQueue, readonly name: string, readonly port: number, private readonly sink: () => MonitorSpec | null, private readonly hooks: AuxHooks) {
    this.target = queue.register(`${name}.aux${port}`, this.onEvent);
    this.resetDpcd();
  }

  get busy(): boolean {
    return (this.ctl & AUX_CTL_SEND_BUSY) !== 0;
  }

  reset(): void {
    if (this.ev !== NO_EVENT) this.queue.cancel(this.ev);
    this.ev = NO_EVENT;
    this.ctl = 0;
    this.dataRegs.fill(0);
    this.replyLen = 0;
    this.irqOnDone = false;
    this.sinkSeen = null;
    this.resetDpcd();
    this.endI2c();
    this.wordAddr = 0;
  }

  read(off: number): number {
    if (off === AUX_CTL) return this.ctl >>> 0;
    const i = (off - AUX_DATA1) >> 2;
    if (off >= AUX_DATA1 && off < AUX_DATA1 + 20 && (off & 3) === 0) return this.dataRegs[i]!;
    this.hooks.guestErr('dpaux.reg.unknown', `read of AUX offset 0x${off.toString(16)} (port ${this.port})`);
    return 0;
  }

  write(off: number, value: number): void {
    const v = value >>> 0;
    if (off === AUX_CTL) {
      this.writeCtl(v);
      return;
    }
    if (off >= AUX_DATA1 && off < AUX_DATA1 + 20 && (off & 3) === 0) {
      if (this.busy) this.hooks.guestErr('dpaux.data-while-busy', `DATA${((off - AUX_DATA1) >> 2) + 1}=0x${v.toString(16)} while SEND_BUSY (port ${this.port})`);
      this.dataRegs[(off - AUX_DATA1) >> 2] = v;
      return;
    }
    this.hooks.guestErr('dpaux.reg.unknown', `write of 0x${v.toString(16)} to AUX offset 0x${off.toString(16)} (port ${this.port})`);
  }

  stateHash(): number {
    let h = FNV_OFFSET;
    h = fnvNumber(h, this.ctl >>> 0);
    for (let i = 0; i < 5; i++) h = fnvNumber(h, this.dataRegs[i]!);
    h = fnvNumber(h, this.replyLen);
    h = fnvNumber(h, (this.irqOnDone ? 1 : 0) | (this.i2cRead ? 2 : 0) | (this.firstByte ? 4 : 0));
    h = fnvNumber(h, this.i2cAddr + 1);
    h = fnvNumber(h, this.segment);
    h = fnvNumber(h, this.wordAddr);
    return fnvBytes(h, this.dpcd, 0, DPCD_SIZE);
  }

  // ---- internals

  private writeCtl(v: number): void {
    if (this.busy) {
      if ((v & AUX_CTL_SEND_BUSY) !== 0) this.hooks.guestErr('dpaux.busy', `DDI_AUX_CTL=0x${v.toString(16)} while SEND_BUSY (port ${this.port})`);
      // Control fields are latched for the transaction; only the W1C status bits act.
      this.ctl &= ~(v & AUX_CTL_STATUS);
      return;
    }
    const status = (this.ctl & AUX_CTL_STATUS & ~v) >>> 0;
    // Control fields as written; MESSAGE_SIZE as written (it reads back the reply size after DONE).
    this.ctl = ((v & ~(AUX_CTL_SEND_BUSY | AUX_CTL_STATUS)) | status) >>> 0;
    if ((v & AUX_CTL_SEND_BUSY) === 0) return;
    this.ctl = (this.ctl | AUX_CTL_SEND_BUSY) >>> 0;
    this.irqOnDone = (v & AUX_CTL_INTERRUPT) !== 0;
    const size = (v & AUX_CTL_MESSAGE_SIZE_MASK) >>> AUX_CTL_MESSAGE_SIZE_SHIFT;
    if (size === 0 || size > 20) {
      this.hooks.guestErr('dpaux.size', `DDI_AUX_CTL=0x${v.toString(16)}: message size ${size} (port ${this.port})`);
      this.ev = this.queue.schedule(1_000_000 as Duration, this.target, EV_DONE, END_RECEIVE_ERROR);
      return;
    }
    for (let i = 0; i < size; i++) this.req[i] = (this.dataRegs[i >> 2]! >>> (24 - 8 * (i & 3))) & 0xff;
    const syncPulses = (v & AUX_CTL_SYNC_PULSE_MASK) + 1;
    const requestUs = syncPulses + REQUEST_OVERHEAD_US + 8 * size;
    const answered = this.transact(size);
    if (!answered) {
      const timeoutUs = AUX_TIMEOUT_US[(v >>> AUX_CTL_TIME_OUT_SHIFT) & 3]!;
      this.ev = this.queue.schedule((requestUs + timeoutUs) * 1_000_000 as Duration, this.target, EV_DONE, END_TIMEOUT);
      return;
    }
    const replyUs = SINK_TURNAROUND_US + REPLY_OVERHEAD_US + 8 * this.replyLen;
    this.ev = this.queue.schedule((requestUs + replyUs) * 1_000_000 as Duration, this.target, EV_DONE, END_REPLY);
  }

  private readonly onEvent = (_kind: number, a0: number): void => {
    this.ev = NO_EVENT;
    let ctl = this.ctl & ~(AUX_CTL_SEND_BUSY | AUX_CTL_MESSAGE_SIZE_MASK);
    ctl |= AUX_CTL_DONE;
    if (a0 === END_TIMEOUT) ctl |= AUX_CTL_TIME_OUT_ERROR;
    else if (a0 === END_RECEIVE_ERROR) ctl |= AUX_CTL_RECEIVE_ERROR;
    else {
      const n = this.replyLen;
      for (let i = 0; i < 5; i++) this.dataRegs[i] = 0;
      for (let i = 0; i < n; i++) this.dataRegs[i >> 2] = (this.dataRegs[i >> 2]! | (this.reply[i]! << (24 - 8 * (i & 3)))) >>> 0;
      ctl |= n << AUX_CTL_MESSAGE_SIZE_SHIFT;
    }
    this.ctl = ctl >>> 0;
    if (this.irqOnDone) this.hooks.irq();
  };

  /** The sink's side: parses req[0..size), fills reply; false when nothing answers. */
  private transact(size: number): boolean {
    const m = this.sink();
    if (m === null || m.connector !== 'dp') {
      this.sinkSeen = null;
      return false;
    }
    if (m !== this.sinkSeen) {
      // A different (or re-plugged) sink: its DPCD link state starts over.
      this.sinkSeen = m;
      this.resetDpcd();
      this.endI2c();
    }
    const req = this.req;
    if (size < 3) {
      this.hooks.guestErr('dpaux.request.malformed', `AUX request of ${size} bytes (port ${this.port})`);
      return false;
    }
    const cmd = req[0]! >> 4;
    const addr = ((req[0]! & 0xf) << 16) | (req[1]! << 8) | req[2]!;
    if (m.auxNak) return this.replyByte(AUX_REPLY_NATIVE_NACK);
    const native = (cmd & 0x8) !== 0;
    if (native) {
      if (size < 4 || (cmd !== AUX_NATIVE_READ && cmd !== AUX_NATIVE_WRITE)) {
        this.hooks.guestErr('dpaux.request.malformed', `native AUX request 0x${cmd.toString(16)} of ${size} bytes (port ${this.port})`);
        return false;
      }
      const len = req[3]! + 1;
      if (len > AUX_MAX_PAYLOAD) {
        this.hooks.guestErr('dpaux.request.too-long', `native AUX ${cmd === AUX_NATIVE_READ ? 'read' : 'write'} of ${len} bytes at DPCD 0x${addr.toString(16)} (port ${this.port})`);
        return this.replyByte(AUX_REPLY_NATIVE_NACK);
      }
      if (cmd === AUX_NATIVE_READ) {
        if (size !== 4) {
          this.hooks.guestErr('dpaux.request.malformed', `native AUX read request of ${size} bytes (4 expected) (port ${this.port})`);
          return false;
        }
        this.reply[0] = AUX_REPLY_ACK;
        for (let i = 0; i < len; i++) this.reply[1 + i] = this.dpcdRead(addr + i);
        this.replyLen = 1 + len;
        return true;
      }
      if (size !== 4 + len) {
        this.hooks.guestErr('dpaux.request.malformed', `native AUX write of ${len} bytes sent in a ${size}-byte request (port ${this.port})`);
        return false;
      }
      for (let i = 0; i < len; i++) this.dpcdWrite(addr + i, req[4 + i]!);
      return this.replyByte(AUX_REPLY_ACK);
    }
    // I2C-over-AUX.
    const op = cmd & 3;
    const mot = (cmd & AUX_I2C_MOT) !== 0;
    if (op === 3) {
      this.hooks.guestErr('dpaux.request.malformed', `I2C-over-AUX request with reserved command 0x${cmd.toString(16)} (port ${this.port})`);
      return false;
    }
    const i2c = addr & 0x7f;
    const isRead = op === AUX_I2C_READ;
    const present = !m.edidNak && (i2c === 0x50 || (i2c === 0x30 && !isRead));
    if (!present) {
      this.endI2c();
      return this.replyByte(AUX_REPLY_I2C_NACK);
    }
    if (i2c !== this.i2cAddr || isRead !== this.i2cRead) {
      // (Repeated) START to a new address or direction.
      this.i2cAddr = i2c;
      this.i2cRead = isRead;
      this.firstByte = true;
    }
    if (size === 3) {
      // Address-only: START (MOT) or STOP (no MOT).
      if (!mot) this.endI2c();
      return this.replyByte(AUX_REPLY_ACK);
    }
    const len = req[3]! + 1;
    if (len > AUX_MAX_PAYLOAD) {
      this.hooks.guestErr('dpaux.request.too-long', `I2C-over-AUX ${isRead ? 'read' : 'write'} of ${len} bytes at 0x${i2c.toString(16)} (port ${this.port})`);
      return this.replyByte(AUX_REPLY_NATIVE_NACK);
    }
    if (isRead) {
      if (size !== 4) {
        this.hooks.guestErr('dpaux.request.malformed', `I2C-over-AUX read request of ${size} bytes (4 expected) (port ${this.port})`);
        return false;
      }
      this.reply[0] = AUX_REPLY_ACK;
      for (let i = 0; i < len; i++) this.reply[1 + i] = this.eepromRead(m.edid);
      this.replyLen = 1 + len;
    } else {
      if (size !== 4 + len) {
        this.hooks.guestErr('dpaux.request.malformed', `I2C-over-AUX write of ${len} bytes sent in a ${size}-byte request (port ${this.port})`);
        return false;
      }
      for (let i = 0; i < len; i++) this.i2cWrite(req[4 + i]!);
      this.reply[0] = AUX_REPLY_ACK;
      this.replyLen = 1;
    }
    if (!mot) this.endI2c();
    return true;
  }

  private replyByte(b: number): boolean {
    this.reply[0] = b;
    this.replyLen = 1;
    return true;
  }

  private endI2c(): void {
    this.i2cAddr = -1;
    this.i2cRead = false;
    this.segment = 0;
    this.firstByte = true;
  }

  private i2cWrite(b: number): void {
    if (this.i2cAddr === 0x30) {
      if (this.firstByte) this.segment = b & 0x7f;
    } else {
      this.wordAddr = this.firstByte ? b : (this.wordAddr + 1) & 0xff;
    }
    this.firstByte = false;
  }

  private eepromRead(edid: Uint8Array): number {
    const at = this.segment * 256 + this.wordAddr;
    this.wordAddr = (this.wordAddr + 1) & 0xff;
    this.firstByte = false;
    return at < edid.length ? edid[at]! : 0xff;
  }

  private resetDpcd(): void {
    const d = this.dpcd;
    d.fill(0);
    d[DPCD.REV] = 0x12;
    d[DPCD.MAX_LINK_RATE] = 0x14;
    d[DPCD.MAX_LANE_COUNT] = 0x84;
    d[DPCD.MAX_DOWNSPREAD] = 0x01;
    d[DPCD.NORP] = 0x01;
    d[DPCD.MAIN_LINK_CHANNEL_CODING] = 0x01;
    d[DPCD.RECEIVE_PORT0_CAP_0] = 0x02;
    d[DPCD.SINK_COUNT] = 0x01;
    d[DPCD.SINK_STATUS] = 0x01;
    d[DPCD.SET_POWER] = 0x01;
  }

  private dpcdRead(a: number): number {
    if (a >= DPCD_SIZE) return 0;
    if (a >= DPCD.LANE0_1_STATUS && a <= DPCD.LANE_ALIGN_STATUS_UPDATED) {
      const lanes = this.dpcd[DPCD.LANE_COUNT_SET]! & 0x1f;
      const tps = this.dpcd[DPCD.TRAINING_PATTERN_SET]! & 0x3;
      const perLane = tps === 1 ? 0x1 : 0x7; // CR done; or CR + EQ + symbol lock
      if (a === DPCD.LANE_ALIGN_STATUS_UPDATED) return lanes > 0 && tps !== 1 ? 0x01 : 0x00;
      const first = (a - DPCD.LANE0_1_STATUS) * 2;
      let v = 0;
      if (first < lanes) v |= perLane;
      if (first + 1 < lanes) v |= perLane << 4;
      return v;
    }
    return this.dpcd[a]!;
  }

  private dpcdWrite(a: number, b: number): void {
    if ((a >= 0x100 && a < 0x110) || a === DPCD.SET_POWER) this.dpcd[a] = b;
  }
}
