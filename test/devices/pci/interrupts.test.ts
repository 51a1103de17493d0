import { describe, expect, it } from 'vitest';
import { intxGsi } from '../../../src/sim/irq.js';
import { eventsOf, fullSpec, guestErrs, makeFunction, makeWorld, msiAddr, plainSpec, RegBlock } from './fixture.js';

const MSI = 0x50;
const MSIX = 0x70;
const BAR0 = 0xfe000000;
const TABLE = BAR0 + 0x2000;
const PBA = BAR0 + 0x3000;

/** A function with BAR0 decoding at 0xfe000000 and bus mastering on. */
function world() {
  const w = makeWorld();
  const bar0 = new RegBlock(0x4000);
  const fn = makeFunction(w, fullSpec({ bar0 }), { dev: 4, bdf: { bus: 0, device: 3, fn: 0 } });
  fn.assignBar(0, BAR0);
  fn.configWrite(0x04, 2, 0x6);
  const mmioRead = (addr: number, size = 4) => {
    const win = w.mem.findWindow(addr, size)!;
    return win.handler.read(addr - win.base, size);
  };
  const mmioWrite = (addr: number, value: number, size = 4) => {
    const win = w.mem.findWindow(addr, size)!;
    win.handler.write(addr - win.base, size, value);
  };
  return { w, fn, bar0, mmioRead, mmioWrite };
}

type World = ReturnType<typeof world>;

function programEntry(x: World, v: number, core: number, vector: number, masked = false): void {
  const e = TABLE + 16 * v;
  x.mmioWrite(e, msiAddr(core));
  x.mmioWrite(e + 4, 0);
  x.mmioWrite(e + 8, vector);
  x.mmioWrite(e + 12, masked ? 1 : 0);
}

describe('MSI-X table and PBA in the BAR', () => {
  it('reset values: entries masked, PBA clear; device registers still reachable around them', () => {
    const x = world();
    for (let v = 0; v < 8; v++) {
      expect(x.mmioRead(TABLE + 16 * v + 12)).toBe(1);
      expect(x.mmioRead(TABLE + 16 * v)).toBe(0);
    }
    expect(x.mmioRead(PBA)).toBe(0);
    x.mmioWrite(BAR0 + 0x1ffc, 0xabcd);
    x.mmioWrite(BAR0 + 0x2080, 0x1234); // just past the 8-entry table
    expect(x.bar0.log.map((l) => l.offset)).toEqual([0x1ffc, 0x2080]);
    expect(x.mmioRead(TABLE + 0x80)).toBe(0x1234);
  });

  it('address low bits RO 0, vector control only bit 0, PBA read-only', () => {
    const x = world();
    x.mmioWrite(TABLE, 0xfee00003);
    expect(x.mmioRead(TABLE)).toBe(0xfee00000);
    x.mmioWrite(TABLE + 4, 0xffffffff);
    expect(x.mmioRead(TABLE + 4)).toBe(0xffffffff);
    x.mmioWrite(TABLE + 8, 0xffffffff);
    expect(x.mmioRead(TABLE + 8)).toBe(0xffffffff);
    x.mmioWrite(TABLE + 12, 0xfffffffe);
    expect(x.mmioRead(TABLE + 12)).toBe(0);
    x.mmioWrite(PBA, 0xffffffff);
    expect(x.mmioRead(PBA)).toBe(0);
    expect(x.bar0.log).toHaveLength(0);
  });

  it('the table is reachable only through decode of its BAR', () => {
    const x = world();
    x.fn.configWrite(0x04, 2, 0x4);
    expect(x.w.mem.findWindow(TABLE)).toBeUndefined();
  });
});

