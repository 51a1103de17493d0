import { existsSync } from 'node:fs';
import { InputError } from '../../sim/errors.js';
import { loadScenario, type Scenario } from '../scenario.js';
import { openTrace, type TraceReader } from '../../trace/reader.js';
import { checkTraceMatchesScenario } from './hardware.js';
import { registerScenarioImages } from '../machine.js';

/** Throws bad input if reading the trace found damage: replay needs an intact trace. */
export function assertIntact(path: string, reader: TraceReader): void {
  const d = reader.damage[0];
  if (d !== undefined) throw new InputError(path, `byte ${d.offset}`, `the trace is damaged (${d.reason}); replay needs an intact trace`);
}

/**
 * What both replay modes start from: an intact trace and the scenario it was
 * recorded from (given, or named in the header), checked to match.
 */
export function openReplayInputs(trace: string, scenarioOverride: string | undefined): { reader: TraceReader; scenario: Scenario } {
  if (!existsSync(trace)) throw new InputError(trace, '', 'trace file not found');
  const reader = openTrace(trace);
  assertIntact(trace, reader);
  const scenarioPath = scenarioOverride ?? reader.header.scenario.path;
  if (!existsSync(scenarioPath)) {
    throw new InputError(trace, 'header.scenario.path', `the scenario it was recorded from (${scenarioPath}) is not there; pass it with --scenario`);
  }
  const scenario = loadScenario(scenarioPath);
  registerScenarioImages(scenario); // the disk images a format-6 trace references
  checkTraceMatchesScenario(reader.header, scenario, trace);
  return { reader, scenario };
}
