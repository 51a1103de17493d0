import { describe, expect, it } from 'vitest';
import { eventsOf, fullSpec, makeFunction, makeWorld, plainSpec, RegBlock } from './fixture.js';

function world(onFlr?: () => void) {
  const w = makeWorld();
  const bar0 = new RegBlock(0x4000);
  const fn = makeFunction(w, fullSpec({ bar0 }), { dev: 2, onFlr });
  return { w, fn, bar0 };
}

const PM = 0x40;
const MSI = 0x50;
const MSIX = 0x70;
const PCIE = 0x80;

describe('Power Management capability', () => {
  it('PMC is read-only with version 3', () => {
    const { fn } = world();
    expect(fn.configRead(PM + 2, 2)).toBe(0x0003);
    fn.configWrite(PM + 2, 2, 0xffff);
    expect(fn.configRead(PM + 2, 2)).toBe(0x0003);
  });

  it('PMCSR: power state RW for D0/D3hot, D1/D2 writes discarded, No_Soft_Reset RO 1', () => {
    const { fn } = world();
    expect(fn.configRead(PM + 4, 2)).toBe(0x0008);
    fn.configWrite(PM + 4, 2, 0x3);
    expect(fn.configRead(PM + 4, 2)).toBe(0x000b);
    expect(fn.powerState).toBe(3);
    fn.configWrite(PM + 4, 2, 0x1);
    expect(fn.configRead(PM + 4, 2)).toBe(0x000b);
    fn.configWrite(PM + 4, 2, 0x2);
    expect(fn.powerState).toBe(3);
    fn.configWrite(PM + 4, 2, 0x0);
    expect(fn.powerState).toBe(0);
    fn.configWrite(PM + 4, 2, 0xfff4); // everything else read-only
    expect(fn.configRead(PM + 4, 4)).toBe(0x0008);
  });
});

describe('MSI capability registers', () => {
  it('control: MMC RO from spec, 64-bit and per-vector masking RO, enable and MME RW', () => {
    const { fn } = world();
    // 8 vectors: MMC = 3; 64-bit bit 7; PVM bit 8.
    expect(fn.configRead(MSI + 2, 2)).toBe(0x0186);
    fn.configWrite(MSI + 2, 2, 0xffff);
    // MME clamped to MMC (3), enable set, nothing else changes.
    expect(fn.configRead(MSI + 2, 2)).toBe(0x01b7);
    fn.configWrite(MSI + 2, 2, 0x0021);
    expect(fn.configRead(MSI + 2, 2)).toBe(0x01a7);
    fn.configWrite(MSI + 2, 2, 0);
    expect(fn.configRead(MSI + 2, 2)).toBe(0x0186);
  });

  it('address low bits 1:0 RO 0, upper address RW, data 16 bits, mask RW per vector, pending RO', () => {
    const { fn } = world();
    fn.configWrite(MSI + 4, 4, 0xfee01003);
    expect(fn.configRead(MSI + 4, 4)).toBe(0xfee01000);
    fn.configWrite(MSI + 8, 4, 0x12345678);
    expect(fn.configRead(MSI + 8, 4)).toBe(0x12345678);
    fn.configWrite(MSI + 0xc, 4, 0xffffffff);
    expect(fn.configRead(MSI + 0xc, 4)).toBe(0x0000ffff);
    fn.configWrite(MSI + 0x10, 4, 0xffffffff);
    expect(fn.configRead(MSI + 0x10, 4)).toBe(0xff); // 8 vectors capable
    fn.configWrite(MSI + 0x14, 4, 0xffffffff);
    expect(fn.configRead(MSI + 0x14, 4)).toBe(0);
  });

  it('32-bit MSI without masking: data at +8, nothing after', () => {
    const w = makeWorld();
    const fn = makeFunction(w, plainSpec({ capabilities: { msi: { vectors: 1, is64: false, perVectorMask: false } } }));
    expect(fn.configRead(0x42, 2)).toBe(0x0000);
    fn.configWrite(0x42, 2, 0x0071);
    expect(fn.configRead(0x42, 2)).toBe(0x0001); // MME clamped to 0
    fn.configWrite(0x48, 4, 0xffffffff);
    expect(fn.configRead(0x48, 4)).toBe(0xffff);
    fn.configWrite(0x4c, 4, 0xffffffff);
    expect(fn.configRead(0x4c, 4)).toBe(0);
  });

  it('32 vectors: all mask bits implemented', () => {
    const w = makeWorld();
    const fn = makeFunction(w, plainSpec({ capabilities: { msi: { vectors: 32, is64: false, perVectorMask: true } } }));
    expect(fn.configRead(0x42, 2)).toBe(0x010a);
    fn.configWrite(0x4c, 4, 0xffffffff);
    expect(fn.configRead(0x4c, 4)).toBe(0xffffffff);
  });
});

