import { describe, expect, it } from 'vitest';
import { eventsOf, fullSpec, guestErrs, makeFunction, makeWorld, plainSpec, RegBlock } from './fixture.js';

function world(withBar4 = false) {
  const w = makeWorld();
  const bar0 = new RegBlock(0x4000);
  const bar2 = new RegBlock(32);
  const bar4 = new RegBlock(0x1000);
  const fn = makeFunction(w, fullSpec(withBar4 ? { bar0, bar2, bar4 } : { bar0, bar2 }), { dev: 7 });
  return { w, fn, bar0, bar2, bar4 };
}

/** Size from a BAR read-back after writing all ones (PCI 3.0 6.2.5.1). */
function sizeOf(mask: number, io: boolean): number {
  return ((~(mask & (io ? 0xfffffffc : 0xfffffff0))) >>> 0) + 1;
}

describe('BAR sizing', () => {
  it('mem64: low dword returns the size mask with type bits 10b, high dword all writable', () => {
    const { fn } = world();
    expect(fn.configRead(0x10, 4)).toBe(0x4);
    fn.configWrite(0x10, 4, 0xffffffff);
    const lo = fn.configRead(0x10, 4);
    expect(lo).toBe(0xffffc004);
    expect(sizeOf(lo, false)).toBe(0x4000);
    fn.configWrite(0x14, 4, 0xffffffff);
    expect(fn.configRead(0x14, 4)).toBe(0xffffffff);
  });

  it('io: bit 0 set, bit 1 reads 0, size mask above', () => {
    const { fn } = world();
    expect(fn.configRead(0x18, 4)).toBe(0x1);
    fn.configWrite(0x18, 4, 0xffffffff);
    const m = fn.configRead(0x18, 4);
    expect(m).toBe(0xffffffe1);
    expect(sizeOf(m, true)).toBe(32);
  });

  it('prefetchable mem32: bit 3 set, type 00b', () => {
    const { fn } = world(true);
    expect(fn.configRead(0x20, 4)).toBe(0x8);
    fn.configWrite(0x20, 4, 0xffffffff);
    expect(fn.configRead(0x20, 4)).toBe(0xfffff008);
  });

  it('non-prefetchable mem32 reads type bits 0', () => {
    const w = makeWorld();
    const fn = makeFunction(w, plainSpec({ bars: [{ index: 1, kind: 'mem32', size: 0x100, handler: new RegBlock(0x100) }] }));
    fn.configWrite(0x14, 4, 0xffffffff);
    expect(fn.configRead(0x14, 4)).toBe(0xffffff00);
  });

  it('mem64 of 8 GiB sizes through the upper dword', () => {
    const w = makeWorld();
    const fn = makeFunction(w, plainSpec({ bars: [{ index: 0, kind: 'mem64', size: 2 ** 33, prefetchable: true, handler: new RegBlock(16) }] }));
    fn.configWrite(0x10, 4, 0xffffffff);
    fn.configWrite(0x14, 4, 0xffffffff);
    expect(fn.configRead(0x10, 4)).toBe(0x0000000c);
    expect(fn.configRead(0x14, 4)).toBe(0xfffffffe);
  });

  it('low address bits below the size are read-only 0', () => {
    const { fn } = world();
    fn.configWrite(0x10, 4, 0xfebf1234);
    expect(fn.configRead(0x10, 4)).toBe(0xfebf0004);
    fn.configWrite(0x18, 4, 0xc05f);
    expect(fn.configRead(0x18, 4)).toBe(0xc041);
  });

  it('unimplemented BARs and the expansion ROM read 0 and ignore writes', () => {
    const { fn } = world();
    for (const reg of [0x1c, 0x20, 0x24, 0x30]) {
      fn.configWrite(reg, 4, 0xffffffff);
      expect(fn.configRead(reg, 4)).toBe(0);
    }
  });

  it('byte writes to a BAR merge into the register', () => {
    const { fn } = world();
    fn.configWrite(0x13, 1, 0xfe);
    fn.configWrite(0x12, 1, 0xbf);
    expect(fn.configRead(0x10, 4)).toBe(0xfebf0004);
  });
});

