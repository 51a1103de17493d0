/**
 * GMBUS driven the way Linux's intel_gmbus.c drives it (probe, block read
 * with an INDEX cycle, dword polling of HW_RDY, wait phase, STOP, idle; the
 * NAK recovery with SW_CLR_INT), plus timing, interrupts and guest errors.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../../src/sim/event-queue.js';
import { ms, us } from '../../../src/sim/time.js';
import {
  GMBUS0, GMBUS1, GMBUS2, GMBUS3, GMBUS4, GMBUS5, GMBUS_GUEST_ERRORS, Gmbus, monitorGmbusBus, type GmbusGuestError,
} from '../../../src/devices/intel-display/gmbus.js';
import { loadMonitors, type DdiPort, type MonitorSpec } from '../../../src/devices/intel-display/monitors.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');

// The driver side's own constants (from intel_gmbus_regs.h, not the model's).
const SW_CLR_INT = 1 << 31;
const SW_RDY = 1 << 30;
const CYCLE_WAIT = 1 << 25;
const CYCLE_INDEX = 2 << 25;
const CYCLE_STOP = 4 << 25;
const INUSE = 1 << 15;
const HW_WAIT_PHASE = 1 << 14;
const INT = 1 << 12;
const HW_RDY = 1 << 11;
const SATOER = 1 << 10;
const ACTIVE = 1 << 9;
const PIN_DPB = 5;
const PIN_DPC = 4;
const RATE_400KHZ = 2 << 8;

class Rig {
  readonly q = new EventQueue();
  readonly errors: GmbusGuestError[] = [];
  irqs = 0;
  readonly g: Gmbus;
  constructor(monitors: MonitorSpec[]) {
    const at = (p: DdiPort) => monitors.find((m) => m.port === p) ?? null;
    this.g = new Gmbus(this.q, 'gpu', monitorGmbusBus(at), {
      irq: () => { this.irqs++; },
      guestErr: (code) => { this.errors.push(code); },
    });
  }
  get now(): number {
    return this.q.now;
  }
  rd(off: number): number {
    return this.g.read(off);
  }
  wr(off: number, v: number): void {
    this.g.write(off, v);
  }
  /** Advances simulated time by `d` ps (running device events). */
  wait(d: number): void {
    this.q.runUntil(this.q.now + d);
  }
  /** Polls GMBUS2 every 2 µs until (v & mask) !== 0 or the timeout passes; returns GMBUS2. */
  pollSet(mask: number, timeout = ms(50)): number {
    const end = this.q.now + timeout;
    for (;;) {
      const v = this.rd(GMBUS2);
      if ((v & mask) !== 0 || this.q.now >= end) return v;
      this.wait(us(2));
    }
  }
  pollClear(mask: number, timeout = ms(10)): number {
    const end = this.q.now + timeout;
    for (;;) {
      const v = this.rd(GMBUS2);
      if ((v & mask) === 0 || this.q.now >= end) return v;
      this.wait(us(2));
    }
  }

  /**
   * i915 do_gmbus_xfer for [write 1 byte offset, read len] to 0x50 (drm_do_probe_ddc_edid):
   * an INDEX cycle read; returns the bytes, or 'nak' after the clear_err path.
   */
  edidRead(pin: number, offset: number, len: number, rate = 0): Uint8Array | 'nak' {
    this.wr(GMBUS0, pin | rate);
    this.wr(GMBUS1, CYCLE_INDEX | CYCLE_WAIT | (offset << 8) | (len << 16) | (0x50 << 1) | 1 | SW_RDY);
    const out = new Uint8Array(len);
    let got = 0;
    while (got < len) {
      const st = this.pollSet(HW_RDY | SATOER);
      if (st & SATOER) return this.clearErr();
      expect(st & HW_RDY).not.toBe(0);
      let v = this.rd(GMBUS3);
      for (let i = 0; i < 4 && got < len; i++, v >>>= 8) out[got++] = v & 0xff;
    }
    const st = this.pollSet(HW_WAIT_PHASE | SATOER);
    if (st & SATOER) return this.clearErr();
    this.stop();
    return out;
  }

  stop(): void {
    this.wr(GMBUS1, CYCLE_STOP | SW_RDY);
    expect(this.pollClear(ACTIVE) & ACTIVE).toBe(0);
    this.wr(GMBUS0, 0);
  }

  clearErr(): 'nak' {
    expect(this.pollClear(ACTIVE) & ACTIVE).toBe(0);
    this.wr(GMBUS1, SW_CLR_INT);
    this.wr(GMBUS1, 0);
    this.wr(GMBUS0, 0);
    return 'nak';
  }
}

