/**
 * Variants files for `simrun bisect --variants` (fixtures/variants/*.json):
 * a base scenario and an ordered list of variants, each another scenario
 * file and/or overrides of device props and driver parameters.
 *
 * ```jsonc
 * {
 *   "scenario": "../scenarios/nvme-msix.json",   // base, relative to this file
 *   "golden": "../../traces/nvme-msix.simtrace", // optional reference trace
 *   "classify": "golden",                        // optional: golden | first-variant | expectations
 *   "failOn": "functional",                      // optional: a FUNCTIONAL verdict is bad (default); "timing": any difference
 *   "ignore": ["log", "dma:iwl.fw-chunk"],       // optional: events the trace comparisons skip
 *   "variants": [
 *     { "name": "fw-1.0" },                                        // the base as it is
 *     { "name": "fw-1.1", "devices": { "nvme0": { "firmware": "1.1" } } },
 *     { "name": "qd-32", "drivers": { "nvme": { "queueDepth": 32 } } },
 *     { "name": "intx", "scenario": "../scenarios/nvme-intx.json" }
 *   ]
 * }
 * ```
 *
 * Everything is validated before anything runs: unknown fields, missing
 * files, device ids the scenario does not have, props and parameters of the
 * wrong name, type or range, and whatever building the variant's machine
 * rejects. Errors name the variants file and the field
 * (`variants[2].devices.nvme0.maxQueueEntries: must be >= 2, got 1`).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../../sim/errors.js';
import type { SeqEvent } from '../../trace/reader.js';
import { sameEvent } from '../../trace/compare/events.js';
import { Machine } from '../machine.js';
import { PropError, validateProps } from '../../sim/props.js';
import { parseScenario, type Scenario } from '../scenario.js';
import { findDeviceFactory } from '../../devices/registry.js';
import { DRIVERS } from '../../drivers/registry.js';

export type ClassifyMode = 'golden' | 'first-variant' | 'expectations';
export const CLASSIFY_MODES: readonly ClassifyMode[] = ['golden', 'first-variant', 'expectations'];

type Obj = Record<string, unknown>;

export interface Variant {
  index: number;
  name: string;
  description: string;
  /** The field path in the variants file ("variants[2]"). */
  field: string;
  /** The scenario to run: the base (or the variant's own file) with the overrides applied. */
  scenario: Scenario;
  devices: Record<string, Obj>;
  drivers: Record<string, Obj>;
}

export interface VariantsFile {
  path: string;
  description: string;
  /** The base scenario file (absolute). */
  scenarioPath: string;
  /** `golden` as given in the file, resolved (absolute); undefined when absent. */
  golden: string | undefined;
  classify: ClassifyMode | undefined;
  /** What makes a variant bad against a trace: a FUNCTIONAL verdict, or (`timing`) any difference. */
  failOn: 'timing' | 'functional' | undefined;
  /** Event selectors the comparisons skip (see ignoreFilter). */
  ignore: string[];
  /** DMA tags ("dma:<tag>") and "air" whose payloads compare by length only. */
  lengthOnly: string[];
  variants: Variant[];
}

const TOP_FIELDS = ['$schema', 'description', 'scenario', 'golden', 'classify', 'failOn', 'ignore', 'lengthOnly', 'variants'];

export type EventFilter = (e: SeqEvent) => boolean;

/**
 * Equality for a comparison where the payloads of some DMA tags (and
 * optionally air frames) differ by design, e.g. version fields in a
 * firmware's ALIVE: those compare by length, the rest exactly.
 */
export function lengthOnlyEquality(selectors: readonly string[]): (a: SeqEvent, b: SeqEvent) => boolean {
  const tags = new Set(selectors.filter((x) => x.startsWith('dma:')).map((x) => x.slice(4)));
  const air = selectors.includes('air');
  return (a, b) => {
    if (a.kind === 'dma' && b.kind === 'dma' && tags.has(a.tag)) {
      return a.write === b.write && a.dev === b.dev && a.addr === b.addr && a.tag === b.tag && a.data.length === b.data.length;
    }
    if (air && a.kind === 'air' && b.kind === 'air') {
      return a.dev === b.dev && a.tx === b.tx && a.channel === b.channel && a.data.length === b.data.length;
    }
    return sameEvent(a, b);
  };
}

