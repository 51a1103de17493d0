/**
 * `simrun inspect`: one line per event (or one JSON object per line), decoded
 * through the device decoders, with filters, then the damage found.
 *
 * Exit codes: 0 all good; 1 the trace was read but damage was found (the
 * events of every intact chunk were still shown); 2 the trace cannot be read
 * at all (missing file, bad magic, unsupported version, unreadable header)
 * or the options are bad (unknown kind or device).
 */
import { formatTime } from '../sim/time.js';
import type { DeviceDecoder } from './decoder.js';
import { TraceFormatError, type DamageReport, type TraceHeader } from './format.js';
import { openTrace, type EventFilter, type EventKind, type SeqEvent, type TraceSource } from './reader.js';
import type { TraceEvent } from '../sim/tracer.js';
import { channelFreq, describeFrame, frameName, rateMbps, typeSubtype } from './air.js';
import { describeEthFrame, ethMac, ethProtocol } from './eth.js';
import { describeFrameEvent, fourccName, frameHash, pipeName } from './frames.js';

export interface InspectOptions {
  /** Trace file (or in-memory trace bytes). */
  path: TraceSource;
  /** Device ids or types (e.g. "disk0" or its type); several may be given, or comma-separated. */
  device?: string | readonly string[];
  /** Kinds: mmio, pio, cfg, dma, intx, msi, scheme (= schemeReq + schemeReply), schemeReq, schemeReply, milestone, log, guestErr, proc, air. */
  kind?: string | readonly string[];
  /** Inclusive time range, ps. */
  fromTime?: number;
  toTime?: number;
  /** Inclusive sequence range. */
  fromSeq?: number;
  toSeq?: number;
  /** Stop after this many events. */
  limit?: number;
  /** One JSON object per line (DMA data as hex). */
  json?: boolean;
  /** Decoders by device type. */
  decoders: Map<string, DeviceDecoder>;
  out: (line: string) => void;
  /** Error messages (default: `out`). */
  err?: (line: string) => void;
}

export interface InspectResult {
  /** 0 clean; 2 unreadable, or damaged (intact chunks were still shown and the damage named by byte offset). */
  exitCode: 0 | 2;
  shown: number;
  damage: DamageReport[];
}

const KIND_ALIASES: Record<string, readonly EventKind[]> = {
  mmio: ['mmio'], pio: ['pio'], cfg: ['cfg'], dma: ['dma'], intx: ['intx'], msi: ['msi'],
  scheme: ['schemeReq', 'schemeReply'], schemereq: ['schemeReq'], schemereply: ['schemeReply'],
  milestone: ['milestone'], log: ['log'], guesterr: ['guestErr'], proc: ['proc'], air: ['air'], eth: ['eth'],
  frame: ['frame'], frames: ['frame'],
};

/** Names accepted by `kind`. */
export const INSPECT_KINDS: readonly string[] =
  ['mmio', 'pio', 'cfg', 'dma', 'intx', 'msi', 'scheme', 'schemeReq', 'schemeReply', 'milestone', 'log', 'guestErr', 'proc', 'air', 'eth', 'frame'];