const fixture = (name: string) => loadMonitors(ROOT, `fixtures/displays/${name}.json`);
/** 100 kHz bit time. */
const BIT = us(10);

describe('GMBUS EDID read as Linux does it', () => {
  it('probes with a 1-byte read, reads both 128-byte blocks in dwords, stops, goes idle', () => {
    const mons = fixture('default');
    const r = new Rig(mons);
    const edid = mons[0]!.edid;

    const probe = r.edidRead(PIN_DPB, 0, 1);
    expect(probe).toEqual(new Uint8Array([0x00]));

    const t0 = r.now;
    const block0 = r.edidRead(PIN_DPB, 0, 128);
    const elapsed = r.now - t0;
    expect(block0).toEqual(edid.subarray(0, 128));
    // START+addr (10) + index (9) + repeated START+addr (10) + 128 x 9 bits + STOP (1), plus polling slack.
    expect(elapsed).toBeGreaterThanOrEqual((10 + 9 + 10 + 128 * 9 + 1) * BIT);
    expect(elapsed).toBeLessThan((10 + 9 + 10 + 128 * 9 + 1) * BIT + 33 * us(4) + us(10));

    const block1 = r.edidRead(PIN_DPB, 128, 128);
    expect(block1).toEqual(edid.subarray(128, 256));
    expect(r.errors).toEqual([]);
    // Idle; the byte count of the last cycle stays readable.
    expect(r.rd(GMBUS2) & ~INUSE).toBe(128);
    expect(r.g.busy).toBe(false);
  });

  it('HW_RDY sets per dword and clears when GMBUS3 is read; the byte count follows; HW_WAIT_PHASE after the last byte', () => {
    const r = new Rig(fixture('default'));
    r.wr(GMBUS0, PIN_DPB);
    r.wr(GMBUS1, CYCLE_INDEX | CYCLE_WAIT | (6 << 16) | (0x50 << 1) | 1 | SW_RDY);
    expect(r.rd(GMBUS2) & (ACTIVE | HW_RDY)).toBe(ACTIVE);
    expect(r.rd(GMBUS1) & SW_RDY).not.toBe(0);
    r.wait((29 + 4 * 9) * BIT - 1);
    expect(r.rd(GMBUS2) & HW_RDY).toBe(0);
    r.wait(1);
    let st = r.rd(GMBUS2);
    expect(st & HW_RDY).not.toBe(0);
    expect(st & 0x1ff).toBe(4);
    // The bus stalls while the dword is unread.
    r.wait(ms(1));
    expect(r.rd(GMBUS2) & 0x1ff).toBe(4);
    expect(r.rd(GMBUS3)).toBe(0xffffff00); // header bytes 00 ff ff ff
    expect(r.rd(GMBUS2) & HW_RDY).toBe(0);
    r.wait(2 * 9 * BIT);
    st = r.rd(GMBUS2);
    expect(st & (HW_RDY | HW_WAIT_PHASE)).toBe(HW_RDY | HW_WAIT_PHASE);
    expect(st & 0x1ff).toBe(6);
    expect(r.rd(GMBUS1) & SW_RDY).toBe(0);
    expect(r.rd(GMBUS3)).toBe(0xffff); // last two bytes ff ff
    r.stop();
    expect(r.errors).toEqual([]);
  });

  it('writes the offset to 0x50, then reads without INDEX (current address read)', () => {
    const mons = fixture('default');
    const r = new Rig(mons);
    r.wr(GMBUS0, PIN_DPB);
    r.wr(GMBUS3, 0x08); // offset 8: manufacturer id
    r.wr(GMBUS1, CYCLE_WAIT | (1 << 16) | (0x50 << 1) | SW_RDY);
    expect(r.pollSet(HW_WAIT_PHASE | SATOER) & (HW_WAIT_PHASE | SATOER)).toBe(HW_WAIT_PHASE);
    r.wr(GMBUS1, CYCLE_WAIT | (4 << 16) | (0x50 << 1) | 1 | SW_RDY);
    expect(r.pollSet(HW_RDY | SATOER) & HW_RDY).not.toBe(0);
    const v = r.rd(GMBUS3);
    expect(Array.from(mons[0]!.edid.subarray(8, 12))).toEqual([v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24]);
    expect(r.pollSet(HW_WAIT_PHASE) & HW_WAIT_PHASE).not.toBe(0);
    r.stop();
    expect(r.errors).toEqual([]);
  });

  it('a multi-dword write follows gmbus_xfer_write_chunk (GMBUS3 then wait HW_RDY) without errors', () => {
    const r = new Rig(fixture('default'));
    r.wr(GMBUS0, PIN_DPB);
    r.wr(GMBUS3, 0x00000010); // word address 0x10, then data (dropped by the write-protected EEPROM)
    r.wr(GMBUS1, CYCLE_WAIT | (10 << 16) | (0x50 << 1) | SW_RDY);
    for (const dw of [0x44332211, 0x6655]) {
      r.wr(GMBUS3, dw);
      expect(r.pollSet(HW_RDY | SATOER) & (HW_RDY | SATOER)).toBe(HW_RDY);
    }
    const st = r.pollSet(HW_WAIT_PHASE | SATOER);
    expect(st & (HW_WAIT_PHASE | SATOER)).toBe(HW_WAIT_PHASE);
    expect(st & 0x1ff).toBe(10);
    // The word address advanced past the 9 data bytes: a current-address read starts at 0x10 + 9.
    r.wr(GMBUS1, CYCLE_WAIT | (1 << 16) | (0x50 << 1) | 1 | SW_RDY);
    r.pollSet(HW_RDY);
    expect(r.rd(GMBUS3) & 0xff).toBe(fixture('default')[0]!.edid[0x19]);
    r.pollSet(HW_WAIT_PHASE);
    r.stop();
    expect(r.errors).toEqual([]);
  });

  it('any length 1..511 works; offsets wrap within the 256-byte segment', () => {
    const mons = fixture('default');
    const r = new Rig(mons);
    const all = r.edidRead(PIN_DPB, 0, 511);
    expect(all).not.toBe('nak');
    const bytes = all as Uint8Array;
    expect(bytes.subarray(0, 256)).toEqual(mons[0]!.edid);
    expect(bytes.subarray(256, 511)).toEqual(mons[0]!.edid.subarray(0, 255));
    for (const n of [1, 2, 3, 5, 7]) expect(r.edidRead(PIN_DPB, 0, n)).toEqual(mons[0]!.edid.subarray(0, n));
    expect(r.errors).toEqual([]);
  });

  it('the E-DDC segment pointer at 0x30 selects 256-byte segments until STOP', () => {
    const mons = fixture('default');
    const r = new Rig(mons);
    r.wr(GMBUS0, PIN_DPB);
    // drm_do_probe_ddc_edid for block 2: write segment 1 to 0x30, then the index read at 0x50.
    r.wr(GMBUS3, 1);
    r.wr(GMBUS1, CYCLE_WAIT | (1 << 16) | (0x30 << 1) | SW_RDY);
    expect(r.pollSet(HW_WAIT_PHASE | SATOER) & (HW_WAIT_PHASE | SATOER)).toBe(HW_WAIT_PHASE);
    r.wr(GMBUS1, CYCLE_INDEX | CYCLE_WAIT | (4 << 16) | (0x50 << 1) | 1 | SW_RDY);
    r.pollSet(HW_RDY);
    expect(r.rd(GMBUS3) >>> 0).toBe(0xffffffff); // segment 1 is past this 256-byte EDID
    r.pollSet(HW_WAIT_PHASE);
    r.stop();
    // After STOP the pointer is back at segment 0.
    expect(r.edidRead(PIN_DPB, 0, 4)).toEqual(mons[0]!.edid.subarray(0, 4));
    // Reading the (write-only) pointer NAKs.
    r.wr(GMBUS0, PIN_DPB);
    r.wr(GMBUS1, CYCLE_WAIT | (1 << 16) | (0x30 << 1) | 1 | SW_RDY);
    expect(r.pollSet(SATOER) & SATOER).not.toBe(0);
    r.clearErr();
    expect(r.errors).toEqual([]);
  });

  it('runs at the programmed rate (400 kHz: a quarter of the 100 kHz time)', () => {
    const r = new Rig(fixture('default'));
    r.wr(GMBUS0, PIN_DPB | RATE_400KHZ);
    r.wr(GMBUS1, CYCLE_INDEX | CYCLE_WAIT | (4 << 16) | (0x50 << 1) | 1 | SW_RDY);
    r.wait(((29 + 36) * BIT) / 4 - 1);
    expect(r.rd(GMBUS2) & HW_RDY).toBe(0);
    r.wait(1);
    expect(r.rd(GMBUS2) & HW_RDY).not.toBe(0);
  });
});

