/**
 * PCI power management: PMCSR PowerState D0/D3hot (and D1/D2 where
 * claimed), what a function does outside D0 (no BAR decode, no DMA, no
 * interrupts), the recovery time after a change, No_Soft_Reset, and PME.
 */
import { describe, expect, it } from 'vitest';
import { DmaPort } from '../../../src/sim/dma.js';
import { ms, us } from '../../../src/sim/time.js';
import type { PmSpec } from '../../../src/devices/pci/api.js';
import { PCI_GUEST_ERRORS } from '../../../src/devices/pci/guest-errors.js';
import { eventsOf, fullSpec, guestErrs, makeFunction, makeWorld, msiAddr, plainSpec, RegBlock } from './fixture.js';

const PM = 0x40;
const PMCSR = PM + 4;
const MSI = 0x50;
const MSIX = 0x70;
const PCIE = 0x80;
const DEVSTA = PCIE + 0x0a;
const BAR0 = 0xfe000000;
const TABLE = BAR0 + 0x2000;
const IO_BASE = 0xc000;

/** A function with BAR0 (memory) and BAR2 (I/O) decoding, bus mastering on, D0. */
function world(pm: boolean | PmSpec = true, onFlr?: () => void) {
  const w = makeWorld();
  const bar0 = new RegBlock(0x4000);
  const bar2 = new RegBlock(32);
  const spec = fullSpec({ bar0, bar2 });
  spec.capabilities.pm = pm;
  const fn = makeFunction(w, spec, { dev: 4, onFlr });
  fn.assignBar(0, BAR0);
  fn.assignBar(2, IO_BASE);
  fn.configWrite(0x04, 2, 0x7);
  const mmioRead = (addr: number, size = 4) => {
    const win = w.mem.findWindow(addr, size)!;
    return win.handler.read(addr - win.base, size);
  };
  const mmioWrite = (addr: number, value: number, size = 4) => {
    const win = w.mem.findWindow(addr, size)!;
    win.handler.write(addr - win.base, size, value);
  };
  const ioRead = (port: number, size = 4) => {
    const r = w.mem.findPorts(port, size)!;
    return r.handler.read(port - r.base, size);
  };
  const ioWrite = (port: number, value: number, size = 4) => {
    const r = w.mem.findPorts(port, size)!;
    r.handler.write(port - r.base, size, value);
  };
  /** Moves simulated time on by `d` picoseconds. */
  const wait = (d: number) => w.queue.runUntil(w.queue.now + d);
  const setState = (state: number) => fn.configWrite(PMCSR, 2, (fn.configRead(PMCSR, 2) & ~0x8003 & 0xffff) | state);
  return { w, fn, bar0, bar2, mmioRead, mmioWrite, ioRead, ioWrite, wait, setState };
}

type World = ReturnType<typeof world>;

/** D0 -> D3hot, waiting out the 10 ms so later accesses are only D3hot's. */
function toD3hot(x: World): void {
  x.setState(3);
  x.wait(ms(10));
}

function errs(x: World): string[] {
  return guestErrs(x.w.tracer);
}

