/**
 * Starting a worker thread on one of simrun's own modules, whichever way
 * simrun runs: from the bundled CLI (dist/cli/, bin/build-cli.mjs) the
 * worker's bundled twin next to the bundle; from the TypeScript sources
 * (tsx, vitest) that same bundled twin when it is newer than every source
 * it could be built from (it starts in about 50 ms; compiling the sources
 * again in the worker takes about 300), else the source itself, with tsx's
 * loader registered inside the worker first.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/** The source tree (src/) and the bundle folder (dist/cli/) of this checkout. */
const SRC = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE_DIR = join(SRC, '..', 'dist', 'cli');

/**
 * A worker running `tsEntry` (a path relative to `callerUrl`, the caller's
 * import.meta.url) or its bundled twin `bundleName`. `onLoadFailed` is the
 * body of a function the worker runs (with `workerData` in scope) if the
 * module cannot be loaded from the sources.
 */
export function startWorker(callerUrl: string, tsEntry: string, bundleName: string, workerData?: unknown, onLoadFailed = ''): Worker {
  if (!callerUrl.endsWith('.ts')) return new Worker(new URL(`./${bundleName}`, callerUrl), { workerData });
  const bundled = join(BUNDLE_DIR, bundleName);
  // Not the parent's loader flags (tsx's): the bundle is plain JavaScript. SIMRUN_NO_BUNDLE=1 (as for
  // bin/simrun.js) runs the sources.
  if (process.env.SIMRUN_NO_BUNDLE !== '1' && freshBundle(bundled)) return new Worker(bundled, { workerData, execArgv: [] });
  // tsx's ESM API (its "import" export, next to the "require" one createRequire finds).
  const cjs = createRequire(callerUrl).resolve('tsx/esm/api');
  const mjs = join(dirname(cjs), 'index.mjs');
  const tsx = pathToFileURL(existsSync(mjs) ? mjs : cjs).href;
  const entry = new URL(tsEntry, callerUrl).href;
  const code = `const { workerData } = require('node:worker_threads');
import(${JSON.stringify(tsx)}).then((m) => { (m.register ?? m.default.register)(); return import(${JSON.stringify(entry)}); })
  .catch((e) => { ${onLoadFailed}; throw e; });`;
  return new Worker(code, { eval: true, workerData });
}

/** Whether `path` exists and is newer than every file under src/ (what bin/simrun.js asks of the CLI bundle). */
function freshBundle(path: string): boolean {
  let built: number;
  try {
    built = statSync(path).mtimeMs;
  } catch {
    return false;
  }
  return newestBelow(SRC) <= built;
}

function newestBelow(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    const t = e.isDirectory() ? newestBelow(p) : statSync(p).mtimeMs;
    if (t > newest) newest = t;
  }
  return newest;
}
