/**
 * One-line descriptions of what differs between two aligned events
 * ("CREATE_IO_SQ: size 64 → 32", "CC: IOSQES 6 → 7"), from the decoded text
 * of both (formatEvent and the device decoders). Only called for the rows
 * shown, never per event.
 */
import { diffArrays } from 'diff';
import type { DeviceDecoder } from '../decoder.js';
import type { TraceHeader } from '../format.js';
import { renamedName, type Item } from './normalise.js';
import { describeFrame, frameName, rateMbps } from '../air.js';
import { describeEthFrame, ethProtocol } from '../eth.js';
import { fourccName, frameHash, pipeName } from '../frames.js';

/** The decoded content of a formatEvent line: without seq, time, source and kind. */
export function contentOf(line: string): string {
  const m = /^\s*\d+\s+\S+ \S+\s+\S+\s+\S+ +/.exec(line);
  return m ? line.slice(m[0].length) : line;
}

function decoderOf(header: TraceHeader, decoders: Map<string, DeviceDecoder>, dev: number): DeviceDecoder | undefined {
  const d = header.devices.find((x) => x.index === dev);
  return d ? decoders.get(d.type) : undefined;
}

function safeDecode(dec: DeviceDecoder | undefined, tag: string, data: Uint8Array): string | undefined {
  if (!dec?.decodeDma) return undefined;
  try {
    return dec.decodeDma(tag, data);
  } catch {
    return undefined;
  }
}

const KV = /^\[?([A-Za-z_][\w.]*)=([^\]]*)\]?,?$/;

/** Token-level differences: "size 64 → 32", "0x1 → 0x2". */
export function tokenChanges(x: string, y: string, max = 6): string[] {
  const ta = x.split(/\s+/).filter((s) => s !== '');
  const tb = y.split(/\s+/).filter((s) => s !== '');
  const comps = diffArrays(ta, tb) ?? [];
  const out: string[] = [];
  let rem: string[] = [];
  const flushPair = (r: string[], a: string[]): void => {
    if (r.length === a.length) {
      for (let i = 0; i < r.length; i++) {
        const p = KV.exec(r[i]!);
        const q = KV.exec(a[i]!);
        if (p && q && p[1] === q[1]) out.push(`${p[1]} ${p[2]} → ${q[2]}`);
        else out.push(`${r[i]} → ${a[i]}`);
      }
    } else {
      out.push(`${r.join(' ') || '∅'} → ${a.join(' ') || '∅'}`);
    }
  };
  for (let i = 0; i < comps.length; i++) {
    const c = comps[i]!;
    if (c.removed) {
      rem = c.value;
      const next = comps[i + 1];
      if (!next?.added) {
        flushPair(rem, []);
        rem = [];
      }
    } else if (c.added) {
      flushPair(rem, c.value);
      rem = [];
    }
  }
  return out.length > max ? [...out.slice(0, max), `… ${out.length - max} more`] : out;
}

/** The part of an access line naming the register ("bar0+0x0014 CC", "cfg 0x004 COMMAND"). */
function accessLabel(content: string): string {
  const m = /^(.*?) (?:<-|->) /.exec(content);
  return m ? m[1]! : content.split(' ')[0]!;
}

export interface DescribeContext {
  headerA: TraceHeader;
  headerB: TraceHeader;
  decoders: Map<string, DeviceDecoder>;
}

