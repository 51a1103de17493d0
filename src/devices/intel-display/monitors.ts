/**
 * Monitors fixture files (fixtures/displays/*.json, format in
 * docs/DISPLAYS.md): loading, strict validation (unknown fields are errors;
 * every error names the file and the JSON field path) and the EDID each
 * monitor answers with.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { DeviceConfigError } from '../device.js';
import { InputError } from '../../sim/errors.js';
import { JsonChecker, show } from '../../sim/json-checker.js';
import { DTD_LIMITS, EDID_MAX_MODES, buildEdid } from './edid.js';

export type DdiPort = 'B' | 'C' | 'D';
export const DDI_PORTS: readonly DdiPort[] = ['B', 'C', 'D'];
export type Connector = 'hdmi' | 'dp' | 'dvi';
export const CONNECTORS: readonly Connector[] = ['hdmi', 'dp', 'dvi'];

export interface DisplayMode {
  pixelClockKHz: number;
  hActive: number; hSyncStart: number; hSyncEnd: number; hTotal: number;
  vActive: number; vSyncStart: number; vSyncEnd: number; vTotal: number;
  hSyncPositive: boolean; vSyncPositive: boolean;
  preferred: boolean;
}

export interface MonitorSpec {
  name: string;
  port: DdiPort;
  connector: Connector;
  /** All blocks, checksums computed. */
  edid: Uint8Array;
  /** EDID order: the preferred mode first, then the others in fixture order. */
  modes: DisplayMode[];
  /** Simulated µs at which the monitor is plugged in; null: connected from power-on. */
  plugAtUs: number | null;
  /** Simulated µs at which it is unplugged; null: never. */
  unplugAtUs: number | null;
  /** Nothing answers at I2C 0x50 (GMBUS and I2C-over-AUX reads NAK). */
  edidNak: boolean;
  /** The DP sink answers every AUX request with AUX_NACK. */
  auxNak: boolean;
  // Added beyond the shared interface: the identity fields the EDID was built from.
  manufacturer: string;
  product: number;
  serial: number;
  widthMm: number;
  heightMm: number;
}

type Timing = Omit<DisplayMode, 'preferred'>;

const t = (pixelClockKHz: number, h: [number, number, number, number], v: [number, number, number, number], hp: boolean, vp: boolean): Timing => ({
  pixelClockKHz,
  hActive: h[0], hSyncStart: h[1], hSyncEnd: h[2], hTotal: h[3],
  vActive: v[0], vSyncStart: v[1], vSyncEnd: v[2], vTotal: v[3],
  hSyncPositive: hp, vSyncPositive: vp,
});

/**
 * Named standard modes: CEA-861 (VIC in the comment) and VESA DMT timings
 * with their exact pixel clocks (as in Linux drm_edid.c edid_cea_modes /
 * drm_dmt_modes). 640x480@60 is the CEA 60.00 Hz variant (25.2 MHz): the
 * 59.94 Hz 25.175 MHz clock is not a whole number of the DTD's 10 kHz units.
 */
export const STANDARD_MODES: Readonly<Record<string, Timing>> = {
  '640x480@60': t(25_200, [640, 656, 752, 800], [480, 490, 492, 525], false, false), // VIC 1 (60 Hz)
  '800x600@60': t(40_000, [800, 840, 968, 1056], [600, 601, 605, 628], true, true), // DMT 0x09
  '1024x768@60': t(65_000, [1024, 1048, 1184, 1344], [768, 771, 777, 806], false, false), // DMT 0x10
  '1280x720@50': t(74_250, [1280, 1720, 1760, 1980], [720, 725, 730, 750], true, true), // VIC 19
  '1280x720@60': t(74_250, [1280, 1390, 1430, 1650], [720, 725, 730, 750], true, true), // VIC 4
  '1280x1024@60': t(108_000, [1280, 1328, 1440, 1688], [1024, 1025, 1028, 1066], true, true), // DMT 0x23
  '1920x1080@24': t(74_250, [1920, 2558, 2602, 2750], [1080, 1084, 1089, 1125], true, true), // VIC 32
  '1920x1080@30': t(74_250, [1920, 2008, 2052, 2200], [1080, 1084, 1089, 1125], true, true), // VIC 34
  '1920x1080@50': t(148_500, [1920, 2448, 2492, 2640], [1080, 1084, 1089, 1125], true, true), // VIC 31
  '1920x1080@60': t(148_500, [1920, 2008, 2052, 2200], [1080, 1084, 1089, 1125], true, true), // VIC 16
  '1920x1200@60': t(154_000, [1920, 1968, 2000, 2080], [1200, 1203, 1209, 1235], true, false), // DMT 0x44 (reduced blanking)
  '3840x2160@30': t(297_000, [3840, 4016, 4104, 4400], [2160, 2168, 2178, 2250], true, true), // VIC 95
};

