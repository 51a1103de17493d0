import { describe, expect, it } from 'vitest';
import { bdfFromKey, bdfKey, checkBdf, compareBdf, formatBdf, parseBdf } from '../../../src/devices/pci/bdf.js';
import { msixTableFieldName, pciConfigRegFields, pciConfigRegName } from '../../../src/devices/pci/regs.js';
import { fullSpec, makeFunction, makeWorld, RegBlock } from './fixture.js';

describe('bdf', () => {
  it('formats as bb:dd.f in lower-case hex', () => {
    expect(formatBdf({ bus: 0, device: 0x1f, fn: 3 })).toBe('00:1f.3');
    expect(formatBdf({ bus: 0xab, device: 2, fn: 0 })).toBe('ab:02.0');
  });

  it('parses what it formats, with or without domain 0000', () => {
    expect(parseBdf('00:1f.3')).toEqual({ ok: true, bdf: { bus: 0, device: 31, fn: 3 } });
    expect(parseBdf('AB:02.0')).toEqual({ ok: true, bdf: { bus: 0xab, device: 2, fn: 0 } });
    expect(parseBdf('0000:00:03.0')).toEqual({ ok: true, bdf: { bus: 0, device: 3, fn: 0 } });
    expect(parseBdf('0:3.0')).toEqual({ ok: true, bdf: { bus: 0, device: 3, fn: 0 } });
    for (let k = 0; k < 0x10000; k += 97) expect(parseBdf(formatBdf(bdfFromKey(k)))).toEqual({ ok: true, bdf: bdfFromKey(k) });
  });

  it('explains bad input', () => {
    const err = (s: string) => {
      const r = parseBdf(s);
      return r.ok ? 'ok' : r.error;
    };
    expect(err('00:20.0')).toMatch(/device 0x20 is above 1f/);
    expect(err('00:1f.8')).toMatch(/function 8 is above 7/);
    expect(err('0g:00.0')).toMatch(/bus "0g" is not 1-2 hex digits/);
    expect(err('00:0x.0')).toMatch(/device "0x"/);
    expect(err('100:00.0')).toMatch(/bus "100"/);
    expect(err('00.1f.3')).toMatch(/expected one ":"/);
    expect(err('00:1f')).toMatch(/expected "\."/);
    expect(err('0001:00:00.0')).toMatch(/domain 0000/);
    expect(err('')).toMatch(/bad PCI address ""/);
  });

  it('keys order like BDF order', () => {
    expect(bdfKey({ bus: 1, device: 0, fn: 0 })).toBe(0x100);
    expect(bdfKey({ bus: 0, device: 31, fn: 7 })).toBe(0xff);
    expect(compareBdf({ bus: 0, device: 3, fn: 1 }, { bus: 0, device: 4, fn: 0 })).toBeLessThan(0);
    expect(checkBdf({ bus: 0, device: 3, fn: 0 })).toBeUndefined();
    expect(checkBdf({ bus: 256, device: 3, fn: 0 })).toMatch(/bus/);
  });
});

describe('register names', () => {
  it('names header registers, with +n inside a register', () => {
    expect(pciConfigRegName(0x00)).toBe('VENDOR_ID');
    expect(pciConfigRegName(0x04)).toBe('COMMAND');
    expect(pciConfigRegName(0x05)).toBe('COMMAND+1');
    expect(pciConfigRegName(0x06)).toBe('STATUS');
    expect(pciConfigRegName(0x18)).toBe('BAR2');
    expect(pciConfigRegName(0x3c)).toBe('INTERRUPT_LINE');
    expect(pciConfigRegName(0x44)).toBe('0x44');
    expect(pciConfigRegName(0x100)).toBe('EXT_CAP_HEADER');
  });

  it('names capability fields from a function\'s layout', () => {
    const w = makeWorld();
    const fn = makeFunction(w, fullSpec({ bar0: new RegBlock(0x4000) }));
    expect(pciConfigRegName(0x44, fn.caps)).toBe('PM.PMCSR');
    expect(pciConfigRegName(0x52, fn.caps)).toBe('MSI.CONTROL');
    expect(pciConfigRegName(0x58, fn.caps)).toBe('MSI.ADDRESS_HI');
    expect(pciConfigRegName(0x5c, fn.caps)).toBe('MSI.DATA');
    expect(pciConfigRegName(0x60, fn.caps)).toBe('MSI.MASK');
    expect(pciConfigRegName(0x64, fn.caps)).toBe('MSI.PENDING');
    expect(pciConfigRegName(0x72, fn.caps)).toBe('MSIX.CONTROL');
    expect(pciConfigRegName(0x88, fn.caps)).toBe('PCIE.DEVCTL');
    expect(pciConfigRegName(0x89, fn.caps)).toBe('PCIE.DEVCTL+1');
    expect(pciConfigRegName(0xb0, fn.caps)).toBe('PCIE.LINKCTL2');
  });

  it('breaks down fields of the registers that matter in traces', () => {
    const w = makeWorld();
    const fn = makeFunction(w, fullSpec({ bar0: new RegBlock(0x4000) }));
    expect(pciConfigRegFields(0x04, 0x0406)).toBe('IO=0 MEM=1 BM=1 PERR=0 SERR=0 INTX_DIS=1');
    expect(pciConfigRegFields(0x72, 0xc007, fn.caps)).toBe('EN=1 FMASK=1 SIZE=8');
    expect(pciConfigRegFields(0x52, 0x01a7, fn.caps)).toBe('EN=1 MMC=3 MME=2 64=1 PVM=1');
    expect(pciConfigRegFields(0x10, 0)).toBeUndefined();
    expect(msixTableFieldName(0x1c)).toBe('MSIX[1].VECTOR_CTRL');
  });
});