describe('MSI-X delivery', () => {
  it('sends the entry\'s message when enabled and unmasked', () => {
    const x = world();
    programEntry(x, 3, 1, 0x41);
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    expect(x.fn.mode).toBe('msix');
    x.fn.sendMessage(3);
    expect(x.w.delivered).toEqual([{ core: 1, vector: 0x41, source: 4 }]);
    const msi = eventsOf(x.w.tracer, 'msi');
    expect(msi).toHaveLength(1);
    expect(msi[0]).toMatchObject({ dev: 4, addr: msiAddr(1), data: 0x41 });
  });

  it('entry mask sets the pending bit; unmasking delivers and clears it (PCIe 6.1.4.5)', () => {
    const x = world();
    programEntry(x, 5, 0, 0x50, true);
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    x.fn.sendMessage(5);
    x.fn.sendMessage(5);
    expect(x.w.delivered).toEqual([]);
    expect(x.mmioRead(PBA)).toBe(1 << 5);
    expect(x.fn.isPending(5)).toBe(true);
    x.mmioWrite(TABLE + 16 * 5 + 12, 0);
    expect(x.w.delivered).toEqual([{ core: 0, vector: 0x50, source: 4 }]);
    expect(x.mmioRead(PBA)).toBe(0);
    // Masking and unmasking again with nothing pending sends nothing.
    x.mmioWrite(TABLE + 16 * 5 + 12, 1);
    x.mmioWrite(TABLE + 16 * 5 + 12, 0);
    expect(x.w.delivered).toHaveLength(1);
  });

  it('function mask holds every vector pending; clearing it sends them lowest first', () => {
    const x = world();
    programEntry(x, 1, 0, 0x31);
    programEntry(x, 6, 1, 0x36);
    programEntry(x, 2, 0, 0x32, true);
    x.fn.configWrite(MSIX + 2, 2, 0xc000);
    x.fn.sendMessage(6);
    x.fn.sendMessage(1);
    x.fn.sendMessage(2);
    expect(x.w.delivered).toEqual([]);
    expect(x.mmioRead(PBA)).toBe((1 << 1) | (1 << 2) | (1 << 6));
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    expect(x.w.delivered.map((d) => d.vector)).toEqual([0x31, 0x36]);
    // Entry 2 is still masked by its own bit.
    expect(x.mmioRead(PBA)).toBe(1 << 2);
    x.mmioWrite(TABLE + 16 * 2 + 12, 0);
    expect(x.w.delivered.map((d) => d.vector)).toEqual([0x31, 0x36, 0x32]);
  });

  it('unmasking an entry while the function is masked does not send', () => {
    const x = world();
    programEntry(x, 0, 0, 0x30, true);
    x.fn.configWrite(MSIX + 2, 2, 0xc000);
    x.fn.sendMessage(0);
    x.mmioWrite(TABLE + 12, 0);
    expect(x.w.delivered).toEqual([]);
    expect(x.fn.isPending(0)).toBe(true);
  });

  it('pending bits survive MSI-X disable and go out when it is enabled again', () => {
    const x = world();
    programEntry(x, 0, 0, 0x30, true);
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    x.fn.sendMessage(0);
    x.fn.configWrite(MSIX + 2, 2, 0);
    x.mmioWrite(TABLE + 12, 0);
    expect(x.w.delivered).toEqual([]);
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    expect(x.w.delivered.map((d) => d.vector)).toEqual([0x30]);
  });

  it('clearPending drops a pending vector so nothing goes out on unmask', () => {
    const x = world();
    programEntry(x, 0, 0, 0x30, true);
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    x.fn.sendMessage(0);
    x.fn.clearPending(0);
    x.mmioWrite(TABLE + 12, 0);
    expect(x.w.delivered).toEqual([]);
  });

  it('out-of-range vector is a guest error and ignored', () => {
    const x = world();
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    x.fn.sendMessage(8);
    x.fn.sendMessage(-1);
    expect(guestErrs(x.w.tracer)).toEqual(['msix.bad-vector', 'msix.bad-vector']);
    expect(x.w.delivered).toEqual([]);
  });

  it('a non-zero upper address is a bad message, not delivered', () => {
    const x = world();
    programEntry(x, 0, 0, 0x30);
    x.mmioWrite(TABLE + 4, 1);
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    x.fn.sendMessage(0);
    expect(guestErrs(x.w.tracer)).toEqual(['msi.bad-message']);
    expect(x.w.delivered).toEqual([]);
  });

  it('without bus mastering messages stay pending (one guest error) and go out when it is enabled', () => {
    const x = world();
    programEntry(x, 0, 0, 0x30);
    programEntry(x, 1, 0, 0x31);
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    x.fn.configWrite(0x04, 2, 0x2);
    x.fn.sendMessage(0);
    x.fn.sendMessage(1);
    x.fn.sendMessage(0);
    expect(x.w.delivered).toEqual([]);
    expect(guestErrs(x.w.tracer)).toEqual(['pci.msi-no-bus-master']);
    expect(x.mmioRead(PBA)).toBe(3);
    x.fn.configWrite(0x04, 2, 0x6);
    expect(x.w.delivered.map((d) => d.vector)).toEqual([0x30, 0x31]);
    expect(x.mmioRead(PBA)).toBe(0);
    // A new episode reports again.
    x.fn.configWrite(0x04, 2, 0x2);
    x.fn.sendMessage(0);
    expect(guestErrs(x.w.tracer)).toEqual(['pci.msi-no-bus-master', 'pci.msi-no-bus-master']);
  });

  it('messages are ignored in INTx mode', () => {
    const x = world();
    programEntry(x, 0, 0, 0x30);
    x.fn.sendMessage(0);
    expect(x.w.delivered).toEqual([]);
    expect(x.fn.isPending(0)).toBe(false);
    expect(guestErrs(x.w.tracer)).toEqual([]);
  });
});

