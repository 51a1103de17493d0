/**
 * Corrupted firmware images through the real transport and firmware CPU:
 * whatever the driver pushes through the service channel, releasing the
 * CPU never throws; the firmware either posts a good ALIVE (the image is
 * intact) or reports the damage (SW error, no ALIVE).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Harness } from './transport/harness.js';
import { parseFirmware, type Section } from '../../../src/devices/iwlwifi/firmware/index.js';
import { createFirmwareCpu, NO_FAULTS } from '../../../src/devices/iwlwifi/fw/index.js';
import { Rng } from '../../../src/sim/rng.js';
import { CSR, INT_MASK_NORMAL } from '../../../src/devices/iwlwifi/regs.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const image = parseFirmware(new Uint8Array(readFileSync(join(ROOT, 'fixtures/firmware/iwlwifi-7265D-29.ucode'))), {
  fileName: 'iwlwifi-7265D-29.ucode', apiMin: 22, apiMax: 29,
});

type Mutation = { section: number; kind: 'flip' | 'truncate' | 'dest' | 'drop'; at: number; value: number };
const mutation = fc.record({
  section: fc.nat(9), kind: fc.constantFrom('flip', 'truncate', 'dest', 'drop'), at: fc.nat(), value: fc.integer({ min: 1, max: 255 }),
}) as fc.Arbitrary<Mutation>;

function mutate(sections: readonly Section[], ms: readonly Mutation[]): { dest: number; data: Uint8Array }[] {
  let out = sections.map((s) => ({ dest: s.dest, data: s.data.slice() }));
  for (const m of ms) {
    const s = out[m.section % out.length];
    if (s === undefined) continue;
    if (m.kind === 'flip' && s.data.length > 0) s.data[m.at % s.data.length]! ^= m.value;
    else if (m.kind === 'truncate') s.data = s.data.slice(0, m.at % (s.data.length + 1));
    else if (m.kind === 'dest') s.dest = (s.dest + m.value * 0x100) >>> 0;
    else if (m.kind === 'drop') out = out.filter((x) => x !== s);
  }
  return out;
}

describe('iwlwifi: corrupted firmware images loaded into the model', () => {
  it('never throw; the firmware posts ALIVE only for an intact image and reports a bad one', () => {
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 0, maxLength: 4 }), (ms) => {
        const h = new Harness();
        h.dev.attachFirmware(createFirmwareCpu(h.dev, { mac: new Uint8Array([2, 0, 0, 0, 0, 1]), sku: 0xf, air: null, rng: new Rng(3), faults: NO_FAULTS }));
        h.apmInit();
        h.setupRx();
        h.w32(CSR.INT_MASK, INT_MASK_NORMAL);
        const sections = mutate(image.sections.init, ms);
        for (const s of sections) {
          for (let off = 0; off < s.data.length; off += 0x20000) {
            const chunk = s.data.subarray(off, Math.min(s.data.length, off + 0x20000));
            if (chunk.length > 0) h.loadChunk((s.dest + off) >>> 0, chunk);
          }
        }
        h.w32(CSR.RESET, 0);
        h.runUs(20_000);
        const alive = h.dmaEvents('iwl.rx').some((e) => e.data[4] === 0x01 && e.data[8] === 0xfe && e.data[9] === 0xca);
        const bad = h.milestones('fw.bad-image').length > 0;
        const intact = ms.length === 0 || sections.length === image.sections.init.length
          && sections.every((s, i) => s.dest === image.sections.init[i]!.dest && Buffer.compare(s.data, image.sections.init[i]!.data) === 0);
        if (sections.every((x) => x.data.length === 0)) {
          // Nothing was loaded: RESET = 0 does not release the CPU (a guest error says why).
          expect(alive || bad).toBe(false);
          expect(h.guestErrs('iwl.cpu').length).toBeGreaterThan(0);
          return;
        }
        expect(alive !== bad).toBe(true);
        expect(alive).toBe(intact);
      }),
      { numRuns: 60, seed: 0x5eed },
    );
  });
});
