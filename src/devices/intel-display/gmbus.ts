/**
 * GMBUS: the display engine's I2C controller (GMBUS0..GMBUS5 at 0xC5100 on
 * Kaby Lake's south display; offsets here are relative to 0xC5100), with the
 * DDC devices behind each pin pair: the EDID EEPROM at 0x50 and the E-DDC
 * segment pointer at 0x30.
 *
 * Register and bit meanings follow Linux drivers/gpu/drm/i915/display/
 * intel_gmbus_regs.h; the sequences a driver uses follow intel_gmbus.c
 * (gmbus_xfer_read_chunk, gmbus_xfer_write_chunk, gmbus_index_xfer,
 * do_gmbus_xfer). What the model does:
 *
 * - A GMBUS1 write with SW_RDY starts a cycle. Bus cycle select (27:25):
 *   WAIT (001) or INDEX|WAIT (011): data phase, then the wait phase (bus
 *   held, HW_WAIT_PHASE); STOP|WAIT (101) or STOP|INDEX|WAIT (111): data
 *   phase, then a STOP; STOP alone (100): a STOP if the bus is held, else
 *   nothing. 000 and the reserved 010/110 are guest errors (ignored).
 * - Timing at the GMBUS0 rate (100/50/400/1000 kHz): START + address byte
 *   = 10 bit times; each index byte 9; a read after an index adds a
 *   repeated START + address (10); each data byte 9; STOP 1.
 * - Address phase: NAK (nothing answers: no monitor, an `edidNak` monitor,
 *   an invalid pin pair, an address other than 0x50/0x30, a read of 0x30)
 *   sets SATOER; the controller then generates a STOP itself and ACTIVE
 *   clears one bit time later. SATOER stays until SW_CLR_INT.
 * - Read data: bytes shift into GMBUS3 (byte 0 in bits 7:0); HW_RDY sets
 *   when 4 bytes (or the remaining 1-3) are there; the bus stalls (clock
 *   stretching) until the driver reads GMBUS3, which clears HW_RDY.
 * - Write data: the dword in GMBUS3 when SW_RDY is written is the first
 *   shifted out; HW_RDY means "GMBUS3 is empty": it is set when a dword is
 *   taken into the shifter and cleared by a GMBUS3 write. The bus stalls when
 *   the shifter runs dry with GMBUS3 empty.
 * - When the byte count is reached: HW_WAIT_PHASE (WAIT) or a STOP (STOP).
 *   SW_RDY reads back as 1 until then. GMBUS2 8:0 counts the bytes moved
 *   in the current (or last) cycle; a new cycle or SW_CLR_INT zeroes it.
 * - STOP: ACTIVE and HW_WAIT_PHASE clear one bit time later; the E-DDC
 *   segment pointer returns to 0.
 * - SW_CLR_INT (GMBUS1 bit 31) resets the controller: the cycle is
 *   abandoned, every GMBUS2 status bit clears; while it stays set, SW_RDY is
 *   ignored (a guest error).
 * - GMBUS4 enables: an enabled event (HW_RDY 0->1, HW_WAIT_PHASE 0->1,
 *   ACTIVE 1->0, SATOER 0->1) sets GMBUS2.INT and calls `hooks.irq()` (an
 *   edge: the caller latches it into the south display IIR). Enabling a
 *   condition that is already true raises nothing.
 * - GMBUS2.INUSE is the software semaphore: a read returns the bit and then
 *   sets it; writing 1 to it clears it.
 * - EEPROM at 0x50: 8-bit word address (set by the first byte written after
 *   START, incremented per byte, wrapping at 256) within the 256-byte
 *   segment the pointer at 0x30 selects; writes are ACKed and dropped (the
 *   EDID is read-only); bytes past the EDID read 0xFF.
 * - GMBUS5 2-byte index (bit 31): both index bytes are written, high first
 *   (an 8-bit EEPROM takes the first as word address, the second as data).
 * Not modelled: BYTE_CNT_OVERRIDE burst reads (> 511 bytes), AKSV select,
 * slave stall timeouts (the simulated EEPROM never stretches the clock).
 */
import type { EventQueue, EventHandle } from '../../sim/event-queue.js';
import { NO_EVENT } from '../../sim/event-queue.js';
import { FNV_OFFSET, fnvNumber } from '../../sim/hash.js';
import type { Duration } from '../../sim/time.js';
import type { GuestErrorCatalogue } from '../device.js';
import type { DdiPort, MonitorSpec } from './monitors.js';

