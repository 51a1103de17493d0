import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupCopies, editFile, projectCopy, ROOT, simrunIn } from '../e2e/helpers.js';




afterAll(cleanupCopies);

describe('simrun check against the golden trace', () => {
  it('the unchanged driver passes', () => {
    const r = simrunIn(ROOT, 'check', 'nvme-msix');
    expect(r.err).toBe('');
    expect(r.out).toMatch(/identical: \d+ events matched/);
    expect(r.code).toBe(0);
  });

  it('swapping two register writes in the driver fails, naming the registers and the place', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/nvme/driver.ts',
      'k.writeq(this.admin.sq.dma, bar, D.REG_ASQ);\n    k.writeq(this.admin.cq.dma, bar, D.REG_ACQ);',
      'k.writeq(this.admin.cq.dma, bar, D.REG_ACQ);\n    k.writeq(this.admin.sq.dma, bar, D.REG_ASQ);');
    const r = simrunIn(dir, 'check', 'nvme-msix');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/1 divergence/);
    expect(r.out).toMatch(/#1 order at [\d.]+ us/);
    expect(r.out).toMatch(/order: expected MMIO write to nvme0 ASQ\S* \(BAR0\+0x28\) first, got MMIO write to nvme0 ACQ\S* \(BAR0\+0x30\) first/);
    // Both sides with context, decoded, and the driver log before it.
    expect(r.out).toMatch(/golden[\s\S]*AQA[\s\S]*re-simulated/);
    expect(r.out).toMatch(/driver log before the divergence[\s\S]*NVMe 1\.4, MQES/);
  });

  it('a different admin queue size fails with the AQA value that differs', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/nvme/driver.ts', 'const adminDepth = Math.min(32, mqes);', 'const adminDepth = Math.min(16, mqes);');
    const r = simrunIn(dir, 'check', 'nvme-msix', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out);
    expect(j.identical).toBe(false);
    const d = j.divergences[0];
    expect(d.kind).toBe('value');
    expect(d.what).toBe('MMIO write to nvme0 AQA (BAR0+0x24): expected 0x001f001f, got 0x000f000f');
    expect(d.before.expected).toHaveLength(20);
    expect(d.after.actual.length).toBeGreaterThan(0);
    expect(d.processes.map((p: { name: string }) => p.name)).toContain('nvmed');
  });

  it('simrun diff shows the same change: the register, both values and the place', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/nvme/driver.ts', 'const adminDepth = Math.min(32, mqes);', 'const adminDepth = Math.min(16, mqes);');
    const changed = join(dir, 'changed.simtrace');
    expect(simrunIn(dir, 'run', 'nvme-msix', '--record', changed).code).toBe(0);
    const r = simrunIn(ROOT, 'diff', join(ROOT, 'traces/nvme-msix.simtrace'), changed, '--html', join(dir, 'report.html'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/structure: DIFFERENT/);
    expect(r.out).toMatch(/#1 nvme0 mmio\s+a#(\d+) [\d.]+ us \/ b#\1/);
    expect(r.out).toMatch(/bar0\+0x0024 AQA: 0x001f001f → 0x000f000f, ASQS 31 → 15, ACQS 31 → 15/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/AQA/);
    expect(html).not.toMatch(/https?:\/\//);
    const same = simrunIn(ROOT, 'diff', join(ROOT, 'traces/nvme-msix.simtrace'), join(ROOT, 'traces/nvme-msix.simtrace'));
    expect(same.code).toBe(0);
  });

  it('--keep-going collects later divergences too', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/nvme/driver.ts', 'const adminDepth = Math.min(32, mqes);', 'const adminDepth = Math.min(16, mqes);');
    const r = simrunIn(dir, 'check', 'nvme-msix', '--json', '--keep-going');
    const j = JSON.parse(r.out);
    expect(j.count).toBeGreaterThan(1);
  });

  it('a missing golden trace is bad input (exit 2) that says how to create one', () => {
    const r = simrunIn(ROOT, 'check', 'nvme-msix', '--golden', '/tmp/nope/none.simtrace');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/none\.simtrace: no golden trace for scenario "nvme-msix"; record one with: simrun check .* --update/);
  });
});
