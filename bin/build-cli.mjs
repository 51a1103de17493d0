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

/** Builds the bundle (written to a temporary file, then renamed: concurrent builds never expose half a file). */
export async function buildCli() {
  const { buildSync } = await import('esbuild');
  mkdirSync(dirname(BUNDLE), { recursive: true });
  const tmp = `${BUNDLE}.${process.pid}.tmp`;
  try {
    buildSync({
      entryPoints: [join(ROOT, 'src', 'cli', 'main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      outfile: tmp,
      logLevel: 'silent',
      legalComments: 'none',
    });
    renameSync(tmp, BUNDLE);
  } finally {
    rmSync(tmp, { force: true });
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildCli();
}
