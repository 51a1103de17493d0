import { join, resolve } from 'node:path';
import { openTrace, type SeqEvent } from '../../src/trace/reader.js';
import { runScenario, type RunOptions } from '../../src/sim/run.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const scenarioPath = (name: string) => join(ROOT, 'fixtures/scenarios', `${name}.json`);
export const DISK = join(ROOT, 'fixtures/disks/nvme-8m.img');

/** Runs a scenario recording into memory; returns the outcome and the decoded events. */
export function runRecorded(name: string, opts: RunOptions = {}) {
  const out = runScenario(scenarioPath(name), { ...opts, recordToBuffer: true });
  const buffer = out.trace!.buffer!;
  const events = (): SeqEvent[] => [...openTrace(buffer).events()];
  return { ...out, buffer, events };
}
