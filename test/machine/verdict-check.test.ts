/**
 * `simrun check` on driver changes, as a user makes them (each in its own
 * copy of the project): harmless timing changes in the NVMe and Wi-Fi
 * drivers are TIMING-ONLY and pass; functional bugs are FUNCTIONAL with a
 * headline naming the field.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupCopies, editFile, projectCopy, ROOT, simrunIn } from '../e2e/helpers.js';

afterAll(cleanupCopies);

const checkIn = (dir: string, scenario: string, ...args: string[]) => simrunIn(dir, 'check', scenario, '--golden', join(ROOT, 'traces', `${scenario}.simtrace`), ...args);

describe('check verdicts on driver changes', () => {
  it('NVMe: 2 us before every SQ doorbell and 3 us in the interrupt handler is TIMING-ONLY and passes; --fail-on timing fails it', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/nvme/queue.ts', 'ringSq(): void {\n', 'ringSq(): void {\n    this.k.udelay(2);\n');
    editFile(dir, 'src/drivers/nvme/driver.ts', 'private onIrq(queues: QueuePair[]): 0 | 1 {\n', 'private onIrq(queues: QueuePair[]): 0 | 1 {\n    this.k.udelay(3);\n');
    const r = checkIn(dir, 'nvme-msix');
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^verdict: TIMING-ONLY/m);
    expect(r.out).toMatch(/same behaviour; only timing differs/);
    expect(r.code).toBe(0);
    const strict = checkIn(dir, 'nvme-msix', '--fail-on', 'timing', '--json');
    expect(strict.code).toBe(1);
    const j = JSON.parse(strict.out.split('\n')[0]!);
    expect(j.verdict).toBe('TIMING-ONLY');
    expect(j.fails).toBe(true);
    // A timing budget: a tiny one fails the timing-only change, naming the phase.
    const budget = checkIn(dir, 'nvme-msix', '--timing-budget', '0.01%');
    expect(budget.code).toBe(1);
    expect(budget.out).toMatch(/over the 0\.01% timing budget: nvme0 /);
    expect(checkIn(dir, 'nvme-msix', '--ignore', 'nonsense').code).toBe(2);
  });

  it('Wi-Fi: 3 us in the interrupt handler and 2 us before each TX write pointer is TIMING-ONLY and passes', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/iwlwifi/pcie/isr.ts', "  io.write32(CSR.INT_MASK, 0);\n  t.irqs++;", "  io.write32(CSR.INT_MASK, 0);\n  k.udelay(3);\n  t.irqs++;");
    editFile(dir, 'src/drivers/iwlwifi/pcie/tx.ts', 'function kickWritePtr(t: PcieTrans, q: TxQueue): void {\n', 'function kickWritePtr(t: PcieTrans, q: TxQueue): void {\n  t.k.udelay(2);\n');
    const r = checkIn(dir, 'wifi-connect');
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^verdict: TIMING-ONLY/m);
    expect(r.code).toBe(0);
  });

  it('NVMe: a missing PRP2 for two-page transfers is FUNCTIONAL, the headline naming prp2', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/nvme/driver.ts', 'if (pages === 2) dv.setUint32(off + 32, slot.buf.phys + D.PAGE, true);', 'if (pages === 2) { /* PRP2 forgotten */ }');
    const r = checkIn(dir, 'nvme-msix', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out.split('\n')[0]!);
    expect(j.verdict).toBe('FUNCTIONAL');
    // The device-side fact first, then the consequences for the clients, then errors.
    expect(j.headlines[0]).toMatch(/^nvme0 I\/O commands: (READ|WRITE): prp2: set → none, .*SUCCESS → DATA_TRANSFER_ERROR/);
    expect(j.headlines.join('\n')).toMatch(/blockio-\d requests #\d+: disk\.nvme: (read|write): \d+ → -5/);
    expect(j.guestErrors.actual[0]).toMatch(/^nvme0: dma\.unmapped: /);
  });

  it('the diff HTML report carries the verdict banner and the headlines', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/nvme/driver.ts', 'if (pages === 2) dv.setUint32(off + 32, slot.buf.phys + D.PAGE, true);', 'if (pages === 2) { /* PRP2 forgotten */ }');
    const t = join(dir, 'b.simtrace');
    expect(simrunIn(dir, 'run', 'nvme-msix', '--record', t).code).not.toBe(2);
    const html = join(dir, 'r.html');
    const r = simrunIn(ROOT, 'diff', join(ROOT, 'traces/nvme-msix.simtrace'), t, '--html', html);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^verdict: FUNCTIONAL/m);
    const page = readFileSync(html, 'utf8');
    expect(page).toMatch(/id="verdict-banner" class="banner diff" data-verdict="FUNCTIONAL"/);
    expect(page).toMatch(/prp2: set → none/);
  });
});
