import { describe, expect, it } from 'vitest';
import { fullSpec, guestErrs, makeFunction, makeWorld, plainSpec, RegBlock } from './fixture.js';

function full() {
  const w = makeWorld();
  const bar0 = new RegBlock(0x4000);
  const bar2 = new RegBlock(32);
  const fn = makeFunction(w, fullSpec({ bar0, bar2 }));
  return { w, fn, bar0, bar2 };
}

describe('type-0 header: identity registers are read-only', () => {
  it('reads the IDs, class and pin from the spec', () => {
    const { fn } = full();
    expect(fn.configRead(0x00, 2)).toBe(0x8086);
    expect(fn.configRead(0x02, 2)).toBe(0x0953);
    expect(fn.configRead(0x00, 4)).toBe(0x09538086);
    expect(fn.configRead(0x08, 1)).toBe(0x01);
    expect(fn.configRead(0x08, 4)).toBe(0x01080201);
    expect(fn.configRead(0x0e, 1)).toBe(0x00);
    expect(fn.configRead(0x0f, 1)).toBe(0x00);
    expect(fn.configRead(0x2c, 2)).toBe(0x8086);
    expect(fn.configRead(0x2e, 2)).toBe(0x3702);
    expect(fn.configRead(0x3d, 1)).toBe(1);
  });

  it('ignores writes to IDs, revision, class, header type, BIST, subsystem, cap pointer, pin, expansion ROM, CardBus CIS', () => {
    const { fn } = full();
    const ro = [0x00, 0x08, 0x0e, 0x28, 0x2c, 0x30, 0x34, 0x3c];
    const before = ro.map((o) => fn.configRead(o, 4));
    for (const o of [0x00, 0x08, 0x28, 0x2c, 0x30]) fn.configWrite(o, 4, 0xffffffff);
    fn.configWrite(0x0e, 2, 0xffff); // header type, BIST
    fn.configWrite(0x34, 1, 0xff);
    fn.configWrite(0x3d, 1, 0xff);
    fn.configWrite(0x3e, 2, 0xffff);
    expect(fn.configRead(0x00, 4)).toBe(before[0]);
    expect(fn.configRead(0x08, 4)).toBe(before[1]);
    expect(fn.configRead(0x0e, 2)).toBe(0);
    expect(fn.configRead(0x28, 4)).toBe(0);
    expect(fn.configRead(0x2c, 4)).toBe(before[4]);
    expect(fn.configRead(0x30, 4)).toBe(0);
    expect(fn.configRead(0x34, 1)).toBe(0x40);
    expect(fn.configRead(0x3d, 1)).toBe(1);
    expect(fn.configRead(0x3e, 2)).toBe(0);
  });
});

describe('Command register', () => {
  it('has RW bits 0,1,2,6,8,10 only', () => {
    const { fn } = full();
    fn.configWrite(0x04, 2, 0xffff);
    expect(fn.configRead(0x04, 2)).toBe(0x0547);
    fn.configWrite(0x04, 2, 0);
    expect(fn.configRead(0x04, 2)).toBe(0);
  });

  it('IO bit needs an I/O BAR, memory bit a memory BAR', () => {
    const w = makeWorld();
    const none = makeFunction(w, plainSpec(), { dev: 1 });
    none.configWrite(0x04, 2, 0x7);
    expect(none.configRead(0x04, 2)).toBe(0x4);
    const memOnly = makeFunction(w, plainSpec({ bars: [{ index: 0, kind: 'mem32', size: 0x100, handler: new RegBlock(0x100) }] }),
      { bdf: { bus: 0, device: 4, fn: 0 }, dev: 2 });
    memOnly.configWrite(0x04, 2, 0x7);
    expect(memOnly.configRead(0x04, 2)).toBe(0x6);
    expect(memOnly.memoryEnabled).toBe(true);
    expect(memOnly.ioEnabled).toBe(false);
    const ioOnly = makeFunction(w, plainSpec({ bars: [{ index: 1, kind: 'io', size: 16, handler: new RegBlock(16) }] }),
      { bdf: { bus: 0, device: 5, fn: 0 }, dev: 3 });
    ioOnly.configWrite(0x04, 2, 0x7);
    expect(ioOnly.configRead(0x04, 2)).toBe(0x5);
    expect(ioOnly.ioEnabled).toBe(true);
  });

  it('exposes bus master through the getter', () => {
    const { fn } = full();
    expect(fn.busMaster).toBe(false);
    fn.configWrite(0x04, 1, 0x04);
    expect(fn.busMaster).toBe(true);
    fn.configWrite(0x04, 2, 0);
    expect(fn.busMaster).toBe(false);
  });

  it('byte write to the high byte sets INTx Disable without touching the low byte', () => {
    const { fn } = full();
    fn.configWrite(0x04, 1, 0x06);
    fn.configWrite(0x05, 1, 0x04);
    expect(fn.configRead(0x04, 2)).toBe(0x0406);
  });
});