// ---- Registers (offsets from 0xC5100) and bits, per intel_gmbus_regs.h
export const GMBUS_BASE = 0xc5100;
export const GMBUS0 = 0x00;
export const GMBUS1 = 0x04;
export const GMBUS2 = 0x08;
export const GMBUS3 = 0x0c;
export const GMBUS4 = 0x10;
export const GMBUS5 = 0x20;
/** Bytes of the GMBUS register block (GMBUS0..GMBUS5). */
export const GMBUS_BLOCK_SIZE = 0x24;

export const GMBUS0_PIN_MASK = 0x7;
export const GMBUS0_RATE_SHIFT = 8;
export const GMBUS0_RATE_MASK = 0x7 << 8;
/** GMBUS0 bits with a meaning (AKSV 11, rate 10:8, hold 7, byte count override 6, pin 2:0); the rest read 0. */
export const GMBUS0_WRITABLE = (1 << 11) | GMBUS0_RATE_MASK | (1 << 7) | (1 << 6) | GMBUS0_PIN_MASK;

export const GMBUS1_SW_CLR_INT = 1 << 31;
export const GMBUS1_SW_RDY = 1 << 30;
export const GMBUS1_ENT = 1 << 29;
export const GMBUS1_CYCLE_SHIFT = 25;
export const CYCLE_WAIT = 1;
export const CYCLE_INDEX = 2;
export const CYCLE_STOP = 4;
export const GMBUS1_BYTE_COUNT_SHIFT = 16;
export const GMBUS1_BYTE_COUNT_MASK = 0x1ff;
export const GMBUS1_INDEX_SHIFT = 8;
export const GMBUS1_READ = 1;

export const GMBUS2_INUSE = 1 << 15;
export const GMBUS2_HW_WAIT_PHASE = 1 << 14;
export const GMBUS2_STALL_TIMEOUT = 1 << 13;
export const GMBUS2_INT = 1 << 12;
export const GMBUS2_HW_RDY = 1 << 11;
export const GMBUS2_SATOER = 1 << 10;
export const GMBUS2_ACTIVE = 1 << 9;
export const GMBUS2_BYTE_COUNT_MASK = 0x1ff;

export const GMBUS4_SLAVE_TIMEOUT_EN = 1 << 4;
export const GMBUS4_NAK_EN = 1 << 3;
export const GMBUS4_IDLE_EN = 1 << 2;
export const GMBUS4_HW_WAIT_EN = 1 << 1;
export const GMBUS4_HW_RDY_EN = 1 << 0;
export const GMBUS4_MASK = 0x1f;

export const GMBUS5_2BYTE_INDEX_EN = 1 << 31;

/** Bus rates of GMBUS0 10:8 (4..7 reserved; treated as 100 kHz). */
export const GMBUS_RATE_HZ: readonly number[] = [100_000, 50_000, 400_000, 1_000_000];

/** Kaby Lake (SPT PCH) pin pairs (Linux gmbus_pins_skl): 4 dpc, 5 dpb, 6 dpd. */
export const GMBUS_PIN_PORT: Readonly<Record<number, DdiPort>> = { 4: 'C', 5: 'B', 6: 'D' };
export const GMBUS_PORT_PIN: Readonly<Record<DdiPort, number>> = { B: 5, C: 4, D: 6 };

/** DDC addresses (7-bit): the EDID EEPROM and the E-DDC segment pointer. */
export const DDC_ADDR = 0x50;
export const DDC_SEGMENT_ADDR = 0x30;

