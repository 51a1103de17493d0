import chalk from 'chalk';
import { formatTime } from '../../sim/time.js';
import type { DeviceDecoder } from '../decoder.js';
import type { TraceHeader } from '../format.js';
import { eventToJson, formatEvent } from '../inspect.js';
import type { SeqEvent } from '../reader.js';
import { frameName, rateMbps } from '../air.js';
import { describeEthFrame, ethProtocol } from '../eth.js';
import { describePixelDiff, fourccName, frameHash, frameStreamName, pipeName } from '../frames.js';
import type { CompareResult, Divergence } from './compare.js';
import type { FunctionalDifference } from '../verdict/judge.js';

export interface ReportContext {
  expectedHeader: TraceHeader;
  actualHeader: TraceHeader;
  decoders: Map<string, DeviceDecoder>;
  /** Labels of the two sides, e.g. "golden" / "re-simulated", "trace" / "driver". */
  expectedLabel: string;
  actualLabel: string;
}

function hex(v: number): string {
  return `0x${(v >>> 0).toString(16).padStart(8, '0')}`;
}

/** Where an event happened, in words: device, register name, BAR and offset. */
export function describePlace(e: SeqEvent, header: TraceHeader, decoders: Map<string, DeviceDecoder>): string {
  const dev = 'dev' in e ? header.devices.find((d) => d.index === e.dev) : undefined;
  const devName = dev?.id ?? ('dev' in e ? `dev${e.dev}` : 'kernel');
  const decoder = dev !== undefined ? decoders.get(dev.type) : undefined;
  switch (e.kind) {
    case 'mmio': {
      const reg = decoder?.regName(e.bar, e.offset, e.size);
      return `${e.write ? 'MMIO write to' : 'MMIO read of'} ${devName} ${reg ?? 'register'} (BAR${e.bar}+0x${e.offset.toString(16)})`;
    }
    case 'cfg': return `config ${e.write ? 'write to' : 'read of'} ${devName} at 0x${e.offset.toString(16)}`;
    case 'pio': return `port ${e.write ? 'write to' : 'read of'} 0x${e.port.toString(16)} (${devName})`;
    case 'dma': return `DMA ${e.write ? 'write to' : 'read from'} memory by ${devName} (${e.tag})`;
    case 'msi': return `MSI from ${devName}`;
    case 'intx': return `INTx ${e.level ? 'assert' : 'deassert'} by ${devName}`;
    case 'milestone': return `${devName} ${e.name}`;
    case 'schemeReq': return `${e.scheme}: ${e.op} request from pid ${e.pid}`;
    case 'schemeReply': return `${e.scheme}: reply to pid ${e.pid}`;
    case 'log': return `log line of pid ${e.pid}`;
    case 'guestErr': return `guest error ${e.code}`;
    case 'proc': return `process ${e.name}`;
    case 'air': return `802.11 ${frameName(e.data)} frame ${e.tx ? 'sent' : 'received'} by ${devName} on channel ${e.channel}`;
    case 'eth': return `Ethernet ${ethProtocol(e.data).toUpperCase()} frame ${e.tx ? 'sent' : 'received'} by ${devName}${e.port > 0 ? ` port ${e.port}` : ''}`;
    case 'frame': return `frame ${e.counter} on pipe ${pipeName(e.pipe)} of ${devName}`;
  }
}

function valueOf(e: SeqEvent): string {
  switch (e.kind) {
    case 'mmio': case 'cfg': case 'pio': return hex(e.value);
    case 'dma': return `${e.data.length} bytes at 0x${e.addr.toString(16)}`;
    case 'msi': return `vector ${e.vector} on core ${e.core}`;
    case 'intx': return `level ${e.level}`;
    case 'schemeReq': return `${e.op} a=0x${e.a.toString(16)} b=0x${e.b.toString(16)}`;
    case 'schemeReply': return `result ${e.result}`;
    case 'log': return JSON.stringify(e.text);
    case 'air': return `${e.data.length} bytes, ${e.signal} dBm, ${rateMbps(e.rate)} Mb/s`;
    case 'eth': return `${e.data.length} bytes: ${describeEthFrame(e.data)}`;
    case 'frame': return `${e.width}x${e.height} ${fourccName(e.format)} hash ${frameHash(e.data)}`;
    default: return '';
  }
}

/** What differs between two 802.11 frames of one radio: "channel 6 → 11, frame differs from byte 22". */
function airChanges(e: SeqEvent & { kind: 'air' }, a: SeqEvent & { kind: 'air' }): string {
  const parts: string[] = [];
  if (e.channel !== a.channel) parts.push(`channel ${e.channel} → ${a.channel}`);
  if (e.signal !== a.signal) parts.push(`signal ${e.signal} → ${a.signal} dBm`);
  if (e.rate !== a.rate) parts.push(`rate ${rateMbps(e.rate)} → ${rateMbps(a.rate)} Mb/s`);
  if (e.data.length !== a.data.length) parts.push(`length ${e.data.length} → ${a.data.length} bytes`);
  const n = Math.min(e.data.length, a.data.length);
  let i = 0;
  while (i < n && e.data[i] === a.data[i]) i++;
  if (i < n) parts.push(`frame differs from byte ${i}${frameName(e.data) !== frameName(a.data) ? ` (${frameName(e.data)} → ${frameName(a.data)})` : ''}`);
  return parts.length > 0 ? parts.join(', ') : 'differs';
}