describe('Status register', () => {
  it('reports the capability list and nothing else at reset', () => {
    const { fn } = full();
    expect(fn.configRead(0x06, 2)).toBe(0x0010);
    const w = makeWorld();
    expect(makeFunction(w, plainSpec()).configRead(0x06, 2)).toBe(0);
  });

  it('error bits are write-1-to-clear and other bits are read-only', () => {
    const { fn } = full();
    fn.setStatusBits(0xffff);
    // Only the error bits can be set by the device; bit 3 follows INTx.
    expect(fn.configRead(0x06, 2)).toBe(0xf910);
    fn.configWrite(0x06, 2, 1 << 13);
    expect(fn.configRead(0x06, 2)).toBe(0xd910);
    fn.configWrite(0x06, 2, 0);
    expect(fn.configRead(0x06, 2)).toBe(0xd910);
    fn.configWrite(0x06, 2, 0xffff);
    expect(fn.configRead(0x06, 2)).toBe(0x0010);
  });

  it('a dword write to Command also clears Status bits written as 1', () => {
    const { fn } = full();
    fn.setStatusBits(1 << 13 | 1 << 12);
    fn.configWrite(0x04, 4, (1 << 13) << 16 | 0x0006);
    expect(fn.configRead(0x04, 4)).toBe(((1 << 12 | 0x10) << 16 | 0x0006) >>> 0);
  });

  it('a write to Command alone leaves the W1C bits set', () => {
    const { fn } = full();
    fn.setStatusBits(1 << 13);
    fn.configWrite(0x04, 2, 0x0006);
    expect(fn.configRead(0x06, 2) & (1 << 13)).not.toBe(0);
  });

  it('Interrupt Status follows the INTx request even when INTx is disabled', () => {
    const { fn } = full();
    fn.configWrite(0x04, 2, 1 << 10);
    fn.setIntx(true);
    expect(fn.configRead(0x06, 2) & 0x8).toBe(0x8);
    fn.configWrite(0x06, 2, 0x8); // RO: not W1C
    expect(fn.configRead(0x06, 2) & 0x8).toBe(0x8);
    fn.setIntx(false);
    expect(fn.configRead(0x06, 2) & 0x8).toBe(0);
  });
});

describe('misc header registers', () => {
  it('cache line size and interrupt line are RW', () => {
    const { fn } = full();
    fn.configWrite(0x0c, 1, 0x10);
    fn.configWrite(0x3c, 1, 0x11);
    expect(fn.configRead(0x0c, 1)).toBe(0x10);
    expect(fn.configRead(0x3c, 1)).toBe(0x11);
    expect(fn.configRead(0x3c, 2)).toBe(0x0111);
  });

  it('latency timer is RW on conventional PCI and hardwired 0 on PCI Express (PCIe 7.5.1.4)', () => {
    const w = makeWorld();
    const conv = makeFunction(w, plainSpec());
    conv.configWrite(0x0d, 1, 0x40);
    expect(conv.configRead(0x0d, 1)).toBe(0x40);
    const { fn } = full();
    fn.configWrite(0x0d, 1, 0x40);
    expect(fn.configRead(0x0d, 1)).toBe(0);
  });

  it('dword write at 0x0c touches cache line and latency but not header type or BIST', () => {
    const w = makeWorld();
    const conv = makeFunction(w, plainSpec());
    conv.configWrite(0x0c, 4, 0xffffffff);
    expect(conv.configRead(0x0c, 4)).toBe(0x0000ffff);
  });
});

describe('access sizes and config space extent', () => {
  it('sub-dword reads at any alignment return the right bytes', () => {
    const { fn } = full();
    expect(fn.configRead(0x01, 1)).toBe(0x80);
    expect(fn.configRead(0x01, 2)).toBe(0x5380);
    expect(fn.configRead(0x03, 1)).toBe(0x09);
    expect(fn.configRead(0x0a, 2)).toBe(0x0108);
  });

  it('PCIe functions have 4 KiB, conventional ones 256 bytes; beyond reads 0', () => {
    const { fn } = full();
    expect(fn.configSize).toBe(0x1000);
    const w = makeWorld();
    const conv = makeFunction(w, plainSpec());
    expect(conv.configSize).toBe(0x100);
    expect(conv.configRead(0x100, 4)).toBe(0);
    conv.configWrite(0x100, 4, 0xffffffff);
    expect(conv.configRead(0x100, 4)).toBe(0);
    expect(fn.configRead(0x1000, 4)).toBe(0);
    expect(fn.configRead(0x2000, 4)).toBe(0);
  });

  it('extended config space has no capabilities: header at 0x100 reads 0 and is read-only', () => {
    const { fn } = full();
    expect(fn.configRead(0x100, 4)).toBe(0);
    fn.configWrite(0x100, 4, 0x12345678);
    expect(fn.configRead(0x100, 4)).toBe(0);
    fn.configWrite(0xffc, 4, 0xffffffff);
    expect(fn.configRead(0xffc, 4)).toBe(0);
  });

  it('bad sizes and offsets read 0 and are ignored: no register changes, no decode, no guest error', () => {
    const { w, fn } = full();
    const space = () => Array.from({ length: 0x400 }, (_, i) => fn.configRead(i * 4, 4));
    const before = space();
    expect(fn.configRead(0, 3)).toBe(0);
    expect(fn.configRead(-4, 4)).toBe(0);
    expect(fn.configRead(0x1000, 4)).toBe(0);
    expect(fn.configRead(2.5, 1)).toBe(0);
    // Each would set the Command register's decode / bus-master bits (or a BAR) if it were taken.
    fn.configWrite(0x04, 3, 0xffffff);
    fn.configWrite(0x04, 8, 0x7);
    fn.configWrite(1.5, 4, 0xffffffff);
    fn.configWrite(-4, 4, 0xffffffff);
    fn.configWrite(0x1000, 4, 0xffffffff);
    fn.configWrite(0x10, 0, 0xfffff000);
    expect(space()).toEqual(before);
    expect(fn.configRead(0x04, 2)).toBe(0);
    expect(fn.busMaster).toBe(false);
    expect(fn.memoryEnabled).toBe(false);
    expect(w.mem.listWindows()).toHaveLength(0);
    // The guest-error catalogue has no code for these: no CPU access reaches a function with such a size or offset.
    expect(guestErrs(w.tracer)).toEqual([]);
    // The function still takes a well-formed write afterwards.
    fn.configWrite(0x04, 2, 0x6);
    expect(fn.configRead(0x04, 2)).toBe(0x6);
    expect(fn.busMaster).toBe(true);
  });
});