describe('MSI delivery', () => {
  function msiWorld() {
    const x = world();
    x.fn.configWrite(MSI + 4, 4, msiAddr(1));
    x.fn.configWrite(MSI + 8, 4, 0);
    x.fn.configWrite(MSI + 0xc, 2, 0x40);
    return x;
  }

  it('single message: data register as is', () => {
    const x = msiWorld();
    x.fn.configWrite(MSI + 2, 2, 0x1);
    expect(x.fn.mode).toBe('msi');
    x.fn.sendMessage(0);
    expect(x.w.delivered).toEqual([{ core: 1, vector: 0x40, source: 4 }]);
    x.fn.sendMessage(1);
    expect(guestErrs(x.w.tracer)).toEqual(['msi.bad-vector']);
    expect(x.w.delivered).toHaveLength(1);
  });

  it('multiple message: the low log2(N) data bits carry the vector (PCI 3.0 6.8.1.6)', () => {
    const x = msiWorld();
    x.fn.configWrite(MSI + 0xc, 2, 0x47); // low bits set: replaced by the vector
    x.fn.configWrite(MSI + 2, 2, 0x21); // 4 vectors
    for (let v = 0; v < 4; v++) x.fn.sendMessage(v);
    expect(x.w.delivered.map((d) => d.vector)).toEqual([0x44, 0x45, 0x46, 0x47]);
    expect(eventsOf(x.w.tracer, 'msi').map((e) => e.data)).toEqual([0x44, 0x45, 0x46, 0x47]);
    x.fn.sendMessage(4);
    expect(guestErrs(x.w.tracer)).toEqual(['msi.bad-vector']);
  });

  it('per-vector mask sets pending; unmask delivers and clears pending', () => {
    const x = msiWorld();
    x.fn.configWrite(MSI + 2, 2, 0x31); // 8 vectors
    x.fn.configWrite(MSI + 0x10, 4, 0b1010);
    x.fn.sendMessage(1);
    x.fn.sendMessage(3);
    x.fn.sendMessage(2);
    expect(x.w.delivered.map((d) => d.vector)).toEqual([0x42]);
    expect(x.fn.configRead(MSI + 0x14, 4)).toBe(0b1010);
    expect(x.fn.isPending(3)).toBe(true);
    x.fn.configWrite(MSI + 0x10, 4, 0b0010);
    expect(x.w.delivered.map((d) => d.vector)).toEqual([0x42, 0x43]);
    expect(x.fn.configRead(MSI + 0x14, 4)).toBe(0b0010);
    x.fn.configWrite(MSI + 0x10, 4, 0);
    expect(x.w.delivered.map((d) => d.vector)).toEqual([0x42, 0x43, 0x41]);
    expect(x.fn.configRead(MSI + 0x14, 4)).toBe(0);
  });

  it('non-zero upper address is a bad message', () => {
    const x = msiWorld();
    x.fn.configWrite(MSI + 8, 4, 2);
    x.fn.configWrite(MSI + 2, 2, 0x1);
    x.fn.sendMessage(0);
    expect(guestErrs(x.w.tracer)).toEqual(['msi.bad-message']);
    expect(x.w.delivered).toEqual([]);
  });

  it('without bus mastering the message is dropped with one guest error', () => {
    const x = msiWorld();
    x.fn.configWrite(MSI + 2, 2, 0x1);
    x.fn.configWrite(0x04, 2, 0x2);
    x.fn.sendMessage(0);
    x.fn.sendMessage(0);
    expect(guestErrs(x.w.tracer)).toEqual(['pci.msi-no-bus-master']);
    x.fn.configWrite(0x04, 2, 0x6);
    expect(x.w.delivered).toEqual([]);
  });

  it('MSI-X enable wins over MSI enable', () => {
    const x = msiWorld();
    programEntry(x, 0, 0, 0x60);
    x.fn.configWrite(MSI + 2, 2, 0x1);
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    expect(x.fn.mode).toBe('msix');
    x.fn.sendMessage(0);
    expect(x.w.delivered.map((d) => d.vector)).toEqual([0x60]);
  });
});

