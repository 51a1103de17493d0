import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { DEFAULT_COSTS, type CostModel } from '../sim/cpu.js';
import { InputError } from '../sim/errors.js';
import { JsonChecker, show, showKey, type JsonObject } from '../sim/json-checker.js';
import { formatBdf, parseBdf } from '../devices/pci/bdf.js';

/**
 * A scenario file (fixtures/scenarios/*.json): the machine, which drivers to
 * start with which parameters, the workload, and what must hold at the end.
 * Validation is strict: unknown fields are errors, and each error names the
 * file and the field path.
 */
export interface DeviceDecl {
  type: string;
  id: string;
  bdf: string;
  /** Fixed BAR addresses by BAR index; others are assigned by firmware. */
  bars: Record<string, number>;
  props: Record<string, unknown>;
}

export interface Scenario {
  name: string;
  description: string;
  /** Absolute path of the file, and the directory relative paths resolve against. */
  path: string;
  baseDir: string;
  /** sha256 of the file bytes. */
  hash: string;
  seed: number;
  machine: {
    cores: number;
    ramMiB: number;
    tickUs: number;
    /** Interval of the periodic device-state digests in the trace (0 = off). */
    stateHashUs: number;
    /** Boundary sanitizers (README "Sanitizers"): extra guest errors for driver races; never changes behaviour. */
    sanitize: boolean;
    /** Seeded hostile timing: device latencies varied within their specs to expose races (changes the trace). */
    hostileTiming: boolean;
    costs: CostModel;
    devices: DeviceDecl[];
    /** The machine section as written (for the trace header). */
    raw: unknown;
  };
  /** Enabled drivers and their parameters (by driver name). */
  drivers: Record<string, Record<string, unknown>>;
  workload: { type: string; params: Record<string, unknown> } | undefined;
  limits: { simTimePs: number };
  expect: {
    minIos: number;
    maxGuestErrors: number;
    crashes: number;
    dataErrors: number;
    ioErrors: number;
    /** Wi-Fi workload: answered pings at least. */
    minPings: number;
    minUdpEchoes: number;
    /** drm-flip workload: page flips completed, at least. */
    minFlips: number;
    /** drm-flip workload: vblanks between consecutive flips beyond the one each should take, at most. */
    maxMissedVblanks: number;
    /** drm-flip workload: longest page flip (call to its event), microseconds; 0 = unchecked. */
    maxFlipLatencyUs: number;
    /** Wi-Fi workload: "ok", or "fail:<step>" for a run that must fail at that step (fault scenarios). */
    wifiOutcome: string;
    /** drm-flip workload: "ok", or "fail:<step>" for a run that must fail at that step (fault scenarios). */
    displayOutcome: string;
    /** Text that must appear in some log line (driver messages a fault must produce). */
    logContains: string[];
  };
  /** How `check` judges a re-run against the golden trace (docs/VERDICTS.md). */
  compare: {
    failOn: 'timing' | 'functional';
    timingBudgetPct: number | undefined;
    ignore: { kinds: string[]; milestones: string[]; fields: string[] };
  };
}

type Obj = JsonObject;

/**
 * The directory a scenario's paths are stored relative to in a trace header,
 * so a trace does not depend on where the checkout lives: the parent of the
 * nearest `fixtures` directory above the scenario (the repository root for
 * fixtures/scenarios/*.json), else the scenario's own directory. Decided
 * from the path alone, never by probing the file system.
 */
export function scenarioRoot(s: Pick<Scenario, 'path' | 'baseDir'>): string {
  const parts = resolve(s.baseDir).split(sep);
  for (let i = parts.length - 1; i >= 1; i--) {
    if (parts[i] === 'fixtures') return parts.slice(0, i).join(sep) || sep;
  }
  return resolve(s.baseDir);
}

/**
 * `file` (absolute, or relative to the scenario's directory) as stored in a
 * trace header: relative to the scenario root with / separators, or its base
 * name when it lies outside the root (its content hash identifies it).
 */