export const GMBUS_GUEST_ERRORS = {
  'gmbus.reg.unknown': {
    meaning: 'An access inside the GMBUS block (0xC5100..0xC5123) at an offset that is no register (0x14..0x1F); reads 0, writes are dropped',
    spec: 'intel_gmbus_regs.h (GMBUS0..GMBUS5)',
  },
  'gmbus.busy': {
    meaning: 'GMBUS1 written with SW_RDY while a cycle is still moving data or stopping (only the wait phase accepts a new cycle); ignored',
    spec: 'intel_gmbus.c (a new cycle only after HW_RDY/HW_WAIT_PHASE, STOP only in the wait phase)',
  },
  'gmbus.nak-not-cleared': {
    meaning: 'GMBUS1 written with SW_RDY while SATOER (NAK) is still set; ignored until SW_CLR_INT resets the controller',
    spec: 'intel_gmbus.c do_gmbus_xfer clear_err (wait idle, SW_CLR_INT, 0)',
  },
  'gmbus.sw-rdy-in-reset': {
    meaning: 'GMBUS1 written with SW_RDY while SW_CLR_INT holds the controller in reset (in this write or left set by the last); ignored',
    spec: 'intel_gmbus_regs.h GMBUS_SW_CLR_INT (write it, then 0)',
  },
  'gmbus.cycle.none': {
    meaning: 'GMBUS1 written with SW_RDY and bus cycle select 000 (no cycle); ignored',
    spec: 'intel_gmbus_regs.h GMBUS_CYCLE_* (27:25)',
  },
  'gmbus.cycle.reserved': {
    meaning: 'GMBUS1 written with SW_RDY and a reserved bus cycle select (INDEX without WAIT: 010 or 110); ignored',
    spec: 'intel_gmbus_regs.h GMBUS_CYCLE_* (27:25)',
  },
  'gmbus.read-zero-length': {
    meaning: 'A read cycle with byte count 0: the address phase runs, no data moves, HW_RDY never sets',
    spec: 'intel_gmbus_regs.h GMBUS_BYTE_COUNT_SHIFT (1..511 bytes per cycle on Gen9)',
  },
  'gmbus.pin.invalid': {
    meaning: 'A cycle on a GMBUS0 pin pair that Kaby Lake does not wire (valid: 4 dpc, 5 dpb, 6 dpd); nothing answers (SATOER)',
    spec: 'intel_gmbus.c gmbus_pins_skl',
  },
  'gmbus.pin.changed-while-active': {
    meaning: 'GMBUS0 pin pair changed while ACTIVE (a cycle in progress or the bus held in the wait phase without STOP); the cycle keeps its pins',
    spec: 'intel_gmbus.c do_gmbus_xfer (GMBUS0 = 0 only after STOP and idle)',
  },
  'gmbus.rate.reserved': {
    meaning: 'A cycle with a reserved GMBUS0 rate (10:8 = 4..7); run at 100 kHz',
    spec: 'intel_gmbus_regs.h GMBUS_RATE_*',
  },
  'gmbus.data.not-ready': {
    meaning: 'GMBUS3 read while HW_RDY is clear outside a write cycle: returns the stale buffer',
    spec: 'intel_gmbus.c gmbus_xfer_read_chunk (wait HW_RDY before each GMBUS3 read)',
  },
  'gmbus.data.overrun': {
    meaning: 'GMBUS3 written during a write cycle while it still holds a dword the shifter has not taken (HW_RDY clear); the old dword is lost',
    spec: 'intel_gmbus.c gmbus_xfer_write_chunk (wait HW_RDY after each GMBUS3 write)',
  },
  'gmbus.data.during-read': {
    meaning: 'GMBUS3 written during a read cycle; the value is overwritten by the next bytes read',
    spec: 'intel_gmbus_regs.h GMBUS3',
  },
} as const satisfies GuestErrorCatalogue;

export type GmbusGuestError = keyof typeof GMBUS_GUEST_ERRORS;

/** What sits on the pin pairs: the EDID of the sink answering at 0x50, or null (NAK). */
export interface GmbusBus {
  edid(pin: number): Uint8Array | null;
}

/**
 * The usual GmbusBus: a monitor answers on its port's pin pair if it is
 * connected, is not a native DP sink (no DDC pins) and has no `edidNak`.
 */
export function monitorGmbusBus(monitorAt: (port: DdiPort) => MonitorSpec | null): GmbusBus {
  return {
    edid(pin: number): Uint8Array | null {
      const port = GMBUS_PIN_PORT[pin];
      if (port === undefined) return null;
      const m = monitorAt(port);
      if (m === null || m.connector === 'dp' || m.edidNak) return null;
      return m.edid;
    },
  };
}

export interface GmbusHooks {
  irq(): void;
  guestErr(code: GmbusGuestError, msg: string): void;
}

// Controller phases.
const IDLE = 0;
/** START, address (and index) bytes on the bus. */
const ADDR = 1;
/** Data bytes moving. */
const DATA = 2;
/** Stalled: read buffer full / write buffer empty, waiting for the driver. */
const STALL = 3;
/** Byte count reached, bus held (HW_WAIT_PHASE). */
const WAIT = 4;
/** STOP on the bus (after a STOP cycle or a NAK). */
const STOPPING = 5;

