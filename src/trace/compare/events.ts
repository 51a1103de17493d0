import type { SeqEvent } from '../reader.js';
import { frameType, frameSubtype } from '../air.js';
import { ethProtocol } from '../eth.js';

/** Kinds that are the device boundary proper (what replay checks and injects). */
export const BOUNDARY_KINDS = new Set(['mmio', 'pio', 'cfg', 'dma', 'intx', 'msi']);

/** Same length and bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Same event apart from time and sequence: every field, DMA bytes included.
 * `missing` payloads (definition lost to damage) compare by length only.
 */
export function sameEvent(a: SeqEvent, b: SeqEvent): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'mmio': { const o = b as typeof a; return a.write === o.write && a.dev === o.dev && a.bar === o.bar && a.offset === o.offset && a.size === o.size && a.value === o.value; }
    case 'pio': { const o = b as typeof a; return a.write === o.write && a.dev === o.dev && a.port === o.port && a.size === o.size && a.value === o.value; }
    case 'cfg': { const o = b as typeof a; return a.write === o.write && a.dev === o.dev && a.offset === o.offset && a.size === o.size && a.value === o.value; }
    case 'dma': {
      const o = b as typeof a;
      if (a.write !== o.write || a.dev !== o.dev || a.addr !== o.addr || a.tag !== o.tag) return false;
      if (a.missing !== undefined || o.missing !== undefined) return a.data.length === o.data.length;
      return sameBytes(a.data, o.data);
    }
    case 'intx': { const o = b as typeof a; return a.dev === o.dev && a.gsi === o.gsi && a.level === o.level; }
    case 'msi': { const o = b as typeof a; return a.dev === o.dev && a.addr === o.addr && a.data === o.data && a.core === o.core && a.vector === o.vector; }
    case 'schemeReq': { const o = b as typeof a; return a.pid === o.pid && a.scheme === o.scheme && a.op === o.op && a.reqId === o.reqId && a.a === o.a && a.b === o.b; }
    case 'schemeReply': { const o = b as typeof a; return a.pid === o.pid && a.scheme === o.scheme && a.reqId === o.reqId && a.result === o.result; }
    case 'milestone': { const o = b as typeof a; return a.dev === o.dev && a.name === o.name && a.a === o.a && a.b === o.b; }
    case 'log': { const o = b as typeof a; return a.pid === o.pid && a.level === o.level && a.text === o.text; }
    case 'guestErr': { const o = b as typeof a; return a.dev === o.dev && a.code === o.code && a.message === o.message; }
    case 'proc': { const o = b as typeof a; return a.pid === o.pid && a.event === o.event && a.name === o.name && a.detail === o.detail; }
    case 'air': {
      const o = b as typeof a;
      if (a.dev !== o.dev || a.tx !== o.tx || a.channel !== o.channel || a.signal !== o.signal || a.rate !== o.rate) return false;
      if (a.missing !== undefined || o.missing !== undefined) return a.data.length === o.data.length;
      return sameBytes(a.data, o.data);
    }
    case 'eth': {
      const o = b as typeof a;
      if (a.dev !== o.dev || a.tx !== o.tx || a.port !== o.port) return false;
      if (a.missing !== undefined || o.missing !== undefined) return a.data.length === o.data.length;
      return sameBytes(a.data, o.data);
    }
    case 'frame': {
      const o = b as typeof a;
      if (a.dev !== o.dev || a.pipe !== o.pipe || a.counter !== o.counter || a.width !== o.width || a.height !== o.height || a.format !== o.format) return false;
      if (a.missing !== undefined || o.missing !== undefined) return a.data.length === o.data.length;
      return a.data === o.data || Buffer.compare(a.data, o.data) === 0;
    }
  }
}

/**
 * Same "place": the same kind of access to the same register / target, so a
 * difference is in the value (or the address, for DMA). 802.11 frames: the
 * same radio, direction and frame type/subtype.
 */
export function sameShape(a: SeqEvent, b: SeqEvent): boolean {
  if (a.kind !== b.kind) return false;
  switch (a.kind) {
    case 'mmio': { const o = b as typeof a; return a.write === o.write && a.dev === o.dev && a.bar === o.bar && a.offset === o.offset; }
    case 'pio': { const o = b as typeof a; return a.write === o.write && a.dev === o.dev && a.port === o.port; }
    case 'cfg': { const o = b as typeof a; return a.write === o.write && a.dev === o.dev && a.offset === o.offset; }
    case 'dma': { const o = b as typeof a; return a.write === o.write && a.dev === o.dev && a.tag === o.tag; }
    case 'intx': case 'msi': return (a as { dev: number }).dev === (b as { dev: number }).dev;
    case 'schemeReq': case 'schemeReply': return (a as { scheme: string }).scheme === (b as { scheme: string }).scheme;
    case 'milestone': return a.name === (b as typeof a).name;
    case 'log': case 'guestErr': case 'proc': return true;
    case 'air': {
      // Same radio, direction and frame type/subtype: a difference is in the frame's fields, channel, signal or rate.
      const o = b as typeof a;
      return a.dev === o.dev && a.tx === o.tx && frameType(a.data) === frameType(o.data) && frameSubtype(a.data) === frameSubtype(o.data);
    }
    case 'eth': {
      // Same NIC port, direction and protocol (ARP, ICMP, UDP, ...): a difference is in the frame's fields.
      const o = b as typeof a;
      return a.dev === o.dev && a.tx === o.tx && a.port === o.port && ethProtocol(a.data) === ethProtocol(o.data);
    }
    case 'frame': {
      // The same pipe's frame of the same number: a difference is in its pixels (or size, format).
      const o = b as typeof a;
      return a.dev === o.dev && a.pipe === o.pipe && a.counter === o.counter;
    }
  }
}

/** The device an event belongs to, or -1 (kernel, processes). */
export function eventDev(e: SeqEvent): number {
  return 'dev' in e ? e.dev : -1;
}
