/**
 * Worker thread of `simrun check --all --jobs N`: checks the scenarios the
 * main thread posts, one at a time, and posts each ScenarioReport back.
 */
import { parentPort } from 'node:worker_threads';
import { checkOne, type ScenarioTask } from './check-all.js';

const port = parentPort;
if (port === null) throw new Error('src/machine/ci/worker.ts runs as a worker thread of check --all --jobs');
port.on('message', (m: { id: number; task: ScenarioTask }) => {
  port.postMessage({ id: m.id, report: checkOne(m.task) });
});
