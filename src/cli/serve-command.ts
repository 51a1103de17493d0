/**
 * `simrun serve`: a qtest server (QEMU's qtest protocol, docs/QTEST.md) over
 * one machine built from a scenario's machine section or `--device` options.
 *
 *   simrun serve --qtest unix:<path> [--listen] (--scenario <s> | --device <spec>...) [--record <trace>] [--qmp unix:<path>]
 *   simrun serve --script <file> [--scenario <s> | --device <spec>...] [--record <trace>]
 *
 * `--qtest unix:<path>` connects to a socket the test listens on (as QEMU's
 * `-qtest unix:<path>`); with `--listen` simrun listens there and serves
 * the first client. The server exits 0 when the peer closes (or on SIGTERM,
 * which is how libqtest ends QEMU). `--qmp unix:<path>` also connects to a
 * QMP socket and answers the handshake libqtest performs (greeting,
 * `qmp_capabilities`; every command gets `{"return": {}}`, `quit` ends the
 * server). `--script` replays a qtest script in process and checks each
 * reply: exit 0 when all match, 1 at the first mismatch (with its line).
 *
 * The socket and event-loop code lives here; the protocol is the
 * synchronous interpreter of src/machine/qtest/protocol.ts.
 */
import * as net from 'node:net';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { InputError } from '../sim/errors.js';
import { loadScenario, type Scenario } from '../machine/scenario.js';
import { traceHeader } from '../machine/machine.js';
import { buildQtestMachine, machineOnlyScenario } from '../machine/qtest/build.js';
import { parseDeviceSpecs } from '../machine/qtest/devices.js';
import { QtestServer } from '../machine/qtest/protocol.js';
import { parseScript, replayScript, ScriptError } from '../machine/qtest/script.js';
import { TraceRecorder } from '../trace/recorder.js';
import { NULL_TRACER } from '../sim/tracer.js';
import { EXIT, UsageError } from './exit.js';
import { checkWritablePath } from './paths.js';

export interface ServeArgs {
  qtest?: string | undefined;
  listen?: boolean | undefined;
  scenario?: string | undefined;
  device?: string[] | undefined;
  record?: string | undefined;
  script?: string | undefined;
  qmp?: string | undefined;
  verbose?: boolean | undefined;
  /** Resolves a scenario name or path (main.ts: names live in fixtures/scenarios/). */
  resolveScenario: (s: string) => string;
  /** Repository root: a script's `# scenario:` path is tried relative to it after the current directory. */
  root: string;
  out: (line: string) => void;
  err: (line: string) => void;
}

/** `unix:<path>` (QEMU's chardev form) or a bare path. */
export function socketPath(option: string, v: string): string {
  if (v.startsWith('unix:')) {
    const p = v.slice(5).split(',')[0] ?? '';
    if (p === '') throw new UsageError(`--${option} unix: needs a path (--${option} unix:/tmp/qtest.sock)`);
    return p;
  }
  if (/^[a-z]+:/.test(v)) throw new UsageError(`--${option}: only unix:<path> sockets are supported, got ${JSON.stringify(v.slice(0, 60))}`);
  if (v === '') throw new UsageError(`--${option} needs a socket: unix:<path>`);
  return v;
}

function machineScenario(a: ServeArgs, fromScript: string | undefined): Scenario {
  const devices = a.device ?? [];
  if (a.scenario !== undefined && devices.length > 0) throw new UsageError('give --scenario or --device, not both');
  if (a.scenario !== undefined) return loadScenario(a.resolveScenario(a.scenario));
  if (devices.length > 0) return machineOnlyScenario({ devices: parseDeviceSpecs(devices) }, process.cwd());
  if (fromScript !== undefined) {
    const p = [resolve(fromScript), resolve(a.root, fromScript)].find((x) => existsSync(x));
    if (p === undefined) throw new InputError(a.script ?? 'script', 'scenario', `the script's scenario ${fromScript} is not there; pass --scenario or --device`);
    return loadScenario(p);
  }
  throw new UsageError('serve needs the machine: --scenario <name|file> or --device <type,prop=value,...> (e.g. --device nvme,drive=fixtures/disks/nvme-8m.img)');
}

