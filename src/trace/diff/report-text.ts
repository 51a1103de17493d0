/**
 * Text rendering of a diff result: the two traces, header differences, the
 * summary per stream, the first divergences with context (events decoded as
 * `simrun inspect` prints them) and the timing table.
 */
import chalk, { Chalk, type ChalkInstance } from 'chalk';
import { formatTime } from '../../sim/time.js';
import type { DiffResult, DiffRow, Divergence, TimingRow, TraceInfo } from './types.js';

export interface TextOptions {
  /** Force colours on or off (default: chalk's detection of the terminal). */
  color?: boolean;
  /** Divergences printed (default: all in the result). */
  maxDivergences?: number;
}

const num = (n: number): string => n.toLocaleString('en-US');

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** Both values clipped to about `n` characters around where they start to differ. */
function clipPair(a: string, b: string, n: number): [string, string] {
  if (a.length <= n && b.length <= n) return [a, b];
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 24);
  const cut = (s: string): string => `${from > 0 ? '…' : ''}${s.slice(from, from + n)}${s.length > from + n ? '…' : ''}`;
  return [cut(a), cut(b)];
}

/** A timing value for humans: a duration, or a count. */
export function formatPhaseValue(v: number | null, unit: 'ps' | 'count'): string {
  if (v === null) return '-';
  return unit === 'ps' ? formatTime(v) : num(v);
}

/** "+12.5%", "-3.0%", "0.0%", "-" */
export function formatPct(p: number | null): string {
  if (p === null) return '-';
  return `${p > 0 ? '+' : ''}${p.toFixed(1)}%`;
}

function traceLine(label: string, t: TraceInfo): string {
  return `  ${label}  ${t.path}  ${t.scenario} seed ${t.seed}  ${num(t.events)} events  ends ${formatTime(t.endTime)}` +
    (t.damage.length > 0 ? `  (${t.damage.length} damage report${t.damage.length === 1 ? '' : 's'})` : '');
}

function rowLines(r: DiffRow, c: ChalkInstance): string[] {
  switch (r.op) {
    case 'same': {
      const bs = r.b && r.a && r.b.seq !== r.a.seq ? c.dim(`  (b#${r.b.seq})`) : '';
      return [c.dim(`      ${r.a?.text ?? ''}`) + bs];
    }
    case 'removed':
      return [c.red(`    - ${r.a!.text}`)];
    case 'inserted':
      return [c.green(`    + ${r.b!.text}`)];
    case 'changed':
      return [
        c.yellow(`    ~a ${r.a!.text}`),
        c.yellow(`    ~b ${r.b!.text}`),
        ...(r.detail ? [c.yellow.bold(`         ${r.detail}`)] : []),
      ];
  }
}

function divergenceLines(d: Divergence, c: ChalkInstance): string[] {
  const where = (seq: number | null, time: number | null, side: string): string =>
    seq === null ? `${side} -` : `${side}#${seq} ${formatTime(time ?? 0)}`;
  const counts = [
    d.changed ? `${d.changed} changed` : '', d.inserted ? `${d.inserted} inserted` : '', d.removed ? `${d.removed} removed` : '',
  ].filter((x) => x !== '').join(', ');
  const out = [
    c.bold(`#${d.index} ${d.stream}`) + `  ${where(d.aSeq, d.aTime, 'a')} / ${where(d.bSeq, d.bTime, 'b')}  (${counts})`,
    `    ${c.yellow(d.what)}`,
  ];
  for (const r of d.rows) out.push(...rowLines(r, c));
  if (d.omittedRows > 0) out.push(c.dim(`    … ${num(d.omittedRows)} more divergent row${d.omittedRows === 1 ? '' : 's'} not shown`));
  if (d.logs.a.length > 0 || d.logs.b.length > 0) {
    out.push(c.underline('    driver log before it'));
    for (const l of d.logs.a) out.push(c.dim(`     a ${l}`));
    for (const l of d.logs.b) out.push(c.dim(`     b ${l}`));
  }
  return out;
}