describe('BAR decode into PhysMem', () => {
  it('maps when memory space is enabled and follows BAR and command writes', () => {
    const { w, fn, bar0 } = world();
    fn.configWrite(0x10, 4, 0xfe000000);
    fn.configWrite(0x14, 4, 0);
    expect(w.mem.findWindow(0xfe000000)).toBeUndefined();
    fn.configWrite(0x04, 2, 0x2);
    const win = w.mem.findWindow(0xfe000000, 4);
    expect(win).toBeDefined();
    expect(win!.base).toBe(0xfe000000);
    expect(win!.size).toBe(0x4000);
    expect(win!.bar).toBe(0);
    expect(win!.dev).toBe(7);
    expect(win!.traced).toBe(true);
    expect(fn.barBase(0)).toBe(0xfe000000);
    // Device registers are reached outside the MSI-X ranges.
    win!.handler.write(0x14, 4, 0x460001);
    expect(bar0.log.at(-1)).toEqual({ write: true, offset: 0x14, size: 4, value: 0x460001 });

    // Move the BAR while decoding: old window gone, new one there.
    fn.configWrite(0x10, 4, 0xfd000000);
    expect(w.mem.findWindow(0xfe000000)).toBeUndefined();
    expect(w.mem.findWindow(0xfd000000)?.base).toBe(0xfd000000);

    // 64-bit: upper dword moves it above 4 GiB.
    fn.configWrite(0x14, 4, 1);
    expect(w.mem.findWindow(0xfd000000)).toBeUndefined();
    expect(w.mem.findWindow(0x1_fd000000)?.base).toBe(0x1_fd000000);

    // Disable memory space: unmapped.
    fn.configWrite(0x04, 2, 0);
    expect(w.mem.listWindows()).toHaveLength(0);
    expect(fn.barBase(0)).toBe(-1);
    expect(guestErrs(w.tracer)).toEqual([]);
  });

  it('does not decode the all-ones sizing pattern', () => {
    const { w, fn } = world(true);
    fn.configWrite(0x20, 4, 0xffffffff);
    fn.configWrite(0x10, 4, 0xffffffff); // low half alone is already the sizing pattern
    fn.configWrite(0x18, 4, 0xffffffff);
    fn.configWrite(0x04, 2, 0x3);
    expect(w.mem.listWindows()).toHaveLength(0);
    expect(w.mem.findPorts(0xffe0, 1)).toBeUndefined();
    fn.configWrite(0x14, 4, 0xffffffff); // high half all ones: sizing too
    fn.configWrite(0x10, 4, 0);
    expect(w.mem.listWindows()).toHaveLength(0);
    fn.configWrite(0x20, 4, 0xe0000000);
    expect(w.mem.findWindow(0xe0000000)?.bar).toBe(4);
    expect(guestErrs(w.tracer)).toEqual([]);
  });

  it('maps I/O BARs into port space when I/O space is enabled', () => {
    const { w, fn, bar2 } = world();
    fn.configWrite(0x18, 4, 0xc040);
    expect(w.mem.findPorts(0xc040, 1)).toBeUndefined();
    fn.configWrite(0x04, 2, 0x1);
    const r = w.mem.findPorts(0xc044, 4);
    expect(r?.base).toBe(0xc040);
    expect(r?.size).toBe(32);
    expect(r?.dev).toBe(7);
    r!.handler.write(0x4, 2, 0xbeef);
    expect(bar2.log.at(-1)).toEqual({ write: true, offset: 4, size: 2, value: 0xbeef });
    // Memory space alone does not decode the I/O BAR.
    fn.configWrite(0x04, 2, 0x2);
    expect(w.mem.findPorts(0xc040, 1)).toBeUndefined();
  });

  it('overlap with RAM or another window is a guest error, not an exception, and the BAR does not decode', () => {
    const { w, fn } = world();
    fn.configWrite(0x10, 4, 0x100000); // inside the 64 MiB of RAM
    expect(() => fn.configWrite(0x04, 2, 0x2)).not.toThrow();
    expect(w.mem.listWindows()).toHaveLength(0);
    const errs = eventsOf(w.tracer, 'guestErr');
    expect(errs.map((e) => e.code)).toEqual(['pci.bar-overlap']);
    expect(errs[0]!.dev).toBe(7);
    expect(errs[0]!.message).toMatch(/BAR0/);

    // Another device's window in the way.
    const other = new RegBlock(0x1000);
    w.mem.mapMmio({ base: 0xfe000000, size: 0x1000, handler: other, dev: 9, bar: 0, traced: true });
    fn.configWrite(0x10, 4, 0xfe000000);
    expect(guestErrs(w.tracer)).toEqual(['pci.bar-overlap', 'pci.bar-overlap']);
    expect(w.mem.findWindow(0xfe000000)?.dev).toBe(9);
    // Moving to a free address decodes again.
    fn.configWrite(0x10, 4, 0xfe100000);
    expect(w.mem.findWindow(0xfe100000)?.dev).toBe(7);
    expect(guestErrs(w.tracer)).toHaveLength(2);
  });

  it('two BARs of one function can swap places', () => {
    const w = makeWorld();
    const fn = makeFunction(w, plainSpec({
      bars: [
        { index: 0, kind: 'mem32', size: 0x1000, handler: new RegBlock(0x1000) },
        { index: 1, kind: 'mem32', size: 0x1000, handler: new RegBlock(0x1000) },
      ],
    }));
    fn.configWrite(0x10, 4, 0xe0000000);
    fn.configWrite(0x14, 4, 0xe0001000);
    fn.configWrite(0x04, 2, 0x2);
    fn.configWrite(0x10, 4, 0xe0001000); // collides with BAR1 for now
    fn.configWrite(0x14, 4, 0xe0000000); // BAR1 leaves; BAR0 is retried
    expect(w.mem.findWindow(0xe0001000)?.bar).toBe(0);
    expect(w.mem.findWindow(0xe0000000)?.bar).toBe(1);
    expect(guestErrs(w.tracer)).toEqual(['pci.bar-overlap']);
  });

  it('a 64-bit address beyond what the machine can reach does not decode', () => {
    const { w, fn } = world();
    fn.configWrite(0x10, 4, 0);
    fn.configWrite(0x14, 4, 0x7fffffff);
    fn.configWrite(0x04, 2, 0x2);
    expect(w.mem.listWindows()).toHaveLength(0);
    expect(guestErrs(w.tracer)).toEqual(['pci.bar-unreachable']);
  });

  it('an unassigned memory BAR (address 0) decodes over RAM: a guest error', () => {
    const { w, fn } = world();
    fn.configWrite(0x04, 2, 0x2);
    expect(guestErrs(w.tracer)).toEqual(['pci.bar-overlap']);
    expect(eventsOf(w.tracer, 'guestErr')[0]!.message).toMatch(/overlaps RAM/);
  });

  it('assignBar programs both halves; decode still follows Command', () => {
    const { w, fn } = world(true);
    fn.assignBar(0, 0x2_0000_0000);
    expect(fn.configRead(0x10, 4)).toBe(0x4);
    expect(fn.configRead(0x14, 4)).toBe(0x2);
    fn.assignBar(2, 0x1000);
    fn.assignBar(4, 0xf0000000);
    expect(fn.configRead(0x20, 4)).toBe(0xf0000008);
    expect(w.mem.listWindows()).toHaveLength(0);
    fn.configWrite(0x04, 2, 0x3);
    expect(w.mem.findWindow(0x2_0000_0000)?.bar).toBe(0);
    expect(w.mem.findWindow(0xf0000000)?.bar).toBe(4);
    expect(w.mem.findPorts(0x1000, 1)?.base).toBe(0x1000);
    expect(fn.barStates()).toEqual([
      { index: 0, kind: 'mem64', size: 0x4000, prefetchable: false, address: 0x2_0000_0000, mappedBase: 0x2_0000_0000 },
      { index: 2, kind: 'io', size: 32, prefetchable: false, address: 0x1000, mappedBase: 0x1000 },
      { index: 4, kind: 'mem32', size: 0x1000, prefetchable: true, address: 0xf0000000, mappedBase: 0xf0000000 },
    ]);
    expect(() => fn.assignBar(1, 0)).toThrow(/BAR1 is not implemented/);
    expect(() => fn.assignBar(0, 0x1000)).toThrow(/not aligned/);
    expect(() => fn.assignBar(4, 0x1_0000_0000)).toThrow(/out of range/);
  });

  it('reset unmaps every BAR and clears the registers', () => {
    const { w, fn } = world();
    fn.assignBar(0, 0xfe000000);
    fn.assignBar(2, 0x2000);
    fn.configWrite(0x04, 2, 0x7);
    expect(w.mem.listWindows()).toHaveLength(1);
    fn.reset();
    expect(w.mem.listWindows()).toHaveLength(0);
    expect(w.mem.findPorts(0x2000, 1)).toBeUndefined();
    expect(fn.configRead(0x04, 2)).toBe(0);
    expect(fn.configRead(0x10, 4)).toBe(0x4);
    expect(fn.configRead(0x18, 4)).toBe(0x1);
  });

});
