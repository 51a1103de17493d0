import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkoutRoot } from '../../bench/support/root.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the bundled bench child (npm run bench runs its jobs from it)', () => {
  const bundle = join(ROOT, 'dist', 'cli', 'bench-child.mjs');
  let build: ReturnType<typeof spawnSync>;
  beforeAll(() => {
    build = spawnSync(process.execPath, [join(ROOT, 'bin', 'build-cli.mjs'), '--bench'], { encoding: 'utf8' });
  });

  it('finds the checkout from bench/ and from dist/cli/', () => {
    expect(checkoutRoot(join(ROOT, 'bench'))).toBe(ROOT);
    expect(checkoutRoot(join(ROOT, 'bench', 'support'))).toBe(ROOT);
    expect(checkoutRoot(join(ROOT, 'dist', 'cli'))).toBe(ROOT);
  });

  it('is built by bin/build-cli.mjs --bench and runs jobs that read the checkout\'s fixtures', () => {
    expect(build.status, String(build.stderr)).toBe(0);
    expect(existsSync(bundle)).toBe(true);
    // NVMe reads from the fixture disk image (found from the checkout, not the bundle's folder), and
    // no bench main run on import: one JSON line, the job's own.
    const r = spawnSync(process.execPath, [bundle, 'reads', 'nvme', '300'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]!) as { events: number; seconds: number; cpuSeconds: number; maxRssMiB: number };
    expect(out.events).toBe(300);
    expect(out.seconds).toBeGreaterThan(0);
    expect(out.maxRssMiB).toBeGreaterThan(0);
  });

  it('reports its own peak RSS, not what the process that spawned it held', () => {
    // A child started while this process holds 512 MiB more: with getrusage's maxRSS (kept across
    // exec; libuv forks) it would report at least that. The engine job itself needs well under 200 MiB.
    const held = Buffer.alloc(512 * 1024 * 1024, 1);
    expect(build.status, String(build.stderr)).toBe(0);
    const r = spawnSync(process.execPath, [bundle, 'engine', '20000'], { encoding: 'utf8' });
    expect(held[held.length - 1]).toBe(1);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { maxRssMiB: number };
    expect(out.maxRssMiB).toBeGreaterThan(0);
    expect(out.maxRssMiB).toBeLessThan(300);
  });
});
