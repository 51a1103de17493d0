/**
 * Disk models DMA unwritten image bytes with their place in the image, so a recorded trace holds
 * references (format 6) for them; bytes a write changed, and images written through, are stored.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
const VIRTIO_BLK = [{ type: 'virtio-blk', id: 'vblk0', bdf: '00:05.0', props: { image: '../disks/nvme-8m.img' } }, { 'virtio-blkd': { irqMode: 'msix' } }, 'disk.virtio:0'] as const;
const AHCI = [{ type: 'ahci', id: 'ahci0', bdf: '00:03.0', props: { disks: '../disks/nvme-8m.img,../disks/nvme-8m.img', ports: 2 } }, { ahcid: {} }, 'disk.ahci:0'] as const;

function run(which: typeof NVME | typeof AHCI | typeof VIRTIO_BLK, readPct: number, writeThrough = false) {
  const out = runScenario(scenario(which[0], which[1], which[2], readPct, writeThrough), { recordToBuffer: true });
  expect(out.result.failures).toEqual([]);
  const buf = out.trace!.buffer!;
  return { buf, version: buf.readUInt32LE(8), refs: out.trace!.imageRefs };
}

describe('disk-image references in recorded traces', () => {
  it.each([['nvme', NVME], ['ahci', AHCI], ['virtio-blk', VIRTIO_BLK]] as const)('%s: reads of the image are references, read back from the fixture', (_n, which) => {
    const r = run(which, 100);
    expect(r.version).toBe(7);
    expect(r.refs).toBeGreaterThan(50);
    const t = openTrace(r.buf);
    const data = [...t.events({ kinds: ['dma'] })].filter((e) => e.kind === 'dma' && e.tag === 'data' && e.write);
    expect(t.damage).toEqual([]);
    expect(data.every((e) => e.kind === 'dma' && e.data.length > 0 && e.missing === undefined)).toBe(true);
  }, 120_000);

  it('an image written through is never referenced (the file changes during the run); reads of written blocks are stored', () => {
    const wt = run(NVME, 100, true); // reads only: the fixture is opened for writing but not changed
    expect(wt.refs).toBe(0); // (the trace is still version 6: its queue entries are word deltas)
    const mixed = run(NVME, 50);
    const reads = run(NVME, 100);
    expect(mixed.refs).toBeGreaterThan(0);
    expect(mixed.refs).toBeLessThan(reads.refs);
  }, 120_000);
});

describe('a trace whose image lies outside the scenario root', () => {
  it('is named by its file name; replay in a fresh process finds it through the scenario, inspect through --image-dir', () => {
    const dir = mkdtempSync(join(tmpdir(), 'simrun-imgref-'));
    try {
      const img = join(ROOT, 'fixtures/disks/nvme-8m.img');
      const scen = join(dir, 'reads.json');
      writeFileSync(scen, JSON.stringify({
        name: 'reads', seed: 1,
        machine: { cores: 2, ramMiB: 256, devices: [{ type: 'nvme', id: 'nvme0', bdf: '00:04.0', props: { image: img } }] },
        drivers: { nvme: { irqMode: 'msix' } },
        workload: { type: 'blockio', clients: 1, ops: 40, readPct: 100, minBlocks: 1, maxBlocks: 8 },
        limits: { simTime: '10s' },
      }));
      const trace = join(dir, 'sub', 'reads.simtrace');
      const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/simrun.js'), ...args], { cwd: dir, encoding: 'utf8' });
      expect(cli('run', scen, '--record', trace).status).toBe(0);
      const t = openTrace(trace);
      expect(t.header.fixtures.map((f) => f.path)).toEqual(['nvme-8m.img']);
      const replay = cli('replay', trace, '--scenario', scen);
      expect(replay.stderr).toBe('');
      expect(replay.status).toBe(0);
      // Without the scenario the image is not found: damage names it; --image-dir points at it.
      const bare = cli('inspect', trace, '--kind', 'dma', '--limit', '400');
      expect(bare.stdout + bare.stderr).toMatch(/disk image nvme-8m\.img \(sha256 [0-9a-f]{16}…\) was not found/);
      const found = cli('inspect', trace, '--kind', 'dma', '--limit', '400', '--image-dir', join(ROOT, 'fixtures/disks'));
      expect(found.status).toBe(0);
      expect(found.stdout + found.stderr).not.toMatch(/not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);
});
