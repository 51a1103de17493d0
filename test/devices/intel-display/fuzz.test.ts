import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as path from 'node:path';
import { validateProps } from '../../../src/sim/props.js';
import { DISPLAY_GUEST_ERRORS } from '../../../src/devices/intel-display/guest-errors.js';
import { intelDisplayFactory } from '../../../src/devices/intel-display/index.js';
import { PCI_GUEST_ERRORS } from '../../../src/devices/pci/guest-errors.js';
import { DeviceConfigError } from '../../../src/devices/device.js';
import { GGTT, Harness, MODE_SMALL, PL, SURF, TRANSCONF, monitor } from './harness.js';

/** Offsets a hostile driver aims at: the modelled registers, their neighbours, the GGTT, random. */
const HOT = [0x44200, 0x44400, 0x44404, 0x44408, 0x4440c, 0x44418, 0xc4000, 0xc4008, 0xc4030, 0x42000, 0x45404, 0x45008, 0x46010,
  0x46014, 0x46040, 0x46060, 0x6c058, 0x6c05c, 0x6c060, 0x6c040, 0x6c044, 0x6c050, 0x46140, 0x60000, 0x6000c, 0x6001c, 0x60040,
  0x60044, 0x60400, 0x70000, 0x70008, 0x70040, 0x70180, 0x70188, 0x70190, 0x7019c, 0x701a4, 0x701ac, 0x7027c, 0x71008, 0x7119c,
  0x64000, 0x64100, 0x64110, 0x64114, 0xc5100, 0xc5104, 0xc5108, 0xc510c, 0xc2014, GGTT, GGTT + 4, GGTT + 8];

const op = fc.record({
  kind: fc.constantFrom('w', 'r', 'w', 'run', 'bar2', 'bar4', 'narrow'),
  off: fc.oneof(fc.constantFrom(...HOT), fc.integer({ min: 0, max: (16 << 20) - 4 }).map((o) => o & ~3)),
  value: fc.oneof(fc.constantFrom(0, 0xffffffff, 0x80000000, 0xc0000000, 1), fc.integer({ min: 0, max: 0xffffffff })),
  us: fc.integer({ min: 0, max: 3000 }),
});

describe('intel-display: hostile register traffic', () => {
  it('no exception escapes, every guest error is catalogued, a clean modeset works afterwards', () => {
    const seed = Number(process.env.FUZZ_SEED ?? 12);
    const runs = Number(process.env.FUZZ_RUNS ?? 40);
    const known = new Set([...Object.keys(DISPLAY_GUEST_ERRORS), ...Object.keys(PCI_GUEST_ERRORS)]);
    fc.assert(fc.property(fc.array(op, { maxLength: 120 }), fc.boolean(), (ops, handoff) => {
      const h = new Harness({ cfg: { firmwareHandoff: handoff, monitors: [monitor('B'), monitor('C', { plugAtUs: 500, unplugAtUs: 2500 })] } });
      for (const o of ops) {
        switch (o.kind) {
          case 'w': h.w(o.off, o.value); break;
          case 'r': h.r(o.off); break;
          case 'run': h.runUs(o.us); break;
          case 'bar2': h.bar2.write(o.off % (256 << 20), 4, o.value); h.bar2.read((o.off + 4) % (256 << 20), 2); break;
          case 'bar4': h.bar4.write(0, 4, o.off); h.bar4.write(4, 4, o.value); h.bar4.read(4, 4); break;
          case 'narrow': h.bar0.write(o.off + (o.value & 3), 1 + (o.value & 1), o.value); h.bar0.read(o.off + 2, 2); break;
        }
      }
      h.runMs(5);
      h.dev.stall(h.now);
      h.dev.stateHash();
      for (const c of h.codes()) if (!c.startsWith('dma.')) expect(known.has(c), c).toBe(true);
      // Recovery: after a reset the modeset order works without guest errors.
      h.dev.quiesce();
      const before = h.codes().length;
      h.modeset(0, 1, MODE_SMALL);
      const fb = h.alloc(256 * MODE_SMALL.h);
      h.map(0, fb, 256 * MODE_SMALL.h);
      h.plane(0, 0, MODE_SMALL.w, MODE_SMALL.h, 256);
      h.nextVblank();
      expect(h.r(TRANSCONF(0)) >>> 30).toBe(3);
      expect(h.r(PL(0, 1, 0x2c))).toBe(0);
      expect(h.codes().slice(before)).toEqual([]);
      void SURF;
    }), { seed, numRuns: runs });
  });
});

describe('intel-display: factory', () => {
  const props = (p: Record<string, unknown>) => validateProps(intelDisplayFactory.props, p, 'gfx0.props');
  it('checks deviceId, aperture and stolen sizes, and names the fixture field', () => {
    const ctx = { baseDir: path.join(import.meta.dirname, '..', '..', '..', 'fixtures', 'displays') } as never;
    expect(() => intelDisplayFactory.create(ctx, props({ deviceId: 0x1234 }))).toThrow(DeviceConfigError);
    expect(() => intelDisplayFactory.create(ctx, props({ apertureMiB: 300 }))).toThrow(/apertureMiB/);
    expect(() => intelDisplayFactory.create(ctx, props({ stolenMiB: 40 }))).toThrow(/stolenMiB/);
    expect(() => intelDisplayFactory.create(ctx, props({ displays: 'missing.json' }))).toThrow(/displays.*missing\.json/);
  });
});