/** True when the monitor is plugged in at simulated time `timePs`. */
export function isConnected(m: MonitorSpec, timePs: number): boolean {
  const us = timePs / 1_000_000;
  if (m.plugAtUs !== null && us < m.plugAtUs) return false;
  return m.unplugAtUs === null || us < m.unplugAtUs;
}

const TOP_FIELDS = ['$schema', 'description', 'monitors'] as const;
const MONITOR_FIELDS = [
  'name', 'port', 'connector', 'manufacturer', 'product', 'serial', 'week', 'year', 'sizeMm', 'modes',
  'plugAtUs', 'unplugAtUs', 'edidNak', 'auxNak',
] as const;
const SIZE_FIELDS = ['width', 'height'] as const;
const TIMING_FIELDS = [
  'pixelClockKHz', 'hActive', 'hSyncStart', 'hSyncEnd', 'hTotal', 'vActive', 'vSyncStart', 'vSyncEnd', 'vTotal',
  'hSyncPositive', 'vSyncPositive',
] as const;
const MODE_FIELDS = ['standard', 'preferred', ...TIMING_FIELDS] as const;

export const MONITOR_DEFAULTS = { week: 1, year: 2020, product: 1, serial: 1 } as const;
/** Latest plug/unplug time: the exact range of simulated time (2^53 ps) in whole µs. */
export const MAX_EVENT_US = Math.floor(Number.MAX_SAFE_INTEGER / 1_000_000);

/**
 * Reads and validates a monitors file (`file` relative to `baseDir`). Every
 * problem is a DeviceConfigError on the device field `displays` whose
 * message names `file` and the JSON field path.
 */
export function loadMonitors(baseDir: string, file: string): MonitorSpec[] {
  const abs = resolve(baseDir, file);
  if (!existsSync(abs)) throw new DeviceConfigError('displays', `${file}: monitors file not found (${abs}); monitors files live in fixtures/displays/`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(abs, 'utf8'));
  } catch (e) {
    throw new DeviceConfigError('displays', `${file}: not valid JSON: ${(e as Error).message}`);
  }
  try {
    return parseMonitors(json, file);
  } catch (e) {
    if (e instanceof InputError) throw new DeviceConfigError('displays', e.message);
    throw e;
  }
}

/** Validates the parsed JSON of a monitors file; errors are InputErrors naming `file` and the field. */
export function parseMonitors(json: unknown, file: string): MonitorSpec[] {
  const c = new JsonChecker(file);
  const top = c.obj(json, '', TOP_FIELDS);
  if (top.$schema !== undefined) c.str(top.$schema, '$schema');
  if (top.description !== undefined) c.str(top.description, 'description');
  if (!Array.isArray(top.monitors)) {
    c.fail('monitors', top.monitors === undefined ? 'is required (a list of monitors, may be empty)' : `must be a list of monitors, got ${show(top.monitors)}`);
  }
  const raw = top.monitors as unknown[];
  if (raw.length > DDI_PORTS.length) c.fail('monitors', `at most ${DDI_PORTS.length} monitors (one per DDI port B, C, D), got ${raw.length}`);
  const byPort = new Map<DdiPort, number>();
  return raw.map((r, i) => {
    const m = parseMonitor(c, r, `monitors[${i}]`);
    const prev = byPort.get(m.port);
    if (prev !== undefined) c.fail(`monitors[${i}].port`, `port ${m.port} already has a monitor (monitors[${prev}])`);
    byPort.set(m.port, i);
    return m;
  });
}

