/**
 * `simrun export --pcap`: the 802.11 frames of a trace (`air` records, link
 * type 127) or its Ethernet frames (`eth` records, link type 1) as a pcap
 * file (format: ./pcap.ts). A pcap file has one link type, so one kind is
 * written: `frames` chooses; by default it is `eth` for a trace of format
 * version 4 (which the recorder writes exactly when the trace holds an `eth`
 * record) and `air` otherwise. Frames of the other kind are counted and named
 * in a note. Streams: the trace is read chunk by chunk and
 * packets are written in batches, so memory stays flat whatever the length.
 *
 * Damage is handled as `simrun inspect` handles it: the frames of every intact
 * chunk are written, then each damage report goes to `err` with its byte
 * offset and the exit code is 2. A frame whose bytes were defined in a lost
 * chunk (the event is marked `missing`) is left out and counted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ETH_FORMAT_VERSION, TraceFormatError, type DamageReport } from '../format.js';
import { resolveDevices } from '../inspect.js';
import { openTrace, traceSummary, type EventFilter, type TraceSource } from '../reader.js';
import {
  LINKTYPE_ETHERNET, LINKTYPE_IEEE802_11_RADIOTAP, pcapEthernetPacket, pcapGlobalHeader, pcapPacket, type PcapOptions, type TsResolution,
} from './pcap.js';

/** Which frames a pcap file holds: 802.11 (`air` records) or Ethernet (`eth` records). */
export type PcapFrames = 'air' | 'eth';
export const PCAP_FRAMES: readonly PcapFrames[] = ['air', 'eth'];

export * from './pcap.js';

export interface ExportPcapOptions {
  /** Trace file (or in-memory trace bytes, then `out` is required). */
  trace: TraceSource;
  /** Output file (default: the trace path with .pcap instead of .simtrace). */
  out?: string | undefined;
  /** Only frames of these device ids or types (several, or comma-separated). */
  device?: string | readonly string[] | undefined;
  /** Timestamp resolution (default 'ns'). */
  resolution?: TsResolution | undefined;
  /** Frames to write (default: `eth` for a format version 4 trace, else `air`). */
  frames?: PcapFrames | undefined;
  /** Warnings, notes and errors (stderr in the CLI). */
  err: (line: string) => void;
}

export interface ExportPcapResult {
  /** 0 written from an intact trace; 2 unreadable trace, bad options, unwritable output, or damage (the intact part was written). */
  exitCode: 0 | 2;
  /** Output path, or undefined when nothing was written. */
  out: string | undefined;
  /** Packets written. */
  frames: number;
  /** Which frames were written (undefined when nothing was). */
  kind?: PcapFrames;
  /** Frames of the other kind, not written. */
  otherFrames?: number;
  /** Frames left out because their bytes were in a lost chunk. */
  skipped: number;
  damage: DamageReport[];
}

/** The default output of a trace path: `x.simtrace` -> `x.pcap`, anything else gets `.pcap` appended. */
export function defaultPcapPath(trace: string): string {
  return trace.endsWith('.simtrace') ? `${trace.slice(0, -'.simtrace'.length)}.pcap` : `${trace}.pcap`;
}

const FRAME_NAMES: Record<PcapFrames, string> = { air: '802.11 frames', eth: 'Ethernet frames' };

/** Bytes gathered before one write to the output. */
const BATCH = 256 * 1024;

export function runExportPcap(o: ExportPcapOptions): ExportPcapResult {
  const fail = (msg: string): ExportPcapResult => {
    o.err(`error: ${msg}`);
    return { exitCode: 2, out: undefined, frames: 0, skipped: 0, damage: [] };
  };
  let reader;
  try {
    reader = openTrace(o.trace);
  } catch (e) {
    return fail(e instanceof TraceFormatError ? e.message : `cannot read trace: ${(e as Error).message}`);
  }
  // Default: the Ethernet frames if the trace has any (the format version no longer says: 6 need not hold Eth records).
  let kind: PcapFrames;
  try {
    kind = o.frames ?? (reader.header.formatVersion >= ETH_FORMAT_VERSION && (traceSummary(o.trace).byKind.eth ?? 0) > 0 ? 'eth' : 'air');
  } catch (e) {
    return fail(e instanceof TraceFormatError ? e.message : `cannot read trace: ${(e as Error).message}`);
  }
  const other: PcapFrames = kind === 'air' ? 'eth' : 'air';
  const filter: EventFilter = { kinds: ['air', 'eth'] };
  try {
    const devs = resolveDevices(o.device, reader.header);
    if (devs) filter.devs = devs;
  } catch (e) {
    return fail(`${reader.path}: ${(e as Error).message}`);
  }
  let out = o.out;
  if (out === undefined) {
    if (typeof o.trace !== 'string') return fail('an in-memory trace needs an output path');
    out = defaultPcapPath(o.trace);
  }
  if (typeof o.trace === 'string' && path.resolve(out) === path.resolve(o.trace)) return fail(`${out}: the output would overwrite the trace`);
  let fd: number;
  try {
    fd = fs.openSync(out, 'w');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(`${out}: cannot write the pcap file (${code ?? (e as Error).message})`);
  }
  const opts: PcapOptions = { resolution: o.resolution ?? 'ns', linkType: kind === 'eth' ? LINKTYPE_ETHERNET : LINKTYPE_IEEE802_11_RADIOTAP };
  let frames = 0;
  let skipped = 0;
  let otherFrames = 0;
  try {
    const batch: Uint8Array[] = [pcapGlobalHeader(opts)];
    let pending = batch[0]!.length;
    const flush = (): void => {
      if (batch.length === 0) return;
      const buf = Buffer.concat(batch, pending);
      let off = 0;
      while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
      batch.length = 0;
      pending = 0;
    };
    for (const ev of reader.events(filter)) {
      if (ev.kind !== kind) {
        otherFrames++;
        continue;
      }
      if (ev.missing !== undefined) {
        skipped++;
        continue;
      }
      const p = ev.kind === 'air' ? pcapPacket(ev, opts) : pcapEthernetPacket(ev, opts);
      batch.push(p);
      pending += p.length;
      frames++;
      if (pending >= BATCH) flush();
    }
    flush();
  } catch (e) {
    fs.closeSync(fd);
    return fail(`${out}: writing the pcap file failed: ${(e as Error).message}`);
  }
  fs.closeSync(fd);
  const damage = [...reader.damage];
  for (const d of damage) {
    o.err(`warning: damage at byte ${d.offset} (0x${d.offset.toString(16)})${d.length > 0 ? `, ${d.length} bytes` : ''}: ${d.reason}`);
  }
  if (skipped > 0) o.err(`warning: ${skipped} frame${skipped === 1 ? '' : 's'} left out: ${skipped === 1 ? 'its bytes were' : 'their bytes were'} in a lost chunk`);
  if (damage.length > 0) {
    o.err(`warning: ${reader.path} is damaged: ${out} holds the ${frames} frame${frames === 1 ? '' : 's'} of its intact chunks`);
  } else if (frames === 0) {
    o.err(`note: ${reader.path} has no ${FRAME_NAMES[kind]}${filter.devs ? ' of that device' : ''} (${kind} records); ${out} is an empty pcap file`);
  }
  if (otherFrames > 0) {
    o.err(`note: ${reader.path} also holds ${otherFrames} ${FRAME_NAMES[other]} (${other} records), not written: --frames ${other} writes them`);
  }
  return { exitCode: damage.length > 0 ? 2 : 0, out, frames, kind, otherFrames, skipped, damage };
}