// Events.
const EV_ADDR = 1;
const EV_CHUNK = 2;
const EV_STOP = 3;

// Devices on the bus.
const DEV_NONE = 0;
const DEV_EEPROM = 1;
const DEV_SEGMENT = 2;

export class Gmbus {
  private readonly target: number;
  private ev: EventHandle = NO_EVENT;

  // Registers.
  private gmbus0 = 0;
  private gmbus1 = 0;
  private gmbus4 = 0;
  private gmbus5 = 0;
  private data = 0;
  private inUse = false;
  private hwWait = false;
  private intSt = false;
  private hwRdy = false;
  private satoer = false;
  private active = false;
  private byteCount = 0;

  // The cycle.
  private phase = IDLE;
  private read_ = false;
  private addr = 0;
  private count = 0;
  private stopAfter = false;
  private pin = 0;
  private bitPs = 10_000_000;
  private dev = DEV_NONE;
  private edid: Uint8Array | null = null;
  /** Write cycle: dword being shifted out, and whether GMBUS3 holds the next one. */
  private shifter = 0;
  private bufFull = false;
  /** Bytes in the chunk now on the bus. */
  private chunk = 0;

  // DDC device state.
  private segment = 0;
  private wordAddr = 0;
  /** The next byte written to the addressed device is its first since START. */
  private firstByte = true;

  constructor(private readonly queue: EventQueue, readonly name: string, private readonly bus: GmbusBus, private readonly hooks: GmbusHooks) {
    this.target = queue.register(`${name}.gmbus`, this.onEvent);
  }

  /** A cycle is in progress or the bus is held (GMBUS2.ACTIVE). */
  get busy(): boolean {
    return this.active;
  }

  /** Power-on / display reset: every register 0, no cycle. */
  reset(): void {
    this.cancel();
    this.gmbus0 = 0;
    this.gmbus1 = 0;
    this.gmbus4 = 0;
    this.gmbus5 = 0;
    this.data = 0;
    this.inUse = false;
    this.clearController();
  }

  read(off: number): number {
    switch (off) {
      case GMBUS0: return this.gmbus0;
      case GMBUS1: return this.gmbus1 >>> 0;
      case GMBUS2: {
        const v = this.status();
        this.inUse = true;
        return v;
      }
      case GMBUS3: {
        if (this.phase !== IDLE && !this.read_) return this.data >>> 0; // write cycle: the register as written
        if (!this.hwRdy) {
          this.hooks.guestErr('gmbus.data.not-ready', `GMBUS3 read with HW_RDY clear (GMBUS2=0x${this.status().toString(16)}): stale data`);
          return this.data >>> 0;
        }
        const v = this.data >>> 0;
        this.hwRdy = false;
        if (this.phase === STALL) {
          this.phase = DATA;
          this.startChunk();
        }
        return v;
      }
      case GMBUS4: return this.gmbus4;
      case GMBUS5: return this.gmbus5 >>> 0;
      default:
        this.hooks.guestErr('gmbus.reg.unknown', `read of GMBUS offset 0x${off.toString(16)} (0x${(GMBUS_BASE + off).toString(16)})`);
        return 0;
    }
  }

  write(off: number, value: number): void {
    const v = value >>> 0;
    switch (off) {
      case GMBUS0: {
        const nv = v & GMBUS0_WRITABLE;
        if (this.active && (nv & GMBUS0_PIN_MASK) !== (this.gmbus0 & GMBUS0_PIN_MASK)) {
          this.hooks.guestErr('gmbus.pin.changed-while-active', `GMBUS0 pin pair ${this.gmbus0 & 7} -> ${nv & 7} while ACTIVE`);
        }
        this.gmbus0 = nv;
        return;
      }
      case GMBUS1:
        this.writeGmbus1(v);
        return;
      case GMBUS2:
        if ((v & GMBUS2_INUSE) !== 0) this.inUse = false;
        return;
      case GMBUS3:
        this.writeData(v);
        return;
      case GMBUS4:
        this.gmbus4 = v & GMBUS4_MASK;
        return;
      case GMBUS5:
        this.gmbus5 = v & (GMBUS5_2BYTE_INDEX_EN | 0xffff);
        return;
      default:
        this.hooks.guestErr('gmbus.reg.unknown', `write of 0x${v.toString(16)} to GMBUS offset 0x${off.toString(16)} (0x${(GMBUS_BASE + off).toString(16)})`);
    }
  }

