import { describe, expect, it } from 'vitest';
import { PciHostBridge } from '../../../src/devices/pci/host-bridge.js';
import { PciFunction } from '../../../src/devices/pci/function.js';
import { eventsOf, fullSpec, makeWorld, plainSpec, RegBlock, type World } from './fixture.js';
import type { PciFunctionSpec } from '../../../src/devices/pci/api.js';
import type { Bdf } from '../../../src/devices/pci/bdf.js';

const ECAM_BASE = 0xe0000000;

function fnAt(w: World, bdf: Bdf, dev: number, spec: PciFunctionSpec, name = `dev${dev}`): PciFunction {
  return new PciFunction({ bdf, dev, name, spec, mem: w.mem, irq: w.irq, queue: w.queue, tracer: w.tracer });
}

function world() {
  const w = makeWorld();
  const bridge = new PciHostBridge({ mem: w.mem, irq: w.irq, queue: w.queue, tracer: w.tracer });
  const nvme = fnAt(w, { bus: 0, device: 3, fn: 0 }, 0, fullSpec({ bar0: new RegBlock(0x4000) }), 'nvme0');
  bridge.add(nvme);
  bridge.mapEcam(ECAM_BASE, 1);
  bridge.mapConfigPorts();
  const ecam = (bus: number, dev: number, fn: number, reg: number) => ECAM_BASE + ((bus << 20) | (dev << 15) | (fn << 12) | reg);
  const ecamRead = (addr: number, size = 4) => {
    const win = w.mem.findWindow(addr, size)!;
    return win.handler.read(addr - win.base, size);
  };
  const ecamWrite = (addr: number, value: number, size = 4) => {
    const win = w.mem.findWindow(addr, size)!;
    win.handler.write(addr - win.base, size, value);
  };
  const outl = (port: number, value: number, size = 4) => {
    const r = w.mem.findPorts(port, size)!;
    r.handler.write(port - r.base, size, value);
  };
  const inl = (port: number, size = 4) => {
    const r = w.mem.findPorts(port, size);
    if (r === undefined) return size === 4 ? 0xffffffff : size === 2 ? 0xffff : 0xff;
    return r.handler.read(port - r.base, size);
  };
  const cf8 = (bus: number, dev: number, fn: number, reg: number) => (0x80000000 | (bus << 16) | (dev << 11) | (fn << 8) | (reg & 0xfc)) >>> 0;
  return { w, bridge, nvme, ecam, ecamRead, ecamWrite, outl, inl, cf8 };
}

describe('host bridge function', () => {
  it('is 00:00.0, Intel 0x29c0, class 0x060000, no BARs', () => {
    const x = world();
    expect(x.ecamRead(x.ecam(0, 0, 0, 0))).toBe(0x29c08086);
    expect(x.ecamRead(x.ecam(0, 0, 0, 8)) >>> 8).toBe(0x060000);
    for (let r = 0x10; r < 0x28; r += 4) {
      x.ecamWrite(x.ecam(0, 0, 0, r), 0xffffffff);
      expect(x.ecamRead(x.ecam(0, 0, 0, r))).toBe(0);
    }
    expect(x.bridge.hostBridge.bdf).toEqual({ bus: 0, device: 0, fn: 0 });
  });
});