/** The comparison a variants file asks for (undefined = every event, exactly). */
export function variantComparison(vf: VariantsFile): { relevant?: EventFilter; same?: (a: SeqEvent, b: SeqEvent) => boolean } | undefined {
  if (vf.ignore.length === 0 && vf.lengthOnly.length === 0) return undefined;
  return {
    ...(vf.ignore.length > 0 ? { relevant: ignoreFilter(vf.ignore) } : {}),
    ...(vf.lengthOnly.length > 0 ? { same: lengthOnlyEquality(vf.lengthOnly) } : {}),
  };
}

/** Selectors: an event kind ("log", "milestone", "air", ...), or kind:name for a DMA tag or milestone name ("dma:iwl.fw-chunk", "milestone:fw.alive"). */
const IGNORE_SELECTOR = /^(mmio|pio|cfg|dma|intx|msi|schemeReq|schemeReply|milestone|log|guestErr|proc|air)(:[\w.-]+)?$/;

/**
 * The `relevant` filter for a comparison that skips the selected events.
 * Variants that differ on purpose (each firmware version's image bytes and
 * version log line) are compared on everything else.
 */
export function ignoreFilter(selectors: readonly string[]): EventFilter {
  const kinds = new Set<string>();
  const named = new Set<string>();
  for (const s of selectors) (s.includes(':') ? named : kinds).add(s);
  return (e) => {
    if (kinds.has(e.kind)) return false;
    if (e.kind === 'dma') return !named.has(`dma:${e.tag}`);
    if (e.kind === 'milestone') return !named.has(`milestone:${e.name}`);
    return true;
  };
}
const VARIANT_FIELDS = ['name', 'description', 'scenario', 'devices', 'drivers'];

