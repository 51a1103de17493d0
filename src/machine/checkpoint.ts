import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { InputError } from '../sim/errors.js';
import type { StopPoint } from './machine.js';

/**
 * A checkpoint: where a run stopped (`simrun run --until`) and how to get
 * back there. Resuming is deterministic re-execution: the scenario is run
 * again from the start, with the same seed and the trace recording into the
 * same file, up to the stop point, where the machine's state digest must be
 * the one saved here (otherwise code or fixtures changed, and resuming would
 * not continue the same run); then it goes on. The resumed trace is
 * byte-identical to a run that never stopped.
 */
export interface Checkpoint {
  format: 'simrun-checkpoint';
  version: 1;
  scenario: { path: string; hash: string };
  seed: number;
  stop: StopPoint;
  reached: { simTimePs: number; events: number; digest: string };
  /** Trace being recorded, if any (resume records into it again). */
  trace: string | null;
}

export function writeCheckpoint(path: string, ck: Checkpoint): void {
  mkdirSync(dirname(path), { recursive: true }); // out/ may not exist yet (run --until without --record)
  writeFileSync(path, `${JSON.stringify(ck, null, 2)}\n`);
}

export function readCheckpoint(path: string): Checkpoint {
  if (!existsSync(path)) throw new InputError(path, '', 'checkpoint file not found');
  let j: unknown;
  try { j = JSON.parse(readFileSync(path, 'utf8')); } catch (e) { throw new InputError(path, '', `not valid JSON: ${(e as Error).message}`); }
  const o = j as Partial<Checkpoint>;
  if (o.format !== 'simrun-checkpoint') throw new InputError(path, 'format', 'not a simrun checkpoint');
  if (o.version !== 1) throw new InputError(path, 'version', `checkpoint version ${String(o.version)} is not supported (supports 1)`);
  if (typeof o.scenario?.path !== 'string' || typeof o.scenario.hash !== 'string') throw new InputError(path, 'scenario', 'must name the scenario path and hash');
  if (typeof o.seed !== 'number') throw new InputError(path, 'seed', 'must be a number');
  if (typeof o.stop !== 'object' || o.stop === null) throw new InputError(path, 'stop', 'must be an object');
  if (typeof o.reached?.digest !== 'string' || typeof o.reached.events !== 'number') throw new InputError(path, 'reached', 'must give the events and digest reached');
  return o as Checkpoint;
}

/** Parses `--until`: "5ms", "250us", or "seq:12345". */
export function parseStopPoint(text: string, parseDuration: (s: string) => number | undefined): StopPoint | undefined {
  const m = /^seq:(\d+)$/.exec(text.trim());
  if (m !== null) return { seq: Number(m[1]) };
  const t = parseDuration(text);
  return t === undefined ? undefined : { timePs: t };
}
