import { describe, expect, it } from 'vitest';
import { PciHostBridge } from '../../../src/devices/pci/host-bridge.js';
import { PciFunction } from '../../../src/devices/pci/function.js';
import { PciResourceError } from '../../../src/devices/pci/resources.js';
import { intxGsi } from '../../../src/sim/irq.js';
import { eventsOf, fullSpec, guestErrs, makeWorld, plainSpec, RegBlock, type World } from './fixture.js';
import type { PciFunctionSpec } from '../../../src/devices/pci/api.js';
import type { Bdf } from '../../../src/devices/pci/bdf.js';

function fnAt(w: World, bdf: Bdf, dev: number, spec: PciFunctionSpec): PciFunction {
  return new PciFunction({ bdf, dev, name: `dev${dev}`, spec, mem: w.mem, irq: w.irq, queue: w.queue, tracer: w.tracer });
}

const WINDOW = { mmioBase: 0xc0000000, mmioLimit: 0xdfffffff, ioBase: 0x1000, ioLimit: 0xffff };

function world() {
  const w = makeWorld();
  const bridge = new PciHostBridge({ mem: w.mem, irq: w.irq, queue: w.queue, tracer: w.tracer });
  // Added out of order on purpose.
  const b = fnAt(w, { bus: 0, device: 4, fn: 0 }, 1, plainSpec({
    interruptPin: 1,
    bars: [
      { index: 0, kind: 'mem32', size: 0x1000, handler: new RegBlock(0x1000) },
      { index: 1, kind: 'io', size: 64, handler: new RegBlock(64) },
      { index: 2, kind: 'mem64', size: 0x100000, prefetchable: true, handler: new RegBlock(16) },
    ],
  }));
  const a = fnAt(w, { bus: 0, device: 3, fn: 0 }, 0, fullSpec({ bar0: new RegBlock(0x4000), bar2: new RegBlock(32) }));
  const c = fnAt(w, { bus: 0, device: 5, fn: 0 }, 2, plainSpec({ interruptPin: 0 }));
  bridge.add(b);
  bridge.add(a);
  bridge.add(c);
  return { w, bridge, a, b, c };
}

