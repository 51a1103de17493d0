/**
 * The DP AUX channel driven as Linux's intel_dp_aux.c does on SKL/KBL:
 * pack the request big-endian into DATA1..5, write the send control value,
 * wait for SEND_BUSY to clear, check the error bits, unpack the reply.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EventQueue } from '../../../src/sim/event-queue.js';
import { ms, us } from '../../../src/sim/time.js';
import { AUX_GUEST_ERRORS, DpAux, type AuxGuestError } from '../../../src/devices/intel-display/aux.js';
import { loadMonitors, type MonitorSpec } from '../../../src/devices/intel-display/monitors.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const fixture = (name: string) => loadMonitors(ROOT, `fixtures/displays/${name}.json`);

// Driver-side constants (intel_dp_aux_regs.h, drm_dp.h).
const SEND_BUSY = 1 << 31;
const DONE = 1 << 30;
const INTERRUPT = 1 << 29;
const TIME_OUT_ERROR = 1 << 28;
const TIME_OUT_MAX = 3 << 26;
const RECEIVE_ERROR = 1 << 25;
const SIZE_SHIFT = 20;
const FW_SYNC_32 = 31 << 5;
const SYNC_32 = 31;
const NATIVE_READ = 0x9;
const NATIVE_WRITE = 0x8;
const I2C_WRITE = 0x0;
const I2C_READ = 0x1;
const I2C_MOT = 0x4;

class Rig {
  readonly q = new EventQueue();
  readonly errors: AuxGuestError[] = [];
  irqs = 0;
  readonly aux: DpAux;
  sink: MonitorSpec | null;
  constructor(sink: MonitorSpec | null) {
    this.sink = sink;
    this.aux = new DpAux(this.q, 'gpu', 3, () => this.sink, {
      irq: () => { this.irqs++; },
      guestErr: (code) => { this.errors.push(code); },
    });
  }

  /** intel_dp_aux_xfer: returns { status, reply bytes } or the status alone on error. */
  xfer(send: number[], irq = true): { status: number; reply: number[]; elapsed: number } {
    const t0 = this.q.now;
    for (let i = 0; i < send.length; i += 4) {
      let v = 0;
      for (let j = 0; j < 4 && i + j < send.length; j++) v |= send[i + j]! << ((3 - j) * 8);
      this.aux.write(4 + i, v >>> 0);
    }
    const ctl = SEND_BUSY | DONE | (irq ? INTERRUPT : 0) | TIME_OUT_ERROR | TIME_OUT_MAX | RECEIVE_ERROR
      | (send.length << SIZE_SHIFT) | FW_SYNC_32 | SYNC_32;
    this.aux.write(0, ctl >>> 0);
    let status = 0;
    const end = this.q.now + ms(10);
    for (;;) {
      status = this.aux.read(0);
      if ((status & SEND_BUSY) === 0 || this.q.now >= end) break;
      this.q.runUntil(this.q.now + us(5));
    }
    const elapsed = this.q.now - t0;
    this.aux.write(0, (status | DONE | TIME_OUT_ERROR | RECEIVE_ERROR) >>> 0);
    const reply: number[] = [];
    if ((status & (TIME_OUT_ERROR | RECEIVE_ERROR)) === 0) {
      const n = (status >>> SIZE_SHIFT) & 0x1f;
      for (let i = 0; i < n; i += 4) {
        const v = this.aux.read(4 + i);
        for (let j = 0; j < 4 && i + j < n; j++) reply.push((v >>> ((3 - j) * 8)) & 0xff);
      }
    }
    return { status, reply, elapsed };
  }

  /** drm_dp_dpcd_read through intel_dp_aux_transfer: header (request << 4 | addr 19:16, addr 15:8, 7:0, size - 1). */
  dpcdRead(addr: number, n: number) {
    return this.xfer([(NATIVE_READ << 4) | (addr >> 16), (addr >> 8) & 0xff, addr & 0xff, n - 1]);
  }

  dpcdWrite(addr: number, data: number[]) {
    return this.xfer([(NATIVE_WRITE << 4) | (addr >> 16), (addr >> 8) & 0xff, addr & 0xff, data.length - 1, ...data]);
  }

  i2c(cmd: number, addr: number, data?: number[] | number) {
    const h = [cmd << 4, 0, addr];
    if (data === undefined) return this.xfer(h);
    if (typeof data === 'number') return this.xfer([...h, data - 1]);
    return this.xfer([...h, data.length - 1, ...data]);
  }
}