describe('MSI-X capability registers', () => {
  it('control: table size RO = N-1, enable and function mask RW; table/PBA offset and BIR RO', () => {
    const { fn } = world();
    expect(fn.configRead(MSIX + 2, 2)).toBe(7);
    fn.configWrite(MSIX + 2, 2, 0xffff);
    expect(fn.configRead(MSIX + 2, 2)).toBe(0xc007);
    fn.configWrite(MSIX + 2, 2, 0);
    expect(fn.configRead(MSIX + 2, 2)).toBe(7);
    expect(fn.configRead(MSIX + 4, 4)).toBe(0x2000);
    expect(fn.configRead(MSIX + 8, 4)).toBe(0x3000);
    fn.configWrite(MSIX + 4, 4, 0xffffffff);
    fn.configWrite(MSIX + 8, 4, 0xffffffff);
    expect(fn.configRead(MSIX + 4, 4)).toBe(0x2000);
    expect(fn.configRead(MSIX + 8, 4)).toBe(0x3000);
  });

  it('BIR names the BAR', () => {
    const w = makeWorld();
    const fn = makeFunction(w, plainSpec({
      bars: [
        { index: 0, kind: 'mem32', size: 0x1000, handler: new RegBlock(0x1000) },
        { index: 4, kind: 'mem32', size: 0x1000, handler: new RegBlock(0x1000) },
      ],
      capabilities: { msix: { tableSize: 3, tableBar: 4, tableOffset: 0x100, pbaBar: 0, pbaOffset: 0x800 } },
    }));
    expect(fn.configRead(0x44, 4)).toBe(0x104);
    expect(fn.configRead(0x48, 4)).toBe(0x800);
  });
});

describe('PCI Express capability', () => {
  it('capability register: version 2, endpoint', () => {
    const { fn } = world();
    expect(fn.configRead(PCIE, 4)).toBe(0x00020010);
  });

  it('Device Capabilities RO: FLR capable, MPS 256', () => {
    const { fn } = world();
    const devcap = fn.configRead(PCIE + 4, 4);
    expect(devcap & 0x7).toBe(1);
    expect((devcap >>> 28) & 1).toBe(1);
    fn.configWrite(PCIE + 4, 4, 0);
    expect(fn.configRead(PCIE + 4, 4)).toBe(devcap);
  });

  it('Device Control RW with reserved bits read-only and FLR reading 0', () => {
    const { fn } = world();
    expect(fn.configRead(PCIE + 8, 2)).toBe(0x2810);
    fn.configWrite(PCIE + 8, 2, 0x7fff);
    expect(fn.configRead(PCIE + 8, 2)).toBe(0x79ff);
  });

  it('Device Status error bits are W1C', () => {
    const { fn } = world();
    fn.setDeviceStatusBits(0xff);
    expect(fn.configRead(PCIE + 0xa, 2)).toBe(0xf);
    fn.configWrite(PCIE + 0xa, 2, 0x5);
    expect(fn.configRead(PCIE + 0xa, 2)).toBe(0xa);
    fn.configWrite(PCIE + 0xa, 2, 0);
    expect(fn.configRead(PCIE + 0xa, 2)).toBe(0xa);
  });

  it('Link Capabilities and Status: x4 Gen3, read-only', () => {
    const { fn } = world();
    const linkcap = fn.configRead(PCIE + 0xc, 4);
    expect(linkcap & 0xf).toBe(3);
    expect((linkcap >>> 4) & 0x3f).toBe(4);
    const linksta = fn.configRead(PCIE + 0x12, 2);
    expect(linksta & 0xf).toBe(3);
    expect((linksta >>> 4) & 0x3f).toBe(4);
    fn.configWrite(PCIE + 0xc, 4, 0);
    fn.configWrite(PCIE + 0x12, 2, 0xffff);
    expect(fn.configRead(PCIE + 0xc, 4)).toBe(linkcap);
    expect(fn.configRead(PCIE + 0x12, 2)).toBe(linksta);
    expect(fn.configRead(PCIE + 0x2c, 4)).toBe(0xe); // 2.5, 5, 8 GT/s
  });

  it('Link Control writable bits: ASPM control, common clock, extended synch', () => {
    const { fn } = world();
    fn.configWrite(PCIE + 0x10, 2, 0xffff);
    expect(fn.configRead(PCIE + 0x10, 2)).toBe(0xc3);
  });

  it('Device Capabilities 2 / Control 2', () => {
    const { fn } = world();
    expect(fn.configRead(PCIE + 0x24, 4)).toBe(0x10);
    fn.configWrite(PCIE + 0x28, 2, 0xffff);
    expect(fn.configRead(PCIE + 0x28, 2)).toBe(0x10);
  });

  it('slot and root registers are not implemented for an endpoint', () => {
    const { fn } = world();
    for (const off of [0x14, 0x18, 0x1c, 0x20, 0x34, 0x38]) {
      fn.configWrite(PCIE + off, 4, 0xffffffff);
      expect(fn.configRead(PCIE + off, 4)).toBe(0);
    }
  });
});

