/**
 * Starting a worker thread on one of simrun's own modules, whichever way
 * simrun runs: from the bundled CLI (dist/cli/, bin/build-cli.mjs) the
 * worker's bundled twin next to the bundle; from the TypeScript sources
 * (tsx, vitest) the source itself, with tsx's loader registered inside the
 * worker first.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * A worker running `tsEntry` (a path relative to `callerUrl`, the caller's
 * import.meta.url) or, when the caller is bundled, `bundleName` next to the
 * bundle. `onLoadFailed` is the body of a function the worker runs (with
 * `workerData` in scope) if the module cannot be loaded from the sources.
 */
export function startWorker(callerUrl: string, tsEntry: string, bundleName: string, workerData?: unknown, onLoadFailed = ''): Worker {
  if (callerUrl.endsWith('.ts')) {
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
  return new Worker(new URL(`./${bundleName}`, callerUrl), { workerData });
}