function splitList(v: string | readonly string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const parts = (typeof v === 'string' ? [v] : [...v]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
  return parts.length > 0 ? parts : undefined;
}

/** Parses kind names; throws a message naming the bad one. */
export function parseKinds(v: string | readonly string[] | undefined): EventKind[] | undefined {
  const names = splitList(v);
  if (!names) return undefined;
  const kinds = new Set<EventKind>();
  for (const n of names) {
    const k = KIND_ALIASES[n.toLowerCase()];
    if (!k) throw new Error(`unknown event kind '${n}' (kinds: ${INSPECT_KINDS.join(', ')})`);
    for (const x of k) kinds.add(x);
  }
  return [...kinds];
}

/** Device indices matching ids or types; throws a message listing the devices if one matches nothing. */
export function resolveDevices(v: string | readonly string[] | undefined, header: TraceHeader): number[] | undefined {
  const names = splitList(v);
  if (!names) return undefined;
  const out = new Set<number>();
  for (const n of names) {
    const hits = header.devices.filter((d) => d.id === n || d.type === n);
    if (hits.length === 0) {
      const list = header.devices.map((d) => `${d.id} (${d.type})`).join(', ') || 'none';
      throw new Error(`no device '${n}' in this trace (devices: ${list})`);
    }
    for (const d of hits) out.add(d.index);
  }
  return [...out];
}

// ---------------------------------------------------------------------------
// Formatting

const devCache = new WeakMap<TraceHeader, Map<number, TraceHeader['devices'][number]>>();
function deviceOf(header: TraceHeader, dev: number): TraceHeader['devices'][number] | undefined {
  let m = devCache.get(header);
  if (!m) {
    m = new Map(header.devices.map((d) => [d.index, d]));
    devCache.set(header, m);
  }
  return m.get(dev);
}

function hexN(v: number, digits: number): string {
  if (!Number.isFinite(v)) return String(v);
  const s = Math.abs(v).toString(16).padStart(digits, '0');
  return v < 0 ? `-0x${s}` : `0x${s}`;
}

function bytesHex(d: Uint8Array, max = d.length): string {
  let s = '';
  const n = Math.min(max, d.length);
  for (let i = 0; i < n; i++) s += (i > 0 ? ' ' : '') + d[i]!.toString(16).padStart(2, '0');
  return s;
}

function compactHex(d: Uint8Array): string {
  let s = '';
  for (let i = 0; i < d.length; i++) s += d[i]!.toString(16).padStart(2, '0');
  return s;
}

/** Calls into a decoder, which is someone else's code: a throw becomes "?". */
function safe<T>(f: () => T): T | '?' {
  try {
    return f();
  } catch {
    return '?';
  }
}

/** Type-0 PCI configuration header register names (PCI Local Bus spec). */
const CFG_NAMES: Record<number, string> = {
  0x00: 'VENDOR_ID', 0x02: 'DEVICE_ID', 0x04: 'COMMAND', 0x06: 'STATUS', 0x08: 'REVISION_CLASS', 0x09: 'CLASS_PROG',
  0x0a: 'SUBCLASS', 0x0b: 'CLASS', 0x0c: 'CACHE_LINE', 0x0d: 'LATENCY', 0x0e: 'HEADER_TYPE', 0x0f: 'BIST',
  0x10: 'BAR0', 0x14: 'BAR1', 0x18: 'BAR2', 0x1c: 'BAR3', 0x20: 'BAR4', 0x24: 'BAR5', 0x28: 'CARDBUS_CIS',
  0x2c: 'SUBSYS_VENDOR_ID', 0x2e: 'SUBSYS_ID', 0x30: 'ROM_BAR', 0x34: 'CAP_PTR', 0x3c: 'INT_LINE', 0x3d: 'INT_PIN',
  0x3e: 'MIN_GNT', 0x3f: 'MAX_LAT',
};

function eventContent(ev: TraceEvent, header: TraceHeader, decoders: Map<string, DeviceDecoder>): string {
  const decoderOf = (dev: number): DeviceDecoder | undefined => {
    const d = deviceOf(header, dev);
    return d ? decoders.get(d.type) : undefined;
  };
  switch (ev.kind) {
    case 'mmio': {
      const dec = decoderOf(ev.dev);
      const name = dec ? safe(() => dec.regName(ev.bar, ev.offset, ev.size)) : undefined;
      const fields = dec?.regFields ? safe(() => dec.regFields!(ev.bar, ev.offset, ev.value, ev.write)) : undefined;
      return `bar${ev.bar}+${hexN(ev.offset, 4)}${name ? ` ${name}` : ''} ${ev.write ? '<-' : '->'} ${hexN(ev.value, ev.size * 2)}` +
        `${fields ? ` [${fields}]` : ''} (${ev.size}B cpu${ev.core})`;
    }
    case 'pio':
      return `port ${hexN(ev.port, 4)} ${ev.write ? '<-' : '->'} ${hexN(ev.value, ev.size * 2)} (${ev.size}B cpu${ev.core})`;
    case 'cfg': {
      const name = CFG_NAMES[ev.offset];
      return `cfg ${hexN(ev.offset, 3)}${name ? ` ${name}` : ''} ${ev.write ? '<-' : '->'} ${hexN(ev.value, ev.size * 2)} (${ev.size}B cpu${ev.core})`;
    }
    case 'dma': {
      const dec = decoderOf(ev.dev);
      const text = dec?.decodeDma ? safe(() => dec.decodeDma!(ev.tag, ev.data)) : undefined;
      const dir = ev.write ? 'to' : 'from';
      const body = text ?? (ev.data.length > 0
        ? `data=${bytesHex(ev.data, 16)}${ev.data.length > 16 ? ` (+${ev.data.length - 16} B)` : ''}` : '');
      return `${ev.tag} ${ev.data.length} B ${dir} ${hexN(ev.addr, 12)}${body ? `: ${body}` : ''}`;
    }
    case 'intx':
      return `gsi ${ev.gsi} ${ev.level ? 'assert' : 'deassert'} (level ${ev.level})`;
    case 'msi':
      return `cpu${ev.core} vector ${ev.vector} (${hexN(ev.vector, 2)}) addr ${hexN(ev.addr, 8)} data ${hexN(ev.data, 4)}`;
    case 'schemeReq':
      return `${ev.scheme}: ${ev.op} req#${ev.reqId} a=${hexN(ev.a, 1)} b=${hexN(ev.b, 1)}`;
    case 'schemeReply':
      return `${ev.scheme}: reply req#${ev.reqId} result=${ev.result}`;
    case 'milestone':
      return `${ev.name} a=${hexN(ev.a, 1)} b=${hexN(ev.b, 1)}`;
    case 'log':
      return `[${ev.level}] ${ev.text}`;
    case 'guestErr':
      return `${ev.code}: ${ev.message}`;
    case 'proc':
      return `${ev.event} ${ev.name}${ev.detail ? ` (${ev.detail})` : ''}`;
    case 'air': {
      const f = channelFreq(ev.channel);
      return `ch ${ev.channel}${f > 0 ? ` (${f} MHz)` : ''} ${ev.signal} dBm ${rateMbps(ev.rate)} Mb/s ${ev.data.length} B ${describeFrame(ev.data)}`;
    }
    case 'eth':
      return `${ev.port > 0 ? `port ${ev.port} ` : ''}${ev.data.length} B ${ethMac(ev.data, 6) ?? '?'} > ${ethMac(ev.data, 0) ?? '?'} ${describeEthFrame(ev.data)}`;
    case 'frame':
      return describeFrameEvent(ev);
  }
}

function kindLabel(ev: TraceEvent): string {
  switch (ev.kind) {
    case 'mmio':
    case 'pio':
    case 'cfg':
    case 'dma':
      return `${ev.kind}.${ev.write ? 'w' : 'r'}`;
    case 'air':
      return ev.tx ? 'air.tx' : 'air.rx';
    case 'eth':
      return ev.tx ? 'eth.tx' : 'eth.rx';
    default:
      return ev.kind;
  }
}

function sourceLabel(ev: TraceEvent, header: TraceHeader): string {
  if ('dev' in ev) return deviceOf(header, ev.dev)?.id ?? `dev${ev.dev}`;
  return `pid${ev.pid}`;
}

/** One line: seq, time, device (or pid), kind, decoded content. */
export function formatEvent(ev: SeqEvent, header: TraceHeader, decoders: Map<string, DeviceDecoder>): string {
  const line = `${String(ev.seq).padStart(8)} ${formatTime(ev.time).padStart(14)}  ${sourceLabel(ev, header).padEnd(10)} ` +
    `${kindLabel(ev).padEnd(11)} ${eventContent(ev, header, decoders)}`;
  return ev.missing ? `${line} [missing ${ev.missing}]` : line;
}

/** The event as a JSON-ready object: DMA data as hex, the device id alongside its index. */
export function eventToJson(ev: SeqEvent, header: TraceHeader): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ev)) o[k] = v instanceof Uint8Array ? (ev.kind === 'frame' ? undefined : compactHex(v)) : v;
  if ('dev' in ev) o.device = deviceOf(header, ev.dev)?.id ?? null;
  if (ev.kind === 'dma') o.length = ev.data.length;
  if (ev.kind === 'air') {
    o.length = ev.data.length;
    o.frame = frameName(ev.data);
    o.typeSubtype = typeSubtype(ev.data);
    o.freq = channelFreq(ev.channel);
  }
  if (ev.kind === 'eth') {
    o.length = ev.data.length;
    o.protocol = ethProtocol(ev.data);
    o.summary = describeEthFrame(ev.data);
  }
  if (ev.kind === 'frame') {
    // The pixels are megabytes: their hash and length stand for them (`simrun export --frames` writes them).
    delete o.data;
    o.pipeName = pipeName(ev.pipe);
    o.fourcc = fourccName(ev.format);
    o.length = ev.data.length;
    o.hash = frameHash(ev.data);
  }
  return o;
}