describe('PMCSR PowerState (PCI PM 1.2 3.2.4)', () => {
  it('pm: true keeps the power-on image: PMC version 1.2 only, PMCSR No_Soft_Reset, PME_En read-only 0', () => {
    const x = world();
    expect(x.fn.configRead(PM + 2, 2)).toBe(0x0003);
    expect(x.fn.configRead(PMCSR, 2)).toBe(0x0008);
    x.fn.configWrite(PMCSR, 2, 0x0100);
    expect(x.fn.configRead(PMCSR, 2)).toBe(0x0008);
    expect(x.fn.signalPme()).toBe(false);
  });

  it('D1/D2 writes are discarded with pci.pm-bad-state when the capability does not claim them', () => {
    const x = world();
    x.setState(1);
    expect(x.fn.powerState).toBe(0);
    x.setState(2);
    expect(x.fn.powerState).toBe(0);
    expect(errs(x)).toEqual(['pci.pm-bad-state', 'pci.pm-bad-state']);
    expect(eventsOf(x.w.tracer, 'guestErr')[0]!.message).toMatch(/D0 -> D1 discarded: the PM capability does not claim D1/);
  });

  it('claimed D1/D2: PMC bits, D0 -> D1 -> D2 -> D3hot -> D0; D3hot -> D1 and D2 -> D1 are not allowed', () => {
    const x = world({ d1: true, d2: true });
    expect(x.fn.configRead(PM + 2, 2)).toBe(0x0603);
    x.setState(1);
    expect(x.fn.powerState).toBe(1);
    x.setState(2);
    x.wait(us(200));
    expect(x.fn.powerState).toBe(2);
    x.setState(1);
    expect(x.fn.powerState).toBe(2);
    expect(errs(x)).toEqual(['pci.pm-bad-state']);
    x.setState(3);
    x.wait(ms(10));
    x.setState(1);
    x.setState(2);
    expect(x.fn.powerState).toBe(3);
    expect(errs(x)).toEqual(['pci.pm-bad-state', 'pci.pm-bad-state', 'pci.pm-bad-state']);
    x.setState(0);
    expect(x.fn.powerState).toBe(0);
    expect(eventsOf(x.w.tracer, 'milestone').filter((m) => m.name === 'pci.pm').map((m) => [m.a, m.b]))
      .toEqual([[0, 1], [1, 2], [2, 3], [3, 0]]);
  });

  it('D1 blocks decode like D3hot; D0 <-> D1 has no recovery time', () => {
    const x = world({ d1: true });
    x.setState(1);
    expect(x.mmioRead(BAR0 + 0x10)).toBe(0xffffffff);
    expect(errs(x)).toEqual(['pci.pm-bar-access']);
    x.setState(0);
    x.bar0.regs[0x10] = 0x5a;
    expect(x.mmioRead(BAR0 + 0x10)).toBe(0x5a);
    expect(errs(x)).toEqual(['pci.pm-bar-access']);
  });
});