describe('GMBUS NAK', () => {
  for (const [what, mons, pin] of [
    ['an edidNak monitor', () => fixture('edid-nak'), PIN_DPB],
    ['an empty port', () => fixture('default'), PIN_DPC],
    ['a DP monitor (no DDC pins)', () => fixture('dp'), 6],
  ] as const) {
    it(`${what}: SATOER after the address phase, ACTIVE clears, SW_CLR_INT recovers, the retry NAKs again`, () => {
      const r = new Rig(mons());
      r.wr(GMBUS4, 1 << 3); // NAK_EN
      r.wr(GMBUS0, pin);
      r.wr(GMBUS1, CYCLE_INDEX | CYCLE_WAIT | (1 << 16) | (0x50 << 1) | 1 | SW_RDY);
      r.wait(29 * BIT - 1);
      expect(r.rd(GMBUS2) & SATOER).toBe(0);
      r.wait(1);
      let st = r.rd(GMBUS2);
      expect(st & (SATOER | ACTIVE | HW_RDY | INT)).toBe(SATOER | ACTIVE | INT);
      expect(r.irqs).toBe(1);
      r.wait(BIT);
      st = r.rd(GMBUS2);
      expect(st & (SATOER | ACTIVE)).toBe(SATOER);
      // A new cycle before SW_CLR_INT is refused.
      r.wr(GMBUS1, CYCLE_INDEX | CYCLE_WAIT | (1 << 16) | (0x50 << 1) | 1 | SW_RDY);
      expect(r.errors).toEqual(['gmbus.nak-not-cleared']);
      expect(r.rd(GMBUS2) & ACTIVE).toBe(0);
      r.clearErr();
      expect(r.rd(GMBUS2) & ~INUSE).toBe(0);
      // Linux retries the first message once: it NAKs the same way, then gives up.
      expect(r.edidRead(pin, 0, 1)).toBe('nak');
      expect(r.edidRead(pin, 0, 128)).toBe('nak');
      expect(r.rd(GMBUS2) & ~INUSE).toBe(0);
      expect(r.errors).toEqual(['gmbus.nak-not-cleared']);
    });
  }

  it('a hot-plugged monitor answers once it is there (the bus asks at each address phase)', () => {
    const mons = fixture('hotplug');
    let plugged = false;
    const r = new Rig([]);
    const g = new Gmbus(r.q, 'gpu2', monitorGmbusBus((p) => (plugged ? mons.find((m) => m.port === p) ?? null : null)), { irq() {}, guestErr() {} });
    g.write(GMBUS0, PIN_DPB);
    g.write(GMBUS1, CYCLE_INDEX | CYCLE_WAIT | (1 << 16) | (0x50 << 1) | 1 | SW_RDY);
    r.wait(30 * BIT);
    expect(g.read(GMBUS2) & SATOER).not.toBe(0);
    g.write(GMBUS1, SW_CLR_INT);
    g.write(GMBUS1, 0);
    plugged = true;
    g.write(GMBUS1, CYCLE_INDEX | CYCLE_WAIT | (1 << 16) | (0x50 << 1) | 1 | SW_RDY);
    r.wait(40 * BIT);
    expect(g.read(GMBUS2) & (HW_RDY | SATOER)).toBe(HW_RDY);
  });
});

