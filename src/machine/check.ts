import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../sim/errors.js';
import { runScenario } from './run.js';
import { loadScenario } from './scenario.js';
import type { DeviceDecoder } from '../trace/decoder.js';
import { compareStreams, type CompareResult } from '../trace/compare/compare.js';
import { formatReport, reportJson, type ReportContext } from '../trace/compare/report.js';
import { openTrace } from '../trace/reader.js';

export interface CheckOptions {
  scenario: string;
  golden: string;
  update?: boolean;
  keepGoing?: boolean;
  context?: number;
  json?: boolean;
  decoders: Map<string, DeviceDecoder>;
  out: (text: string) => void;
}

export interface CheckOutcome {
  exitCode: 0 | 1;
  result: CompareResult | undefined;
  /** Expectation failures of the re-simulation. */
  failures: string[];
}

/**
 * `simrun check`: re-simulates the scenario (recording to a temporary file)
 * and compares the new trace with the golden one event by event, streaming.
 * `update` rewrites the golden trace on purpose and says what changed.
 */
export function runCheck(o: CheckOptions): CheckOutcome {
  const scenario = loadScenario(o.scenario);
  const haveGolden = existsSync(o.golden);
  if (!haveGolden && !o.update) {
    throw new InputError(o.golden, '', `no golden trace for scenario "${scenario.name}"; record one with: simrun check ${o.scenario} --update`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'simrun-check-'));
  const actualPath = join(dir, 'actual.simtrace');
  try {
    const run = runScenario(scenario, { record: actualPath });
    const actual = openTrace(actualPath);
    let result: CompareResult | undefined;
    if (haveGolden) {
      const golden = openTrace(o.golden);
      if (golden.header.scenario.hash !== scenario.hash && !o.json) {
        o.out(`note: the scenario file changed since the golden trace was recorded (${golden.header.scenario.hash.slice(0, 12)} -> ${scenario.hash.slice(0, 12)})`);
      }
      result = compareStreams(golden.events(), actual.events(), { keepGoing: o.keepGoing, context: o.context });
      const ctx: ReportContext = {
        expectedHeader: golden.header, actualHeader: actual.header, decoders: o.decoders,
        expectedLabel: 'golden', actualLabel: 're-simulated',
      };
      if (o.json) o.out(JSON.stringify({ scenario: scenario.name, golden: o.golden, failures: run.result.failures, ...reportJson(result, ctx) }));
      else o.out(formatReport(result, ctx));
    }
    if (o.update) {
      copyFileSync(actualPath, o.golden);
      if (!o.json) {
        o.out(haveGolden
          ? (result?.identical ? `golden trace ${o.golden} unchanged` : `golden trace ${o.golden} rewritten (${result?.count ?? 0} divergences from the old one, shown above)`)
          : `golden trace ${o.golden} created (${run.trace?.records ?? 0} events)`);
      }
      return { exitCode: 0, result, failures: run.result.failures };
    }
    if (!o.json && run.result.failures.length > 0) {
      o.out(`expectations failed:\n${run.result.failures.map((f) => `  - ${f}`).join('\n')}`);
    }
    const ok = result !== undefined && result.identical && run.result.failures.length === 0;
    return { exitCode: ok ? 0 : 1, result, failures: run.result.failures };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
