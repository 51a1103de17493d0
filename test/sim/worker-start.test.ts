/**
 * Worker threads start from the TypeScript sources (tsx's loader registered
 * in the worker) and from their bundled twins alike: a recording whose
 * chunks all go through the trace writer thread is the same bytes either
 * way. Each case runs in a process of its own (the thread is one per
 * process). The installed command's bundle is covered by test/cli.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');

function recordThreaded(env: Record<string, string>): { same: boolean; threadChunks: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'test/support/fixtures/record-threaded.ts')], {
    cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as { same: boolean; threadChunks: number };
}

describe('worker threads from the sources', () => {
  it('SIMRUN_NO_BUNDLE=1: the writer thread compiled from the sources in the worker writes the same trace', () => {
    const r = recordThreaded({ SIMRUN_NO_BUNDLE: '1' });
    expect(r.threadChunks).toBeGreaterThan(10);
    expect(r.same).toBe(true);
  });

  it('by default (the bundled worker when it is fresh, else the sources): the same trace', () => {
    const r = recordThreaded({});
    expect(r.threadChunks).toBeGreaterThan(10);
    expect(r.same).toBe(true);
  });
});
