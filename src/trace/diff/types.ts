/**
 * The JSON-able result of `simrun diff` (what `--json` prints). Times are
 * integer picoseconds; sequence numbers are the traces' own.
 */
import type { DamageReport } from '../format.js';
import type { RowOp } from './align.js';
import type { TimingRow } from './timing.js';

export type { RowOp } from './align.js';
export type { TimingRow } from './timing.js';

/** One side of an aligned row. */
export interface RowSide {
  seq: number;
  time: number;
  /** The event as `simrun inspect` prints it (formatEvent). */
  text: string;
}

export interface DiffRow {
  op: RowOp;
  a?: RowSide;
  b?: RowSide;
  /** For "changed": what differs, e.g. "CREATE_IO_SQ: size 64 → 32". */
  detail?: string;
}

/** A run of non-equal rows in one stream, with context. */
export interface Divergence {
  /** 1-based, in trace order (by position in a). */
  index: number;
  /** Stream name: source and kind, with the DMA tag ("<device id> dma:<tag>"). */
  stream: string;
  source: string;
  kind: string;
  /** Where it starts: the first divergent event of each side (null if that side has none in it). */
  aSeq: number | null;
  bSeq: number | null;
  aTime: number | null;
  bTime: number | null;
  changed: number;
  inserted: number;
  removed: number;
  /** One line: what the first divergent row is about. */
  what: string;
  /** Context before, the divergent rows (at most `maxRows` of them), context after. */
  rows: DiffRow[];
  /** Divergent rows of this divergence not included in `rows`. */
  omittedRows: number;
  /** Driver log lines just before the divergence in each trace (context only). */
  logs: { a: string[]; b: string[] };
}

export interface StreamSummary {
  stream: string;
  source: string;
  kind: string;
  /** False for log lines: aligned and counted, never a divergence. */
  structural: boolean;
  /** Events of this stream in each trace. */
  a: number;
  b: number;
  same: number;
  changed: number;
  inserted: number;
  removed: number;
  /** Runs of divergent rows. */
  divergences: number;
}

export interface TraceInfo {
  path: string;
  scenario: string;
  seed: number;
  events: number;
  /** Time of the last event read (ps). */
  endTime: number;
  damage: DamageReport[];
}

export interface HeaderDifference {
  field: string;
  a: string;
  b: string;
}

/** Positions of divergences for the overview (one per divergence, at most a few thousand per stream). */
export interface DivergenceMark {
  stream: string;
  aTime: number | null;
  bTime: number | null;
  op: 'changed' | 'inserted' | 'removed' | 'mixed';
}

export interface DiffResult {
  /** 0 same structure; 1 structure differs; 2 a trace cannot be read or is damaged. */
  exitCode: 0 | 1 | 2;
  /** No structural stream has a changed, inserted or removed row. */
  identical: boolean;
  error?: string;
  a?: TraceInfo;
  b?: TraceInfo;
  /** Header fields that differ (scenario, seed, machine, fixtures, devices, tool). */
  header: HeaderDifference[];
  /** One row per stream (device or scheme, and kind), sorted by source and kind. */
  streams: StreamSummary[];
  totals: { same: number; changed: number; inserted: number; removed: number; divergences: number };
  /** The first divergences in trace order. */
  divergences: Divergence[];
  timing: TimingRow[];
  /** Positions of divergences (for the HTML overview). */
  marks: DivergenceMark[];
  /** The verdict (docs/VERDICTS.md): IDENTICAL, TIMING-ONLY or FUNCTIONAL, its headlines and differences. */
  verdict?: {
    verdict: 'IDENTICAL' | 'TIMING-ONLY' | 'FUNCTIONAL';
    fails: boolean;
    failOn: 'timing' | 'functional';
    headlines: string[];
    differences: {
      source: string; stream: string; headline: string; expected: string[]; actual: string[];
      /** A display frame stream's first differing frame. */
      frame?: { device: string; pipe: number; counter: number; status: 'differs' | 'missing' | 'extra'; alsoDiffer?: number[] };
    }[];
    differingStreams: number;
    timingBudgetPct: number | null;
    overBudget: TimingRow[];
    guestErrors: { expected: string[]; actual: string[]; added: string[] };
  };
}
