/**
 * Bench child process: one job per process, so peak RSS is that job's alone.
 * The bench runs it bundled (dist/cli/bench-child.mjs, built at its start by
 * bin/build-cli.mjs --bench), as the installed CLI runs its code; `tsx
 * bench/child.ts <job>` runs the same jobs from the sources.
 *   tsx bench/child.ts record <scenario.json> <trace>  -> records the scenario
 *   tsx bench/child.ts replay <trace> [scenario.json]  -> trace-as-hardware replay
 *   tsx bench/child.ts decode <trace>                  -> every record of the trace decoded (typed-array chunks)
 *   tsx bench/child.ts make-diff <events> <dir>        -> two synthetic traces to diff
 *   tsx bench/child.ts diff <a> <b>                    -> diff them (nothing else in the process)
 *   tsx bench/child.ts reads <driver> <ops>            -> 4 KiB NVMe reads through one driver, recording on,
 *                                                         after an unmeasured warm-up run (its JIT state alone)
 *   tsx bench/child.ts engine <events>                 -> no-op events through the event queue (bench pattern)
 *   tsx bench/child.ts engine-sim <events>             -> the same on the simulator-like pattern
 *   tsx bench/child.ts mmio <reads>                    -> uncached MMIO reads through the whole access path
 *                                                         (these three: no warm-up run, which would only give the
 *                                                         handler call sites a second closure; the run is long
 *                                                         enough to reach optimised code; seconds are the run's own)
 * Prints one JSON line: { events, seconds, cpuSeconds, maxRssMiB } (wall and CPU seconds of the job, all threads;
 * the child's own peak RSS, support/peak-rss.ts).
 */
import { runScenario } from '../src/machine/run.js';
import { runReplayHardware } from '../src/machine/replay/run.js';
import { deviceDecoders } from '../src/devices/decoders.js';
import { openTrace } from '../src/trace/reader.js';
import { benchDiffFiles, makeDiffBenchTraces } from './support/diff-workload.js';
import { peakRssMiB } from './support/peak-rss.js';
import { benchEngine, benchEngineSim, benchMmio, benchNvme, cpuSecondsSince } from './run.js';

function report(events: number, seconds: number, cpuSeconds: number): void {
  process.stdout.write(`${JSON.stringify({ events, seconds, cpuSeconds, maxRssMiB: peakRssMiB() })}\n`);
}

function main(): void {
  const [job, a, b] = process.argv.slice(2);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let events = 0;
  if (job === 'record' && a !== undefined && b !== undefined) {
    events = runScenario(a, { record: b }).trace?.records ?? 0;
  } else if (job === 'replay' && a !== undefined) {
    const r = runReplayHardware({ trace: a, ...(b !== undefined ? { scenario: b } : {}), decoders: deviceDecoders(), out: () => {} });
    if (r.exitCode !== 0) throw new Error(`replay diverged: ${r.compare.divergences[0]?.kind ?? r.result.failures.join('; ')}`);
    events = r.hardware.matched + r.hardware.injected;
  } else if (job === 'decode' && a !== undefined) {
    const t = openTrace(a);
    let last = -1;
    for (const c of t.chunks()) {
      events += c.block.n;
      last = c.block.time[c.block.n - 1] ?? last;
    }
    if (t.damage.length > 0 || events !== t.footer?.totalRecords || last !== t.footer.endTime) {
      throw new Error(`decode: ${a}: ${events} of ${t.footer?.totalRecords} records, ${t.damage[0]?.reason ?? 'no damage'}`);
    }
  } else if (job === 'make-diff' && a !== undefined && b !== undefined) {
    makeDiffBenchTraces(Number(a), b);
    events = Number(a);
  } else if (job === 'diff' && a !== undefined && b !== undefined) {
    const r = benchDiffFiles(() => performance.now(), a, b);
    events = r.eventsA + r.eventsB;
  } else if (job === 'reads' && (a === 'nvme' || a === 'nvme-c') && b !== undefined) {
    benchNvme(Number(b), true, a);
    const r = benchNvme(Number(b), true, a);
    report(Number(b), Number(b) / r.readsPerS, Number(b) / r.readsPerCpuS);
    return;
  } else if ((job === 'engine' || job === 'engine-sim' || job === 'mmio') && a !== undefined) {
    const n = Number(a);
    const measure = job === 'engine' ? benchEngine : job === 'engine-sim' ? benchEngineSim : benchMmio;
    const c1 = process.cpuUsage();
    const perS = measure(n);
    report(n, n / perS, cpuSecondsSince(c1));
    return;
  } else {
    throw new Error('usage: child.ts record <scenario> <trace> | replay <trace> | decode <trace> | make-diff <events> <dir> | diff <a> <b> | reads nvme|nvme-c <ops> | engine|engine-sim|mmio <n>');
  }
  report(events, (performance.now() - t0) / 1000, cpuSecondsSince(c0));
}

main();