describe('ECAM', () => {
  it('reaches a function by bus/device/function/register', () => {
    const x = world();
    expect(x.ecamRead(x.ecam(0, 3, 0, 0))).toBe(0x09538086);
    expect(x.ecamRead(x.ecam(0, 3, 0, 2), 2)).toBe(0x0953);
    x.ecamWrite(x.ecam(0, 3, 0, 4), 0x6, 2);
    expect(x.nvme.busMaster).toBe(true);
    // Extended config space of a PCIe function through ECAM.
    expect(x.ecamRead(x.ecam(0, 3, 0, 0x100))).toBe(0);
  });

  it('absent functions read all ones and ignore writes', () => {
    const x = world();
    expect(x.ecamRead(x.ecam(0, 4, 0, 0))).toBe(0xffffffff);
    expect(x.ecamRead(x.ecam(0, 3, 1, 0), 2)).toBe(0xffff);
    expect(x.ecamRead(x.ecam(0, 31, 7, 0xfff), 1)).toBe(0xff);
    const present = () => x.bridge.functions().map((f) => Array.from({ length: 16 }, (_, i) => f.configRead(i * 4, 4)));
    const before = present();
    // Command (decode + bus master) and BAR0 of absent functions, through ECAM and through CF8/CFC;
    // 00:03.1 shares the device number of the present 00:03.0, 00:04.0 shares the dword offsets.
    x.ecamWrite(x.ecam(0, 4, 0, 4), 0x6);
    x.ecamWrite(x.ecam(0, 3, 1, 4), 0x6, 2);
    x.ecamWrite(x.ecam(0, 4, 0, 0x10), 0xfebf0000);
    x.outl(0xcf8, x.cf8(0, 4, 0, 4));
    x.outl(0xcfc, 0x6);
    x.outl(0xcf8, x.cf8(0, 3, 1, 0x10));
    x.outl(0xcfc, 0xfebf0000);
    // Still absent, and nothing present changed: no function appeared, no register of another moved, nothing decodes.
    expect(x.ecamRead(x.ecam(0, 4, 0, 4))).toBe(0xffffffff);
    expect(x.ecamRead(x.ecam(0, 3, 1, 0x10))).toBe(0xffffffff);
    x.outl(0xcf8, x.cf8(0, 4, 0, 0x10));
    expect(x.inl(0xcfc)).toBe(0xffffffff);
    expect(x.bridge.functions()).toHaveLength(2);
    expect(present()).toEqual(before);
    expect(x.nvme.busMaster).toBe(false);
    expect(x.nvme.memoryEnabled).toBe(false);
    expect(x.w.mem.findWindow(0xfebf0000, 4)).toBeUndefined();
    // Writes to nothing are not traced as config cycles of a device and are not guest errors (enumeration probes absent slots).
    expect(eventsOf(x.w.tracer, 'cfg')).toEqual([]);
    expect(eventsOf(x.w.tracer, 'guestErr')).toEqual([]);
  });

  it('traces every access to a device function as cfg with core -1, not the host bridge or absent functions', () => {
    const x = world();
    x.w.queue.runUntil(5000);
    x.ecamRead(x.ecam(0, 3, 0, 0));
    x.ecamWrite(x.ecam(0, 3, 0, 4), 0x6, 2);
    x.ecamRead(x.ecam(0, 0, 0, 0));
    x.ecamRead(x.ecam(0, 9, 0, 0));
    expect(eventsOf(x.w.tracer, 'cfg')).toEqual([
      { kind: 'cfg', write: false, time: 5000, core: -1, dev: 0, offset: 0, size: 4, value: 0x09538086 },
      { kind: 'cfg', write: true, time: 5000, core: -1, dev: 0, offset: 4, size: 2, value: 6 },
    ]);
  });

  it('traces the host bridge when given a device index', () => {
    const w = makeWorld();
    const bridge = new PciHostBridge({ mem: w.mem, irq: w.irq, queue: w.queue, tracer: w.tracer, hostBridgeDev: 5 });
    bridge.configRead({ bus: 0, device: 0, fn: 0 }, 0, 2);
    expect(eventsOf(w.tracer, 'cfg')).toHaveLength(1);
    expect(eventsOf(w.tracer, 'cfg')[0]!.dev).toBe(5);
  });
});

