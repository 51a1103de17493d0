/**
 * check / replay --keep-going on a broken driver: after the first real
 * divergence the streams resync again and again; the report groups the
 * divergences by root cause, so their count stays small and stable while the
 * differing events stay visible.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupCopies, editFile, projectCopy, ROOT, simrunIn, withBrokenCqDoorbell } from '../e2e/helpers.js';
import { deviceDecoders } from '../../src/devices/decoders.js';
import { runCheck } from '../../src/machine/check.js';
import { runReplayHardware } from '../../src/machine/replay/run.js';

afterAll(cleanupCopies);

const scenario = join(ROOT, 'fixtures/scenarios/nvme-msix.json');
const golden = join(ROOT, 'traces/nvme-msix.simtrace');

function checkBroken(ok: number) {
  const out: string[] = [];
  const r = withBrokenCqDoorbell(ok, () => runCheck({ scenario, golden, keepGoing: true, context: 2, decoders: deviceDecoders(), out: (t) => out.push(t) }));
  return { ...r, text: out.join('\n') };
}

describe('keep-going groups divergences by root cause', () => {
  it('check: thousands of differing events are a few dozen distinct divergences, the first the missing CQ head doorbell, the same on every run', () => {
    const r = checkBroken(100);
    expect(r.exitCode).toBe(1);
    const c = r.result!;
    expect(c.rawCount).toBeGreaterThan(1000);
    expect(c.differingEvents).toBeGreaterThanOrEqual(c.rawCount!);
    expect(c.count).toBeLessThanOrEqual(50);
    expect(c.divergences).toHaveLength(c.count);
    // Every raw divergence is in exactly one group.
    expect(c.divergences.reduce((n, d) => n + (d.occurrences ?? 1), 0)).toBe(c.rawCount);
    const first = c.divergences[0]!;
    expect(first.kind).toBe('missing');
    expect(first.expected).toMatchObject({ kind: 'mmio', write: true });
    expect(first.occurrences).toBeGreaterThan(100);
    expect(r.text).toMatch(new RegExp(`^${c.count} distinct divergences \\(${c.differingEvents!.toLocaleString('en-US')} differing events; \\d+ golden events, \\d+ re-simulated events compared\\)$`, 'm'));
    expect(r.text).toMatch(/^ {3}1\. \d+× missing: MMIO write to nvme0 CQ\dHDBL \(BAR0\+0x10[0-9a-f]+\) \(0x[0-9a-f]+\) did not happen.* \(first at [\d.]+ ms, last at [\d.]+ ms\)$/m);

    // Stable: the same counts again, and about as many for a driver that breaks later.
    const again = checkBroken(100).result!;
    expect([again.count, again.rawCount, again.differingEvents]).toEqual([c.count, c.rawCount, c.differingEvents]);
    expect(checkBroken(1000).result!.count).toBeLessThanOrEqual(50);
  }, 120_000);

  it('replay --keep-going groups the same way', () => {
    const r = withBrokenCqDoorbell(100, () => runReplayHardware({ trace: golden, keepGoing: true, decoders: deviceDecoders(), out: () => {} }));
    expect(r.verdict.verdict).toBe('FUNCTIONAL');
    expect(r.compare.count).toBeLessThanOrEqual(50);
    expect(r.compare.count).toBe(r.compare.divergences.length);
    expect(r.compare.divergences.reduce((n, d) => n + (d.occurrences ?? 1), 0)).toBe(r.compare.rawCount);
  }, 60_000);

  it('the CLI: a missing PRP2 with --keep-going --json carries the groups and the differing events', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/nvme/driver.ts', 'if (pages === 2) dv.setUint32(off + 32, slot.buf.phys + D.PAGE, true);', 'if (pages === 2) { /* PRP2 forgotten */ }');
    const r = simrunIn(dir, 'check', 'nvme-msix', '--golden', golden, '--keep-going', '--json');
    expect(r.code).toBe(1);
    const j = JSON.parse(r.out.split('\n')[0]!);
    expect(j.verdict).toBe('FUNCTIONAL');
    expect(j.count).toBeLessThanOrEqual(60);
    expect(j.rawCount).toBeGreaterThan(1000);
    expect(j.differingEvents).toBeGreaterThan(j.rawCount);
    expect(j.divergences[0]).toMatchObject({ kind: 'value', occurrences: expect.any(Number) });
    expect(j.divergences[0].what).toMatch(/^DMA read from memory by nvme0 \(nvme\.sqe\)/);
    expect(j.divergences[0].headline).toMatch(/^\d+× DMA read from memory by nvme0 \(nvme\.sqe\).* \(first at [\d.]+ ms, last at [\d.]+ ms\)$/);
  });
});
