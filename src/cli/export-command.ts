import * as path from 'node:path';
import { checkReadableFile, checkWritablePath } from './paths.js';
import { PCAP_FRAMES, runExportPcap, type PcapFrames } from '../trace/export/index.js';
import { runExportFrames } from '../trace/export/frames.js';
import { runExportMmiotrace } from '../trace/export/mmiotrace.js';
import { parsePipe } from '../trace/frames.js';
import { EXIT, UsageError } from './exit.js';
import { runExportQtest } from '../trace/export/qtest.js';

export interface ExportArgs {
  /** `--pcap <trace>` (or a bare `--pcap` with the trace as the positional argument). */
  pcap?: string | undefined;
  trace?: string | undefined;
  out?: string | undefined;
  dev?: string | undefined;
  usec?: boolean | undefined;
  /**
   * With --pcap: `--frames air|eth`, which frames (default: eth for a trace
   * with Ethernet frames, else air). Without: `--frames <trace>`, the trace
   * whose display frames to write as PNGs (or a bare `--frames` with the
   * trace as the positional argument).
   */
  frames?: string | undefined;
  /** `--link air|eth`: the pcap kind (the same as --frames air|eth with --pcap). */
  link?: string | undefined;
  /** PNG export: only this pipe (A, B, ... or 0, 1, ...). */
  pipe?: string | undefined;
  /** PNG export: frame numbers from..to (inclusive). */
  from?: number | undefined;
  to?: number | undefined;
  /** `--mmiotrace <trace>`: the MMIO accesses of one device as a Linux mmiotrace log. */
  mmiotrace?: string | undefined;
  /** `--qtest <trace>` (or a bare `--qtest` with the trace as the positional argument): the driver side as a qtest script. */
  qtest?: string | undefined;
  /** Base of the machine's ECAM window (extended config accesses in a qtest script). */
  ecamBase?: number | undefined;
}

/** The default output of `--qtest`: the trace path with ".qtest" instead of ".simtrace". */
export function defaultQtestPath(trace: string): string {
  return trace.endsWith('.simtrace') ? `${trace.slice(0, -'.simtrace'.length)}.qtest` : `${trace}.qtest`;
}

/** The default output directory of `--frames`: the trace path with "-frames" instead of ".simtrace". */
export function defaultFramesDir(trace: string): string {
  return trace.endsWith('.simtrace') ? `${trace.slice(0, -'.simtrace'.length)}-frames` : `${trace}-frames`;
}

/**
 * `simrun export --pcap <trace> [-o file] [--dev id] [--usec] [--frames|--link air|eth]`
 * (or `simrun export <trace> --pcap ...`): the trace's
 * 802.11 frames (link type 127) or Ethernet frames (link type 1) as a pcap file. Exit 0 written (an empty pcap with a note
 * when the trace has no frames); 2 the trace is missing, unreadable or
 * damaged (the frames of its intact chunks are still written), or the
 * device or output is bad.
 *
 * `simrun export --frames <trace> [--pipe A] [--from n] [--to n] [--dev id] [-o dir]`:
 * the trace's display frames as PNG files and a contact sheet (see
 * src/trace/export/frames.ts). Exit 0 written; 2 bad arguments (unknown
 * pipe, empty range, a trace without frames, an unwritable directory) or a
 * damaged trace.
 */
export function exportCommand(a: ExportArgs): number {
  if (a.qtest !== undefined) return exportQtest(a);
  if (a.mmiotrace !== undefined) return exportMmiotrace(a);
  if (a.pcap === undefined) {
    if (a.frames !== undefined) return exportFrames(a);
    throw new UsageError('export needs a format: simrun export --pcap <trace> (802.11 or Ethernet frames as pcap) or --frames <trace> (display frames as PNG)');
  }
  for (const o of ['pipe', 'from', 'to'] as const) {
    if (a[o] !== undefined) throw new UsageError(`--${o} is an option of the PNG export (--frames <trace>), not of --pcap`);
  }
  if (a.pcap !== '' && a.trace !== undefined) throw new UsageError(`export takes one trace (got ${a.pcap} and ${a.trace})`);
  const trace = a.pcap !== '' ? a.pcap : a.trace;
  if (trace === undefined || trace === '') throw new UsageError('--pcap needs a trace file: simrun export --pcap <trace>');
  if (a.frames !== undefined && a.link !== undefined && a.frames !== a.link) throw new UsageError(`--frames ${a.frames} and --link ${a.link} disagree; give one`);
  const kind = a.link ?? a.frames;
  if (kind !== undefined && !(PCAP_FRAMES as readonly string[]).includes(kind)) {
    throw new UsageError(`--${a.link !== undefined ? 'link' : 'frames'} must be ${PCAP_FRAMES.join(' or ')} with --pcap (802.11 or Ethernet frames), got ${JSON.stringify(kind)}`);
  }
  checkReadableFile(trace, 'trace');
  const r = runExportPcap({
    trace, out: a.out, device: a.dev, resolution: a.usec ? 'us' : 'ns', frames: kind as PcapFrames | undefined,
    err: (l) => process.stderr.write(`${l}\n`),
  });
  if (r.out !== undefined) process.stdout.write(`${r.out}: ${r.frames} frame${r.frames === 1 ? '' : 's'}\n`);
  return r.exitCode === 0 ? EXIT.ok : EXIT.badInput;
}