describe('CF8/CFC configuration mechanism', () => {
  it('CONFIG_ADDRESS latches full dword writes and reads back with bits 1:0 and 30:24 zero', () => {
    const x = world();
    x.outl(0xcf8, 0x80000000);
    expect(x.inl(0xcf8)).toBe(0x80000000);
    x.outl(0xcf8, 0xffffffff);
    expect(x.inl(0xcf8)).toBe(0x80fffffc);
    // Byte and word accesses to 0xCF8..0xCFB do not touch CONFIG_ADDRESS.
    x.outl(0xcf8, 0x12, 1);
    x.outl(0xcfa, 0x1234, 2);
    expect(x.inl(0xcf8)).toBe(0x80fffffc);
    expect(x.inl(0xcf8, 2)).toBe(0xffff);
    expect(x.inl(0xcfb, 1)).toBe(0xff);
  });

  it('reads and writes config space with byte lanes from the port address', () => {
    const x = world();
    x.outl(0xcf8, x.cf8(0, 3, 0, 0));
    expect(x.inl(0xcfc)).toBe(0x09538086);
    expect(x.inl(0xcfe, 2)).toBe(0x0953);
    expect(x.inl(0xcfd, 1)).toBe(0x80);
    x.outl(0xcf8, x.cf8(0, 3, 0, 0x3c));
    x.outl(0xcfc, 0x0b, 1);
    expect(x.nvme.configRead(0x3c, 1)).toBe(0x0b);
    expect(x.inl(0xcfd, 1)).toBe(1); // interrupt pin
    x.outl(0xcf8, x.cf8(0, 3, 0, 0x04));
    x.outl(0xcfd, 0x04, 1); // INTx disable via the high byte of Command
    expect(x.nvme.configRead(0x04, 2)).toBe(0x0400);
    const cfg = eventsOf(x.w.tracer, 'cfg');
    expect(cfg.at(-1)).toMatchObject({ write: true, offset: 0x05, size: 1, value: 0x04, dev: 0 });
  });

  it('enable bit clear: data reads all ones and writes are ignored', () => {
    const x = world();
    x.outl(0xcf8, x.cf8(0, 3, 0, 0x3c) & 0x7fffffff);
    expect(x.inl(0xcfc)).toBe(0xffffffff);
    x.outl(0xcfc, 0x0b, 1);
    expect(x.nvme.configRead(0x3c, 1)).toBe(0);
  });

  it('absent functions and other buses read all ones', () => {
    const x = world();
    x.outl(0xcf8, x.cf8(0, 7, 0, 0));
    expect(x.inl(0xcfc)).toBe(0xffffffff);
    x.outl(0xcf8, x.cf8(1, 3, 0, 0));
    expect(x.inl(0xcfc)).toBe(0xffffffff);
    x.outl(0xcf8, x.cf8(0, 0, 0, 0));
    expect(x.inl(0xcfc)).toBe(0x29c08086);
  });

  it('the ports and ECAM windows are untraced platform windows', () => {
    const x = world();
    expect(x.w.mem.findPorts(0xcf8, 4)).toMatchObject({ dev: -1, traced: false });
    expect(x.w.mem.findWindow(ECAM_BASE)).toMatchObject({ dev: -1, bar: -1, traced: false, size: 1 << 20 });
  });
});

describe('function table', () => {
  it('rejects a duplicate BDF naming it', () => {
    const x = world();
    const dup = fnAt(x.w, { bus: 0, device: 3, fn: 0 }, 1, plainSpec(), 'e1000');
    expect(() => x.bridge.add(dup)).toThrow(/00:03\.0.*nvme0.*e1000/);
    const hb = fnAt(x.w, { bus: 0, device: 0, fn: 0 }, 2, plainSpec(), 'other');
    expect(() => x.bridge.add(hb)).toThrow(/00:00\.0/);
  });

  it('lists functions in BDF order', () => {
    const x = world();
    x.bridge.add(fnAt(x.w, { bus: 0, device: 0x1f, fn: 2 }, 3, plainSpec()));
    x.bridge.add(fnAt(x.w, { bus: 0, device: 1, fn: 0 }, 1, plainSpec()));
    x.bridge.add(fnAt(x.w, { bus: 0, device: 0x1f, fn: 0 }, 2, plainSpec()));
    expect(x.bridge.functions().map((f) => [f.bdf.device, f.bdf.fn])).toEqual([[0, 0], [1, 0], [3, 0], [0x1f, 0], [0x1f, 2]]);
    expect(x.bridge.get({ bus: 0, device: 1, fn: 0 })?.dev).toBe(1);
    expect(x.bridge.get({ bus: 0, device: 2, fn: 0 })).toBeUndefined();
  });

  it('marks function 0 multi-function when the device has more functions', () => {
    const x = world();
    const f0 = fnAt(x.w, { bus: 0, device: 0x1f, fn: 0 }, 2, plainSpec());
    x.bridge.add(fnAt(x.w, { bus: 0, device: 0x1f, fn: 3 }, 3, plainSpec()));
    x.bridge.add(f0);
    expect(x.ecamRead(x.ecam(0, 0x1f, 0, 0x0e), 1)).toBe(0x80);
    expect(x.ecamRead(x.ecam(0, 0x1f, 3, 0x0e), 1)).toBe(0x00);
    expect(x.ecamRead(x.ecam(0, 3, 0, 0x0e), 1)).toBe(0x00);
    // The bit is part of the power-on value.
    f0.reset();
    expect(f0.configRead(0x0e, 1)).toBe(0x80);
  });
});
