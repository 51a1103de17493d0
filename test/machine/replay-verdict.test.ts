/**
 * `simrun replay` ends in a verdict, as check and diff do: the replay's own
 * trace judged against the input trace. Driver changes as a user makes them
 * (each in its own copy of the project): timing changes are TIMING-ONLY and
 * pass, including poll counts and doorbell order that changed with timing;
 * functional bugs are FUNCTIONAL and fail. `replay --devices` judges how the
 * device models answered.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupCopies, editFile, projectCopy, ROOT, simrunIn } from '../e2e/helpers.js';
import { deviceDecoders } from '../../src/devices/decoders.js';
import { runReplayHardware } from '../../src/machine/replay/run.js';
import { runReplayDevices } from '../../src/machine/replay/devices.js';

afterAll(cleanupCopies);

const golden = (n: string) => join(ROOT, 'traces', `${n}.simtrace`);
const quiet = { decoders: deviceDecoders(), out: () => {} };
const json = (out: string) => JSON.parse(out.split('\n')[0]!);

/** The NVMe driver with a fixed-length settle poll of CSTS after AQA, reading every `stepUs` for `forUs` (a harmless timing change between copies). */
function settlePollCopy(stepUs: number, forUs = 30): string {
  const dir = projectCopy();
  const aqa = 'k.writel(((adminDepth - 1) << 16) | (adminDepth - 1), bar, D.REG_AQA);\n';
  editFile(dir, 'src/drivers/nvme/driver.ts', aqa, `${aqa}    for (let t = 0; t < ${forUs}; t += ${stepUs}) { k.readl(bar, D.REG_CSTS); k.udelay(${stepUs}); }\n`);
  return dir;
}

