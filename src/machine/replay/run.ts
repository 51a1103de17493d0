import { closeSync, fstatSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine, type RunResult } from '../machine.js';
import type { DeviceDecoder } from '../../trace/decoder.js';
import type { CompareResult } from '../../trace/compare/compare.js';
import { divergenceDifference, formatReport, reportJson, type ReportContext } from '../../trace/compare/report.js';
import { TraceRecorder } from '../../trace/recorder.js';
import { mergeIgnore, type IgnoreRules } from '../../trace/verdict/collect.js';
import { judgeTraces, verdictFails, withEventDivergences, type FailOn, type VerdictReport } from '../../trace/verdict/judge.js';
import { formatVerdict, verdictJson } from '../../trace/verdict/report.js';
import type { TraceHeader } from '../../trace/format.js';
import type { TraceReader } from '../../trace/reader.js';
import type { Scenario } from '../scenario.js';
import { TraceHardware } from './hardware.js';
import { assertIntact, openReplayInputs } from './inputs.js';
import { importedTraceNote } from '../import-mmiotrace.js';

export interface ReplayOptions {
  trace: string;
  /** Scenario to run the drivers of (default: the one named in the trace header). */
  scenario?: string;
  keepGoing?: boolean;
  context?: number;
  json?: boolean;
  /** Record the replay's own trace here (trace-as-hardware reproduces the recording exactly when nothing diverges); without it, a temporary file judged and removed. */
  record?: string;
  /** What fails the replay: a functional change only (default: the scenario's `compare.failOn`), or any timing change too. */
  failOn?: FailOn;
  /** Per-phase latency budget in percent (overrides the scenario's `compare.timingBudgetPct`). */
  timingBudgetPct?: number;
  /** Left out of the verdict, on top of the scenario's `compare.ignore`. */
  ignore?: IgnoreRules;
  decoders: Map<string, DeviceDecoder>;
  out: (text: string) => void;
}

export interface ReplayOutcome {
  exitCode: 0 | 1;
  compare: CompareResult;
  /** IDENTICAL, TIMING-ONLY or FUNCTIONAL: the replay's own trace judged against the input trace. */
  verdict: VerdictReport;
  result: RunResult;
  hardware: TraceHardware;
  machine: Machine;
}

/**
 * `simrun replay <trace>`: the scenario's drivers run against the trace as
 * hardware. The replay's own events are recorded (to `record`, or a
 * temporary file) and judged against the input trace like `check` judges a
 * re-simulation: IDENTICAL, TIMING-ONLY (the driver did the same things at
 * other times, or polled a register a different number of times) or
 * FUNCTIONAL (a divergence: the driver made another access than the
 * recorded one, or other facts differ).
 */
