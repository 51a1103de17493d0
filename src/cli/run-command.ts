import { basename } from 'node:path';
import chalk from 'chalk';
import { runScenario } from '../machine/run.js';
import { loadScenario } from '../machine/scenario.js';
import { formatTime, parseDuration } from '../sim/time.js';
import { InputError } from '../sim/errors.js';
import { parseStopPoint, readCheckpoint } from '../machine/checkpoint.js';
import type { StopPoint } from '../machine/machine.js';
import type { RunResult } from '../machine/machine.js';
import { EXIT } from './exit.js';

export interface RunCommandArgs {
  scenario: string;
  /** undefined = no recording; '' = default path. */
  record: string | undefined;
  seed: number | undefined;
  json: boolean | undefined;
  verbose: boolean | undefined;
  until?: string | undefined;
  checkpoint?: string | undefined;
  resume?: string | undefined;
  /** --sanitize / --no-sanitize (undefined: the scenario's machine.sanitize). */
  sanitize?: boolean | undefined;
  /** --hostile-timing / --no-hostile-timing (undefined: the scenario's machine.hostileTiming). */
  hostileTiming?: boolean | undefined;
}

/** `simrun run` and `simrun --record`: run, print the summary, return the exit code. */
export function runCommand(a: RunCommandArgs): number {
  const resume = a.resume === undefined ? undefined : { checkpoint: readCheckpoint(a.resume), path: a.resume };
  const scenario = loadScenario(resume?.checkpoint.scenario.path ?? a.scenario);
  const record = a.record === undefined ? undefined : a.record === '' ? `out/${basename(scenario.path, '.json')}.simtrace` : a.record;
  let until: StopPoint | undefined;
  if (a.until !== undefined) {
    until = parseStopPoint(a.until, parseDuration);
    if (until === undefined) throw new InputError('--until', '', `"${a.until}" is not a time such as 50ms or an event number such as seq:12000`);
  }
  const checkpointPath = a.checkpoint ?? (until === undefined ? undefined
    : `${record ?? resume?.checkpoint.trace ?? `out/${basename(scenario.path, '.json')}`}.checkpoint.json`);
  // Wall clock for the summary only: display code, never simulated behaviour.
  const wallStart = performance.now();
  const out = runScenario(scenario, {
    record, seed: a.seed, until, checkpoint: checkpointPath, resume, sanitize: a.sanitize, hostileTiming: a.hostileTiming,
    onBuilt: (m) => {
      if (a.verbose) {
        m.kernel.onLog = (l) => process.stderr.write(`${chalk.dim(formatTime(l.time).padStart(14))} ${chalk.cyan(l.proc)}[${l.pid}] ${colourLevel(l.level)} ${l.text}\n`);
      }
    },
  });
  const wallMs = performance.now() - wallStart;
  const r = out.result;
  if (out.checkpoint !== undefined && checkpointPath !== undefined && !a.json) {
    process.stdout.write(`stopped at ${formatTime(out.checkpoint.reached.simTimePs)} (event ${out.checkpoint.reached.events}); checkpoint ${checkpointPath}; continue with: simrun run --resume ${checkpointPath}\n`);
  }
  if (a.json) {
    const { workload, ...rest } = r;
    const summary = {
      scenario: scenario.name, seed: out.seed, ...rest,
      workload: workload === undefined ? undefined : { type: workload.type, ...workload.json },
      trace: out.trace === undefined ? undefined : { path: out.trace.path, bytes: out.trace.bytes, records: out.trace.records },
      wallMs: Math.round(wallMs),
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
  } else {
    printSummary(scenario.name, out.seed, r, out.trace, wallMs);
  }
  return r.failures.length === 0 ? EXIT.ok : EXIT.failed;
}

function colourLevel(level: string): string {
  switch (level) {
    case 'error': return chalk.red('error');
    case 'warn': return chalk.yellow('warn ');
    case 'info': return chalk.green('info ');
    default: return chalk.dim(level.padEnd(5));
  }
}

function printSummary(name: string, seed: number, r: RunResult, trace: { path: string | null; bytes: number; records: number } | undefined, wallMs: number): void {
  const line = (k: string, v: string) => process.stdout.write(`  ${k.padEnd(16)} ${v}\n`);
  process.stdout.write(`${chalk.bold(`simrun: ${name}`)} (seed ${seed})\n`);
  line('simulated time', formatTime(r.simTimePs));
  line('events', String(r.events));
  line('interrupts', String(r.interrupts));
  for (const l of r.workload?.summary ?? []) line(l.label, l.bad === true ? chalk.red(l.text) : l.text);
  line('guest errors', r.guestErrors === 0 ? '0' : chalk.yellow(String(r.guestErrors)));
  line('crashes', r.crashes.length === 0 ? '0' : chalk.red(r.crashes.map((c) => `${c.name}: ${c.reason}`).join('; ')));
  for (const [id, st] of Object.entries(r.deviceStats)) line(id, Object.entries(st).map(([k, v]) => `${k} ${v}`).join(', '));
  if (trace !== undefined) line('trace', `${trace.path ?? '(memory)'} (${(trace.bytes / 1024).toFixed(1)} KiB, ${trace.records} events)`);
  line('stopped', `${r.stoppedBy}, ${(wallMs / 1000).toFixed(2)} s wall`);
  if (r.stall.length > 0) {
    process.stdout.write(`${chalk.yellow('stalled')}: the workload did not finish; what each device is waiting for:\n`);
    for (const s of r.stall) process.stdout.write(`  ${s.device} ${s.text}\n`);
  }
  switch (r.verdict) {
    case 'PASS':
      process.stdout.write(`${chalk.green('PASS')} all expectations held\n`);
      break;
    case 'STOPPED':
      process.stdout.write(`${chalk.yellow('STOPPED')} at ${formatTime(r.simTimePs)} before the run finished: no expectation failed so far\n`);
      break;
    case 'FAIL':
      process.stdout.write(`${chalk.red('FAIL')}\n`);
      for (const f of r.failures) process.stdout.write(`  - ${f}\n`);
      break;
  }
  if (r.notEvaluated.length > 0) {
    process.stdout.write('  not evaluated (they need the whole run):\n');
    for (const n of r.notEvaluated) process.stdout.write(`  - ${n}\n`);
  }
  if (r.driverErrors.length > 0) {
    process.stdout.write('  driver errors (first):\n');
    for (const l of r.driverErrors) process.stdout.write(`    ${formatTime(l.time).padStart(14)} ${l.proc}[${l.pid}] ${chalk.red(l.text)}\n`);
  }
  if (r.firstGuestErrors.length > 0) {
    process.stdout.write('  guest errors (first):\n');
    for (const g of r.firstGuestErrors) process.stdout.write(`    ${formatTime(g.time).padStart(14)} ${g.device} ${chalk.yellow(g.code)}: ${g.message}\n`);
  }
}