function exportFrames(a: ExportArgs): number {
  if (a.link !== undefined) throw new UsageError('--link chooses the frames of a pcap export: give --pcap <trace> with it');
  if (a.usec) throw new UsageError('--usec is an option of --pcap, not of the PNG export (--frames <trace>)');
  const f = a.frames ?? '';
  if (f !== '' && a.trace !== undefined) throw new UsageError(`export takes one trace (got ${f} and ${a.trace})`);
  const trace = f !== '' ? f : a.trace;
  if (trace === undefined || trace === '') throw new UsageError('--frames needs a trace file: simrun export --frames <trace> -o <dir>');
  if ((PCAP_FRAMES as readonly string[]).includes(trace) && a.trace === undefined) {
    throw new UsageError(`--frames ${trace} chooses the frames of a pcap export: give --pcap <trace> with it (or --frames <trace> for PNGs of display frames)`);
  }
  let pipe: number | undefined;
  if (a.pipe !== undefined) {
    pipe = parsePipe(a.pipe);
    if (pipe === undefined) throw new UsageError(`--pipe must be a pipe letter (A, B, C, ...) or number, got ${JSON.stringify(a.pipe)}`);
  }
  for (const o of ['from', 'to'] as const) {
    const v = a[o];
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) throw new UsageError(`--${o} must be a frame number (an integer >= 0), got ${String(v)}`);
  }
  if (a.from !== undefined && a.to !== undefined && a.from > a.to) throw new UsageError(`empty frame range: --from ${a.from} is after --to ${a.to}`);
  checkReadableFile(trace, 'trace');
  const outDir = a.out ?? defaultFramesDir(trace);
  const r = runExportFrames({
    trace, outDir, pipe, from: a.from, to: a.to, device: a.dev,
    err: (l) => process.stderr.write(`${l}\n`),
  });
  if (r.files.length > 0) {
    const sheet = r.contactSheet !== undefined ? `, contact sheet ${path.basename(r.contactSheet)}` : '';
    process.stdout.write(`${outDir}: ${r.files.length} frame${r.files.length === 1 ? '' : 's'} as PNG${sheet}\n`);
  }
  return r.exitCode === 0 ? EXIT.ok : EXIT.badInput;
}

/**
 * `simrun export --mmiotrace <trace> [--dev id] [-o file]`: the MMIO accesses
 * of one device as a Linux mmiotrace log (src/trace/export/mmiotrace.ts), which
 * `simrun import --mmiotrace` reads back. Exit 0 written; 2 bad arguments, a
 * trace without MMIO accesses of the device, or a damaged trace.
 */
function exportMmiotrace(a: ExportArgs): number {
  for (const o of ['pcap', 'frames', 'link', 'pipe', 'from', 'to', 'usec'] as const) {
    if (a[o] !== undefined && a[o] !== false) throw new UsageError(`--${o} is not an option of --mmiotrace`);
  }
  const m = a.mmiotrace ?? '';
  if (m !== '' && a.trace !== undefined) throw new UsageError(`export takes one trace (got ${m} and ${a.trace})`);
  const trace = m !== '' ? m : a.trace;
  if (trace === undefined || trace === '') throw new UsageError('--mmiotrace needs a trace file: simrun export --mmiotrace <trace> [--dev id] [-o file]');
  checkReadableFile(trace, 'trace');
  const r = runExportMmiotrace({ trace, out: a.out, device: a.dev, err: (l) => process.stderr.write(`${l}\n`) });
  if (r.out !== undefined) process.stdout.write(`${r.out}: ${r.accesses} MMIO access${r.accesses === 1 ? '' : 'es'}\n`);
  return r.exitCode === 0 ? EXIT.ok : EXIT.badInput;
}

/**
 * `simrun export --qtest <trace> [-o file]`: the trace's driver side as a
 * qtest command script (src/trace/export/qtest.ts). Exit 0 written; 2 bad
 * arguments or a damaged trace (the script of its intact chunks is written).
 */
function exportQtest(a: ExportArgs): number {
  if (a.pcap !== undefined || a.frames !== undefined || a.mmiotrace !== undefined) throw new UsageError('--qtest is an export of its own: give it without --pcap, --frames or --mmiotrace');
  for (const o of ['pipe', 'from', 'to', 'link', 'dev'] as const) {
    if (a[o] !== undefined) throw new UsageError(`--${o} is not an option of the qtest export`);
  }
  if (a.usec) throw new UsageError('--usec is an option of --pcap, not of --qtest');
  const q = a.qtest ?? '';
  if (q !== '' && a.trace !== undefined) throw new UsageError(`export takes one trace (got ${q} and ${a.trace})`);
  const trace = q !== '' ? q : a.trace;
  if (trace === undefined || trace === '') throw new UsageError('--qtest needs a trace file: simrun export --qtest <trace> [-o script]');
  checkReadableFile(trace, 'trace');
  const out = a.out ?? defaultQtestPath(trace);
  checkWritablePath(out, '--out');
  const r = runExportQtest(trace, out, { ecamBase: a.ecamBase ?? 0xe0000000, traceName: trace });
  for (const s of r.skipped.slice(0, 5)) process.stderr.write(`warning: ${s}\n`);
  for (const d of r.damage) process.stderr.write(`${trace}: byte ${d.offset}: ${d.reason} (the script covers the intact chunks)\n`);
  process.stdout.write(`${out}: ${r.commands} commands, ${r.checks} checked replies, ${r.loads} DMA reads preloaded (${r.loadBytes} bytes), ends at ${r.endNs} ns\n`);
  return r.damage.length > 0 ? EXIT.badInput : EXIT.ok;
}