export function rootRelative(s: Pick<Scenario, 'path' | 'baseDir'>, file: string): string {
  const abs = resolve(s.baseDir, file);
  const rel = relative(scenarioRoot(s), abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return basename(abs);
  return rel.split(sep).join('/');
}

/** Checks a device address for this machine: a valid bb:dd.f on bus 0 that is not the host bridge. */
export function checkDeviceBdf(text: string): string | undefined {
  const r = parseBdf(text);
  if (!r.ok) return r.error;
  if (r.bdf.bus !== 0) return `only bus 00 exists on this machine ("${text}")`;
  if (r.bdf.device === 0 && r.bdf.fn === 0) return '00:00.0 is the host bridge';
  return undefined;
}

/** Reads and validates a scenario file. Device types, props and drivers are checked by `buildMachine`. */
export function loadScenario(path: string): Scenario {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new InputError(path, '', 'scenario file not found (scenarios live in fixtures/scenarios/)');
  // stat, never open, before knowing it is a regular file: opening a FIFO blocks.
  const st = statSync(abs);
  if (st.isDirectory()) throw new InputError(path, '', 'is a directory, not a scenario file');
  if (!st.isFile()) throw new InputError(path, '', 'is not a regular file (a FIFO, socket or device); give a scenario file');
  const bytes = readFileSync(abs);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw new InputError(path, '', `not valid JSON: ${showKey((e as Error).message, 200)}`);
  }
  return parseScenario(json, abs, createHash('sha256').update(bytes).digest('hex'));
}