describe('replay verdicts (trace as hardware)', () => {
  it('an unchanged driver replays every golden trace IDENTICAL, with the verdict first', () => {
    for (const name of ['nvme-msix', 'wifi-connect']) {
      const lines: string[] = [];
      const r = runReplayHardware({ trace: golden(name), decoders: deviceDecoders(), out: (t) => lines.push(t) });
      expect(r.verdict.verdict, name).toBe('IDENTICAL');
      expect(r.exitCode).toBe(0);
      expect(lines[0]).toMatch(/^verdict: IDENTICAL/);
      expect(r.hardware.tolerated).toEqual({ extraPolls: 0, skippedPolls: 0, reorderedWrites: 0, skippedWrites: 0, extraWrites: 0 });
    }
  });

  it('Wi-Fi: 3 us in the interrupt handler and 2 us before each TX write pointer is TIMING-ONLY and exits 0; --fail-on timing fails it', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/iwlwifi/pcie/isr.ts', '  io.write32(CSR.INT_MASK, 0);\n  t.irqs++;', '  io.write32(CSR.INT_MASK, 0);\n  k.udelay(3);\n  t.irqs++;');
    editFile(dir, 'src/drivers/iwlwifi/pcie/tx.ts', 'function kickWritePtr(t: PcieTrans, q: TxQueue): void {\n', 'function kickWritePtr(t: PcieTrans, q: TxQueue): void {\n  t.k.udelay(2);\n');
    const r = simrunIn(dir, 'replay', golden('wifi-connect'));
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^verdict: TIMING-ONLY\n {2}same behaviour; only timing differs/);
    expect(r.out).toMatch(/no divergence/);
    expect(r.code).toBe(0);
    const strict = simrunIn(dir, 'replay', golden('wifi-connect'), '--fail-on', 'timing', '--json');
    expect(strict.code).toBe(1);
    expect(json(strict.out)).toMatchObject({ mode: 'hardware', verdict: 'TIMING-ONLY', fails: true, failOn: 'timing', count: 0 });
  });

  it('a poll count that changed with timing is TIMING-ONLY both ways: the driver polling less (recorded polls skipped) and more (extra polls answered)', () => {
    const fast = settlePollCopy(2); // 15 reads of CSTS
    const slow = settlePollCopy(5); // 6 reads of CSTS
    const fastTrace = join(fast, 'fast.simtrace');
    const slowTrace = join(slow, 'slow.simtrace');
    expect(simrunIn(fast, 'run', 'nvme-msix', '--record', fastTrace).code).toBe(0);
    expect(simrunIn(slow, 'run', 'nvme-msix', '--record', slowTrace).code).toBe(0);

    const less = simrunIn(slow, 'replay', fastTrace, '--json');
    expect(less.err).toBe('');
    expect(less.code).toBe(0);
    const jl = json(less.out);
    expect(jl).toMatchObject({ verdict: 'TIMING-ONLY', fails: false, count: 0, tolerated: { skippedPolls: 9, extraPolls: 0 } });
    expect(jl.headlines[0]).toBe('same behaviour; only timing differs');

    const more = simrunIn(fast, 'replay', slowTrace);
    expect(more.code).toBe(0);
    expect(more.out).toMatch(/^verdict: TIMING-ONLY/);
    expect(more.out).toMatch(/no divergence; timing: 9 extra polls answered with the last recorded value/);

    // check agrees: the same change re-simulated against the other copy's trace is timing-only.
    const check = simrunIn(slow, 'check', 'nvme-msix', '--golden', fastTrace);
    expect(check.out).toMatch(/^verdict: TIMING-ONLY/);
    expect(check.code).toBe(0);
  });

  it('a driver that keeps polling with nothing pending is waiting for something the recording never did: a divergence after 1000 extra polls', () => {
    const once = settlePollCopy(30); // one read of CSTS
    const trace = join(once, 'once.simtrace');
    expect(simrunIn(once, 'run', 'nvme-msix', '--record', trace).code).toBe(0);
    const endless = settlePollCopy(1, 2000); // 2000 reads
    const r = simrunIn(endless, 'replay', trace, '--json');
    expect(r.code).toBe(1);
    const j = json(r.out);
    expect(j).toMatchObject({ verdict: 'FUNCTIONAL', count: 1, tolerated: { extraPolls: 1000 } });
    expect(j.headlines[0]).toMatch(/^missing: MMIO write to nvme0 ASQ/); // the 1001st read of CSTS comes where ASQ was written
  });

  it('doorbells of two queues in another order with timing are TIMING-ONLY (volatile registers), and their merged CQ head updates too', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/nvme/queue.ts', 'ringSq(): void {\n', 'ringSq(): void {\n    this.k.udelay(2);\n');
    editFile(dir, 'src/drivers/nvme/driver.ts', 'private onIrq(queues: QueuePair[]): 0 | 1 {\n', 'private onIrq(queues: QueuePair[]): 0 | 1 {\n    this.k.udelay(3);\n');
    const r = simrunIn(dir, 'replay', golden('nvme-jitter'), '--json');
    expect(r.err).toBe('');
    const j = json(r.out);
    expect(j).toMatchObject({ verdict: 'TIMING-ONLY', count: 0 });
    expect(j.tolerated.reorderedWrites).toBeGreaterThan(0);
    expect(j.tolerated.skippedWrites).toBeGreaterThan(0);
    expect(r.code).toBe(0);
  });

  it('a functional bug is FUNCTIONAL and exits 1, the divergence first; --json carries the verdict fields', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/nvme/driver.ts', 'const adminDepth = Math.min(32, mqes);', 'const adminDepth = Math.min(16, mqes);');
    const r = simrunIn(dir, 'replay', golden('nvme-msix'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/^verdict: FUNCTIONAL \(\d+ streams differ\)\n {2}MMIO write to nvme0 AQA \(BAR0\+0x24\): expected 0x001f001f, got 0x000f000f\n/);
    expect(r.out).toMatch(/nvme0 registers #\d+: W AQA <- 0x1f001f → 0xf000f/);
    expect(r.out).toMatch(/where the driver and the trace part \(event by event\):\n1 divergence/);
    const j = json(simrunIn(dir, 'replay', golden('nvme-msix'), '--json').out);
    expect(j).toMatchObject({ verdict: 'FUNCTIONAL', fails: true, failOn: 'functional', count: 1 });
    expect(j.headlines[0]).toBe('MMIO write to nvme0 AQA (BAR0+0x24): expected 0x001f001f, got 0x000f000f');
    expect(j.divergences[0].what).toBe(j.headlines[0]);
  });

  it('a missing PRP2 is FUNCTIONAL: the device reads another command than recorded', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/nvme/driver.ts', 'if (pages === 2) dv.setUint32(off + 32, slot.buf.phys + D.PAGE, true);', 'if (pages === 2) { /* PRP2 forgotten */ }');
    const r = simrunIn(dir, 'replay', golden('nvme-msix'), '--keep-going', '--json');
    expect(r.code).toBe(1);
    const j = json(r.out);
    expect(j.verdict).toBe('FUNCTIONAL');
    // With --keep-going the same mistake in every two-page command is one group.
    expect(j.headlines[0]).toMatch(/^\d+× DMA read from memory by nvme0 \(nvme\.sqe\): expected 64 bytes at 0x[0-9a-f]+, got 64 bytes at 0x[0-9a-f]+ \(first at /);
  });

  it('bad verdict options are exit 2 naming the option', () => {
    const r = simrunIn(ROOT, 'replay', golden('nvme-msix'), '--fail-on', 'sometimes');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--fail-on: "sometimes" is not "timing" or "functional"/);
    expect(simrunIn(ROOT, 'replay', golden('nvme-msix'), '--ignore', 'nonsense').code).toBe(2);
    expect(simrunIn(ROOT, 'replay', '--devices', golden('nvme-msix'), '--record', join(ROOT, 'out', 'x.simtrace')).code).toBe(2);
  });
});