/** What differs between two events aligned as "changed"; `la`/`lb` are their formatEvent lines. */
export function describeChange(a: Item, b: Item, la: string, lb: string, ctx: DescribeContext): string {
  const ea = a.ev;
  const eb = b.ev;
  const ca = contentOf(la);
  const cb = contentOf(lb);
  if (ea.kind === 'dma' && eb.kind === 'dma') {
    const parts: string[] = [];
    const da = safeDecode(decoderOf(ctx.headerA, ctx.decoders, ea.dev), ea.tag, ea.data);
    const db = safeDecode(decoderOf(ctx.headerB, ctx.decoders, eb.dev), eb.tag, eb.data);
    let label = ea.tag;
    if (da !== undefined && db !== undefined) {
      const fa = da.split(' ')[0]!;
      const fb = db.split(' ')[0]!;
      if (fa === fb && /^[A-Z_]+$/.test(fa)) label = fa;
      parts.push(...tokenChanges(da, db));
    }
    if (a.len !== b.len) parts.push(`length ${a.len} → ${b.len}`);
    if (a.addr !== b.addr || a.addrNs !== b.addrNs) parts.push(`address ${renamedName(a.addr, a.addrNs)} → ${renamedName(b.addr, b.addrNs)}`);
    if (parts.length === 0) {
      const n = Math.min(ea.data.length, eb.data.length);
      let i = 0;
      while (i < n && ea.data[i] === eb.data[i]) i++;
      parts.push(i < n ? `payload differs from byte ${i}` : `payload differs (beyond byte ${n})`);
    }
    return `${label}: ${parts.join(', ')}`;
  }
  if (ea.kind === 'air' && eb.kind === 'air') {
    const na = frameName(ea.data);
    const nb = frameName(eb.data);
    const parts: string[] = [];
    if (ea.channel !== eb.channel) parts.push(`channel ${ea.channel} → ${eb.channel}`);
    if (ea.signal !== eb.signal) parts.push(`signal ${ea.signal} → ${eb.signal} dBm`);
    if (ea.rate !== eb.rate) parts.push(`rate ${rateMbps(ea.rate)} → ${rateMbps(eb.rate)} Mb/s`);
    if (a.len !== b.len) parts.push(`length ${a.len} → ${b.len}`);
    // Addresses and SSID, as decoded.
    parts.push(...tokenChanges(describeFrame(ea.data), describeFrame(eb.data)));
    const n = Math.min(ea.data.length, eb.data.length);
    let i = 0;
    while (i < n && ea.data[i] === eb.data[i]) i++;
    if (i < n) parts.push(`frame differs from byte ${i}`);
    else if (parts.length === 0) parts.push(`frame differs (beyond byte ${n})`);
    return `${na === nb ? na : `${na} → ${nb}`}: ${parts.join(', ')}`;
  }
  if (ea.kind === 'eth' && eb.kind === 'eth') {
    const da = describeEthFrame(ea.data);
    const db = describeEthFrame(eb.data);
    const parts: string[] = [];
    if (a.len !== b.len) parts.push(`length ${a.len} → ${b.len}`);
    parts.push(...tokenChanges(da, db));
    const n = Math.min(ea.data.length, eb.data.length);
    let i = 0;
    while (i < n && ea.data[i] === eb.data[i]) i++;
    if (i < n) parts.push(`frame differs from byte ${i}`);
    else if (parts.length === 0) parts.push(`frame differs (beyond byte ${n})`);
    return `${ethProtocol(ea.data).toUpperCase()} frame: ${parts.join(', ')}`;
  }
  if (ea.kind === 'frame' && eb.kind === 'frame') {
    // The pixels are not kept in aligned items (see normalise.ts): the hashes say that they differ,
    // the verdict's headline (and the HTML report's images) where and how.
    const parts: string[] = [];
    if (ea.width !== eb.width || ea.height !== eb.height) parts.push(`size ${ea.width}x${ea.height} → ${eb.width}x${eb.height}`);
    if (ea.format !== eb.format) parts.push(`format ${fourccName(ea.format)} → ${fourccName(eb.format)}`);
    const ha = frameHash(ea.data);
    const hb = frameHash(eb.data);
    if (ha !== hb) parts.push(`pixels differ (hash ${ha} → ${hb})`);
    return `frame ${ea.counter} on pipe ${pipeName(ea.pipe)} differs: ${parts.length > 0 ? parts.join(', ') : 'differs'}`;
  }
  let label: string = ea.kind;
  if (ea.kind === 'mmio' || ea.kind === 'pio' || ea.kind === 'cfg') label = accessLabel(ca);
  else if (ea.kind === 'milestone') label = ea.name;
  else if (ea.kind === 'schemeReq') label = `${ea.scheme}: ${ea.op}`;
  else if (ea.kind === 'schemeReply') label = `${ea.scheme}: reply`;
  else if (ea.kind === 'guestErr') label = ea.code;
  const parts = tokenChanges(ca, cb);
  return `${label}: ${parts.length > 0 ? parts.join(', ') : 'differs'}`;
}

/** One line for a row present on one side only. */
export function describeOne(op: 'inserted' | 'removed', line: string): string {
  return `${op === 'inserted' ? 'only in b' : 'only in a'}: ${contentOf(line)}`;
}