describe('capability list', () => {
  it('links PM -> MSI -> MSI-X -> PCIe from 0x40 and ends with 0', () => {
    const { fn } = full();
    const ids: Array<[number, number]> = [];
    let p = fn.configRead(0x34, 1);
    while (p !== 0 && ids.length < 48) {
      ids.push([p, fn.configRead(p, 1)]);
      p = fn.configRead(p + 1, 1) & 0xfc;
    }
    expect(ids).toEqual([[0x40, 0x01], [0x50, 0x05], [0x70, 0x11], [0x80, 0x10]]);
    expect(fn.caps).toEqual({ pm: 0x40, msi: 0x50, msi64: true, msiMask: true, msix: 0x70, pcie: 0x80 });
  });

  it('packs only the capabilities asked for', () => {
    const w = makeWorld();
    const fn = makeFunction(w, plainSpec({ capabilities: { msi: { vectors: 1, is64: false, perVectorMask: false } } }));
    expect(fn.configRead(0x34, 1)).toBe(0x40);
    expect(fn.configRead(0x40, 2)).toBe(0x0005);
    expect(fn.configRead(0x06, 2) & 0x10).toBe(0x10);
  });

  it('without capabilities the pointer is 0 and Status bit 4 is clear', () => {
    const w = makeWorld();
    const fn = makeFunction(w, plainSpec());
    expect(fn.configRead(0x34, 1)).toBe(0);
    expect(fn.configRead(0x06, 2)).toBe(0);
  });
});

describe('spec validation', () => {
  it('rejects bad BAR layouts and capability specs with a message naming the field', () => {
    const w = makeWorld();
    const h = new RegBlock(16);
    expect(() => makeFunction(w, plainSpec({ bars: [{ index: 5, kind: 'mem64', size: 0x1000, handler: h }] }))).toThrow(/index 5 has no upper half/);
    expect(() => makeFunction(w, plainSpec({ bars: [{ index: 0, kind: 'mem32', size: 0x1800, handler: h }] }))).toThrow(/not a power of two/);
    expect(() => makeFunction(w, plainSpec({
      bars: [{ index: 0, kind: 'mem64', size: 0x1000, handler: h }, { index: 1, kind: 'mem32', size: 0x1000, handler: h }],
    }))).toThrow(/already used/);
    expect(() => makeFunction(w, plainSpec({ bars: [{ index: 0, kind: 'io', size: 512, handler: h }] }))).toThrow(/4\.\.256/);
    expect(() => makeFunction(w, plainSpec({ capabilities: { msi: { vectors: 3, is64: false, perVectorMask: false } } }))).toThrow(/msi\.vectors/);
    expect(() => makeFunction(w, plainSpec({
      bars: [{ index: 0, kind: 'mem32', size: 0x1000, handler: h }],
      capabilities: { msix: { tableSize: 8, tableBar: 0, tableOffset: 0xfc0, pbaBar: 0, pbaOffset: 0x800 } },
    }))).toThrow(/does not fit/);
    expect(() => makeFunction(w, plainSpec({
      bars: [{ index: 0, kind: 'mem32', size: 0x1000, handler: h }],
      capabilities: { msix: { tableSize: 8, tableBar: 2, tableOffset: 0, pbaBar: 0, pbaOffset: 0x800 } },
    }))).toThrow(/BAR 2 is not implemented/);
    expect(() => makeFunction(w, plainSpec({ interruptPin: 5 }))).toThrow(/interruptPin/);
    expect(() => makeFunction(w, plainSpec(), { bdf: { bus: 0, device: 32, fn: 0 } })).toThrow(/device 32/);
  });
});