class Fields {
  constructor(readonly file: string) {}
  fail(field: string, msg: string): never {
    throw new InputError(this.file, field, msg);
  }
  obj(v: unknown, field: string, allowed?: readonly string[]): Obj {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(field, v === undefined ? 'is required' : 'must be an object');
    if (allowed !== undefined) {
      for (const k of Object.keys(v)) if (!allowed.includes(k)) this.fail(field ? `${field}.${k}` : k, `unknown field (allowed: ${allowed.filter((a) => a !== '$schema').join(', ')})`);
    }
    return v as Obj;
  }
  str(v: unknown, field: string): string {
    if (typeof v !== 'string' || v === '') this.fail(field, v === undefined ? 'is required' : `must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  }
  optStr(v: unknown, field: string): string | undefined {
    return v === undefined ? undefined : this.str(v, field);
  }
  /** A file path relative to the variants file, which must exist. */
  file_(v: unknown, field: string, what: string): string {
    const p = resolve(dirname(this.file), this.str(v, field));
    if (!existsSync(p) || !statSync(p).isFile()) this.fail(field, `${what} not found: ${p}`);
    return p;
  }
}

/** Reads and validates a variants file; builds (without running) every variant's machine. */
export function loadVariants(path: string): VariantsFile {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new InputError(path, '', 'variants file not found');
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(abs, 'utf8'));
  } catch (e) {
    throw new InputError(path, '', `not valid JSON: ${(e as Error).message}`);
  }
  const f = new Fields(path);
  const top = f.obj(json, '', TOP_FIELDS);
  const scenarioPath = f.file_(top.scenario, 'scenario', 'scenario file');
  const golden = top.golden === undefined ? undefined : f.file_(top.golden, 'golden', 'golden trace');
  let classify: ClassifyMode | undefined;
  if (top.classify !== undefined) {
    if (typeof top.classify !== 'string' || !(CLASSIFY_MODES as readonly string[]).includes(top.classify)) {
      f.fail('classify', `must be one of ${CLASSIFY_MODES.join(', ')}, got ${JSON.stringify(top.classify)}`);
    }
    classify = top.classify as ClassifyMode;
  }
  if (top.failOn !== undefined && top.failOn !== 'timing' && top.failOn !== 'functional') {
    f.fail('failOn', `must be "timing" or "functional", got ${JSON.stringify(top.failOn)}`);
  }
  const failOn = top.failOn as 'timing' | 'functional' | undefined;
  const ignore: string[] = [];
  if (top.ignore !== undefined) {
    const raw: unknown[] = Array.isArray(top.ignore) ? top.ignore : f.fail('ignore', 'must be a list of event selectors such as "log" or "dma:iwl.fw-chunk"');
    raw.forEach((x, i) => {
      if (typeof x !== 'string' || !IGNORE_SELECTOR.test(x)) f.fail(`ignore[${i}]`, `${JSON.stringify(x)} is not an event selector: an event kind (mmio, pio, cfg, dma, intx, msi, schemeReq, schemeReply, milestone, log, guestErr, proc, air), optionally with :<tag> (dma) or :<name> (milestone)`);
      ignore.push(x as string);
    });
  }
  const lengthOnly: string[] = [];
  if (top.lengthOnly !== undefined) {
    const raw: unknown[] = Array.isArray(top.lengthOnly) ? top.lengthOnly : f.fail('lengthOnly', 'must be a list such as ["dma:iwl.rx", "air"]');
    raw.forEach((x, i) => {
      if (typeof x !== 'string' || !/^(dma:[\w.-]+|air)$/.test(x)) f.fail(`lengthOnly[${i}]`, `${JSON.stringify(x)} is not "dma:<tag>" or "air"`);
      lengthOnly.push(x as string);
    });
  }
  const list: unknown[] = Array.isArray(top.variants) ? top.variants
    : f.fail('variants', top.variants === undefined ? 'is required (an ordered list of variants, first good, last bad)' : 'must be a list');
  if (list.length < 2) f.fail('variants', `needs at least 2 variants (the first good, the last bad), got ${list.length}`);
  const seen = new Map<string, number>();
  const variants = list.map((raw, index): Variant => {
    const field = `variants[${index}]`;
    const v = f.obj(raw, field, VARIANT_FIELDS);
    const name = f.str(v.name, `${field}.name`);
    const other = seen.get(name);
    if (other !== undefined) f.fail(`${field}.name`, `duplicate name "${name}" (also variants[${other}])`);
    seen.set(name, index);
    const description = f.optStr(v.description, `${field}.description`) ?? '';
    const src = v.scenario === undefined ? scenarioPath : f.file_(v.scenario, `${field}.scenario`, 'scenario file');
    const devices = v.devices === undefined ? {} : f.obj(v.devices, `${field}.devices`);
    const drivers = v.drivers === undefined ? {} : f.obj(v.drivers, `${field}.drivers`);
    for (const [k, o] of Object.entries(devices)) devices[k] = f.obj(o, `${field}.devices.${k}`);
    for (const [k, o] of Object.entries(drivers)) drivers[k] = f.obj(o, `${field}.drivers.${k}`);
    const scenario = buildVariant(f, field, src, devices as Record<string, Obj>, drivers as Record<string, Obj>);
    return { index, name, description, field, scenario, devices: devices as Record<string, Obj>, drivers: drivers as Record<string, Obj> };
  });
  return { path: abs, description: f.optStr(top.description, 'description') ?? '', scenarioPath, golden, classify, failOn, ignore, lengthOnly, variants };
}

/** The scenario file plus the overrides, validated down to building the machine. */
function buildVariant(f: Fields, field: string, src: string, devices: Record<string, Obj>, drivers: Record<string, Obj>): Scenario {
  const bytes = readFileSync(src);
  let raw: Obj;
  try {
    raw = JSON.parse(bytes.toString('utf8')) as Obj;
  } catch (e) {
    f.fail(field, `${src}: not valid JSON: ${(e as Error).message}`);
  }
  let devicesIndex: Map<string, number> | undefined;
  const wrap = (e: unknown): never => {
    if (e instanceof InputError) {
      const mapped = mapField(field, e, devicesIndex, devices, drivers);
      f.fail(mapped, mapped === field ? e.message : messageOf(e));
    }
    throw e;
  };
  let plain: Scenario;
  const hash = createHash('sha256').update(bytes);
  try {
    plain = parseScenario(raw, src, hash.copy().digest('hex'));
  } catch (e) {
    return wrap(e);
  }
  devicesIndex = new Map(plain.machine.devices.map((d, i) => [d.id, i]));
  // The scenario file as it is first (its own errors name its own fields), then with the overrides.
  try { new Machine(plain); } catch (e) { wrap(e); }
  if (Object.keys(devices).length === 0 && Object.keys(drivers).length === 0) return plain;
  // Apply the overrides to a copy of the file's JSON, then parse it as the scenario file it came from
  // (relative paths keep resolving against the scenario's folder).
  const merged = structuredClone(raw) as Obj;
  const machine = merged.machine as Obj;
  const rawDevices = machine.devices as Obj[];
  for (const [id, props] of Object.entries(devices)) {
    const i = devicesIndex.get(id);
    const where = `${field}.devices.${id}`;
    if (i === undefined) f.fail(where, `no device "${id}" in ${src} (devices: ${[...devicesIndex.keys()].join(', ') || 'none'})`);
    const decl = plain.machine.devices[i]!;
    const factory = findDeviceFactory(decl.type);
    const d = rawDevices[i]!;
    const mergedProps: Obj = { ...((d.props as Obj | undefined) ?? {}), ...props };
    d.props = mergedProps;
    if (factory !== undefined) checkProps(f, factory.props, mergedProps, where);
  }
  if (Object.keys(drivers).length > 0) {
    const declared = merged.drivers as Obj | undefined;
    const selection: Obj = declared === undefined ? Object.fromEntries(DRIVERS.map((d) => [d.name, {}])) : declared;
    for (const [name, params] of Object.entries(drivers)) {
      const where = `${field}.drivers.${name}`;
      const entry = DRIVERS.find((d) => d.name === name);
      if (entry === undefined) f.fail(where, `unknown driver (known: ${DRIVERS.map((d) => d.name).join(', ')})`);
      const cur = selection[name];
      if (cur === undefined || cur === false) f.fail(where, `driver "${name}" is not enabled in ${src} (enabled: ${Object.keys(selection).join(', ') || 'none'})`);
      const mergedParams: Obj = { ...(cur === true ? {} : (cur as Obj)), ...params };
      selection[name] = mergedParams;
      checkProps(f, entry.params, mergedParams, where);
    }
    merged.drivers = selection;
  }
  hash.update(JSON.stringify({ devices, drivers }));
  let scenario: Scenario;
  try {
    scenario = parseScenario(merged, src, hash.digest('hex'));
    new Machine(scenario);
  } catch (e) {
    return wrap(e);
  }
  return scenario;
}

/** Names, types and ranges of override values, against the device's or driver's table. */
function checkProps(f: Fields, table: Parameters<typeof validateProps>[0], values: Obj, where: string): void {
  try {
    validateProps(table, values, where);
  } catch (e) {
    if (e instanceof PropError) f.fail(e.field, e.message.slice(e.field.length + 2));
    throw e;
  }
}

function messageOf(e: InputError): string {
  const prefix = `${e.file}${e.field ? `: ${e.field}` : ''}: `;
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
}

/**
 * The variants-file field an error of the built scenario comes from: an
 * overridden device prop or driver parameter when the error names one, else
 * the variant itself (with the scenario's own message, which names its file).
 */
function mapField(field: string, e: InputError, devicesIndex: Map<string, number> | undefined, devices: Record<string, Obj>, drivers: Record<string, Obj>): string {
  const dm = /^machine\.devices\[(\d+)\]\.props\.([\w$]+)/.exec(e.field);
  if (dm !== null && devicesIndex !== undefined) {
    for (const [id, props] of Object.entries(devices)) {
      if (devicesIndex.get(id) === Number(dm[1]) && dm[2] !== undefined && dm[2] in props) return `${field}.devices.${id}.${dm[2]}`;
    }
  }
  const rm = /^drivers\.([\w-]+)\.([\w$]+)/.exec(e.field);
  if (rm !== null && rm[1] !== undefined && rm[2] !== undefined && rm[2] in (drivers[rm[1]] ?? {})) return `${field}.drivers.${rm[1]}.${rm[2]}`;
  return field;
}

/**
 * The golden trace of a scenario by the project's convention: traces/<name>.simtrace
 * in the project holding the scenario (the nearest folder up with a package.json).
 */
export function conventionalGolden(scenarioPath: string): string | undefined {
  const name = `${basename(scenarioPath, '.json')}.simtrace`;
  let dir = dirname(resolve(scenarioPath));
  for (;;) {
    const g = join(dir, 'traces', name);
    if (existsSync(g)) return g;
    if (existsSync(join(dir, 'package.json'))) return undefined;
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}