  stateHash(): number {
    let h = FNV_OFFSET;
    h = fnvNumber(h, this.gmbus0);
    h = fnvNumber(h, this.gmbus1 >>> 0);
    h = fnvNumber(h, this.gmbus4);
    h = fnvNumber(h, this.gmbus5 >>> 0);
    h = fnvNumber(h, this.data >>> 0);
    h = fnvNumber(h, this.status());
    h = fnvNumber(h, this.phase);
    h = fnvNumber(h, (this.read_ ? 1 : 0) | (this.stopAfter ? 2 : 0) | (this.bufFull ? 4 : 0) | (this.firstByte ? 8 : 0));
    h = fnvNumber(h, this.addr);
    h = fnvNumber(h, this.count);
    h = fnvNumber(h, this.pin);
    h = fnvNumber(h, this.bitPs);
    h = fnvNumber(h, this.dev);
    h = fnvNumber(h, this.shifter >>> 0);
    h = fnvNumber(h, this.chunk);
    h = fnvNumber(h, this.segment);
    h = fnvNumber(h, this.wordAddr);
    return h;
  }

  // ---- internals

  private status(): number {
    return ((this.inUse ? GMBUS2_INUSE : 0) | (this.hwWait ? GMBUS2_HW_WAIT_PHASE : 0) | (this.intSt ? GMBUS2_INT : 0)
      | (this.hwRdy ? GMBUS2_HW_RDY : 0) | (this.satoer ? GMBUS2_SATOER : 0) | (this.active ? GMBUS2_ACTIVE : 0)
      | (this.byteCount & GMBUS2_BYTE_COUNT_MASK)) >>> 0;
  }

  private cancel(): void {
    if (this.ev !== NO_EVENT) this.queue.cancel(this.ev);
    this.ev = NO_EVENT;
  }

  /** The controller part of a reset (SW_CLR_INT): no cycle, GMBUS2 status clear (INUSE is software's). */
  private clearController(): void {
    this.cancel();
    this.hwWait = false;
    this.intSt = false;
    this.hwRdy = false;
    this.satoer = false;
    this.active = false;
    this.byteCount = 0;
    this.phase = IDLE;
    this.read_ = false;
    this.dev = DEV_NONE;
    this.edid = null;
    this.bufFull = false;
    this.chunk = 0;
    this.segment = 0;
    this.firstByte = true;
  }

  private event(en: number): void {
    if ((this.gmbus4 & en) === 0) return;
    this.intSt = true;
    this.hooks.irq();
  }

  private setHwRdy(): void {
    if (this.hwRdy) return;
    this.hwRdy = true;
    this.event(GMBUS4_HW_RDY_EN);
  }

  private writeGmbus1(v: number): void {
    if ((v & GMBUS1_SW_CLR_INT) !== 0) {
      this.clearController();
      this.gmbus1 = v & ~GMBUS1_SW_RDY;
      if ((v & GMBUS1_SW_RDY) !== 0) this.hooks.guestErr('gmbus.sw-rdy-in-reset', `GMBUS1=0x${v.toString(16)}: SW_RDY together with SW_CLR_INT`);
      return;
    }
    const wasReset = (this.gmbus1 & GMBUS1_SW_CLR_INT) !== 0;
    if ((v & GMBUS1_SW_RDY) === 0) {
      // Plain store (e.g. the 0 that releases SW_CLR_INT); a cycle in progress keeps SW_RDY.
      this.gmbus1 = this.phase === ADDR || this.phase === DATA || this.phase === STALL ? v | GMBUS1_SW_RDY : v;
      return;
    }
    if (wasReset) {
      this.hooks.guestErr('gmbus.sw-rdy-in-reset', `GMBUS1=0x${v.toString(16)} while SW_CLR_INT is still set (write 0 first)`);
      return;
    }
    if (this.phase === ADDR || this.phase === DATA || this.phase === STALL || this.phase === STOPPING) {
      this.hooks.guestErr('gmbus.busy', `GMBUS1=0x${v.toString(16)} while a cycle is in progress (GMBUS2=0x${this.status().toString(16)})`);
      return;
    }
    const cycle = (v >>> GMBUS1_CYCLE_SHIFT) & 7;
    if (cycle === CYCLE_STOP) {
      // STOP alone: a STOP if the bus is held (wait phase), else nothing (also after a NAK, whose STOP the controller made itself).
      this.gmbus1 = v;
      if (this.phase === WAIT) {
        this.latchRate();
        this.startStop();
      } else {
        this.gmbus1 = v & ~GMBUS1_SW_RDY;
      }
      return;
    }
    if (this.satoer) {
      this.hooks.guestErr('gmbus.nak-not-cleared', `GMBUS1=0x${v.toString(16)} with SATOER set (SW_CLR_INT first)`);
      return;
    }
    if (cycle === 0) {
      this.gmbus1 = v & ~GMBUS1_SW_RDY;
      this.hooks.guestErr('gmbus.cycle.none', `GMBUS1=0x${v.toString(16)}: bus cycle select 000`);
      return;
    }
    if ((cycle & CYCLE_INDEX) !== 0 && (cycle & CYCLE_WAIT) === 0) {
      this.gmbus1 = v & ~GMBUS1_SW_RDY;
      this.hooks.guestErr('gmbus.cycle.reserved', `GMBUS1=0x${v.toString(16)}: bus cycle select ${cycle.toString(2).padStart(3, '0')}`);
      return;
    }
    this.gmbus1 = v;
    this.latchRate();
    this.startCycle(v, (cycle & CYCLE_INDEX) !== 0, (cycle & CYCLE_STOP) !== 0);
  }

