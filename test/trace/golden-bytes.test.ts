/**
 * The recorder writes the committed golden traces byte for byte: a change to
 * how records are encoded (columns, deltas, interning, chunking) that keeps
 * every event but moves a byte shows here, where `check` (which compares
 * events) would still call the run IDENTICAL. One golden per device family.
 * A deliberate encoding change re-records the goldens
 * (`simrun run <name> --record traces/<name>.simtrace`).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/machine/run.js';

const ROOT = resolve(import.meta.dirname, '../..');
const GOLDENS = ['nvme-msix', 'nvme-jitter-c', 'ahci-ncq', 'virtio-net-mrg', 'wifi-connect', 'display-atomic'];

describe('golden traces re-record byte for byte', () => {
  const dir = mkdtempSync(join(tmpdir(), 'simrun-golden-bytes-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of GOLDENS) {
    it(name, () => {
      const out = join(dir, `${name}.simtrace`);
      runScenario(join(ROOT, 'fixtures/scenarios', `${name}.json`), { record: out });
      const golden = readFileSync(join(ROOT, 'traces', `${name}.simtrace`));
      const again = readFileSync(out);
      // Not toEqual on the buffers: its failure message would print them whole.
      const first = golden.findIndex((b, i) => b !== again[i]);
      expect({ length: again.length, firstDifferentByte: first < 0 && again.length === golden.length ? -1 : first })
        .toEqual({ length: golden.length, firstDifferentByte: -1 });
    });
  }

  // The same with every chunk assembled and written by the trace writer thread (src/trace/writer-thread.ts).
  for (const name of ['nvme-msix', 'display-atomic']) {
    it(`${name}, chunks written by the writer thread`, () => {
      const out = join(dir, `${name}-threaded.simtrace`);
      const was = process.env.SIMRUN_TRACE_THREAD;
      process.env.SIMRUN_TRACE_THREAD = '1';
      try {
        expect(runScenario(join(ROOT, 'fixtures/scenarios', `${name}.json`), { record: out }).trace?.threadChunks).toBeGreaterThan(0);
      } finally {
        if (was === undefined) delete process.env.SIMRUN_TRACE_THREAD;
        else process.env.SIMRUN_TRACE_THREAD = was;
      }
      expect(Buffer.compare(readFileSync(out), readFileSync(join(ROOT, 'traces', `${name}.simtrace`)))).toBe(0);
    });
  }
});