describe('INTx', () => {
  const gsi = intxGsi(3, 1);

  it('drives the swizzled GSI and reflects the request in Status', () => {
    const x = world();
    expect(x.fn.intxGsi).toBe(gsi);
    x.fn.setIntx(true);
    expect(x.w.irq.isAsserted(gsi)).toBe(true);
    expect(x.fn.configRead(0x06, 2) & 0x8).toBe(0x8);
    x.fn.setIntx(false);
    expect(x.w.irq.isAsserted(gsi)).toBe(false);
    expect(eventsOf(x.w.tracer, 'intx').map((e) => [e.gsi, e.level, e.dev])).toEqual([[gsi, 1, 4], [gsi, 0, 4]]);
  });

  it('changes the line only on transitions of the effective level', () => {
    const x = world();
    x.fn.setIntx(true);
    x.fn.setIntx(true);
    x.fn.configWrite(0x04, 2, 0x6); // command rewritten, INTx still enabled
    x.fn.configWrite(0x05, 1, 0x04); // INTx Disable: line drops
    x.fn.configWrite(0x05, 1, 0x04);
    x.fn.configWrite(0x05, 1, 0x00); // enabled again: line rises
    x.fn.setIntx(false);
    x.fn.setIntx(false);
    expect(eventsOf(x.w.tracer, 'intx').map((e) => e.level)).toEqual([1, 0, 1, 0]);
  });

  it('INTx Disable keeps the line low but Status still shows the request', () => {
    const x = world();
    x.fn.configWrite(0x04, 2, 0x406);
    x.fn.setIntx(true);
    expect(x.w.irq.isAsserted(gsi)).toBe(false);
    expect(x.fn.configRead(0x06, 2) & 0x8).toBe(0x8);
    expect(eventsOf(x.w.tracer, 'intx')).toEqual([]);
    x.fn.configWrite(0x04, 2, 0x006);
    expect(x.w.irq.isAsserted(gsi)).toBe(true);
  });

  it('MSI or MSI-X enable releases the pin; disabling them drives it again', () => {
    const x = world();
    x.fn.setIntx(true);
    x.fn.configWrite(MSI + 2, 2, 0x1);
    expect(x.w.irq.isAsserted(gsi)).toBe(false);
    x.fn.configWrite(MSI + 2, 2, 0x0);
    expect(x.w.irq.isAsserted(gsi)).toBe(true);
    x.fn.configWrite(MSIX + 2, 2, 0x8000);
    expect(x.w.irq.isAsserted(gsi)).toBe(false);
    x.fn.configWrite(MSIX + 2, 2, 0xc000); // function mask changes nothing for INTx
    x.fn.configWrite(MSIX + 2, 2, 0x0);
    expect(x.w.irq.isAsserted(gsi)).toBe(true);
    expect(eventsOf(x.w.tracer, 'intx').map((e) => e.level)).toEqual([1, 0, 1, 0, 1]);
  });

  it('delivers through the IOAPIC when routed', () => {
    const x = world();
    x.w.irq.route(gsi, 0, 0x24);
    x.fn.setIntx(true);
    expect(x.w.delivered).toEqual([{ core: 0, vector: 0x24, source: -1 - gsi }]);
  });

  it('reset releases the line and clears the request', () => {
    const x = world();
    x.fn.setIntx(true);
    x.fn.reset();
    expect(x.w.irq.isAsserted(gsi)).toBe(false);
    expect(x.fn.configRead(0x06, 2) & 0x8).toBe(0);
  });

  it('a function without an interrupt pin never drives a line', () => {
    const w = makeWorld();
    const fn = makeFunction(w, plainSpec({ interruptPin: 0 }));
    fn.setIntx(true);
    expect(fn.intxGsi).toBe(-1);
    expect(eventsOf(w.tracer, 'intx')).toEqual([]);
  });

  it('pins swizzle by device number', () => {
    const w = makeWorld();
    const fn = makeFunction(w, plainSpec({ interruptPin: 2 }), { bdf: { bus: 0, device: 5, fn: 0 } });
    fn.setIntx(true);
    expect(w.irq.isAsserted(16 + ((5 + 1) % 4))).toBe(true);
  });
});