describe('GMBUS interrupts, reset, semaphore', () => {
  it('GMBUS4 enables: HW_RDY per dword, HW_WAIT, IDLE', () => {
    const r = new Rig(fixture('default'));
    r.wr(GMBUS4, 1 << 0); // HW_RDY_EN
    expect(r.edidRead(PIN_DPB, 0, 16)).not.toBe('nak');
    expect(r.irqs).toBe(4);
    expect(r.rd(GMBUS2) & INT).not.toBe(0);
    r.wr(GMBUS1, SW_CLR_INT);
    r.wr(GMBUS1, 0);
    expect(r.rd(GMBUS2) & INT).toBe(0);
    r.irqs = 0;
    r.wr(GMBUS4, (1 << 1) | (1 << 2)); // HW_WAIT_EN | IDLE_EN
    expect(r.edidRead(PIN_DPB, 0, 16)).not.toBe('nak');
    expect(r.irqs).toBe(2);
    r.irqs = 0;
    r.wr(GMBUS4, 0);
    expect(r.edidRead(PIN_DPB, 0, 16)).not.toBe('nak');
    expect(r.irqs).toBe(0);
  });

  it('SW_CLR_INT abandons a cycle in progress; reset() clears every register', () => {
    const r = new Rig(fixture('default'));
    r.wr(GMBUS0, PIN_DPB);
    r.wr(GMBUS5, 0x8000_1234);
    r.wr(GMBUS1, CYCLE_INDEX | CYCLE_WAIT | (128 << 16) | (0x50 << 1) | 1 | SW_RDY);
    r.wait(100 * BIT);
    expect(r.rd(GMBUS2) & ACTIVE).not.toBe(0);
    r.wr(GMBUS1, SW_CLR_INT);
    expect(r.rd(GMBUS2) & ~INUSE).toBe(0);
    r.wait(ms(20));
    expect(r.rd(GMBUS2) & ~INUSE).toBe(0);
    // Held in reset until GMBUS1 is written without SW_CLR_INT.
    r.wr(GMBUS1, CYCLE_WAIT | (1 << 16) | (0x50 << 1) | 1 | SW_RDY);
    expect(r.errors).toEqual(['gmbus.sw-rdy-in-reset']);
    r.g.reset();
    for (const off of [GMBUS0, GMBUS1, GMBUS2, GMBUS4, GMBUS5]) expect(r.rd(off), `offset ${off}`).toBe(0);
  });

  it('INUSE: a read returns it and sets it; writing 1 clears it', () => {
    const r = new Rig([]);
    expect(r.rd(GMBUS2) & INUSE).toBe(0);
    expect(r.rd(GMBUS2) & INUSE).toBe(INUSE);
    r.wr(GMBUS2, INUSE);
    expect(r.rd(GMBUS2) & INUSE).toBe(0);
  });

  it('the state hash follows the controller state', () => {
    const r = new Rig(fixture('default'));
    const h0 = r.g.stateHash();
    r.wr(GMBUS0, PIN_DPB);
    const h1 = r.g.stateHash();
    expect(h1).not.toBe(h0);
    r.wr(GMBUS1, CYCLE_INDEX | CYCLE_WAIT | (4 << 16) | (0x50 << 1) | 1 | SW_RDY);
    expect(r.g.stateHash()).not.toBe(h1);
  });
});