/** One sentence saying what differs. */
export function whatDiffers(d: Divergence, c: ReportContext): string {
  const e = d.expected;
  const a = d.actual;
  const placeE = e !== undefined ? describePlace(e, c.expectedHeader, c.decoders) : '';
  const placeA = a !== undefined ? describePlace(a, c.actualHeader, c.decoders) : '';
  switch (d.kind) {
    case 'value':
      if (e?.kind === 'air' && a?.kind === 'air' && e.dev === a.dev && e.tx === a.tx) {
        return `${describePlace(e, c.expectedHeader, c.decoders).replace(/ on channel \d+$/, '')}: ${airChanges(e, a)}`;
      }
      if (e?.kind === 'frame' && a?.kind === 'frame' && placeE === placeA) {
        return `${placeE} differs: ${e.missing !== undefined || a.missing !== undefined ? `expected ${valueOf(e)}, got ${valueOf(a)}` : describePixelDiff(e, a)}`;
      }
      if (e !== undefined && a !== undefined && placeE === placeA) return `${placeE}: expected ${valueOf(e)}, got ${valueOf(a)}`;
      return `expected ${placeE} (${e !== undefined ? valueOf(e) : ''}), got ${placeA} (${a !== undefined ? valueOf(a) : ''})`;
    case 'address':
      return `${placeE}: expected address 0x${(e as { addr: number }).addr.toString(16)}, got 0x${(a as { addr: number }).addr.toString(16)}`;
    case 'order':
      return `order: expected ${placeE} first, got ${placeA} first (the two are swapped)`;
    case 'missing':
      return `missing: ${placeE} (${e !== undefined ? valueOf(e) : ''}) did not happen${d.skippedExpected > 1 ? `, nor the ${d.skippedExpected - 1} expected events after it` : ''}`;
    case 'extra':
      return `extra: ${placeA} (${a !== undefined ? valueOf(a) : ''}) was not expected${d.skippedActual > 1 ? `, nor the ${d.skippedActual - 1} events after it` : ''}`;
    case 'timing':
      return `timing: ${placeE} happened at ${formatTime(a?.time ?? 0)}, expected ${formatTime(e?.time ?? 0)}`;
  }
}

/** Text report of a comparison, for terminals. */
export function formatReport(r: CompareResult, c: ReportContext, opts: { limit?: number; listLimit?: number } = {}): string {
  const lines: string[] = [];
  if (r.identical) {
    lines.push(chalk.green(`identical: ${r.expectedEvents} events matched`));
    return lines.join('\n');
  }
  // Groups are the divergences reported; the events behind them stay visible ("3 distinct divergences (10,412 differing events; ...)").
  const events = r.differingEvents ?? r.count;
  const grouped = (r.rawCount ?? r.count) > r.count;
  lines.push(chalk.red.bold(`${r.count} ${grouped ? 'distinct ' : ''}divergence${r.count === 1 ? '' : 's'}`)
    + ` (${events > r.count ? `${thousands(events)} differing events; ` : ''}${r.expectedEvents} ${c.expectedLabel} events, ${r.actualEvents} ${c.actualLabel} events compared)`);
  const sd = r.stateFirstDiffers;
  if (sd !== undefined) {
    const dev = c.expectedHeader.devices.find((d) => d.index === sd.dev)?.id ?? `dev${sd.dev}`;
    lines.push(`device state first differed: ${dev} at ${formatTime(sd.actualTime)} (state digest; ${c.expectedLabel} seq ${sd.expectedSeq}, ${c.actualLabel} seq ${sd.actualSeq}); digests localise, they are not counted`);
  }
  if (r.divergences.length > 1) {
    // Every group on one line, then the first ones in full.
    const listed = r.divergences.slice(0, opts.listLimit ?? 20);
    lines.push('');
    listed.forEach((d, i) => lines.push(`  ${String(i + 1).padStart(2)}. ${groupHeadline(d, c)}`));
    if (r.count > listed.length) lines.push(`      (${r.count - listed.length} more)`);
  }
  r.divergences.slice(0, opts.limit ?? 5).forEach((d, i) => {
    lines.push('');
    lines.push(chalk.bold(`#${i + 1} ${d.kind} at ${formatTime(d.time)}`) + `  ${c.expectedLabel} seq ${d.expected?.seq ?? '-'}, ${c.actualLabel} seq ${d.actual?.seq ?? '-'}`);
    lines.push(`  ${chalk.yellow(groupHeadline(d, c))}`);
    const side = (label: string, before: SeqEvent[], at: SeqEvent | undefined, after: SeqEvent[], header: TraceHeader) => {
      lines.push(chalk.underline(`  ${label}`));
      for (const ev of before) lines.push(chalk.dim(`    ${formatEvent(ev, header, c.decoders)}`));
      lines.push(at !== undefined ? chalk.red(`  > ${formatEvent(at, header, c.decoders)}`) : chalk.red('  > (nothing)'));
      for (const ev of after) lines.push(chalk.dim(`    ${formatEvent(ev, header, c.decoders)}`));
    };
    side(c.expectedLabel, d.before.expected, d.expected, d.after.expected, c.expectedHeader);
    side(c.actualLabel, d.before.actual, d.actual, d.after.actual, c.actualHeader);
    if (d.logs.length > 0) {
      lines.push(chalk.underline('  driver log before the divergence'));
      for (const l of d.logs) lines.push(`    ${formatTime(l.time).padStart(14)} pid ${l.pid} ${l.level} ${l.text}`);
    }
    if (d.processes.length > 0) {
      lines.push(chalk.underline('  processes'));
      lines.push(`    ${d.processes.map((p) => `${p.name}[${p.pid}] ${p.state}`).join(', ')}`);
    }
  });
  const shown = Math.min(r.divergences.length, opts.limit ?? 5);
  if (r.count > shown) lines.push('', `(${r.count - shown} more ${grouped ? 'distinct ' : ''}divergence${r.count - shown === 1 ? '' : 's'} not shown in full)`);
  return lines.join('\n');
}