function timingLines(rows: TimingRow[], c: ChalkInstance): string[] {
  if (rows.length === 0) return [c.dim('  no timing phases found')];
  const sw = Math.max(6, ...rows.map((r) => r.source.length));
  const pw = Math.max(5, ...rows.map((r) => r.phase.length));
  const out = [c.bold(`  ${pad('source', sw)}  ${pad('phase', pw)}  ${pad('a', 14, true)}  ${pad('b', 14, true)}  ${pad('change', 9, true)}`)];
  for (const r of rows) {
    const pct = formatPct(r.changePct);
    const big = r.changePct !== null && Math.abs(r.changePct) >= 5;
    const pctC = big ? (r.unit === 'ps' ? (r.changePct! > 0 ? c.red(pad(pct, 9, true)) : c.green(pad(pct, 9, true))) : c.yellow(pad(pct, 9, true))) : pad(pct, 9, true);
    out.push(`  ${pad(r.source, sw)}  ${pad(r.phase, pw)}  ${pad(formatPhaseValue(r.a, r.unit), 14, true)}  ${pad(formatPhaseValue(r.b, r.unit), 14, true)}  ${pctC}`);
  }
  return out;
}

/** The report as lines of text. */
export function renderText(r: DiffResult, opts: TextOptions = {}): string[] {
  const c: ChalkInstance = opts.color === undefined ? chalk : new Chalk({ level: opts.color ? 1 : 0 });
  const out: string[] = [];
  if (r.error !== undefined) {
    out.push(c.red(`error: ${r.error}`));
    return out;
  }
  out.push(c.bold('simrun diff'));
  if (r.a) out.push(traceLine('a', r.a));
  if (r.b) out.push(traceLine('b', r.b));
  if (r.header.length > 0) {
    out.push('', c.bold('header differences'));
    for (const h of r.header) {
      const [x, y] = clipPair(h.a, h.b, 72);
      out.push(`  ${h.field}: ${x} ${c.dim('→')} ${y}`);
    }
  }
  out.push('');
  const t = r.totals;
  if (r.identical) {
    out.push(c.green.bold(`structure: IDENTICAL`) + ` (${num(t.same)} events aligned)`);
  } else {
    out.push(c.red.bold('structure: DIFFERENT') +
      ` (${num(t.divergences)} divergence${t.divergences === 1 ? '' : 's'}: ${num(t.changed)} changed, ${num(t.inserted)} inserted, ` +
      `${num(t.removed)} removed; ${num(t.same)} same)`);
  }
  out.push('');
  const sw = Math.max(6, ...r.streams.map((s) => s.source.length));
  const kw = Math.max(4, ...r.streams.map((s) => s.kind.length + (s.structural ? 0 : 10)));
  const cols = ['a', 'b', 'same', 'changed', 'inserted', 'removed'];
  out.push(c.bold(`  ${pad('source', sw)}  ${pad('kind', kw)}${cols.map((x) => `  ${pad(x, 9, true)}`).join('')}`));
  for (const s of r.streams) {
    const vals = [s.a, s.b, s.same, s.changed, s.inserted, s.removed].map((v) => `  ${pad(num(v), 9, true)}`).join('');
    const line = `  ${pad(s.source, sw)}  ${pad(s.kind + (s.structural ? '' : ' (context)'), kw)}${vals}`;
    const differs = s.changed + s.inserted + s.removed > 0;
    out.push(!s.structural ? c.dim(line) : differs ? c.red(line) : line);
  }
  if (r.divergences.length > 0) {
    const n = Math.min(opts.maxDivergences ?? r.divergences.length, r.divergences.length);
    out.push('', c.bold(`first divergences (${n} of ${num(t.divergences)})`));
    for (const d of r.divergences.slice(0, n)) out.push(...divergenceLines(d, c), '');
    if (out[out.length - 1] === '') out.pop();
  }
  out.push('', c.bold('timing'));
  out.push(...timingLines(r.timing, c));
  const damage = [...(r.a?.damage ?? []).map((d) => ['a', d] as const), ...(r.b?.damage ?? []).map((d) => ['b', d] as const)];
  if (damage.length > 0) {
    out.push('', c.red.bold('damage (exit code 2)'));
    for (const [side, d] of damage) out.push(c.red(`  ${side}: byte ${d.offset} (0x${d.offset.toString(16)}): ${d.reason}`));
  }
  return out;
}
