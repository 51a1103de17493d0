import { Machine, type RunResult } from '../machine.js';
import type { DeviceDecoder } from '../../trace/decoder.js';
import type { CompareResult } from '../../trace/compare/compare.js';
import { formatReport, reportJson, type ReportContext } from '../../trace/compare/report.js';
import { TraceRecorder } from '../../trace/recorder.js';
import { TraceHardware } from './hardware.js';
import { assertIntact, openReplayInputs } from './inputs.js';

export interface ReplayOptions {
  trace: string;
  /** Scenario to run the drivers of (default: the one named in the trace header). */
  scenario?: string;
  keepGoing?: boolean;
  context?: number;
  json?: boolean;
  /** Record the replay's own trace here (trace-as-hardware reproduces the recording exactly when nothing diverges). */
  record?: string;
  decoders: Map<string, DeviceDecoder>;
  out: (text: string) => void;
}

export interface ReplayOutcome {
  exitCode: 0 | 1;
  compare: CompareResult;
  result: RunResult;
  hardware: TraceHardware;
  machine: Machine;
}

/** `simrun replay <trace>`: the scenario's drivers run against the trace as hardware. */
export function runReplayHardware(o: ReplayOptions): ReplayOutcome {
  const { reader, scenario } = openReplayInputs(o.trace, o.scenario);
  const recorder = o.record === undefined ? undefined : TraceRecorder.create(o.record, { ...reader.header, createdBy: `simrun replay ${o.trace}` });
  const hw = new TraceHardware(reader, { keepGoing: o.keepGoing, context: o.context, record: recorder });
  let result: RunResult;
  let machine: Machine;
  try {
    machine = new Machine(scenario, { tracer: hw.tracer, seed: reader.header.seed, hardware: hw });
    result = machine.run();
    hw.finish();
  } finally {
    recorder?.close();
  }
  assertIntact(o.trace, reader);
  const compare: CompareResult = {
    identical: hw.count === 0, divergences: hw.divergences, count: hw.count,
    expectedEvents: hw.matched + hw.injected, actualEvents: hw.tracer.seq,
  };
  const ctx: ReportContext = {
    expectedHeader: reader.header, actualHeader: reader.header, decoders: o.decoders,
    expectedLabel: 'trace', actualLabel: 'driver',
  };
  const failures = hw.count === 0 ? result.failures : [];
  if (o.json) {
    o.out(JSON.stringify({ mode: 'hardware', trace: o.trace, scenario: scenario.name, matched: hw.matched, injected: hw.injected, failures, ...reportJson(compare, ctx) }));
  } else {
    o.out(hw.count === 0
      ? `replay (trace as hardware): ${hw.matched} driver accesses matched, ${hw.injected} device events injected, no divergence`
      : formatReport(compare, ctx));
    if (failures.length > 0) o.out(`expectations failed:\n${failures.map((f) => `  - ${f}`).join('\n')}`);
  }
  return { exitCode: hw.count === 0 && failures.length === 0 ? 0 : 1, compare, result, hardware: hw, machine };
}