export function parseScenario(json: unknown, abs: string, hash: string): Scenario {
  const c = new JsonChecker(abs);
  /** Type and driver names are short identifiers; anything else is echoed only as an excerpt. */
  const name = (v: string, field: string, what: string): string =>
    v.length <= 64 ? v : c.fail(field, `${show(v)} is not ${what} (at most 64 characters)`);
  const top = c.obj(json, '', ['name', 'description', 'seed', 'machine', 'drivers', 'workload', 'limits', 'expect', 'compare', '$schema']);
  const m = c.obj(top.machine, 'machine', ['cores', 'ramMiB', 'tickUs', 'stateHashUs', 'sanitize', 'hostileTiming', 'costs', 'devices']);
  const costsRaw = m.costs === undefined ? {} : c.obj(m.costs, 'machine.costs', Object.keys(DEFAULT_COSTS));
  const costs: CostModel = { ...DEFAULT_COSTS };
  for (const [k, v] of Object.entries(costsRaw)) {
    (costs as unknown as Record<string, number>)[k] = c.int(v, `machine.costs.${k}`, 0, 1, Number.MAX_SAFE_INTEGER);
  }
  const deviceList: unknown[] = Array.isArray(m.devices) ? m.devices : c.fail('machine.devices', 'must be a list of devices');
  const devices: DeviceDecl[] = [];
  const seenBdf = new Map<string, string>();
  const seenId = new Set<string>();
  const typeCount = new Map<string, number>();
  deviceList.forEach((raw, i) => {
    const f = `machine.devices[${i}]`;
    const d = c.obj(raw, f, ['type', 'id', 'bdf', 'bars', 'props']);
    const type = name(c.str(d.type, `${f}.type`), `${f}.type`, 'a device type');
    const n = typeCount.get(type) ?? 0;
    typeCount.set(type, n + 1);
    const id = c.str(d.id, `${f}.id`, `${type}${n}`);
    if (!/^[a-z][a-z0-9_-]{0,63}$/i.test(id)) c.fail(`${f}.id`, `${show(id)} must start with a letter and use letters, digits, - and _ (at most 64 characters)`);
    if (seenId.has(id)) c.fail(`${f}.id`, `duplicate device id ${show(id)}`);
    seenId.add(id);
    if (typeof d.bdf === 'string' && d.bdf.length > 32) c.fail(`${f}.bdf`, `${show(d.bdf)} is not a PCI address (expected bb:dd.f, e.g. 00:1f.3)`);
    const bdfText = c.str(d.bdf, `${f}.bdf`).toLowerCase();
    const bad = checkDeviceBdf(c.str(d.bdf, `${f}.bdf`));
    if (bad !== undefined) c.fail(`${f}.bdf`, bad);
    const parsedBdf = parseBdf(bdfText);
    const bdfNorm = parsedBdf.ok ? formatBdf(parsedBdf.bdf) : bdfText;
    const other = seenBdf.get(bdfNorm);
    if (other !== undefined) c.fail(`${f}.bdf`, `duplicate BDF ${bdfNorm} (also used by ${other})`);
    seenBdf.set(bdfNorm, id);
    const bars: Record<string, number> = {};
    if (d.bars !== undefined) {
      const b = c.obj(d.bars, `${f}.bars`, ['0', '1', '2', '3', '4', '5']);
      for (const [k, v] of Object.entries(b)) bars[k] = c.int(v, `${f}.bars.${k}`, 0, 0x1000, 2 ** 52);
    }
    const props = d.props === undefined ? {} : c.obj(d.props, `${f}.props`, Object.keys(d.props as Obj ?? {}));
    devices.push({ type, id, bdf: bdfNorm, bars, props });
  });
  const drivers: Record<string, Record<string, unknown>> = {};
  if (top.drivers !== undefined) {
    const dr = c.obj(top.drivers, 'drivers', Object.keys(top.drivers as Obj ?? {}));
    for (const [k, v] of Object.entries(dr)) drivers[name(k, `drivers.${showKey(k)}`, 'a driver name')] = v === true ? {} : c.obj(v, `drivers.${k}`, Object.keys((v ?? {}) as Obj));
  }
  let workload: Scenario['workload'];
  if (top.workload !== undefined) {
    const w = c.obj(top.workload, 'workload', Object.keys(top.workload as Obj ?? {}));
    const type = name(c.str(w.type, 'workload.type'), 'workload.type', 'a workload type');
    const { type: _t, ...params } = w;
    workload = { type, params };
  }
  const lim = top.limits === undefined ? {} : c.obj(top.limits, 'limits', ['simTime']);
  const ex = top.expect === undefined ? {} : c.obj(top.expect, 'expect', ['minIos', 'maxGuestErrors', 'crashes', 'dataErrors', 'ioErrors', 'minPings', 'minUdpEchoes', 'minFlips', 'maxMissedVblanks', 'maxFlipLatencyUs', 'wifiOutcome', 'displayOutcome', 'logContains']);
  const displayOutcome = c.str(ex.displayOutcome, 'expect.displayOutcome', 'ok');
  if (!/^(ok|fail:(open|probe|hotplug|buffers|modeset|flips|disable))$/.test(displayOutcome)) {
    c.fail('expect.displayOutcome', `must be "ok" or "fail:<step>" with step open, probe, hotplug, buffers, modeset, flips or disable; got ${show(displayOutcome)}`);
  }
  const outcome = c.str(ex.wifiOutcome, 'expect.wifiOutcome', 'ok');
  if (!/^(ok|unfinished|fail:(up|scan|list|connect|arp|ping|disconnect))$/.test(outcome)) {
    c.fail('expect.wifiOutcome', `must be "ok", "unfinished" or "fail:<step>" with step up, scan, list, connect, arp, ping or disconnect; got ${show(outcome)}`);
  }
  const logContains = ex.logContains === undefined ? [] : ex.logContains;
  if (!Array.isArray(logContains) || logContains.some((t) => typeof t !== 'string' || t === '')) c.fail('expect.logContains', 'must be a list of non-empty strings');
  const big = Number.MAX_SAFE_INTEGER;
  const cmp = top.compare === undefined ? {} : c.obj(top.compare, 'compare', ['failOn', 'timingBudgetPct', 'ignore']);
  const failOn = c.str(cmp.failOn, 'compare.failOn', 'functional');
  if (failOn !== 'timing' && failOn !== 'functional') c.fail('compare.failOn', `must be "timing" or "functional"; got ${show(failOn)}`);
  const ign = cmp.ignore === undefined ? {} : c.obj(cmp.ignore, 'compare.ignore', ['kinds', 'milestones', 'fields']);
  const names = (v: unknown, f: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.length > 1000 || v.some((t) => typeof t !== 'string' || t === '' || t.length > 200)) c.fail(f, 'must be a list of non-empty strings');
    return v as string[];
  };
  const EVENT_KINDS = ['mmio', 'pio', 'cfg', 'dma', 'intx', 'msi', 'schemeReq', 'schemeReply', 'milestone', 'log', 'guestErr', 'proc', 'air', 'eth', 'frame'];
  const kinds = names(ign.kinds, 'compare.ignore.kinds');
  for (const [i, k] of kinds.entries()) if (!EVENT_KINDS.includes(k)) c.fail(`compare.ignore.kinds[${i}]`, `${show(k)} is not an event kind (${EVENT_KINDS.join(', ')})`);
  return {
    name: c.str(top.name, 'name'),
    description: c.str(top.description, 'description', ''),
    path: abs,
    baseDir: dirname(abs),
    hash,
    seed: c.int(top.seed, 'seed', 1, 0, 0xffffffff),
    machine: {
      cores: c.int(m.cores, 'machine.cores', 2, 1, 64),
      ramMiB: c.int(m.ramMiB, 'machine.ramMiB', 256, 16, 4096),
      tickUs: c.int(m.tickUs, 'machine.tickUs', 1000, 10, 1_000_000),
      stateHashUs: c.int(m.stateHashUs, 'machine.stateHashUs', 1000, 0, 1_000_000_000),
      sanitize: c.bool(m.sanitize, 'machine.sanitize', false),
      hostileTiming: c.bool(m.hostileTiming, 'machine.hostileTiming', false),
      costs,
      devices,
      raw: top.machine,
    },
    drivers,
    workload,
    limits: { simTimePs: c.duration(lim.simTime, 'limits.simTime', 60e12) },
    expect: {
      minIos: c.int(ex.minIos, 'expect.minIos', 0, 0, big),
      maxGuestErrors: c.int(ex.maxGuestErrors, 'expect.maxGuestErrors', big, 0, big),
      crashes: c.int(ex.crashes, 'expect.crashes', 0, 0, big),
      dataErrors: c.int(ex.dataErrors, 'expect.dataErrors', 0, 0, big),
      ioErrors: c.int(ex.ioErrors, 'expect.ioErrors', 0, 0, big),
      minPings: c.int(ex.minPings, 'expect.minPings', 0, 0, big),
      minUdpEchoes: c.int(ex.minUdpEchoes, 'expect.minUdpEchoes', 0, 0, big),
      minFlips: c.int(ex.minFlips, 'expect.minFlips', 0, 0, big),
      maxMissedVblanks: c.int(ex.maxMissedVblanks, 'expect.maxMissedVblanks', big, 0, big),
      maxFlipLatencyUs: c.int(ex.maxFlipLatencyUs, 'expect.maxFlipLatencyUs', 0, 0, big),
      wifiOutcome: outcome,
      displayOutcome,
      logContains: logContains as string[],
    },
    compare: {
      failOn: failOn as 'timing' | 'functional',
      timingBudgetPct: cmp.timingBudgetPct === undefined ? undefined : c.int(cmp.timingBudgetPct, 'compare.timingBudgetPct', 0, 0, 1_000_000),
      ignore: { kinds, milestones: names(ign.milestones, 'compare.ignore.milestones'), fields: names(ign.fields, 'compare.ignore.fields') },
    },
  };
}