describe('D3hot: only configuration requests (PCIe 3.0 5.3.1.4.1)', () => {
  it('MMIO reads return all-ones at every width, writes are dropped, each is pci.pm-bar-access and UR Detected', () => {
    const x = world();
    x.bar0.regs.fill(0x11);
    toD3hot(x);
    expect(x.mmioRead(BAR0 + 0x10, 4)).toBe(0xffffffff);
    expect(x.mmioRead(BAR0 + 0x10, 2)).toBe(0xffff);
    expect(x.mmioRead(BAR0 + 0x10, 1)).toBe(0xff);
    x.mmioWrite(BAR0 + 0x14, 0x1234);
    expect(x.bar0.log.filter((l) => l.offset === 0x10 || l.offset === 0x14)).toEqual([]);
    expect(x.bar0.regs[0x14]).toBe(0x11);
    expect(errs(x)).toEqual(['pci.pm-bar-access', 'pci.pm-bar-access', 'pci.pm-bar-access', 'pci.pm-bar-access']);
    const m = eventsOf(x.w.tracer, 'guestErr');
    expect(m[0]!.message).toMatch(/MMIO read of BAR0\+0x10 \(4 bytes\) while the function is in D3hot: memory decode is off/);
    expect(m[3]!.message).toMatch(/MMIO write of 0x1234 to BAR0\+0x14 .* the write is dropped/);
    expect(x.fn.configRead(DEVSTA, 2) & 0x8).toBe(0x8);
    // Config space stays reachable: Command and the BARs keep their values.
    expect(x.fn.configRead(0x04, 2) & 0x7).toBe(0x7);
    expect(x.fn.barBase(0)).toBe(BAR0);
  });

  it('I/O BAR and the MSI-X table are not decoded either', () => {
    const x = world();
    toD3hot(x);
    expect(x.ioRead(IO_BASE, 2)).toBe(0xffff);
    x.ioWrite(IO_BASE, 0x55, 1);
    expect(x.bar2.log).toEqual([]);
    x.mmioWrite(TABLE + 12, 0);
    expect(x.mmioRead(TABLE + 12)).toBe(0xffffffff);
    expect(errs(x)).toEqual(['pci.pm-bar-access', 'pci.pm-bar-access', 'pci.pm-bar-access', 'pci.pm-bar-access']);
    expect(eventsOf(x.w.tracer, 'guestErr')[0]!.message).toMatch(/I\/O read of BAR2\+0x0 \(2 bytes\) while the function is in D3hot: I\/O decode is off/);
  });

  it('a conventional PCI function has no Device Status: no UR bit, still all-ones', () => {
    const w = makeWorld();
    const bar = new RegBlock(0x100);
    const fn = makeFunction(w, plainSpec({ bars: [{ index: 0, kind: 'mem32', size: 0x100, handler: bar }], capabilities: { pm: true } }));
    fn.assignBar(0, 0xfd000000);
    fn.configWrite(0x04, 2, 0x2);
    fn.configWrite(0x44, 2, 3);
    w.queue.runUntil(ms(10));
    const win = w.mem.findWindow(0xfd000000, 4)!;
    expect(win.handler.read(0, 4)).toBe(0xffffffff);
    expect(guestErrs(w.tracer)).toEqual(['pci.pm-bar-access']);
  });

  it('DMA is refused as dma.power-state (each attempt), and allowed again in D0', () => {
    const x = world();
    const dma = new DmaPort(4, 'dut', x.w.mem, x.w.queue, x.w.tracer, x.fn);
    x.w.mem.markDma(0x10000, 4096, true);
    const buf = new Uint8Array(16);
    expect(dma.read(0x10000, buf, 0, 16, 'data')).toBe(true);
    toD3hot(x);
    expect(dma.read(0x10000, buf, 0, 16, 'data')).toBe(false);
    expect(dma.write(0x10000, buf, 0, 16, 'data')).toBe(false);
    expect(dma.lastResult).toBe('power-state');
    expect(errs(x)).toEqual(['dma.power-state', 'dma.power-state']);
    expect(eventsOf(x.w.tracer, 'guestErr')[0]!.message).toMatch(/DMA read from 0x10000 \(\+16\) refused: the function is in D3hot/);
    x.setState(0);
    expect(dma.read(0x10000, buf, 0, 16, 'data')).toBe(true);
    expect(errs(x)).toHaveLength(2);
  });

  it('MSI-X messages are held pending (pci.pm-interrupt) and sent on return to D0', () => {
    const x = world();
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    x.mmioWrite(TABLE, msiAddr(1));
    x.mmioWrite(TABLE + 8, 0x41);
    x.mmioWrite(TABLE + 12, 0);
    toD3hot(x);
    x.fn.sendMessage(0);
    expect(x.w.delivered).toEqual([]);
    expect(x.fn.isPending(0)).toBe(true);
    expect(errs(x)).toEqual(['pci.pm-interrupt']);
    expect(eventsOf(x.w.tracer, 'guestErr')[0]!.message).toMatch(/MSI-X message for vector 0 while the function is in D3hot: .*held pending in the PBA/);
    // Enabling bus mastering or unmasking in D3hot sends nothing either.
    x.fn.configWrite(0x04, 2, 0x3);
    x.fn.configWrite(0x04, 2, 0x7);
    expect(x.w.delivered).toEqual([]);
    x.setState(0);
    expect(x.w.delivered).toEqual([{ core: 1, vector: 0x41, source: 4 }]);
    expect(x.fn.isPending(0)).toBe(false);
  });

  it('MSI with per-vector masking holds the message in Pending; sent on D0', () => {
    const x = world();
    x.fn.configWrite(MSI + 4, 4, msiAddr(0));
    x.fn.configWrite(MSI + 0xc, 2, 0x30);
    x.fn.configWrite(MSI + 2, 2, 0x1);
    toD3hot(x);
    x.fn.sendMessage(0);
    expect(x.w.delivered).toEqual([]);
    expect(x.fn.isPending(0)).toBe(true);
    x.setState(0);
    expect(x.w.delivered).toEqual([{ core: 0, vector: 0x30, source: 4 }]);
  });

  it('INTx: deasserted on entry to D3hot, an assertion there is pci.pm-interrupt, asserted again in D0', () => {
    const x = world();
    x.fn.setIntx(true);
    expect(x.w.irq.isAsserted(x.fn.intxGsi)).toBe(true);
    x.setState(3);
    expect(x.w.irq.isAsserted(x.fn.intxGsi)).toBe(false);
    x.fn.setIntx(false);
    x.fn.setIntx(true);
    expect(x.w.irq.isAsserted(x.fn.intxGsi)).toBe(false);
    expect(errs(x)).toEqual(['pci.pm-interrupt']);
    expect(eventsOf(x.w.tracer, 'guestErr')[0]!.message).toMatch(/INTx assertion while the function is in D3hot/);
    x.wait(ms(10));
    x.setState(0);
    expect(x.w.irq.isAsserted(x.fn.intxGsi)).toBe(true);
  });
});

