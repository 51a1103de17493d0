/**
 * The workload contract: guest programs that exercise drivers. A workload
 * type is one module exporting a `WorkloadEntry` plus one line in
 * ./registry.ts; the machine spawns it, asks it when it is done, and lets it
 * check its expectations and write its summary lines (it has no
 * per-workload branches).
 */
import type { Kernel } from '../kernel/kernel.js';
import type { PropTable, PropValues } from '../sim/props.js';
import type { Rng } from '../sim/rng.js';
import type { ScanoutLog } from '../sim/scanout.js';

/** What a workload is handed when the machine starts it. */
export interface WorkloadEnv {
  kernel: Kernel;
  /** The workload's own random stream (forked from the scenario seed as "workload"). */
  rng: Rng;
  /** The machine's devices: ids, trace device index and, for disks, the backing image file. */
  devices: readonly { id: string; index: number; imagePath: string | undefined }[];
  /**
   * The content hashes of frames display devices scanned out. A workload
   * that checks pixels sets `wanted` (display models then capture frames
   * even when nothing records).
   */
  scanout?: ScanoutLog;
}

/** The scenario's `expect` block (fields a workload does not use are ignored by it). */
export interface WorkloadExpect {
  minIos: number;
  dataErrors: number;
  ioErrors: number;
  minPings: number;
  minUdpEchoes: number;
  wifiOutcome: string;
  displayOutcome: string;
  minFlips: number;
  maxMissedVblanks: number;
  maxFlipLatencyUs: number;
}

/** One line of the run summary: a label and its text; `bad` prints the text as a failure. */
export interface SummaryLine {
  label: string;
  text: string;
  bad?: boolean;
}

/** Why a run stopped (mirrors RunResult.stoppedBy). */
export type StopReason = 'workload-done' | 'idle' | 'time-limit' | 'until';

/** A started workload. */
export interface RunningWorkload<R extends object = object> {
  readonly type: string;
  /** Its live result object (counts, steps, ...), updated as the run goes. */
  readonly result: R;
  /** True once it has finished (the run then stops). */
  done(): boolean;
  /** Block I/Os completed, for the summary and `expect.minIos` (0 for workloads without I/Os). */
  ios(): number;
  /**
   * Expectations it failed; `stoppedBy` tells whether it had the chance to
   * finish. A run stopped early (`until`) reports only what already failed
   * for good (an upper bound exceeded, a step that failed), never what needs
   * the whole run.
   */
  failures(expect: WorkloadExpect, stoppedBy: StopReason): string[];
  /**
   * For a run stopped early (`until`): the expectations that need the whole
   * run and are not met yet, in words ("minIos: at least 1000 I/Os (312 so
   * far)"); reported as not evaluated rather than passed or failed.
   */
  notEvaluated?(expect: WorkloadExpect, stoppedBy: StopReason): string[];
  /** Summary lines for `simrun run`. */
  summary(): SummaryLine[];
  /** The result as JSON for `run --json` (without bulky per-operation arrays). */
  json(): Record<string, unknown>;
  /** A short text of its progress, folded into the machine's state digest. */
  digest(): string;
}

/** Thrown by `spawn` for a parameter that validated by type but makes no sense; names the field. */
export class WorkloadConfigError extends Error {
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

export interface WorkloadEntry<T extends PropTable = PropTable, R extends object = object> {
  type: string;
  description: string;
  params: T;
  /** The `expect` fields this workload checks, with their meaning (shown by `simrun workloads`). */
  expectations: Readonly<Record<string, string>>;
  spawn(env: WorkloadEnv, params: PropValues<T>): RunningWorkload<R>;
}

/** A registry entry with its parameter types erased: the machine validates raw params against `params` first. */
export interface AnyWorkloadEntry extends Omit<WorkloadEntry, 'spawn'> {
  spawn(env: WorkloadEnv, params: Record<string, unknown>): RunningWorkload;
}

export function registerWorkload<T extends PropTable, R extends object>(w: WorkloadEntry<T, R>): AnyWorkloadEntry {
  return { ...w, spawn: (env, params) => w.spawn(env, params as PropValues<T>) };
}

/** The result of a run's workload of the given entry's type, or undefined. */
export function workloadResult<R extends object>(
  entry: { type: string; spawn(env: WorkloadEnv, params: never): RunningWorkload<R> },
  w: { type: string; result: object } | undefined,
): R | undefined {
  // Sound: a RunningWorkload's result is the type its entry's spawn declares, and types are unique in the registry.
  return w !== undefined && w.type === entry.type ? (w.result as R) : undefined;
}