export function runReplayHardware(o: ReplayOptions): ReplayOutcome {
  const { reader, scenario } = openReplayInputs(o.trace, o.scenario);
  if (o.record === undefined) {
    const checked = replayChecked(o, reader, scenario);
    if (checked !== undefined) return checked;
  }
  const tmp = o.record === undefined ? mkdtempSync(join(tmpdir(), 'simrun-replay-')) : undefined;
  const recordPath = o.record ?? join(tmp!, 'replay.simtrace');
  try {
    // Into a temporary file the replay records under the input's own header: a replay that
    // reproduces the recording then writes the very same bytes, and needs no judging.
    const recorder = TraceRecorder.create(recordPath, o.record === undefined ? reader.header : { ...reader.header, createdBy: `simrun replay ${o.trace}` });
    const hw = new TraceHardware(reader, { keepGoing: o.keepGoing, context: o.context, record: recorder, isVolatile: volatileRegisters(reader.header, o.decoders) });
    let run: MachineRun;
    try {
      run = runOnHardware(scenario, reader, hw);
    } finally {
      hw.close();
      recorder.close();
    }
    const { machine, result } = run;
    assertIntact(o.trace, reader);
    const ctx = reportContext(reader, o);
    const cmp = scenario.compare;
    const budget = o.timingBudgetPct ?? cmp.timingBudgetPct;
    const judged = hw.count === 0 && o.record === undefined && sameFileBytes(o.trace, recordPath)
      ? identicalReport(hw.matched + hw.injected, budget)
      : judgeTraces(o.trace, recordPath, o.decoders, { timingBudgetPct: budget, ignore: mergeIgnore(cmp.ignore, o.ignore) });
    // A divergence is functional even where the facts agree (the replay stopped at it, or it is in a register left out of them).
    const verdict = withEventDivergences(judged, hw.divergences.map((d) => divergenceDifference(d, ctx)), hw.count,
      hw.stopped && judged.verdict === 'FUNCTIONAL' ? '(the replay stops at the first divergence, --keep-going goes on: what it never got to counts as missing below)' : undefined);
    return report(o, reader, scenario, hw, machine, result, verdict);
  } finally {
    if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * A replay that is not recorded runs first with its events checked against
 * the recording as they come (TraceHardware `checkStream`): one that makes
 * the very events of the recording would have recorded the same bytes, so it
 * is IDENTICAL with nothing written or judged. Undefined when the run
 * differed (it stopped there): the caller replays again, recorded and judged.
 */
function replayChecked(o: ReplayOptions, reader: TraceReader, scenario: Scenario): ReplayOutcome | undefined {
  const hw = new TraceHardware(reader, { keepGoing: o.keepGoing, context: o.context, checkStream: true, isVolatile: volatileRegisters(reader.header, o.decoders) });
  let run: MachineRun;
  let identical: boolean;
  try {
    run = runOnHardware(scenario, reader, hw);
    // Before the trace's cursor closes: a closed cursor has no next record, which would read as complete.
    identical = hw.checkedIdentical && reader.damage.length === 0;
  } finally {
    hw.close();
  }
  if (!identical) return undefined;
  const { machine, result } = run;
  const verdict = identicalReport(hw.matched + hw.injected, o.timingBudgetPct ?? scenario.compare.timingBudgetPct);
  return report(o, reader, scenario, hw, machine, result, verdict);
}

interface MachineRun { machine: Machine; result: RunResult }

/** Builds the scenario's machine on the trace hardware, runs it and lets the hardware finish (the caller closes it). */
function runOnHardware(scenario: Scenario, reader: TraceReader, hw: TraceHardware): MachineRun {
  const machine = new Machine(scenario, { tracer: hw.tracer, seed: reader.header.seed, hardware: hw });
  const result = machine.run();
  hw.finish();
  return { machine, result };
}

function reportContext(reader: TraceReader, o: ReplayOptions): ReportContext {
  return {
    expectedHeader: reader.header, actualHeader: reader.header, decoders: o.decoders,
    expectedLabel: 'trace', actualLabel: 'driver',
  };
}

/** Writes what the replay found (text or JSON) and returns its outcome. */
function report(o: ReplayOptions, reader: TraceReader, scenario: Scenario, hw: TraceHardware, machine: Machine, result: RunResult, verdict: VerdictReport): ReplayOutcome {
  const ctx = reportContext(reader, o);
  const failOn: FailOn = o.failOn ?? scenario.compare.failOn;
  const compare: CompareResult = {
    identical: hw.count === 0, ...hw.groups.result(),
    expectedEvents: hw.matched + hw.injected, actualEvents: hw.tracer.seq,
  };
  const failures = hw.count === 0 ? result.failures : [];
  const tolerated = { ...hw.tolerated };
  if (o.json) {
    o.out(JSON.stringify({
      mode: 'hardware', trace: o.trace, scenario: scenario.name, matched: hw.matched, injected: hw.injected, tolerated, failures,
      ...(o.record !== undefined ? { record: o.record } : {}), ...verdictJson(verdict, failOn), ...reportJson(compare, ctx),
    }));
  } else {
    o.out(formatVerdict(verdict, failOn).join('\n'));
    const t = tolerated;
    const n = (k: number, one: string, many = `${one}s`): string => `${k} ${k === 1 ? one : many}`;
    const timing = [
      t.extraPolls > 0 ? `${n(t.extraPolls, 'extra poll')} answered with the last recorded value` : '',
      t.skippedPolls > 0 ? `${n(t.skippedPolls, 'recorded poll')} skipped` : '',
      t.reorderedWrites > 0 ? `${n(t.reorderedWrites, 'doorbell write')} in another order` : '',
      t.skippedWrites + t.extraWrites > 0 ? `${n(t.skippedWrites, 'recorded doorbell write')} merged, ${n(t.extraWrites, 'extra doorbell write')}` : '',
    ].filter((x) => x !== '');
    const pollText = timing.length === 0 ? '' : `; timing: ${timing.join(', ')}`;
    o.out(hw.count === 0
      ? `replay (trace as hardware): ${hw.matched} driver accesses matched, ${hw.injected} device events injected, no divergence${pollText}`
      : `\nwhere the driver and the trace part (event by event):\n${formatReport(compare, ctx)}`);
    if (failures.length > 0) o.out(`expectations failed:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    const imported = importedTraceNote(reader.header, hw.matched, hw.count);
    if (imported !== undefined) o.out(imported);
  }
  const exitCode = verdictFails(verdict, failOn) || failures.length > 0 ? 1 : 0;
  return { exitCode, compare, verdict, result, hardware: hw, machine };
}

/** True if the two files hold the same bytes (compared in blocks: traces can be large). */
function sameFileBytes(a: string, b: string): boolean {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    if (fstatSync(fa).size !== fstatSync(fb).size) return false;
    const ba = Buffer.alloc(1 << 20);
    const bb = Buffer.alloc(1 << 20);
    for (;;) {
      const na = readSync(fa, ba, 0, ba.length, null);
      const nb = readSync(fb, bb, 0, bb.length, null);
      if (na !== nb || ba.compare(bb, 0, nb, 0, na) !== 0) return false;
      if (na === 0) return true;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/** The verdict of a replay that wrote the recording's bytes again: nothing to judge. */
function identicalReport(events: number, timingBudgetPct: number | undefined): VerdictReport {
  return {
    verdict: 'IDENTICAL', differences: [], differingStreams: 0, headlines: [], timing: [], overBudget: [],
    timingBudgetPct, expectedEvents: events, actualEvents: events, guestErrors: { expected: [], actual: [], added: [] },
  };
}

/** The decoders' volatile registers (doorbells, interrupt status and masks), by device, BAR, offset and width. */
function volatileRegisters(header: TraceHeader, decoders: Map<string, DeviceDecoder>): (dev: number, bar: number, offset: number, size: number) => boolean {
  const cache = new Map<string, boolean>();
  return (dev, bar, offset, size) => {
    const k = `${dev}:${bar}:${offset}:${size}`;
    let v = cache.get(k);
    if (v === undefined) {
      const info = header.devices.find((d) => d.index === dev);
      const dec = info === undefined ? undefined : decoders.get(info.type);
      const name = dec?.regName(bar, offset, size);
      v = name !== undefined && dec?.isVolatileRegister?.(name) === true;
      cache.set(k, v);
    }
    return v;
  };
}