describe('replay --devices verdicts (trace as driver)', () => {
  it('unchanged models answer IDENTICAL', () => {
    const r = runReplayDevices({ trace: golden('nvme-msix'), ...quiet });
    expect(r.verdict.verdict).toBe('IDENTICAL');
    expect(r.exitCode).toBe(0);
  });

  it('a model answering the same later is TIMING-ONLY (exit 0), beyond a timing budget it fails; another answer is FUNCTIONAL', () => {
    const dir = projectCopy();
    editFile(dir, 'src/devices/nvme/controller.ts', '  ADMIN_LATENCY: us(5),', '  ADMIN_LATENCY: us(6),');
    const r = simrunIn(dir, 'replay', '--devices', golden('nvme-msix'));
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^verdict: TIMING-ONLY\n {2}same responses; \d+ at other times than recorded \(largest shift 1\.000 us;/);
    expect(r.out).toMatch(/nvme0 identify: 5000000 → 6000000 ps \(\+20%\)/);
    expect(r.code).toBe(0);
    const budget = simrunIn(dir, 'replay', '--devices', golden('nvme-msix'), '--timing-budget', '10%', '--json');
    expect(budget.code).toBe(1);
    expect(json(budget.out)).toMatchObject({ mode: 'devices', verdict: 'TIMING-ONLY', fails: true });

    const bad = projectCopy();
    editFile(bad, 'src/devices/nvme/regs.ts', 'export const NVME_VERSION = 0x00010400;', 'export const NVME_VERSION = 0x00010300;');
    const f = simrunIn(bad, 'replay', '--devices', golden('nvme-msix'));
    expect(f.code).toBe(1);
    expect(f.out).toMatch(/^verdict: FUNCTIONAL \(1 stream differs\)\n {2}MMIO read of nvme0 VS \(BAR0\+0x8\): expected 0x00010400, got 0x00010300/);
  });
});