describe('recovery time (PCI PM 1.2 5.6.1, table 5-6)', () => {
  it('D3hot -> D0: accesses inside 10 ms are pci.pm-recovery (BAR refused, config completes); at 10 ms all is normal', () => {
    const x = world();
    x.bar0.regs[0x20] = 0x77;
    toD3hot(x);
    x.setState(0);
    x.wait(ms(9.999));
    expect(x.mmioRead(BAR0 + 0x20)).toBe(0xffffffff);
    expect(x.fn.configRead(0x00, 2)).toBe(0x8086);
    expect(errs(x)).toEqual(['pci.pm-recovery', 'pci.pm-recovery']);
    const m = eventsOf(x.w.tracer, 'guestErr');
    expect(m[0]!.message).toMatch(/MMIO read of BAR0\+0x20 \(4 bytes\) 9\.999 ms after PowerState D3hot -> D0, inside the 10\.000 ms recovery time/);
    expect(m[1]!.message).toMatch(/config read of 0x0 \(2 bytes\) .* the access completes/);
    x.wait(us(1));
    expect(x.mmioRead(BAR0 + 0x20)).toBe(0x77);
    expect(x.fn.configRead(0x00, 2)).toBe(0x8086);
    expect(errs(x)).toHaveLength(2);
  });

  it('D0 -> D3hot: a config access inside 10 ms is pci.pm-recovery too', () => {
    const x = world();
    x.setState(3);
    x.wait(ms(5));
    x.fn.configRead(PMCSR, 2);
    expect(errs(x)).toEqual(['pci.pm-recovery']);
    x.wait(ms(5));
    x.fn.configRead(PMCSR, 2);
    expect(errs(x)).toEqual(['pci.pm-recovery']);
  });

  it('D2 needs 200 us', () => {
    const x = world({ d2: true });
    x.setState(2);
    x.wait(us(199));
    x.fn.configRead(0, 4);
    x.wait(us(1));
    x.fn.configRead(0, 4);
    expect(errs(x)).toEqual(['pci.pm-recovery']);
  });
});

describe('D3hot -> D0 and No_Soft_Reset (PCI PM 1.2 3.2.4)', () => {
  it('No_Soft_Reset 1: configuration context kept (BARs, Command, MSI-X), no reset, device model not called', () => {
    let resets = 0;
    const x = world(true, () => resets++);
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    x.fn.configWrite(0x3c, 1, 11);
    toD3hot(x);
    x.setState(0);
    x.wait(ms(10));
    expect(resets).toBe(0);
    expect(x.fn.configRead(0x04, 2) & 0x7).toBe(0x7);
    expect(x.fn.barBase(0)).toBe(BAR0);
    expect(x.fn.configRead(0x3c, 1)).toBe(11);
    expect(x.fn.mode).toBe('msix');
    expect(eventsOf(x.w.tracer, 'milestone').map((m) => m.name)).toEqual(['pci.pm', 'pci.pm']);
  });

  it('No_Soft_Reset 0: the function is reset (config to power-on, BARs off, model quiesced), link fields kept', () => {
    let resets = 0;
    const x = world({ noSoftReset: false }, () => resets++);
    expect(x.fn.configRead(PMCSR, 2)).toBe(0x0000);
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    x.fn.configWrite(PCIE + 8, 2, 0x2830); // MPS 256
    toD3hot(x);
    x.setState(0);
    expect(resets).toBe(1);
    expect(x.fn.powerState).toBe(0);
    expect(x.fn.configRead(0x04, 2)).toBe(0);
    expect(x.fn.configRead(0x10, 4)).toBe(0x4);
    expect(x.fn.barBase(0)).toBe(-1);
    expect(x.fn.mode).toBe('intx');
    expect(x.fn.configRead(PCIE + 8, 2) & 0xe0).toBe(0x20);
    expect(eventsOf(x.w.tracer, 'milestone').map((m) => m.name)).toEqual(['pci.pm', 'pci.pm', 'pci.pm-reset']);
    // The recovery time still applies after the reset: the config reads above were inside it.
    expect(errs(x).length).toBeGreaterThan(0);
    expect(new Set(errs(x))).toEqual(new Set(['pci.pm-recovery']));
  });

  it('No_Soft_Reset 0 keeps the PME context (PME_En, PME_Status)', () => {
    const x = world({ noSoftReset: false, pmeSupport: 0b01000 });
    x.fn.configWrite(PMCSR, 2, 0x0100);
    toD3hot(x);
    expect(x.fn.signalPme()).toBe(true);
    x.setState(0);
    expect(x.fn.configRead(PMCSR, 2) & 0x8100).toBe(0x8100);
    expect(x.fn.configRead(0x04, 2)).toBe(0);
  });

  it('an FLR from D3hot returns to D0 (power-on PMCSR)', () => {
    const x = world();
    toD3hot(x);
    x.fn.configWrite(PCIE + 8, 2, 0x8000);
    expect(x.fn.powerState).toBe(0);
    expect(x.fn.configRead(PMCSR, 2)).toBe(0x0008);
    expect(errs(x)).toEqual([]);
  });
});