describe('GMBUS guest errors', () => {
  const start = (r: Rig, len = 128) => r.wr(GMBUS1, CYCLE_INDEX | CYCLE_WAIT | (len << 16) | (0x50 << 1) | 1 | SW_RDY);

  it('SW_RDY while a cycle is active is ignored', () => {
    const r = new Rig(fixture('default'));
    r.wr(GMBUS0, PIN_DPB);
    start(r);
    r.wait(5 * BIT);
    start(r, 4);
    expect(r.errors).toEqual(['gmbus.busy']);
    // The first cycle carries on: 128 bytes.
    let got = 0;
    while (got < 128) {
      expect(r.pollSet(HW_RDY) & HW_RDY).not.toBe(0);
      r.rd(GMBUS3);
      got += 4;
    }
    expect(r.rd(GMBUS2) & 0x1ff).toBe(128);
  });

  it('reading GMBUS3 with HW_RDY clear returns stale data', () => {
    const r = new Rig(fixture('default'));
    r.wr(GMBUS0, PIN_DPB);
    start(r, 8);
    r.rd(GMBUS3);
    expect(r.errors).toEqual(['gmbus.data.not-ready']);
  });

  it('byte count 0 with a read, cycle select 000 and reserved, invalid pin, reserved rate, pin change while active, unknown offset', () => {
    const r = new Rig(fixture('default'));
    r.wr(GMBUS0, PIN_DPB);
    r.wr(GMBUS1, CYCLE_WAIT | (0x50 << 1) | 1 | SW_RDY);
    expect(r.pollSet(HW_WAIT_PHASE) & (HW_WAIT_PHASE | HW_RDY)).toBe(HW_WAIT_PHASE);
    r.stop();
    r.wr(GMBUS0, PIN_DPB);
    r.wr(GMBUS1, (1 << 16) | (0x50 << 1) | 1 | SW_RDY);
    r.wr(GMBUS1, CYCLE_INDEX | (1 << 16) | (0x50 << 1) | 1 | SW_RDY);
    expect(r.rd(GMBUS2) & ACTIVE).toBe(0);
    r.wr(GMBUS0, 1);
    start(r, 1);
    r.wait(30 * BIT);
    expect(r.rd(GMBUS2) & SATOER).not.toBe(0);
    r.clearErr();
    r.wr(GMBUS0, PIN_DPB | (5 << 8));
    start(r, 1);
    r.wr(GMBUS0, PIN_DPC);
    r.rd(0x14);
    r.wr(0x18, 1);
    expect(r.errors).toEqual([
      'gmbus.read-zero-length', 'gmbus.cycle.none', 'gmbus.cycle.reserved', 'gmbus.pin.invalid',
      'gmbus.rate.reserved', 'gmbus.pin.changed-while-active', 'gmbus.reg.unknown', 'gmbus.reg.unknown',
    ]);
  });

  it('GMBUS3 overrun during a write, and GMBUS3 written during a read', () => {
    const r = new Rig(fixture('default'));
    r.wr(GMBUS0, PIN_DPB);
    r.wr(GMBUS3, 0);
    r.wr(GMBUS1, CYCLE_WAIT | (12 << 16) | (0x50 << 1) | SW_RDY);
    r.wr(GMBUS3, 1);
    r.wr(GMBUS3, 2);
    expect(r.errors).toEqual(['gmbus.data.overrun']);
    r.wr(GMBUS1, SW_CLR_INT);
    r.wr(GMBUS1, 0);
    start(r, 8);
    r.wr(GMBUS3, 5);
    expect(r.errors).toEqual(['gmbus.data.overrun', 'gmbus.data.during-read']);
  });

  it('every code the model records is catalogued', () => {
    for (const code of Object.keys(GMBUS_GUEST_ERRORS)) expect(code).toMatch(/^gmbus\./);
  });

  it('hostile register traffic never throws and stays catalogued', () => {
    const r = new Rig(fixture('two-monitors'));
    let seed = 12345;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const offs = [GMBUS0, GMBUS1, GMBUS2, GMBUS3, GMBUS4, GMBUS5, 0x14];
    for (let i = 0; i < 20_000; i++) {
      const off = offs[Math.floor(rnd() * offs.length)]!;
      if (rnd() < 0.5) r.rd(off);
      else r.wr(off, Math.floor(rnd() * 2 ** 32));
      r.wait(Math.floor(rnd() * 50 * BIT));
    }
    for (const c of r.errors) expect(Object.keys(GMBUS_GUEST_ERRORS)).toContain(c);
    // Recovers: reset, then a clean read works.
    r.wr(GMBUS1, SW_CLR_INT);
    r.wr(GMBUS1, 0);
    r.wr(GMBUS5, 0);
    r.wait(ms(1));
    expect(r.edidRead(PIN_DPB, 0, 8)).toEqual(fixture('two-monitors')[0]!.edid.subarray(0, 8));
  });
});