/** "10412" → "10,412". */
function thousands(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** A group of divergences in one line: "12× <what differs> (first at 2.219 ms, last at 9.800 ms)", or the one divergence. */
export function groupHeadline(d: Divergence, c: ReportContext): string {
  const n = d.occurrences ?? 1;
  const what = whatDiffers(d, c);
  return n > 1 ? `${n}× ${what} (first at ${formatTime(d.time)}, last at ${formatTime(d.lastTime ?? d.time)})` : what;
}

/** JSON-able report. */
export function reportJson(r: CompareResult, c: ReportContext): Record<string, unknown> {
  const ev = (e: SeqEvent | undefined, h: TraceHeader) => (e === undefined ? null : eventToJson(e, h));
  return {
    identical: r.identical,
    count: r.count,
    differingEvents: r.differingEvents ?? r.count,
    rawCount: r.rawCount ?? r.count,
    stateFirstDiffers: r.stateFirstDiffers === undefined ? null : {
      ...r.stateFirstDiffers, device: c.expectedHeader.devices.find((d) => d.index === r.stateFirstDiffers!.dev)?.id ?? null,
    },
    expectedEvents: r.expectedEvents,
    actualEvents: r.actualEvents,
    divergences: r.divergences.map((d) => ({
      kind: d.kind,
      time: d.time,
      what: whatDiffers(d, c),
      occurrences: d.occurrences ?? 1,
      headline: groupHeadline(d, c),
      lastTime: d.lastTime ?? d.time,
      expected: ev(d.expected, c.expectedHeader),
      actual: ev(d.actual, c.actualHeader),
      before: { expected: d.before.expected.map((e) => ev(e, c.expectedHeader)), actual: d.before.actual.map((e) => ev(e, c.actualHeader)) },
      after: { expected: d.after.expected.map((e) => ev(e, c.expectedHeader)), actual: d.after.actual.map((e) => ev(e, c.actualHeader)) },
      logs: d.logs,
      processes: d.processes,
    })),
  };
}

/** The verdict's stream of an event (as src/trace/verdict/collect.ts names them), with its source. */
export function streamOf(e: SeqEvent, header: TraceHeader): { source: string; stream: string } {
  const source = 'dev' in e ? header.devices.find((d) => d.index === e.dev)?.id ?? `dev${e.dev}` : `pid${e.pid}`;
  switch (e.kind) {
    case 'mmio': case 'pio': return { source, stream: 'registers' };
    case 'cfg': return { source, stream: 'config' };
    case 'dma': return { source, stream: `dma:${e.tag}` };
    case 'msi': case 'intx': return { source, stream: 'interrupts' };
    case 'milestone': return { source, stream: 'milestones' };
    case 'guestErr': return { source, stream: 'guest errors' };
    case 'air': return { source, stream: e.tx ? 'air:tx' : 'air:rx' };
    case 'eth': return { source, stream: e.tx ? 'eth:tx' : 'eth:rx' };
    case 'frame': return { source, stream: frameStreamName(e.pipe) };
    case 'schemeReq': case 'schemeReply': return { source, stream: 'requests' };
    case 'log': return { source, stream: 'errors' };
    case 'proc': return { source, stream: 'process' };
  }
}

/** A divergence as a verdict's functional difference: its stream, and one line saying what differs. */
export function divergenceDifference(d: Divergence, c: ReportContext): FunctionalDifference {
  const at = d.expected ?? d.actual;
  const { source, stream } = at === undefined ? { source: '?', stream: 'events' } : streamOf(at, d.expected !== undefined ? c.expectedHeader : c.actualHeader);
  const ev = (e: SeqEvent | undefined, h: TraceHeader) => (e === undefined ? [] : [formatEvent(e, h, c.decoders)]);
  return { source, stream, headline: groupHeadline(d, c), expected: ev(d.expected, c.expectedHeader), actual: ev(d.actual, c.actualHeader) };
}