function parseMonitor(c: JsonChecker, raw: unknown, f: string): MonitorSpec {
  const o = c.obj(raw, f, MONITOR_FIELDS);
  const name = c.str(o.name, `${f}.name`);
  if (name.length < 1 || name.length > 13 || !/^[\x20-\x7e]*$/.test(name)) {
    c.fail(`${f}.name`, `must be 1..13 printable ASCII characters (the EDID product name descriptor), got ${show(name)}`);
  }
  const port = c.str(o.port, `${f}.port`);
  if (!(DDI_PORTS as readonly string[]).includes(port)) c.fail(`${f}.port`, `must be "B", "C" or "D" (a DDI port), got ${show(port)}`);
  const connector = c.str(o.connector, `${f}.connector`);
  if (!(CONNECTORS as readonly string[]).includes(connector)) c.fail(`${f}.connector`, `must be "hdmi", "dp" or "dvi", got ${show(connector)}`);
  const manufacturer = c.str(o.manufacturer, `${f}.manufacturer`);
  if (!/^[A-Z]{3}$/.test(manufacturer)) c.fail(`${f}.manufacturer`, `must be a three-letter PNP id of capitals A-Z such as "SIM", got ${show(manufacturer)}`);
  const product = c.int(o.product, `${f}.product`, MONITOR_DEFAULTS.product, 0, 0xffff);
  const serial = c.int(o.serial, `${f}.serial`, MONITOR_DEFAULTS.serial, 0, 0xffff_ffff);
  const week = c.int(o.week, `${f}.week`, MONITOR_DEFAULTS.week, 0, 54);
  const year = c.int(o.year, `${f}.year`, MONITOR_DEFAULTS.year, 1990, 2245);

  const size = c.obj(o.sizeMm, `${f}.sizeMm`, SIZE_FIELDS);
  // 10..2550 mm: the base block holds whole cm 1..255; DTDs hold mm.
  const widthMm = c.int(size.width, `${f}.sizeMm.width`, undefined, 10, 2550);
  const heightMm = c.int(size.height, `${f}.sizeMm.height`, undefined, 10, 2550);

  if (!Array.isArray(o.modes)) c.fail(`${f}.modes`, o.modes === undefined ? 'is required (a list of modes, the preferred one marked or first)' : `must be a list of modes, got ${show(o.modes)}`);
  const rawModes = o.modes as unknown[];
  if (rawModes.length < 1 || rawModes.length > EDID_MAX_MODES) {
    c.fail(`${f}.modes`, `must list 1..${EDID_MAX_MODES} modes (2 in the EDID base block, 6 in its CEA-861 extension), got ${rawModes.length}`);
  }
  const parsed = rawModes.map((m, i) => parseMode(c, m, `${f}.modes[${i}]`));
  const marked = parsed.flatMap((m, i) => (m.preferred ? [i] : []));
  if (marked.length > 1) c.fail(`${f}.modes[${marked[1]}].preferred`, `only one mode may be preferred (modes[${marked[0]}] already is)`);
  const pref = marked[0] ?? 0;
  parsed[pref]!.preferred = true;
  for (let i = 0; i < parsed.length; i++) {
    for (let j = 0; j < i; j++) {
      if (sameTiming(parsed[i]!, parsed[j]!)) c.fail(`${f}.modes[${i}]`, `the same timing as modes[${j}]`);
    }
  }
  const modes = [parsed[pref]!, ...parsed.filter((_, i) => i !== pref)];

  const plugAtUs = optTime(c, o.plugAtUs, `${f}.plugAtUs`, 0);
  const unplugAtUs = optTime(c, o.unplugAtUs, `${f}.unplugAtUs`, 1);
  if (unplugAtUs !== null && unplugAtUs <= (plugAtUs ?? 0)) {
    c.fail(`${f}.unplugAtUs`, `must be later than plugAtUs (${plugAtUs ?? 0}), got ${unplugAtUs}`);
  }
  const edidNak = c.bool(o.edidNak, `${f}.edidNak`, false);
  const auxNak = c.bool(o.auxNak, `${f}.auxNak`, false);
  if (auxNak && connector !== 'dp') c.fail(`${f}.auxNak`, `only a "dp" monitor has an AUX channel to NAK (connector is ${show(connector)})`);

  const edid = buildEdid({ manufacturer, product, serial, week, year, name, widthMm, heightMm, connector: connector as Connector, modes });
  return {
    name, port: port as DdiPort, connector: connector as Connector, edid, modes, plugAtUs, unplugAtUs, edidNak, auxNak,
    manufacturer, product, serial, widthMm, heightMm,
  };
}