describe('Function Level Reset', () => {
  it('writing Initiate FLR resets config space, unmaps BARs, keeps MPS, calls onFlr', () => {
    let flrs = 0;
    const { w, fn } = world(() => {
      flrs++;
      // The device model sees config space already at power-on values.
      expect(fn.configRead(0x04, 2)).toBe(0);
    });
    fn.assignBar(0, 0xfe000000);
    fn.configWrite(0x04, 2, 0x0406);
    fn.configWrite(0x3c, 1, 17);
    fn.configWrite(MSI + 2, 2, 0x1);
    fn.configWrite(MSIX + 2, 2, 0x8000);
    fn.configWrite(PM + 4, 2, 0x3);
    fn.configWrite(PCIE + 8, 2, 0x2830); // MPS 256
    fn.configWrite(PCIE + 0x10, 2, 0x40); // common clock
    expect(w.mem.listWindows()).toHaveLength(1);

    fn.configWrite(PCIE + 8, 2, 0x8000 | 0x2830);
    expect(flrs).toBe(1);
    expect(fn.configRead(0x04, 2)).toBe(0);
    expect(fn.configRead(0x10, 4)).toBe(0x4);
    expect(fn.configRead(0x3c, 1)).toBe(0);
    expect(fn.configRead(MSI + 2, 2) & 1).toBe(0);
    expect(fn.configRead(MSIX + 2, 2) & 0x8000).toBe(0);
    expect(fn.powerState).toBe(0);
    expect(fn.mode).toBe('intx');
    expect(w.mem.listWindows()).toHaveLength(0);
    // PCIe 6.6.2: Max_Payload_Size and Common Clock Configuration survive FLR; the FLR bit reads 0.
    expect(fn.configRead(PCIE + 8, 2)).toBe(0x2830);
    expect(fn.configRead(PCIE + 0x10, 2)).toBe(0x40);
    expect(eventsOf(w.tracer, 'milestone').map((e) => e.name)).toEqual(['pci.pm', 'pci.flr']);
  });

  it('FLR clears the MSI-X table to masked and drops pending bits', () => {
    const { fn } = world();
    fn.assignBar(0, 0xfe000000);
    fn.configWrite(0x04, 2, 0x6);
    fn.configWrite(MSIX + 2, 2, 0xc000);
    fn.msixTableWrite(0x0, 4, 0xfee00000);
    fn.msixTableWrite(0x8, 4, 0x30);
    fn.msixTableWrite(0xc, 4, 0);
    fn.sendMessage(0);
    expect(fn.isPending(0)).toBe(true);
    fn.configWrite(PCIE + 8, 2, 0x8000);
    expect(fn.msixTableRead(0x0, 4)).toBe(0);
    expect(fn.msixTableRead(0xc, 4)).toBe(1);
    expect(fn.msixPbaRead(0, 4)).toBe(0);
  });

  it('a write with the FLR bit clear does not reset', () => {
    let flrs = 0;
    const { fn } = world(() => flrs++);
    fn.configWrite(0x04, 2, 0x6);
    fn.configWrite(PCIE + 8, 1, 0xff); // low byte only: bit 15 not written
    fn.configWrite(PCIE + 0xa, 2, 0xffff); // Device Status half of the dword
    expect(flrs).toBe(0);
    expect(fn.configRead(0x04, 2)).toBe(0x6);
  });
});
