import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBisect } from '../../../src/machine/bisect/bisect.js';
import { loadVariants, lengthOnlyEquality } from '../../../src/machine/bisect/variants.js';
import { HISTORY, HISTORY_FIRST_BAD } from '../../../scripts/make-firmware.js';
// A driver crash in a run fails the test unless the test declares it.
import '../../support/crash-guard.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const FILE = join(ROOT, 'fixtures/variants/wifi-firmware-history.json');
const tmpRoot = mkdtempSync(join(tmpdir(), 'simrun-bisect-wifi-'));
afterAll(() => rmSync(tmpRoot, { recursive: true, force: true }));

describe('firmware bisect: fixtures/variants/wifi-firmware-history.json', () => {
  it('lists the eight history releases in order, compared with the RX packets by length and the firmware bytes skipped', () => {
    const vf = loadVariants(FILE);
    expect(vf.variants.map((v) => v.name)).toEqual(HISTORY.map((h) => `${h.api}.0.${h.api}.${h.serial}`));
    expect(vf.ignore).toEqual(['log', 'milestone', 'dma:iwl.fw-chunk']);
    expect(vf.lengthOnly).toEqual(['dma:iwl.rx']);
  });

  it('finds the planted regression (the first release without INIT_COMPLETE) and shows the missing packet as the first divergence', () => {
    const out: string[] = [];
    const progress: string[] = [];
    const r = runBisect({ variants: FILE, tmpDir: tmpRoot, out: (t) => out.push(t), progress: (t) => progress.push(t), err: () => {} });
    const text = out.join('\n');
    expect(r.exitCode).toBe(0);
    expect(r.status).toBe('found');
    expect(r.classify).toBe('first-variant');
    expect(r.firstBad).toMatchObject({ name: `29.0.29.${HISTORY_FIRST_BAD}` });
    expect(r.lastGood).toMatchObject({ name: `29.0.29.${HISTORY_FIRST_BAD - 1}` });
    expect(r.probes.length).toBeLessThanOrEqual(5);
    // Earlier releases differ only in what the comparison ignores: identical.
    expect(progress.join('\n')).toMatch(/29\.0\.29\.4: good \(identical to the 29\.0\.29\.1 trace/);
    // The first bad release fails bring-up; the divergence is where the last good one's
    // INIT_COMPLETE packet (cmd 0x04, sequence 0x8000) was written to the RX ring.
    expect(r.failures.join('\n')).toMatch(/ended "fail:up"/);
    expect(text).toMatch(/missing: DMA read from memory by wlan0 \(iwl\.rbd\)/);
    expect(text).toMatch(/dma\.w +iwl\.rx 12 B to 0x[0-9a-f]+: INIT_COMPLETE \(0x04\) notification len=8/);
  });

  it('length-only equality: payloads of the named tags compare by length, others byte for byte', () => {
    const same = lengthOnlyEquality(['dma:iwl.rx']);
    const ev = (tag: string, bytes: number[]) => ({ seq: 0, time: 0, kind: 'dma', write: true, dev: 0, addr: 0x1000, tag, data: Uint8Array.from(bytes) }) as never;
    expect(same(ev('iwl.rx', [1, 2, 3]), ev('iwl.rx', [9, 9, 9]))).toBe(true);
    expect(same(ev('iwl.rx', [1, 2, 3]), ev('iwl.rx', [1, 2]))).toBe(false);
    expect(same(ev('iwl.tb', [1, 2, 3]), ev('iwl.tb', [9, 9, 9]))).toBe(false);
  });
});
