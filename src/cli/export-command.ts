import { checkReadableFile } from './paths.js';
import { PCAP_FRAMES, runExportPcap, type PcapFrames } from '../trace/export/index.js';
import { EXIT, UsageError } from './exit.js';

export interface ExportArgs {
  /** `--pcap <trace>` (or a bare `--pcap` with the trace as the positional argument). */
  pcap?: string | undefined;
  trace?: string | undefined;
  out?: string | undefined;
  dev?: string | undefined;
  usec?: boolean | undefined;
  /** `--frames air|eth`: which frames (default: eth for a trace with Ethernet frames, else air). */
  frames?: string | undefined;
}

/**
 * `simrun export --pcap <trace> [-o file] [--dev id] [--usec] [--frames air|eth]`
 * (or `simrun export <trace> --pcap ...`): the trace's
 * 802.11 frames (link type 127) or Ethernet frames (link type 1) as a pcap file. Exit 0 written (an empty pcap with a note
 * when the trace has no frames); 2 the trace is missing, unreadable or
 * damaged (the frames of its intact chunks are still written), or the
 * device or output is bad.
 */
export function exportCommand(a: ExportArgs): number {
  if (a.pcap === undefined) throw new UsageError('export needs a format: simrun export --pcap <trace>');
  if (a.pcap !== '' && a.trace !== undefined) throw new UsageError(`export takes one trace (got ${a.pcap} and ${a.trace})`);
  const trace = a.pcap !== '' ? a.pcap : a.trace;
  if (trace === undefined || trace === '') throw new UsageError('--pcap needs a trace file: simrun export --pcap <trace>');
  if (a.frames !== undefined && !(PCAP_FRAMES as readonly string[]).includes(a.frames)) {
    throw new UsageError(`--frames must be ${PCAP_FRAMES.join(' or ')} (802.11 or Ethernet frames), got ${JSON.stringify(a.frames)}`);
  }
  checkReadableFile(trace, 'trace');
  const r = runExportPcap({
    trace, out: a.out, device: a.dev, resolution: a.usec ? 'us' : 'ns', frames: a.frames as PcapFrames | undefined,
    err: (l) => process.stderr.write(`${l}\n`),
  });
  if (r.out !== undefined) process.stdout.write(`${r.out}: ${r.frames} frame${r.frames === 1 ? '' : 's'}\n`);
  return r.exitCode === 0 ? EXIT.ok : EXIT.badInput;
}