describe('DP AUX native DPCD access', () => {
  it('reads the DPCD receiver capabilities of a DP sink (rev 1.2, HBR2, 4 lanes)', () => {
    const r = new Rig(fixture('dp')[0]!);
    const { status, reply, elapsed } = r.dpcdRead(0x000, 16);
    expect(status & (SEND_BUSY | DONE | TIME_OUT_ERROR | RECEIVE_ERROR)).toBe(DONE);
    expect((status >>> SIZE_SHIFT) & 0x1f).toBe(17);
    expect(reply[0]).toBe(0x00); // AUX_ACK
    expect(reply.slice(1, 4)).toEqual([0x12, 0x14, 0x84]);
    expect(reply[1 + 0x006]).toBe(0x01);
    expect(reply[1 + 0x008]).toBe(0x02);
    // Request: 32 sync + 8 + 4 bytes x 8 µs; reply after 10 µs: 24 + 17 x 8 µs.
    expect(elapsed).toBeGreaterThanOrEqual(us(32 + 8 + 32 + 10 + 24 + 136));
    expect(elapsed).toBeLessThan(us(32 + 8 + 32 + 10 + 24 + 136 + 5));
    expect(r.irqs).toBe(1);
    expect(r.errors).toEqual([]);
    // The W1C write cleared DONE.
    expect(r.aux.read(0) & DONE).toBe(0);
  });

  it('no interrupt without the interrupt-on-done bit', () => {
    const r = new Rig(fixture('dp')[0]!);
    r.xfer([(NATIVE_READ << 4), 0, 0, 0], false);
    expect(r.irqs).toBe(0);
  });

  it('writes link configuration and reports lane status by training pattern', () => {
    const r = new Rig(fixture('dp')[0]!);
    expect(r.dpcdWrite(0x100, [0x14, 0x84, 0x21]).reply).toEqual([0x00]); // HBR2, 4 lanes, TPS1 + scrambling disabled
    expect(r.dpcdRead(0x100, 3).reply).toEqual([0x00, 0x14, 0x84, 0x21]);
    expect(r.dpcdRead(0x202, 3).reply).toEqual([0x00, 0x11, 0x11, 0x00]); // CR done on 4 lanes
    r.dpcdWrite(0x102, [0x22]); // TPS2
    expect(r.dpcdRead(0x202, 3).reply).toEqual([0x00, 0x77, 0x77, 0x01]); // CR + EQ + symbol lock, interlane aligned
    r.dpcdWrite(0x600, [0x02]);
    expect(r.dpcdRead(0x600, 1).reply).toEqual([0x00, 0x02]);
    // Read-only registers ignore writes (ACKed).
    expect(r.dpcdWrite(0x000, [0x40]).reply).toEqual([0x00]);
    expect(r.dpcdRead(0x000, 1).reply).toEqual([0x00, 0x12]);
    expect(r.errors).toEqual([]);
  });

  it('no sink, or an HDMI monitor on the port: DONE | TIME_OUT_ERROR after the 1.6 ms time-out', () => {
    for (const sink of [null, fixture('default')[0]!]) {
      const r = new Rig(sink);
      const { status, reply, elapsed } = r.dpcdRead(0, 1);
      expect(status & (SEND_BUSY | DONE | TIME_OUT_ERROR)).toBe(DONE | TIME_OUT_ERROR);
      expect(reply).toEqual([]);
      expect(elapsed).toBeGreaterThanOrEqual(us(1600));
      expect(elapsed).toBeLessThan(us(1600 + 100));
      expect(r.irqs).toBe(1);
    }
  });

  it('an auxNak sink answers every request with AUX_NACK', () => {
    const m = { ...fixture('dp')[0]!, auxNak: true };
    const r = new Rig(m);
    const { status, reply } = r.dpcdRead(0, 16);
    expect(status & (DONE | TIME_OUT_ERROR | RECEIVE_ERROR)).toBe(DONE);
    expect((status >>> SIZE_SHIFT) & 0x1f).toBe(1);
    expect(reply).toEqual([0x10]);
    expect(r.i2c(I2C_WRITE | I2C_MOT, 0x50).reply).toEqual([0x10]);
  });
});

