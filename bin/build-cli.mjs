#!/usr/bin/env node
// Bundles the CLI (src/cli/main.ts and everything it imports) into one ES
// module, dist/cli/simrun.mjs, so the installed `simrun` starts without
// compiling TypeScript. Runs at `npm install` (the "prepare" script) and
// again from ./simrun.js whenever a source file is newer than the bundle.
// The bundle sits two folders below the root, like src/cli/main.ts, so paths
// the CLI derives from its own location are the same in both.
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const BUNDLE = join(ROOT, 'dist', 'cli', 'simrun.mjs');
/** The worker thread of `check --all --jobs N`, next to the bundle (src/machine/ci/check-all.ts looks for it there). */
export const WORKER_BUNDLE = join(ROOT, 'dist', 'cli', 'check-worker.mjs');
/** The trace writer thread, next to the bundle (src/trace/writer-thread.ts looks for it there). */
export const WRITER_BUNDLE = join(ROOT, 'dist', 'cli', 'trace-writer.mjs');

/**
 * The bench's child process (bench/child.ts), built by `npm run bench`: its jobs run the bundled code
 * the installed CLI runs, next to the worker bundles their threads start from.
 */
export const BENCH_CHILD_BUNDLE = join(ROOT, 'dist', 'cli', 'bench-child.mjs');

/** Builds the bundle (written to a temporary file, then renamed: concurrent builds never expose half a file); `bench`: the bench child too. */
export async function buildCli({ bench = false } = {}) {
  const { buildSync } = await import('esbuild');
  mkdirSync(dirname(BUNDLE), { recursive: true });
  // The workers first: a bundle that exists always has its workers.
  bundle(buildSync, join(ROOT, 'src', 'machine', 'ci', 'worker.ts'), WORKER_BUNDLE);
  bundle(buildSync, join(ROOT, 'src', 'trace', 'writer-worker.ts'), WRITER_BUNDLE);
  bundle(buildSync, join(ROOT, 'src', 'cli', 'main.ts'), BUNDLE);
  if (bench) bundle(buildSync, join(ROOT, 'bench', 'child.ts'), BENCH_CHILD_BUNDLE);
}

function bundle(buildSync, entry, outfile) {
  const tmp = `${outfile}.${process.pid}.tmp`;
  try {
    buildSync({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile: tmp,
      logLevel: 'silent',
      legalComments: 'none',
    });
    renameSync(tmp, outfile);
  } finally {
    rmSync(tmp, { force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildCli({ bench: process.argv.includes('--bench') });
}