  private latchRate(): void {
    let rate = (this.gmbus0 >>> GMBUS0_RATE_SHIFT) & 7;
    if (rate > 3) {
      this.hooks.guestErr('gmbus.rate.reserved', `GMBUS0=0x${this.gmbus0.toString(16)}: reserved rate ${rate}, running at 100 kHz`);
      rate = 0;
    }
    this.bitPs = Math.round(1e12 / GMBUS_RATE_HZ[rate]!);
  }

  private startCycle(v: number, index: boolean, stop: boolean): void {
    this.read_ = (v & GMBUS1_READ) !== 0;
    this.addr = (v >>> 1) & 0x7f;
    this.count = (v >>> GMBUS1_BYTE_COUNT_SHIFT) & GMBUS1_BYTE_COUNT_MASK;
    this.stopAfter = stop;
    this.pin = this.gmbus0 & GMBUS0_PIN_MASK;
    if (GMBUS_PIN_PORT[this.pin] === undefined) {
      this.hooks.guestErr('gmbus.pin.invalid', `cycle on GMBUS0 pin pair ${this.pin} (valid: 4, 5, 6)`);
    }
    if (this.read_ && this.count === 0) {
      this.hooks.guestErr('gmbus.read-zero-length', `GMBUS1=0x${v.toString(16)}: read of 0 bytes from 0x${this.addr.toString(16)}`);
    }
    this.phase = ADDR;
    this.active = true;
    this.hwWait = false;
    this.hwRdy = false;
    this.byteCount = 0;
    this.chunk = 0;
    if (!this.read_) {
      // The dword already in GMBUS3 goes first; GMBUS3 is empty again.
      this.shifter = this.data;
      this.bufFull = false;
    }
    // START + address; index bytes; for a read after an index, repeated START + address.
    let bits = 10;
    if (index) {
      bits += (this.gmbus5 & GMBUS5_2BYTE_INDEX_EN) !== 0 ? 18 : 9;
      if (this.read_) bits += 10;
    }
    this.ev = this.queue.schedule(bits * this.bitPs as Duration, this.target, EV_ADDR, index ? 1 : 0);
  }

  private readonly onEvent = (kind: number, a0: number): void => {
    this.ev = NO_EVENT;
    switch (kind) {
      case EV_ADDR: this.addressDone(a0 !== 0); break;
      case EV_CHUNK: this.chunkDone(); break;
      case EV_STOP: this.stopDone(); break;
    }
  };