function optTime(c: JsonChecker, v: unknown, field: string, min: number): number | null {
  if (v === undefined || v === null) return null;
  return c.int(v, field, undefined, min, MAX_EVENT_US);
}

function sameTiming(a: Timing, b: Timing): boolean {
  for (const k of TIMING_FIELDS) if (a[k] !== b[k]) return false;
  return true;
}

function parseMode(c: JsonChecker, raw: unknown, f: string): DisplayMode {
  if (typeof raw === 'string') return { ...standard(c, raw, f), preferred: false };
  const o = c.obj(raw, f, MODE_FIELDS);
  const preferred = c.bool(o.preferred, `${f}.preferred`, false);
  if (o.standard !== undefined) {
    const extra = TIMING_FIELDS.find((k) => o[k] !== undefined);
    if (extra !== undefined) c.fail(`${f}.${extra}`, 'give either "standard" or full timings, not both');
    return { ...standard(c, c.str(o.standard, `${f}.standard`), `${f}.standard`), preferred };
  }
  const L = DTD_LIMITS;
  const pixelClockKHz = c.int(o.pixelClockKHz, `${f}.pixelClockKHz`, undefined, 10, L.maxPixelClockKHz);
  if (pixelClockKHz % 10 !== 0) c.fail(`${f}.pixelClockKHz`, `must be a multiple of 10 (the EDID stores 10 kHz units), got ${pixelClockKHz}`);
  const hActive = c.int(o.hActive, `${f}.hActive`, undefined, 1, L.maxActiveOrBlank);
  const hSyncStart = c.int(o.hSyncStart, `${f}.hSyncStart`, undefined, hActive, hActive + L.maxHSync);
  const hSyncEnd = c.int(o.hSyncEnd, `${f}.hSyncEnd`, undefined, hSyncStart + 1, hSyncStart + L.maxHSync);
  const hTotal = c.int(o.hTotal, `${f}.hTotal`, undefined, Math.max(hSyncEnd, hActive + 1), hActive + L.maxActiveOrBlank);
  const vActive = c.int(o.vActive, `${f}.vActive`, undefined, 1, L.maxActiveOrBlank);
  const vSyncStart = c.int(o.vSyncStart, `${f}.vSyncStart`, undefined, vActive, vActive + L.maxVSync);
  const vSyncEnd = c.int(o.vSyncEnd, `${f}.vSyncEnd`, undefined, vSyncStart + 1, vSyncStart + L.maxVSync);
  const vTotal = c.int(o.vTotal, `${f}.vTotal`, undefined, Math.max(vSyncEnd, vActive + 1), vActive + L.maxActiveOrBlank);
  if (o.hSyncPositive === undefined) c.fail(`${f}.hSyncPositive`, 'is required (true or false)');
  if (o.vSyncPositive === undefined) c.fail(`${f}.vSyncPositive`, 'is required (true or false)');
  const hSyncPositive = c.bool(o.hSyncPositive, `${f}.hSyncPositive`, false);
  const vSyncPositive = c.bool(o.vSyncPositive, `${f}.vSyncPositive`, false);
  return { pixelClockKHz, hActive, hSyncStart, hSyncEnd, hTotal, vActive, vSyncStart, vSyncEnd, vTotal, hSyncPositive, vSyncPositive, preferred };
}

function standard(c: JsonChecker, name: string, f: string): Timing {
  const m = STANDARD_MODES[name];
  if (m === undefined) c.fail(f, `unknown standard mode ${show(name)} (known: ${Object.keys(STANDARD_MODES).join(', ')}; or give full timings)`);
  return { ...m };
}