describe('I2C-over-AUX EDID read (drm_dp_i2c_xfer shape)', () => {
  it('reads the EDID at 0x50 in 16-byte chunks', () => {
    const m = fixture('dp')[0]!;
    const r = new Rig(m);
    expect(r.i2c(I2C_WRITE | I2C_MOT, 0x50).reply).toEqual([0x00]); // START, address write
    expect(r.i2c(I2C_WRITE | I2C_MOT, 0x50, [0x00]).reply).toEqual([0x00]); // offset 0
    expect(r.i2c(I2C_READ | I2C_MOT, 0x50).reply).toEqual([0x00]); // repeated START, address read
    const got: number[] = [];
    for (let i = 0; i < 16; i++) {
      const { reply } = r.i2c(I2C_READ | I2C_MOT, 0x50, 16);
      expect(reply[0]).toBe(0x00);
      got.push(...reply.slice(1));
    }
    expect(r.i2c(I2C_READ, 0x50).reply).toEqual([0x00]); // STOP
    expect(Uint8Array.from(got)).toEqual(m.edid);
    expect(r.errors).toEqual([]);
  });

  it('other addresses and an edidNak sink get I2C_NACK', () => {
    const m = fixture('dp')[0]!;
    expect(new Rig(m).i2c(I2C_WRITE | I2C_MOT, 0x40).reply).toEqual([0x40]);
    expect(new Rig({ ...m, edidNak: true }).i2c(I2C_WRITE | I2C_MOT, 0x50).reply).toEqual([0x40]);
  });

  it('the segment pointer at 0x30 selects 256-byte segments until the transaction ends', () => {
    const m = fixture('dp')[0]!;
    const r = new Rig(m);
    r.i2c(I2C_WRITE | I2C_MOT, 0x30, [1]);
    r.i2c(I2C_WRITE | I2C_MOT, 0x50, [0]);
    expect(r.i2c(I2C_READ | I2C_MOT, 0x50, 2).reply).toEqual([0x00, 0xff, 0xff]);
    r.i2c(I2C_READ, 0x50); // STOP
    r.i2c(I2C_WRITE | I2C_MOT, 0x50, [0]);
    expect(r.i2c(I2C_READ, 0x50, 2).reply).toEqual([0x00, 0x00, 0xff]);
  });
});

describe('DP AUX guest errors', () => {
  it('SEND_BUSY while busy, data written while busy, bad sizes, malformed and too-long requests', () => {
    const r = new Rig(fixture('dp')[0]!);
    r.aux.write(4, 0x90000000);
    r.aux.write(0, (SEND_BUSY | (4 << SIZE_SHIFT) | SYNC_32) >>> 0);
    r.aux.write(0, (SEND_BUSY | (4 << SIZE_SHIFT) | SYNC_32) >>> 0);
    r.aux.write(8, 1);
    r.q.runUntil(r.q.now + ms(2));
    expect(r.aux.read(0) & (SEND_BUSY | DONE)).toBe(DONE);
    // Message size 0: nothing sent, RECEIVE_ERROR.
    const z = r.xfer([]);
    expect(z.status & (DONE | RECEIVE_ERROR)).toBe(DONE | RECEIVE_ERROR);
    // Two bytes: no parseable header, the sink stays silent.
    expect(r.xfer([0x90, 0]).status & TIME_OUT_ERROR).toBe(TIME_OUT_ERROR);
    // 17-byte read: AUX_NACK.
    expect(r.dpcdRead(0, 17).reply).toEqual([0x10]);
    r.aux.read(0x40);
    expect(r.errors).toEqual(['dpaux.busy', 'dpaux.data-while-busy', 'dpaux.size', 'dpaux.request.malformed', 'dpaux.request.too-long', 'dpaux.reg.unknown']);
    for (const c of r.errors) expect(Object.keys(AUX_GUEST_ERRORS)).toContain(c);
  });

  it('reset() cancels a transaction and clears the registers; hostile traffic never throws', () => {
    const r = new Rig(fixture('dp')[0]!);
    r.aux.write(0, (SEND_BUSY | (4 << SIZE_SHIFT)) >>> 0);
    r.aux.reset();
    r.q.runUntil(r.q.now + ms(5));
    expect(r.aux.read(0)).toBe(0);
    let seed = 99;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (let i = 0; i < 20_000; i++) {
      const off = [0, 4, 8, 12, 16, 20, 24][Math.floor(rnd() * 7)]!;
      if (rnd() < 0.4) r.aux.read(off);
      else r.aux.write(off, Math.floor(rnd() * 2 ** 32));
      if (rnd() < 0.1) r.sink = rnd() < 0.5 ? null : fixture('dp')[0]!;
      r.q.runUntil(r.q.now + Math.floor(rnd() * us(300)));
    }
    for (const c of r.errors) expect(Object.keys(AUX_GUEST_ERRORS)).toContain(c);
    r.q.runUntil(r.q.now + ms(5));
    r.aux.write(0, (DONE | TIME_OUT_ERROR | RECEIVE_ERROR) >>> 0);
    r.sink = fixture('dp')[0]!;
    expect(r.dpcdRead(0, 1).reply).toEqual([0x00, 0x12]);
  });
});