function damageLine(d: DamageReport): string {
  return `damage at byte ${d.offset} (0x${d.offset.toString(16)})${d.length > 0 ? `, ${d.length} bytes` : ''}: ${d.reason}`;
}

export function runInspect(opts: InspectOptions): InspectResult {
  const err = opts.err ?? opts.out;
  let reader;
  try {
    reader = openTrace(opts.path);
  } catch (e) {
    err(`error: ${e instanceof TraceFormatError ? e.message : `cannot read trace: ${(e as Error).message}`}`);
    return { exitCode: 2, shown: 0, damage: [] };
  }
  const filter: EventFilter = {};
  try {
    const kinds = parseKinds(opts.kind);
    if (kinds) filter.kinds = kinds;
    const devs = resolveDevices(opts.device, reader.header);
    if (devs) filter.devs = devs;
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return { exitCode: 2, shown: 0, damage: [] };
  }
  if (opts.fromTime !== undefined) filter.fromTime = opts.fromTime;
  if (opts.toTime !== undefined) filter.toTime = opts.toTime;
  if (opts.fromSeq !== undefined) filter.fromSeq = opts.fromSeq;
  if (opts.toSeq !== undefined) filter.toSeq = opts.toSeq;
  const limit = opts.limit ?? Infinity;
  let shown = 0;
  try {
    if (limit > 0) {
      for (const ev of reader.events(filter)) {
        opts.out(opts.json ? JSON.stringify(eventToJson(ev, reader.header)) : formatEvent(ev, reader.header, opts.decoders));
        if (++shown >= limit) break;
      }
    }
  } catch (e) {
    err(`error: reading ${reader.path} failed: ${(e as Error).message}`);
    return { exitCode: 2, shown, damage: [...reader.damage] };
  }
  const damage = [...reader.damage];
  for (const d of damage) opts.out(opts.json ? JSON.stringify({ damage: d }) : damageLine(d));
  // A damaged trace is bad input (exit 2) even though every intact chunk was shown.
  return { exitCode: damage.length > 0 ? 2 : 0, shown, damage };
}
