/**
 * Disk models DMA unwritten image bytes with their place in the image, so a recorded trace holds
 * references (format 6) for them; bytes a write changed, and images written through, are stored.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '../../src/machine/scenario.js';
import { runScenario } from '../../src/machine/run.js';
import { openTrace } from '../../src/trace/reader.js';

const ROOT = join(import.meta.dirname, '..', '..');

function scenario(device: object, drivers: object, target: string, readPct: number, writeThrough = false) {
  return parseScenario({
    name: 'image-refs', seed: 3,
    machine: { cores: 2, ramMiB: 256, devices: [{ ...device, props: { ...(device as { props: object }).props, writeThrough } }] },
    drivers,
    workload: { type: 'blockio', target, clients: 2, ops: 120, readPct, minBlocks: 1, maxBlocks: 8 },
    limits: { simTime: '10s' },
    expect: { dataErrors: 0, ioErrors: 0 },
  }, join(ROOT, 'fixtures/scenarios/image-refs.json'), 'image-refs');
}

const NVME = [{ type: 'nvme', id: 'nvme0', bdf: '00:04.0', props: { image: '../disks/nvme-8m.img' } }, { nvme: { irqMode: 'msix' } }, 'disk.nvme:1'] as const;
const AHCI = [{ type: 'ahci', id: 'ahci0', bdf: '00:03.0', props: { disks: '../disks/nvme-8m.img,../disks/nvme-8m.img', ports: 2 } }, { ahcid: {} }, 'disk.ahci:0'] as const;

function run(which: typeof NVME | typeof AHCI, readPct: number, writeThrough = false) {
  const out = runScenario(scenario(which[0], which[1], which[2], readPct, writeThrough), { recordToBuffer: true });
  expect(out.result.failures).toEqual([]);
  const buf = out.trace!.buffer!;
  return { buf, version: buf.readUInt32LE(8), refs: out.trace!.imageRefs };
}

describe('disk-image references in recorded traces', () => {
  it.each([['nvme', NVME], ['ahci', AHCI]] as const)('%s: reads of the image are references, read back from the fixture', (_n, which) => {
    const r = run(which, 100);
    expect(r.version).toBe(6);
    expect(r.refs).toBeGreaterThan(50);
    const t = openTrace(r.buf);
    const data = [...t.events({ kinds: ['dma'] })].filter((e) => e.kind === 'dma' && e.tag === 'data' && e.write);
    expect(t.damage).toEqual([]);
    expect(data.every((e) => e.kind === 'dma' && e.data.length > 0 && e.missing === undefined)).toBe(true);
  }, 120_000);

  it('an image written through is never referenced (the file changes during the run); reads of written blocks are stored', () => {
    const wt = run(NVME, 100, true); // reads only: the fixture is opened for writing but not changed
    expect([wt.version, wt.refs]).toEqual([3, 0]);
    const mixed = run(NVME, 50);
    const reads = run(NVME, 100);
    expect(mixed.refs).toBeGreaterThan(0);
    expect(mixed.refs).toBeLessThan(reads.refs);
  }, 120_000);
});
