#!/usr/bin/env node
// Entry point for the installed `simrun` command. Runs the bundled CLI
// (dist/cli/simrun.mjs, built at install by ./build-cli.mjs) when it is
// newer than every file under src/, rebuilding it first when it is not; falls
// back to running the TypeScript through tsx when no bundle can be built.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { BUNDLE, ROOT, WORKER_BUNDLE, WRITER_BUNDLE, buildCli } from './build-cli.mjs';

/** Newest modification time (ms) of the sources the bundle is built from. */
function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const t = e.isDirectory() ? newestSource(p) : statSync(p).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}

async function freshBundle() {
  if (process.env.SIMRUN_NO_BUNDLE === '1') return false;
  try {
    if (existsSync(BUNDLE) && existsSync(WORKER_BUNDLE) && existsSync(WRITER_BUNDLE) && statSync(BUNDLE).mtimeMs >= newestSource(join(ROOT, 'src'))) return true;
    await buildCli();
    return true;
  } catch {
    return false; // no esbuild, read-only checkout, ...: run the sources instead
  }
}

if (await freshBundle()) {
  await import(pathToFileURL(BUNDLE).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
