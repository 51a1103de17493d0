import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkoutRoot } from '../../bench/support/root.js';

const ROOT = resolve(import.meta.dirname, '../..');

describe('the bundled bench child (npm run bench runs its jobs from it)', () => {
  it('finds the checkout from bench/ and from dist/cli/', () => {
    expect(checkoutRoot(join(ROOT, 'bench'))).toBe(ROOT);
    expect(checkoutRoot(join(ROOT, 'bench', 'support'))).toBe(ROOT);
    expect(checkoutRoot(join(ROOT, 'dist', 'cli'))).toBe(ROOT);
  });

  it('is built by bin/build-cli.mjs --bench and runs jobs that read the checkout\'s fixtures', () => {
    const build = spawnSync(process.execPath, [join(ROOT, 'bin', 'build-cli.mjs'), '--bench'], { encoding: 'utf8' });
    expect(build.status, build.stderr).toBe(0);
    const bundle = join(ROOT, 'dist', 'cli', 'bench-child.mjs');
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
});
