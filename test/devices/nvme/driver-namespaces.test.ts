/**
 * The TypeScript NVMe driver against a controller with several NSIDs of
 * which one is active: it finds the active namespace through the Active
 * Namespace ID list and serves it, and block I/O through it checks clean.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/machine/run.js';
import { openTrace } from '../../../src/trace/reader.js';
import '../../support/crash-guard.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'simrun-nvme-ns-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(name: string, props: Record<string, unknown>, target: string) {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({
    name,
    description: 'NVMe with several namespaces, one active',
    seed: 1,
    machine: {
      cores: 2,
      ramMiB: 256,
      devices: [{ type: 'nvme', id: 'nvme0', bdf: '00:04.0', props: { image: join(ROOT, 'fixtures/disks/nvme-8m.img'), ...props } }],
    },
    drivers: { nvme: { irqMode: 'msix', ioQueues: 2, queueDepth: 64 } },
    workload: { type: 'blockio', target, clients: 2, ops: 200, readPct: 60, minBlocks: 1, maxBlocks: 16 },
    limits: { simTime: '10s' },
    expect: { minIos: 200, maxGuestErrors: 0, crashes: 0, dataErrors: 0, ioErrors: 0 },
  }));
  const out = runScenario(file, { recordToBuffer: true });
  const logs = [...openTrace(out.trace!.buffer!).events()].flatMap((e) => (e.kind === 'log' ? [e.text] : []));
  return { result: out.result, logs };
}

describe('nvme driver with namespaces > 1', () => {
  it('namespaces 4, NSID 1 active: the driver serves disk.nvme:1 only and block I/O passes', () => {
    const { result, logs } = run('nvme-ns4', { namespaces: 4 }, 'disk.nvme:1');
    expect(result.failures).toEqual([]);
    expect(result.ios).toBeGreaterThanOrEqual(200);
    expect(result.guestErrors).toBe(0);
    expect(logs.some((l) => /4 namespace\(s\)/.test(l))).toBe(true);
    expect(logs.some((l) => /serving disk\.nvme: \(disk\.nvme:1\)/.test(l))).toBe(true);
  });

  it('namespaces 4, NSID 3 active: the driver finds NSID 3 in the active list and serves it', () => {
    const { result, logs } = run('nvme-ns4-active3', { namespaces: 4, activeNsid: 3 }, 'disk.nvme:3');
    expect(result.failures).toEqual([]);
    expect(result.ios).toBeGreaterThanOrEqual(200);
    expect(result.guestErrors).toBe(0);
    expect(logs.some((l) => /serving disk\.nvme: \(disk\.nvme:3\)/.test(l))).toBe(true);
  });
});
