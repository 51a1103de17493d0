import { basename, resolve, dirname, join, relative, isAbsolute } from 'node:path';
import { setImageRoots } from '../trace/images.js';
import { checkCommand, mergeCommand } from './check-command.js';
import { runDiff } from '../trace/diff/index.js';
import { runBisect } from '../machine/bisect/bisect.js';
import { runReplayHardware } from '../machine/replay/run.js';
import { runReplayDevices } from '../machine/replay/devices.js';
import { deviceDecoders } from '../devices/decoders.js';
import { fileURLToPath } from 'node:url';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { runCommand } from './run-command.js';
import { inspectCommand } from './inspect-command.js';
import { devicesCommand } from './devices-command.js';
import { exportCommand } from './export-command.js';
import { serveCommand } from './serve-command.js';
import { ECAM_BASE } from '../machine/machine.js';
import { importCommand } from './import-command.js';
import { handleError, EXIT, UsageError } from './exit.js';
import { parseFailOn, parseIgnore, parseTimingBudget } from './compare-options.js';
import { closestCommand, intOption, MAX_COUNT } from './options.js';
import { checkReadableFile, checkWritablePath } from './paths.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_SCENARIO = join(ROOT, 'fixtures/scenarios/nvme-msix.json');

/** Command names, for the suggestion on a mistyped one. */
const COMMANDS = ['run', 'inspect', 'diff', 'check', 'merge-reports', 'replay', 'bisect', 'export', 'import', 'serve', 'devices', 'workloads'] as const;

/** A scenario seed, as the scenario file's `seed` allows. */
const seedOption = (v: unknown): number | undefined => intOption('seed', v, 0, 0xffffffff);
/** Events of context around a divergence. */
const contextOption = (v: unknown, def?: number): number | undefined => intOption('context', v, 0, 100_000) ?? def;