export async function serveCommand(a: ServeArgs): Promise<number> {
  if (a.qtest === undefined && a.script === undefined) throw new UsageError('serve needs --qtest unix:<path> (a qtest server) or --script <file> (replay a qtest script)');
  if (a.qtest !== undefined && a.script !== undefined) throw new UsageError('--qtest and --script are two modes of serve; give one');
  if (a.listen && a.qtest === undefined) throw new UsageError('--listen goes with --qtest unix:<path>');
  if (a.qmp !== undefined && a.qtest === undefined) throw new UsageError('--qmp goes with --qtest unix:<path>');
  const qtestPath = a.qtest === undefined ? undefined : socketPath('qtest', a.qtest);
  const qmpPath = a.qmp === undefined ? undefined : socketPath('qmp', a.qmp);
  if (a.record !== undefined) checkWritablePath(a.record, '--record');
  let scriptText: string | undefined;
  if (a.script !== undefined) {
    if (!existsSync(a.script)) throw new InputError(a.script, '', 'script file not found');
    if (!statSync(a.script).isFile()) throw new InputError(a.script, '', 'is not a regular file; give a qtest script');
    scriptText = readFileSync(a.script, 'latin1');
  }
  let script;
  try {
    script = scriptText === undefined ? undefined : parseScript(scriptText);
  } catch (e) {
    if (e instanceof ScriptError) throw new InputError(a.script!, `line ${e.line}`, e.message.replace(/^line \d+: /, ''));
    throw e;
  }
  const scenario = machineScenario(a, script?.scenario);
  if (a.listen && qtestPath !== undefined && existsSync(qtestPath)) {
    throw new InputError(qtestPath, '', '--listen: something is already there; remove it or choose another path');
  }
  const recorder = a.record === undefined ? undefined
    : TraceRecorder.create(a.record, { ...traceHeader(scenario, scenario.seed), createdBy: `simrun serve --${a.script !== undefined ? 'script' : 'qtest'}` });
  const qm = buildQtestMachine(scenario, { tracer: recorder ?? NULL_TRACER });
  const server = new QtestServer(qm);
  let closed = false;
  const finish = (): void => {
    if (closed) return;
    closed = true;
    if (recorder !== undefined) recorder.close();
  };

  if (script !== undefined) {
    const r = replayScript(script, server);
    finish();
    if (r.mismatch !== undefined) {
      const m = r.mismatch;
      a.out(`${a.script}:${m.line}: ${m.command.length > 80 ? `${m.command.slice(0, 77)}...` : m.command}: expected ${m.expected}, got ${m.got}`);
      a.out(`script: ${r.commands} commands run, ${r.checks} replies matched before this one`);
      return EXIT.failed;
    }
    if (r.irqMismatches.length > 0) {
      for (const l of r.irqMismatches) a.out(`${a.script}: ${l}`);
      return EXIT.failed;
    }
    a.out(`script ${a.script}: ${r.commands} commands, ${r.checks} replies checked${script.irqs.size > 0 ? ', IRQ counts as recorded' : ''}: no mismatch`);
    return EXIT.ok;
  }

  const onTerm = (): void => { finish(); process.exit(EXIT.ok); };
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onTerm);
  try {
    const sock = await openSocket(qtestPath!, a.listen === true);
    const qmp = qmpPath === undefined ? undefined : await connect(qmpPath, 'qmp');
    await new Promise<void>((done) => {
      const end = (): void => {
        sock.destroy();
        qmp?.destroy();
        done();
      };
      if (qmp !== undefined) serveQmp(qmp, end);
      let buf = '';
      sock.setEncoding('latin1');
      sock.on('data', (chunk: string) => {
        buf += chunk;
        let nl: number;
        let out = '';
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const replies = server.command(line);
          if (a.verbose) {
            a.err(`[R] ${line.length > 200 ? `${line.slice(0, 197)}...` : line}`);
            for (const r of replies) a.err(`[S] ${r}`);
          }
          out += `${replies.join('\n')}\n`;
        }
        if (out !== '') sock.write(out, 'latin1');
      });
      sock.on('end', end);
      sock.on('close', end);
      sock.on('error', end); // the peer went away mid-write: the test is over
    });
  } finally {
    process.removeListener('SIGTERM', onTerm);
    process.removeListener('SIGINT', onTerm);
    finish();
  }
  if (a.verbose) a.err(`simrun serve: ${server.commands} commands, ${server.failures} answered FAIL or ERR, clock at ${server.nowNs} ns`);
  return EXIT.ok;
}

function connect(path: string, option: string): Promise<net.Socket> {
  return new Promise((ok, fail) => {
    const s = net.createConnection({ path });
    s.once('connect', () => { s.removeAllListeners('error'); ok(s); });
    s.once('error', (e: NodeJS.ErrnoException) => fail(new InputError(path, '', `--${option}: cannot connect (${e.code ?? e.message}); is the test listening there? (--listen makes simrun listen instead)`)));
  });
}

function openSocket(path: string, listen: boolean): Promise<net.Socket> {
  if (!listen) return connect(path, 'qtest');
  return new Promise((ok, fail) => {
    const srv = net.createServer();
    srv.once('error', (e: NodeJS.ErrnoException) => fail(new InputError(path, '', `--listen: cannot listen (${e.code ?? e.message})`)));
    srv.once('connection', (s) => {
      srv.close(); // one client, as QEMU's -qtest serves one
      ok(s);
    });
    srv.listen(path);
  });
}

/** The QMP side libqtest needs: a greeting, then `{"return": {}}` for each command; `quit` ends the server. */
function serveQmp(s: net.Socket, end: () => void): void {
  s.setEncoding('utf8');
  s.write('{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": "simrun"}, "capabilities": []}}\r\n');
  let buf = '';
  s.on('data', (chunk: string) => {
    buf += chunk;
    for (;;) {
      const end0 = jsonEnd(buf);
      if (end0 < 0) break;
      const text = buf.slice(0, end0);
      buf = buf.slice(end0);
      let msg: { execute?: unknown; id?: unknown } = {};
      try { msg = JSON.parse(text.replace(/'/g, '"')) as typeof msg; } catch { /* not JSON: answered like any command */ }
      const id = msg.id === undefined ? '' : `, "id": ${JSON.stringify(msg.id)}`;
      s.write(`{"return": {}${id}}\r\n`);
      if (msg.execute === 'quit') { end(); return; }
    }
  });
  s.on('error', () => {});
}

/** End (exclusive) of the first complete JSON object in `t`, or -1. */
function jsonEnd(t: string): number {
  let depth = 0;
  let inStr: string | undefined;
  let started = false;
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!;
    if (inStr !== undefined) {
      if (c === '\\') i++;
      else if (c === inStr) inStr = undefined;
      continue;
    }
    if (c === '"' || c === "'") inStr = c;
    else if (c === '{') { depth++; started = true; }
    else if (c === '}') { depth--; if (started && depth === 0) return i + 1; }
  }
  return -1;
}