  private addressDone(index: boolean): void {
    const edid = this.bus.edid(this.pin);
    let dev = DEV_NONE;
    if (edid !== null && GMBUS_PIN_PORT[this.pin] !== undefined) {
      if (this.addr === DDC_ADDR) dev = DEV_EEPROM;
      // The segment pointer is write-only: a read of 0x30 NAKs.
      else if (this.addr === DDC_SEGMENT_ADDR && !this.read_) dev = DEV_SEGMENT;
    }
    if (dev === DEV_NONE) {
      this.satoer = true;
      this.hwRdy = false;
      this.event(GMBUS4_NAK_EN);
      this.startStop();
      return;
    }
    this.dev = dev;
    this.edid = edid;
    this.firstByte = true;
    if (index) {
      if ((this.gmbus5 & GMBUS5_2BYTE_INDEX_EN) !== 0) {
        this.deviceWrite((this.gmbus5 >>> 8) & 0xff);
        this.deviceWrite(this.gmbus5 & 0xff);
      } else {
        this.deviceWrite((this.gmbus1 >>> GMBUS1_INDEX_SHIFT) & 0xff);
      }
    }
    if (this.count === 0) {
      this.dataDone();
      return;
    }
    this.phase = DATA;
    // A write cycle: the first dword is in the shifter; GMBUS3 is free for the next unless already refilled.
    if (!this.read_ && !this.bufFull) this.setHwRdy();
    this.startChunk();
  }

  /** Puts the next up-to-4 bytes on the bus. */
  private startChunk(): void {
    const left = this.count - this.byteCount;
    this.chunk = left < 4 ? left : 4;
    this.ev = this.queue.schedule(this.chunk * 9 * this.bitPs as Duration, this.target, EV_CHUNK);
  }

  private chunkDone(): void {
    const n = this.chunk;
    if (this.read_) {
      let v = 0;
      for (let i = 0; i < n; i++) v |= this.deviceRead() << (8 * i);
      this.data = v >>> 0;
      this.byteCount += n;
      this.setHwRdy();
      if (this.byteCount === this.count) this.dataDone();
      else this.phase = STALL;
      return;
    }
    for (let i = 0; i < n; i++) this.deviceWrite((this.shifter >>> (8 * i)) & 0xff);
    this.byteCount += n;
    if (this.byteCount === this.count) {
      this.dataDone();
      return;
    }
    if (this.bufFull) {
      this.loadShifter();
      this.startChunk();
    } else {
      this.phase = STALL;
    }
  }

  private loadShifter(): void {
    this.shifter = this.data;
    this.bufFull = false;
    this.setHwRdy();
  }

  private writeData(v: number): void {
    if (this.phase !== IDLE && this.phase !== WAIT && this.read_) {
      this.hooks.guestErr('gmbus.data.during-read', `GMBUS3=0x${v.toString(16)} during a read cycle`);
      this.data = v;
      return;
    }
    if (this.phase === DATA || this.phase === STALL || this.phase === ADDR) {
      if (this.bufFull) this.hooks.guestErr('gmbus.data.overrun', `GMBUS3=0x${v.toString(16)} while GMBUS3 still holds 0x${this.data.toString(16)} (HW_RDY clear)`);
      this.data = v;
      this.bufFull = true;
      this.hwRdy = false;
      if (this.phase === STALL) {
        this.phase = DATA;
        this.loadShifter();
        this.startChunk();
      }
      return;
    }
    this.data = v;
  }

  private dataDone(): void {
    this.gmbus1 &= ~GMBUS1_SW_RDY;
    if (this.stopAfter) {
      this.startStop();
      return;
    }
    this.phase = WAIT;
    if (!this.hwWait) {
      this.hwWait = true;
      this.event(GMBUS4_HW_WAIT_EN);
    }
  }

  private startStop(): void {
    this.gmbus1 &= ~GMBUS1_SW_RDY;
    this.phase = STOPPING;
    this.ev = this.queue.schedule(this.bitPs as Duration, this.target, EV_STOP);
  }

  private stopDone(): void {
    this.phase = IDLE;
    this.hwWait = false;
    this.active = false;
    this.dev = DEV_NONE;
    this.edid = null;
    this.segment = 0; // E-DDC: the segment pointer resets at STOP
    this.firstByte = true;
    this.event(GMBUS4_IDLE_EN);
  }

  private deviceWrite(b: number): void {
    if (this.dev === DEV_SEGMENT) {
      if (this.firstByte) this.segment = b & 0x7f;
    } else if (this.dev === DEV_EEPROM) {
      // First byte after START: word address; later bytes: data (write-protected, dropped) that advance it.
      this.wordAddr = this.firstByte ? b : (this.wordAddr + 1) & 0xff;
    }
    this.firstByte = false;
  }

  private deviceRead(): number {
    const edid = this.edid;
    const at = this.segment * 256 + this.wordAddr;
    this.wordAddr = (this.wordAddr + 1) & 0xff;
    this.firstByte = false;
    return edid !== null && at < edid.length ? edid[at]! : 0xff;
  }
}
