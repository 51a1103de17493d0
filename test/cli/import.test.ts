import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-import-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURE = join(ROOT, 'fixtures/mmiotrace/nvme-enable.mmiotrace');

function simrun(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/simrun.js'), ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('simrun import --mmiotrace / export --mmiotrace', () => {
  const trace = join(dir, 'enable.simtrace');

  it('imports the hand-written capture and inspect names the registers through the device decoder', () => {
    const r = simrun('import', '--mmiotrace', FIXTURE, '-o', trace, '--scenario', 'nvme-msix');
    expect(r.code).toBe(0);
    expect(r.out).toContain('nvme0 (nvme, 00:04.0) of scenario nvme-msix from PCIDEV 00:04.0 1b36:0010 (nvme), line 4');
    expect(r.out).toContain('27 MMIO accesses (8 reads, 19 writes)');
    expect(r.err).toContain('note: line 36: map id 3');
    const i = simrun('inspect', trace, '--kind', 'mmio');
    expect(i.code).toBe(0);
    for (const reg of ['CAP -> 0x140103ff', 'VS -> 0x00010400', 'AQA <- 0x001f001f', 'ASQ <- 0x00100000', 'ACQ <- 0x00101000', 'MSIX[0].ADDR_LO', 'CC <- 0x00460001 [EN=1', 'CSTS -> 0x00000001 [RDY=1', 'SQ0TDBL <- 0x00000001']) {
      expect(i.out).toContain(reg);
    }
  });

  it('replays it as hardware with the note on what a capture holds', () => {
    const r = simrun('replay', trace, '--scenario', 'nvme-msix');
    expect(r.code).toBe(1); // the driver's first admin command never completes: no DMA, no interrupt in a capture
    expect(r.out).toContain('no divergence');
    expect(r.out).toContain('note: this trace was imported from an mmiotrace capture');
  });

  it('exports a trace\'s MMIO accesses as an mmiotrace log', () => {
    const out = join(dir, 'back.mmiotrace');
    const r = simrun('export', '--mmiotrace', trace, '-o', out);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${out}: 27 MMIO accesses`);
    const again = simrun('import', '--mmiotrace', out, '-o', join(dir, 'back.simtrace'));
    expect(again.code).toBe(0);
    expect(again.out).toContain('(the default; --scenario names another)');
    expect(simrun('export', '--mmiotrace', trace, '--dev', 'nvme7').code).toBe(2);
  });

  it('exits 2 naming the file and line of a malformed line', () => {
    const bad = join(dir, 'bad.mmiotrace');
    writeFileSync(bad, 'VERSION 20070824\nPCIDEV 0020 1b360010 b febf0004 0 0 0 0 0 0 4000 0 0 0 0 0 0 nvme\nMAP 1.000000 1 0xfebf0000 0xffff 0x2000 0x0 0\nR 5 1.000001 1 0xfebf0000 0x1 0x0 0\n');
    const r = simrun('import', '--mmiotrace', bad, '-o', join(dir, 'bad.simtrace'));
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}: line 4: R: width 5 is not 1, 2, 4 or 8 bytes`);
    expect(simrun('import', '--mmiotrace', join(dir, 'missing.mmiotrace')).err).toContain('mmiotrace log not found');
    expect(simrun('import').code).toBe(2);
  });
});