async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const parser = yargs(argv)
    .scriptName('simrun')
    .usage('$0 [--record [file]]  runs the default scenario (NVMe, MSI-X, 1000+ verified I/Os)')
    .command('$0', 'run the default scenario', (y) => y
      .option('record', { type: 'string', describe: 'record a trace (default path: out/<scenario>.simtrace)' })
      .option('seed', { type: 'string', describe: 'override the scenario seed (an integer from 0 to 4294967295)' })
      .option('json', { type: 'boolean', describe: 'print the summary as JSON' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'print driver log lines as they happen' }),
    (a) => {
      const word = a._[0];
      if (word !== undefined) {
        const near = closestCommand(String(word), COMMANDS);
        throw new UsageError(`unknown command "${String(word).slice(0, 60)}"${near === undefined ? '' : `; did you mean "${near}"?`} (commands: ${COMMANDS.join(', ')})`);
      }
      if (a.record !== undefined) checkWritablePath(a.record, '--record');
      code = runCommand({ scenario: DEFAULT_SCENARIO, record: a.record, seed: seedOption(a.seed), json: a.json, verbose: a.verbose });
    })
    .command('run [scenario]', 'run a scenario file', (y) => y
      .positional('scenario', { type: 'string', describe: 'path, or a name in fixtures/scenarios/' })
      .option('record', { type: 'string', describe: 'record a trace to this file (no value: out/<scenario>.simtrace)' })
      .option('seed', { type: 'string', describe: 'override the scenario seed (an integer from 0 to 4294967295)' })
      .option('until', { type: 'string', describe: 'stop at a simulated time (50ms) or event (seq:12000) and write a checkpoint' })
      .option('checkpoint', { type: 'string', describe: 'checkpoint file for --until (default: <trace>.checkpoint.json)' })
      .option('resume', { type: 'string', describe: 'continue a run from a checkpoint (same trace, byte-identical to an unbroken run)' })
      .option('json', { type: 'boolean', describe: 'print the summary as JSON' })
      .option('sanitize', { type: 'boolean', describe: 'boundary sanitizers: guest errors for driver races such as an SQ doorbell rung before the command is written (--no-sanitize: off; default: the scenario\'s machine.sanitize)' })
      .option('hostile-timing', { type: 'boolean', describe: 'vary device latencies within their specs, seeded by the scenario seed, to expose races (default: the scenario\'s machine.hostileTiming)' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'print driver log lines as they happen' }),
    (a) => {
      if (a.scenario === undefined && a.resume === undefined) throw new UsageError('run needs a scenario (or --resume <checkpoint>)');
      if (a.record !== undefined) checkWritablePath(a.record, '--record');
      if (a.resume !== undefined) checkReadableFile(a.resume, 'checkpoint');
      code = runCommand({
        scenario: a.scenario === undefined ? '' : resolveScenario(a.scenario), record: a.record, seed: seedOption(a.seed), json: a.json,
        verbose: a.verbose, until: a.until, checkpoint: a.checkpoint, resume: a.resume, sanitize: a.sanitize, hostileTiming: a.hostileTiming,
      });
    })
    .command('inspect <trace>', 'print the decoded events of a trace', (y) => y
      .positional('trace', { type: 'string', demandOption: true })
      .option('device', { type: 'string', describe: 'only events of this device id or type' })
      .option('kind', { type: 'string', describe: 'only this kind: mmio, pio, cfg, dma, intx, msi, scheme, milestone, log, guestErr, proc, air' })
      .option('from', { type: 'string', describe: 'from this simulated time (e.g. 1ms)' })
      .option('to', { type: 'string', describe: 'up to this simulated time' })
      .option('from-seq', { type: 'string', describe: 'from this sequence number' })
      .option('to-seq', { type: 'string', describe: 'up to this sequence number' })
      .option('limit', { type: 'string', describe: 'print at most this many events' })
      .option('json', { type: 'boolean', describe: 'one JSON object per line' }),
    (a) => {
      code = inspectCommand({
        trace: a.trace, device: a.device, kind: a.kind, from: a.from, to: a.to, json: a.json,
        fromSeq: intOption('from-seq', a.fromSeq, 0, MAX_COUNT), toSeq: intOption('to-seq', a.toSeq, 0, MAX_COUNT),
        limit: intOption('limit', a.limit, 0, MAX_COUNT),
      });
    })
    .command('diff <a> <b>', 'align two traces causally and report what changed, per device and kind, and the timing of each phase', (y) => y
      .positional('a', { type: 'string', demandOption: true })
      .positional('b', { type: 'string', demandOption: true })
      .option('device', { type: 'string', describe: 'only this device id or type' })
      .option('kind', { type: 'string', describe: 'only this kind (as in inspect)' })
      .option('context', { type: 'string', describe: 'events of context around each divergence (default 3)' })
      .option('max-divergences', { type: 'string', describe: 'divergences shown in full (default 10)' })
      .option('json', { type: 'boolean', describe: 'one JSON object' })
      .option('html', { type: 'string', describe: 'also write a self-contained HTML report to this file' })
      .option('fail-on', { type: 'string', describe: 'exit 1 on: functional (default: a timing-only difference exits 0) or timing (any difference)' })
      .option('timing-budget', { type: 'string', describe: 'per-phase latency budget, e.g. 10%: phases that moved more fail' })
      .option('ignore', { type: 'string', array: true, describe: 'leave out of the verdict: kind:<kind>, milestone:<name>, field:<fact field> (repeatable)' }),
    (a) => {
      const context = contextOption(a.context);
      const failOn = parseFailOn(a.failOn);
      const timingBudgetPct = parseTimingBudget(a.timingBudget);
      const ignore = parseIgnore(a.ignore);
      const maxDivergences = intOption('max-divergences', a.maxDivergences, 0, MAX_COUNT);
      for (const p of [a.a, a.b]) checkReadableFile(p, 'trace');
      if (a.html !== undefined) checkWritablePath(a.html, '--html');
      code = runDiff({
        a: a.a, b: a.b, decoders: deviceDecoders(), device: a.device, kind: a.kind, context,
        maxDivergences, json: a.json, html: a.html, color: process.stdout.isTTY === true,
        ...(failOn !== undefined ? { failOn } : {}), ...(timingBudgetPct !== undefined ? { timingBudgetPct } : {}), ...(ignore !== undefined ? { ignore } : {}),
        out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`),
      }).exitCode;
    })
    .command('check [scenario]', 're-simulate a scenario (or --all) and compare with its golden trace in traces/', (y) => y
      .positional('scenario', { type: 'string', describe: 'path, or a name in fixtures/scenarios/' })
      .option('golden', { type: 'string', describe: 'golden trace (default: traces/<scenario>.simtrace)' })
      .option('update', { type: 'boolean', describe: 'rewrite the golden trace on purpose and print what changed' })
      .option('keep-going', { type: 'boolean', describe: 'collect every divergence instead of stopping at the first' })
      .option('context', { type: 'string', describe: 'events of context on each side (default 20)' })
      .option('json', { type: 'boolean', describe: 'machine-readable report (with --all: one object for the whole run)' })
      .option('fail-on', { type: 'string', describe: 'what fails the check: functional (default: a timing-only change passes) or timing (any change)' })
      .option('timing-budget', { type: 'string', describe: 'per-phase latency budget, e.g. 10%: a timing-only change beyond it fails' })
      .option('ignore', { type: 'string', array: true, describe: 'leave out of the verdict: kind:<kind>, milestone:<name>, field:<fact field> (repeatable)' })
      .option('sanitize', { type: 'boolean', describe: 'boundary sanitizers during the re-simulation (default on; --no-sanitize: off, as golden traces are recorded)' })
      // The CI kit (docs/CI.md).
      .option('all', { type: 'boolean', describe: 'check every scenario in fixtures/scenarios/ that has a golden trace' })
      .option('golden-dir', { type: 'string', describe: 'folder of golden traces <scenario>.simtrace (default: traces/)' })
      .option('jobs', { alias: 'j', type: 'string', describe: 'with --all: scenarios checked at once, on worker threads (same results as 1)' })
      .option('shard', { type: 'string', describe: 'with --all: check only shard i/n of the scenarios sorted by name (CI matrices)' })
      .option('junit', { type: 'string', describe: 'also write a JUnit XML report to this file' })
      .option('annotations', { type: 'boolean', describe: 'print GitHub Actions ::error/::warning commands for failing or timing-only scenarios' })
      .option('save-actual', { type: 'string', describe: 'folder: keep the re-simulated trace of a scenario that is not identical (<scenario>.simtrace)' })
      .option('html', { type: 'string', describe: 'HTML diff report of golden vs re-simulated when not identical (a file; with --all a folder)' }),
    async (a) => {
      const scenario = a.scenario === undefined ? undefined : resolveScenario(a.scenario);
      if (a.golden !== undefined) checkWritablePath(a.golden, '--golden');
      code = await checkCommand({
        scenario, all: a.all, golden: a.golden, goldenDir: a.goldenDir ?? shortPath(join(ROOT, 'traces')), scenarioDir: shortPath(join(ROOT, 'fixtures/scenarios')),
        update: a.update, keepGoing: a.keepGoing, context: contextOption(a.context, 20), json: a.json,
        failOn: a.failOn, timingBudget: a.timingBudget, ignore: a.ignore, sanitize: a.sanitize, jobs: a.jobs, shard: a.shard, junit: a.junit, annotations: a.annotations,
        saveActual: a.saveActual, html: a.html, out: (t) => process.stdout.write(`${t}\n`),
      });
    })
    .command('merge-reports <files..>', 'join the JSON or JUnit reports of check --all shards into one report', (y) => y
      .positional('files', { type: 'string', array: true, demandOption: true, describe: 'reports from check --all --json or --junit' })
      .option('junit', { type: 'string', describe: 'write the joined report as JUnit XML to this file' })
      .option('json', { type: 'boolean', describe: 'print the joined report as one JSON object' })
      .option('annotations', { type: 'boolean', describe: 'print GitHub Actions ::error/::warning commands' }),
    (a) => {
      code = mergeCommand({ files: a.files, junit: a.junit, json: a.json, annotations: a.annotations, out: (t) => process.stdout.write(`${t}\n`) });
    })
    .command('replay <trace>', 'replay a trace: the drivers run against the trace as hardware (or, with --devices, the trace drives the device models)', (y) => y
      .positional('trace', { type: 'string', demandOption: true })
      .option('scenario', { type: 'string', describe: 'scenario whose drivers run (default: the one in the trace header)' })
      .option('devices', { type: 'boolean', describe: 'trace as driver: the recorded driver side drives the current device models' })
      .option('record', { type: 'string', describe: 'record the replay itself to this file (trace-as-hardware)' })
      .option('keep-going', { type: 'boolean', describe: 'collect every divergence instead of stopping at the first' })
      .option('context', { type: 'string', describe: 'events of context on each side (default 20)' })
      .option('json', { type: 'boolean', describe: 'machine-readable report' })
      .option('fail-on', { type: 'string', describe: 'what fails the replay: functional (default: a timing-only difference passes) or timing (any difference)' })
      .option('timing-budget', { type: 'string', describe: 'per-phase latency budget, e.g. 10%: a timing-only difference beyond it fails' })
      .option('ignore', { type: 'string', array: true, describe: 'leave out of the verdict: kind:<kind>, milestone:<name>, field:<fact field> (repeatable)' }),
    (a) => {
      const context = contextOption(a.context, 20);
      const failOn = parseFailOn(a.failOn);
      const timingBudgetPct = parseTimingBudget(a.timingBudget);
      const ignore = parseIgnore(a.ignore);
      checkReadableFile(a.trace, 'trace');
      if (a.record !== undefined) checkWritablePath(a.record, '--record');
      if (a.devices && a.record !== undefined) throw new UsageError('--record is for trace-as-hardware replay; --devices records nothing');
      const common = {
        trace: a.trace, scenario: a.scenario === undefined ? undefined : resolveScenario(a.scenario),
        keepGoing: a.keepGoing, context, json: a.json, decoders: deviceDecoders(), record: a.record,
        ...(failOn !== undefined ? { failOn } : {}), ...(timingBudgetPct !== undefined ? { timingBudgetPct } : {}), ...(ignore !== undefined ? { ignore } : {}),
        out: (t: string) => process.stdout.write(`${t}\n`),
      };
      code = a.devices ? runReplayDevices(common).exitCode : runReplayHardware(common).exitCode;
    })
    .command('bisect', 'find the first bad commit (--git good..bad) or variant (--variants file) and its first divergence', (y) => y
      .option('git', { type: 'string', describe: 'commit range good..bad (each commit runs in a temporary worktree)' })
      .option('variants', { type: 'string', describe: 'JSON file: a base scenario and an ordered list of variants' })
      .option('scenario', { type: 'string', describe: 'scenario to run (git mode; default fixtures/scenarios/nvme-msix.json)' })
      .option('golden', { type: 'string', describe: 'golden trace to classify against (default traces/<scenario>.simtrace)' })
      .option('install', { type: 'string', describe: 'install command run in each worktree (default: npm install)' })
      .option('classify', { type: 'string', choices: ['golden', 'first-variant', 'expectations'], describe: 'how a run is judged good or bad' })
      .option('fail-on', { type: 'string', describe: 'against a trace, bad is: functional (default: a FUNCTIONAL verdict; timing-only is good) or timing (any difference)' })
      .option('repo', { type: 'string', describe: 'repository (default: the current directory)' })
      .option('context', { type: 'string', describe: 'events of context in the report (default 20)' })
      .option('json', { type: 'boolean', describe: 'machine-readable result' }),
    (a) => {
      code = runBisect({
        git: a.git, variants: a.variants, scenario: a.scenario, golden: a.golden, install: a.install,
        classify: a.classify as 'golden' | 'first-variant' | 'expectations' | undefined, ...(a.failOn !== undefined ? { failOn: parseFailOn(a.failOn)! } : {}), context: contextOption(a.context, 20), json: a.json, repo: a.repo,
        decoders: deviceDecoders(),
        out: (t) => process.stdout.write(`${t}\n`), progress: (t) => process.stderr.write(`${t}\n`),
        err: (t) => process.stderr.write(`${t}\n`),
      }).exitCode;
    })
    .command('export [trace]', 'export part of a trace in another format: --pcap <trace> writes its 802.11 frames (radiotap) or Ethernet frames as a pcap file; --frames <trace> writes its display frames as PNG files and a contact sheet', (y) => y
      .positional('trace', { type: 'string', describe: 'the trace, if not given as the value of --pcap or --frames' })
      .option('pcap', { type: 'string', describe: 'trace whose 802.11 frames (air records) or Ethernet frames (eth records) to write as pcap' })
      .option('frames', { type: 'string', describe: 'without --pcap: trace whose display frames (frame records) to write as PNG files; with --pcap: air (802.11 frames, link type 127) or eth (Ethernet frames, link type 1), default eth for a trace with Ethernet frames, else air' })
      .option('link', { type: 'string', choices: ['air', 'eth'], describe: 'with --pcap: the frames to write, as --frames air|eth' })
      .option('out', { alias: 'o', type: 'string', describe: 'output file for --pcap (default: the trace path with .pcap instead of .simtrace); output directory for --frames (default: the trace path with -frames instead of .simtrace)' })
      .option('dev', { alias: 'device', type: 'string', describe: 'only frames of this device id or type' })
      .option('pipe', { type: 'string', describe: 'PNG export: only this display pipe (A, B, C or 0, 1, 2)' })
      .option('from', { type: 'number', describe: 'PNG export: first frame number (the pipe\'s frame counter) to write' })
      .option('to', { type: 'number', describe: 'PNG export: last frame number to write (inclusive)' })
      .option('usec', { type: 'boolean', describe: 'microsecond timestamps (pcap magic 0xa1b2c3d4) instead of nanoseconds, for old tools' })
      .option('mmiotrace', { type: 'string', describe: 'trace whose MMIO accesses of one device (--dev) to write as a Linux mmiotrace log (default output: the trace path with .mmiotrace), which import --mmiotrace reads back' })
      .option('qtest', { type: 'string', describe: 'trace whose driver side (config, MMIO and port accesses, the memory the devices read) to write as a qtest command script (docs/QTEST.md); -o: the script (default: the trace path with .qtest instead of .simtrace)' }),
    (a) => {
      if (a.qtest !== undefined) { code = exportCommand({ ...a, ecamBase: ECAM_BASE }); return; }
      if (a.mmiotrace !== undefined) { code = exportCommand(a); return; }
      const t = a.pcap !== undefined && a.pcap !== '' ? a.pcap : a.pcap === undefined && a.frames !== undefined && a.frames !== '' ? a.frames : a.trace;
      if (t !== undefined && t !== '' && (a.pcap !== undefined || !['air', 'eth'].includes(t))) checkReadableFile(t, 'trace');
      if (a.out !== undefined && a.pcap !== undefined) checkWritablePath(a.out, '--out');
      code = exportCommand(a);
    })
    .command('import', 'turn a capture of real hardware into a trace: --mmiotrace <file> reads a Linux mmiotrace log (docs/MMIOTRACE.md)', (y) => y
      .option('mmiotrace', { type: 'string', describe: 'the Linux mmiotrace log (Documentation/trace/mmiotrace.rst) to import' })
      .option('out', { alias: 'o', type: 'string', describe: 'the trace to write (default: out/<log name>.simtrace)' })
      .option('scenario', { type: 'string', describe: 'scenario the capture is a run of: its header, devices and config space (path, or a name in fixtures/scenarios/; default nvme-msix)' })
      .option('device', { type: 'string', describe: 'the scenario device the capture is of (default: the one whose PCI ids match a PCIDEV line)' })
      .option('json', { type: 'boolean', describe: 'print the result as JSON' }),
    (a) => {
      code = importCommand({
        mmiotrace: a.mmiotrace, out: a.out, scenario: a.scenario === undefined ? DEFAULT_SCENARIO : resolveScenario(a.scenario), scenarioGiven: a.scenario !== undefined,
        device: a.device, json: a.json, out_: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`),
      });
    })
    .command('serve', 'a qtest server (QEMU\'s qtest protocol) over one machine without firmware or drivers: --qtest unix:<path> connects to a test\'s socket (--listen: listens there); --script <file> replays a qtest script and checks each reply', (y) => y
      .option('qtest', { type: 'string', describe: 'unix:<path>: connect to the qtest socket a test listens on, as QEMU\'s -qtest unix:<path> (with --listen: listen there)' })
      .option('listen', { type: 'boolean', describe: 'listen on the --qtest path and serve the first client, instead of connecting' })
      .option('scenario', { type: 'string', describe: 'the machine: a scenario (path, or a name in fixtures/scenarios/) whose machine section gives the devices, RAM and seed' })
      .option('device', { type: 'string', array: true, describe: 'the machine, QEMU style (repeatable): type[,id=..][,addr=slot[.fn]][,drive=<image>][,<prop>=<value>...], e.g. nvme,serial=deadbeef,drive=fixtures/disks/nvme-8m.img' })
      .option('record', { type: 'string', describe: 'record the device boundary (accesses, DMA, interrupts) to this trace' })
      .option('script', { type: 'string', describe: 'replay this qtest script (simrun export --qtest) in process and check each reply; the machine defaults to the script\'s scenario' })
      .option('qmp', { type: 'string', describe: 'unix:<path>: also connect to this QMP socket and answer libqtest\'s handshake' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'log every command and reply to stderr' }),
    async (a) => {
      code = await serveCommand({
        qtest: a.qtest, listen: a.listen, scenario: a.scenario, device: a.device, record: a.record, script: a.script, qmp: a.qmp, verbose: a.verbose,
        resolveScenario, root: ROOT, out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(`${t}\n`),
      });
    })
    .command('devices', 'list device types (props, PCI ids, guest errors), drivers and workloads', () => {}, () => { code = devicesCommand(); })
    .command('workloads', 'list workloads with their parameters and expectations', () => {}, () => { code = devicesCommand('workloads'); })
    // Format-6 traces reference disk-image fixtures; these folders are searched first (src/trace/images.ts).
    .option('image-dir', { type: 'string', array: true, global: true, describe: 'a folder holding the disk images a trace references (searched before the trace\'s own folders)' })
    .middleware((a) => {
      const dirs = a['image-dir'];
      setImageRoots(Array.isArray(dirs) ? dirs.map(String) : []);
    })
    .strictCommands()
    .strictOptions()
    .fail((msg, err) => {
      if (err) throw err;
      throw new UsageError(msg);
    })
    .help()
    .version('0.1.0');
  await parser.parseAsync();
  return code;
}

/** A path relative to the current directory when it is inside it (reports then read the same in every checkout). */
function shortPath(p: string): string {
  const r = relative(process.cwd(), p);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r) ? r : p;
}

function resolveScenario(s: string): string {
  const path = s.endsWith('.json') || s.includes('/') ? s : join(ROOT, 'fixtures/scenarios', `${s}.json`);
  checkReadableFile(path, 'scenario');
  return path;
}

// A closed pipe (simrun inspect t | head) is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0); else throw e; });
}

// Set the exit code and let Node exit by itself: process.exit() would cut off
// output still queued for a pipe (a long `inspect --json | tool`).
main(hideBin(process.argv)).then(
  (code) => { process.exitCode = code; },
  (err) => { process.exitCode = handleError(err); },
);