describe('assignResources', () => {
  it('assigns naturally aligned, non-overlapping addresses in BDF order and enables decode', () => {
    const x = world();
    const plan = x.bridge.assignResources(WINDOW);
    expect(plan.map((p) => [p.bdf, p.bar, p.kind, p.size])).toEqual([
      ['00:03.0', 0, 'mem64', 0x4000],
      ['00:03.0', 2, 'io', 32],
      ['00:04.0', 0, 'mem32', 0x1000],
      ['00:04.0', 1, 'io', 64],
      ['00:04.0', 2, 'mem64', 0x100000],
    ]);
    for (const p of plan) {
      expect(p.address % p.size).toBe(0);
      expect(p.fixed).toBe(false);
      if (p.kind === 'io') expect(p.address).toBeGreaterThanOrEqual(0x1000);
      else {
        expect(p.address).toBeGreaterThanOrEqual(WINDOW.mmioBase);
        expect(p.address + p.size - 1).toBeLessThanOrEqual(WINDOW.mmioLimit);
      }
    }
    for (let i = 0; i < plan.length; i++) {
      for (let j = i + 1; j < plan.length; j++) {
        const p = plan[i]!;
        const q = plan[j]!;
        if ((p.kind === 'io') !== (q.kind === 'io')) continue;
        expect(p.address + p.size <= q.address || q.address + q.size <= p.address).toBe(true);
      }
    }
    // First fit in BDF order.
    expect(plan.map((p) => p.address)).toEqual([0xc0000000, 0x1000, 0xc0004000, 0x1040, 0xc0100000]);

    // Programmed into the BARs and decoding.
    expect(x.a.barStates().map((s) => s.mappedBase)).toEqual([0xc0000000, 0x1000]);
    expect(x.b.barStates().map((s) => s.mappedBase)).toEqual([0xc0004000, 0x1040, 0xc0100000]);
    expect(x.w.mem.findWindow(0xc0100000)?.dev).toBe(1);
    expect(x.a.memoryEnabled && x.a.ioEnabled).toBe(true);
    expect(x.a.busMaster || x.b.busMaster).toBe(false);
    expect(x.c.configRead(0x04, 2)).toBe(0);
    // Interrupt Line = the swizzled GSI; untouched without a pin.
    expect(x.a.configRead(0x3c, 1)).toBe(intxGsi(3, 1));
    expect(x.b.configRead(0x3c, 1)).toBe(intxGsi(4, 1));
    expect(x.c.configRead(0x3c, 1)).toBe(0);
    expect(guestErrs(x.w.tracer)).toEqual([]);
  });

  it('sizes BARs through traced config cycles, restoring the original value', () => {
    const x = world();
    x.bridge.assignResources(WINDOW);
    const cfg = eventsOf(x.w.tracer, 'cfg').filter((e) => e.dev === 0 && e.offset === 0x10);
    expect(cfg.slice(0, 4).map((e) => [e.write, e.value])).toEqual([
      [false, 0x4], [true, 0xffffffff], [false, 0xffffc004], [true, 0x4],
    ]);
    // Sizing happens with decode off: no window was ever mapped at the sizing pattern.
    expect(guestErrs(x.w.tracer)).toEqual([]);
  });

  it('honours fixed addresses and places the rest around them', () => {
    const x = world();
    const plan = x.bridge.assignResources({
      ...WINDOW,
      fixed: new Map([['00:04.0', new Map([[0, 0xc0000000], [1, 0x1000]])]]),
    });
    const byKey = new Map(plan.map((p) => [`${p.bdf}/${p.bar}`, p]));
    expect(byKey.get('00:04.0/0')).toMatchObject({ address: 0xc0000000, fixed: true });
    expect(byKey.get('00:04.0/1')).toMatchObject({ address: 0x1000, fixed: true });
    expect(byKey.get('00:03.0/0')!.address).toBe(0xc0004000);
    expect(byKey.get('00:03.0/2')!.address).toBe(0x1040);
    expect(x.w.mem.findWindow(0xc0000000)?.dev).toBe(1);
  });

  it('fixed BARs that overlap each other throw naming both BDFs and BAR numbers', () => {
    const x = world();
    const run = () => x.bridge.assignResources({
      ...WINDOW,
      fixed: new Map([
        ['00:03.0', new Map([[0, 0xd0000000]])],
        ['00:04.0', new Map([[0, 0xd0001000]])],
      ]),
    });
    expect(run).toThrow(PciResourceError);
    expect(run).toThrow(/00:04\.0 BAR0.*overlaps.*00:03\.0 BAR0/);
  });

  it('a fixed BAR over RAM throws naming the BDF, BAR and RAM; nothing is programmed', () => {
    const x = world();
    const run = () => x.bridge.assignResources({ ...WINDOW, fixed: new Map([['00:04.0', new Map([[2, 0x100000]])]]) });
    expect(run).toThrow(PciResourceError);
    expect(run).toThrow(/00:04\.0 BAR2.*overlaps RAM/);
    expect(x.b.configRead(0x10, 4)).toBe(0);
    expect(x.w.mem.listWindows()).toHaveLength(0);
  });

  it('a fixed BAR over a platform window throws', () => {
    const x = world();
    x.bridge.mapEcam(0xe0000000);
    expect(() => x.bridge.assignResources({ ...WINDOW, fixed: new Map([['00:03.0', new Map([[0, 0xe0000000]])]]) }))
      .toThrow(/00:03\.0 BAR0.*platform MMIO window/);
  });

  it('rejects misaligned fixed addresses, unknown BARs and bad BDFs', () => {
    const x = world();
    expect(() => x.bridge.assignResources({ ...WINDOW, fixed: new Map([['00:03.0', new Map([[0, 0xc0001000]])]]) }))
      .toThrow(/not aligned/);
    expect(() => x.bridge.assignResources({ ...WINDOW, fixed: new Map([['00:03.0', new Map([[1, 0xc0000000]])]]) }))
      .toThrow(/has no BAR 1/);
    expect(() => x.bridge.assignResources({ ...WINDOW, fixed: new Map([['00:20.0', new Map([[0, 0]])]]) }))
      .toThrow(PciResourceError);
    expect(() => x.bridge.assignResources({ ...WINDOW, fixed: new Map([['00:09.0', new Map([[0, 0]])]]) }))
      .toThrow(/no PCI function/);
  });

  it('gives small memory BARs a page of their own', () => {
    const w = makeWorld();
    const bridge = new PciHostBridge({ mem: w.mem, irq: w.irq, queue: w.queue, tracer: w.tracer });
    for (const d of [6, 7]) {
      bridge.add(fnAt(w, { bus: 0, device: d, fn: 0 }, d, plainSpec({
        bars: [{ index: 0, kind: 'mem32', size: 0x100, handler: new RegBlock(0x100) }, { index: 1, kind: 'io', size: 8, handler: new RegBlock(8) }],
      })));
    }
    const plan = bridge.assignResources(WINDOW);
    expect(plan.map((p) => p.address)).toEqual([0xc0000000, 0x1000, 0xc0001000, 0x1008]);
  });

  it('throws when the window is too small', () => {
    const x = world();
    expect(() => x.bridge.assignResources({ ...WINDOW, mmioLimit: 0xc00fffff })).toThrow(/no room for 00:04\.0 BAR2/);
  });

  it('skips platform windows inside the MMIO window', () => {
    const x = world();
    x.bridge.mapEcam(0xc0000000);
    const plan = x.bridge.assignResources(WINDOW);
    expect(plan[0]!.address).toBe(0xc0100000);
    expect(guestErrs(x.w.tracer)).toEqual([]);
  });

  it('can run again: old windows move out of the way', () => {
    const x = world();
    x.bridge.assignResources(WINDOW);
    const plan = x.bridge.assignResources({ ...WINDOW, mmioBase: 0xd0000000 });
    expect(plan[0]!.address).toBe(0xd0000000);
    expect(x.w.mem.findWindow(0xc0000000)).toBeUndefined();
    expect(x.w.mem.findWindow(0xd0000000)?.dev).toBe(0);
    expect(guestErrs(x.w.tracer)).toEqual([]);
  });
});
