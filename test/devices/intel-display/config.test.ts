import { describe, expect, it } from 'vitest';
import { makeFunction, makeWorld } from '../pci/fixture.js';
import { Harness } from './harness.js';

describe('intel-display: config space through the PCI function', () => {
  it('GGC and BDSM read back their values (read-only), ASLS is writable, capabilities sit around them, FLR restores them', () => {
    const h = new Harness();
    const w = makeWorld();
    const fn = makeFunction(w, h.spec, { bdf: { bus: 0, device: 2, fn: 0 } });
    expect(fn.configRead(0x0a, 2)).toBe(0x0300);
    const ggc = fn.configRead(0x50, 2);
    expect((ggc >> 6) & 3).toBe(3);
    fn.configWrite(0x50, 2, 0);
    expect(fn.configRead(0x50, 2)).toBe(ggc);
    expect(fn.configRead(0x5c, 4)).toBe((h.dev.stolenBase | 1) >>> 0);
    fn.configWrite(0xfc, 4, 0x7ff00000);
    expect(fn.configRead(0xfc, 4)).toBe(0x7ff00000);
    // The capability list skips 0x50..0x5f and 0xfc.
    const caps: number[] = [];
    for (let p = fn.configRead(0x34, 1); p !== 0 && caps.length < 8; p = fn.configRead(p + 1, 1)) caps.push(p);
    expect(caps.length).toBe(2);
    for (const c of caps) expect(c >= 0x60 || c + 16 <= 0x50).toBe(true);
    expect(fn.caps.msi).toBeGreaterThanOrEqual(0x60);
    fn.reset();
    expect(fn.configRead(0xfc, 4)).toBe(0);
    expect(fn.configRead(0x50, 2)).toBe(ggc);
  });
});