describe('PME (PCI PM 1.2 3.2.3-3.2.4; PCIe 3.0 5.3.3)', () => {
  const D3HOT_D3COLD = 0b11000;

  it('PMC PME_Support, PME_En writable, PME_Status W1C', () => {
    const x = world({ pmeSupport: D3HOT_D3COLD });
    expect(x.fn.configRead(PM + 2, 2)).toBe(0xc003);
    x.fn.configWrite(PMCSR, 2, 0x0100);
    expect(x.fn.configRead(PMCSR, 2)).toBe(0x0108);
    x.fn.configWrite(PMCSR, 2, 0x0000);
    expect(x.fn.configRead(PMCSR, 2)).toBe(0x0008);
  });

  it('PME only from a claimed state; PME_Status set even without PME_En, no message then', () => {
    const x = world({ pmeSupport: D3HOT_D3COLD });
    expect(x.fn.signalPme()).toBe(false); // D0 not claimed
    expect(x.fn.configRead(PMCSR, 2) & 0x8000).toBe(0);
    toD3hot(x);
    expect(x.fn.signalPme()).toBe(true);
    expect(x.fn.configRead(PMCSR, 2) & 0x8000).toBe(0x8000);
    expect(eventsOf(x.w.tracer, 'milestone').filter((m) => m.name === 'pci.pme')).toEqual([]);
    // Enabling PME with PME_Status set sends the message.
    x.fn.configWrite(PMCSR, 2, 0x0103);
    const pme = eventsOf(x.w.tracer, 'milestone').filter((m) => m.name === 'pci.pme');
    expect(pme.map((m) => m.a)).toEqual([3]);
    expect(errs(x)).toEqual([]);
  });

  it('with PME_En: message at once, again every 100 ms until PME_Status is cleared (W1C)', () => {
    const x = world({ pmeSupport: D3HOT_D3COLD });
    x.fn.configWrite(PMCSR, 2, 0x0103);
    x.wait(ms(10));
    const t0 = x.w.queue.now;
    expect(x.fn.signalPme()).toBe(true);
    const times = () => eventsOf(x.w.tracer, 'milestone').filter((m) => m.name === 'pci.pme').map((m) => m.time - t0);
    expect(times()).toEqual([0]);
    x.wait(ms(250));
    expect(times()).toEqual([0, ms(100), ms(200)]);
    x.fn.configWrite(PMCSR, 2, 0x8103); // clear PME_Status, keep PME_En and D3hot
    expect(x.fn.configRead(PMCSR, 2) & 0x8000).toBe(0);
    x.wait(ms(300));
    expect(times()).toEqual([0, ms(100), ms(200)]);
  });

  it('spec validation: PME from D1 needs D1', () => {
    const w = makeWorld();
    expect(() => makeFunction(w, plainSpec({ capabilities: { pm: { pmeSupport: 0b00010 } } }))).toThrow(/pmeSupport.*D1/);
    expect(() => makeFunction(w, plainSpec({ capabilities: { pm: { pmeSupport: 0x20 } } }))).toThrow(/pmeSupport/);
  });
});

describe('catalogue', () => {
  it('every power-management code is catalogued with a spec section', () => {
    for (const code of ['pci.pm-bar-access', 'pci.pm-interrupt', 'pci.pm-recovery', 'pci.pm-bad-state', 'dma.power-state'] as const) {
      expect(PCI_GUEST_ERRORS[code].spec).toMatch(/PCI PM 1\.2|PCIe/);
    }
  });
});
