/**
 * `simrun diff --html`: one self-contained HTML file (inline CSS and JS, no
 * network, no external fonts or images). On top: the two traces, header
 * differences, the verdict, the summary per stream and the timing table; then
 * an overview of both timelines with every divergence marked (a on the upper
 * line, b on the lower, joined where they are the same divergence); then the
 * divergences, each as the two timelines side by side, row by row aligned,
 * divergent rows highlighted and the differing tokens marked. The number of
 * rows rendered is capped (`maxRows`) so the file stays small.
 */
import { diffArrays } from 'diff';
import { formatTime } from '../../sim/time.js';
import { formatPct, formatPhaseValue } from './report-text.js';
import type { DiffResult, DiffRow, Divergence, RowSide } from './types.js';
import type { FrameImages } from './frame-images.js';

export interface HtmlOptions {
  /** Aligned rows rendered over all divergences (default 2000). */
  maxRows?: number;
  title?: string;
  /** Extra sections under the verdict (for `check`: the run's stall diagnosis, expectation failures). */
  notes?: { title: string; lines: string[] }[];
  /** Differing display frames, shown as expected / actual / difference images. */
  frames?: FrameImages[];
}

/** The differing frames side by side: expected, actual, and the difference (changed pixels in magenta). */
function framesHtml(frames: readonly FrameImages[]): string {
  const fig = (cls: string, caption: string, src: string, f: FrameImages): string =>
    `<figure><img class="${cls}" src="${src}" width="${f.width}" height="${f.height}" alt="${esc(`${caption}: ${f.title}`)}"><figcaption>${esc(caption)}</figcaption></figure>`;
  return frames.map((f, i) => `<section class="frame-diff" id="frame${i + 1}" data-device="${esc(f.device)}" data-pipe="${f.pipe}" data-frame="${f.counter}" data-differing="${f.differing}">
<h3>${esc(f.device)}: ${esc(f.title)}</h3><p class="what">${esc(f.detail)}</p>
<div class="frames">${fig('frame-expected', 'expected (a)', f.expected, f)}${fig('frame-actual', 'actual (b)', f.actual, f)}${fig('frame-difference', 'difference (changed pixels in magenta)', f.difference, f)}</div></section>`).join('\n');
}

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const num = (n: number): string => n.toLocaleString('en-US');

interface Parsed {
  seq: string;
  time: string;
  source: string;
  kind: string;
  content: string;
}

/** Splits a formatEvent line into its columns. */
function parseLine(side: RowSide): Parsed {
  const m = /^\s*(\d+)\s+(\S+ \S+)\s+(\S+)\s+(\S+) +(.*)$/.exec(side.text);
  if (!m) return { seq: String(side.seq), time: formatTime(side.time), source: '', kind: '', content: side.text };
  return { seq: m[1]!, time: m[2]!, source: m[3]!, kind: m[4]!, content: m[5]! };
}

/** Content with the tokens that differ from `other` wrapped in <mark>. */
function markTokens(content: string, other: string, removedSide: boolean): string {
  const ta = content.split(' ');
  const tb = other.split(' ');
  const comps = diffArrays(removedSide ? ta : tb, removedSide ? tb : ta) ?? [];
  const out: string[] = [];
  for (const c of comps) {
    if (removedSide ? c.added : c.removed) continue;
    const words = c.value.map(esc).join(' ');
    out.push((removedSide ? c.removed : c.added) ? `<mark>${words}</mark>` : words);
  }
  return out.join(' ');
}

function cells(side: RowSide | undefined, content: string | undefined): string {
  if (!side) return '<td class="seq"></td><td class="time"></td><td class="kind"></td><td class="ev empty"></td>';
  const p = parseLine(side);
  return `<td class="seq">${esc(p.seq)}</td><td class="time">${esc(p.time)}</td><td class="kind">${esc(p.kind)}</td>` +
    `<td class="ev">${content ?? esc(p.content)}</td>`;
}

function rowHtml(r: DiffRow): string {
  const sym = { same: '', changed: '~', inserted: '+', removed: '−' }[r.op];
  let ca: string | undefined;
  let cb: string | undefined;
  if (r.op === 'changed' && r.a && r.b) {
    const pa = parseLine(r.a).content;
    const pb = parseLine(r.b).content;
    ca = markTokens(pa, pb, true);
    cb = markTokens(pb, pa, false);
  }
  const detail = r.detail ? `<tr class="detail"><td colspan="9">${esc(r.detail)}</td></tr>` : '';
  return `<tr class="${r.op}">${cells(r.a, ca)}<td class="op">${sym}</td>${cells(r.b, cb)}</tr>${detail}`;
}

function divergenceHtml(d: Divergence, rows: DiffRow[], cut: boolean): string {
  const at = (seq: number | null, t: number | null, s: string): string => (seq === null ? `${s} —` : `${s}#${seq} at ${formatTime(t ?? 0)}`);
  const counts = [d.changed ? `${d.changed} changed` : '', d.inserted ? `${d.inserted} inserted` : '', d.removed ? `${d.removed} removed` : '']
    .filter((x) => x !== '').join(', ');
  const logs = d.logs.a.length + d.logs.b.length > 0
    ? `<details><summary>driver log before it</summary><pre>${[...d.logs.a.map((l) => `a ${l}`), ...d.logs.b.map((l) => `b ${l}`)].map(esc).join('\n')}</pre></details>`
    : '';
  const more = d.omittedRows > 0 ? `<p class="more">… ${num(d.omittedRows)} more divergent rows not shown</p>` : '';
  const cutNote = cut ? '<p class="more">… rows cut here (row budget of this file reached)</p>' : '';
  return `<section class="div" id="d${d.index}" data-stream="${esc(d.stream)}">
<h3><a href="#d${d.index}">#${d.index}</a> ${esc(d.stream)} <span class="where">${esc(at(d.aSeq, d.aTime, 'a'))} / ${esc(at(d.bSeq, d.bTime, 'b'))}</span> <span class="counts">${esc(counts)}</span></h3>
<p class="what">${esc(d.what)}</p>
<table class="sbs"><colgroup><col class="seq"><col class="time"><col class="kind"><col><col class="op"><col class="seq"><col class="time"><col class="kind"><col></colgroup><thead><tr><th>a seq</th><th>time</th><th>kind</th><th>event in a</th><th></th><th>b seq</th><th>time</th><th>kind</th><th>event in b</th></tr></thead>
<tbody>${rows.map(rowHtml).join('\n')}</tbody></table>${more}${cutNote}${logs}</section>`;
}

function overviewSvg(r: DiffResult): string {
  const endA = r.a?.endTime ?? 0;
  const endB = r.b?.endTime ?? 0;
  const end = Math.max(endA, endB, 1);
  const W = 1000;
  const x = (t: number): number => 20 + (t / end) * (W - 40);
  const ya = 40;
  const yb = 110;
  const color = { changed: '#d08700', inserted: '#1a7f37', removed: '#cf222e', mixed: '#8250df' } as const;
  const parts: string[] = [
    `<line x1="20" y1="${ya}" x2="${x(endA).toFixed(1)}" y2="${ya}" class="lane"/>`,
    `<line x1="20" y1="${yb}" x2="${x(endB).toFixed(1)}" y2="${yb}" class="lane"/>`,
    `<text x="20" y="${ya - 14}">a (${esc(formatTime(endA))})</text>`,
    `<text x="20" y="${yb + 26}">b (${esc(formatTime(endB))})</text>`,
  ];
  for (const m of r.marks) {
    const col = color[m.op];
    if (m.aTime !== null && m.bTime !== null) {
      parts.push(`<line x1="${x(m.aTime).toFixed(1)}" y1="${ya}" x2="${x(m.bTime).toFixed(1)}" y2="${yb}" stroke="${col}" class="join"/>`);
    }
    if (m.aTime !== null) parts.push(`<line x1="${x(m.aTime).toFixed(1)}" y1="${ya - 8}" x2="${x(m.aTime).toFixed(1)}" y2="${ya + 8}" stroke="${col}"/>`);
    if (m.bTime !== null) parts.push(`<line x1="${x(m.bTime).toFixed(1)}" y1="${yb - 8}" x2="${x(m.bTime).toFixed(1)}" y2="${yb + 8}" stroke="${col}"/>`);
  }
  for (const d of r.divergences) {
    const t = d.aTime ?? d.bTime;
    if (t === null) continue;
    const y = d.aTime !== null ? ya : yb;
    parts.push(`<a href="#d${d.index}"><circle cx="${x(t).toFixed(1)}" cy="${y}" r="5" class="pin"><title>#${d.index} ${esc(d.stream)}: ${esc(d.what)}</title></circle></a>`);
  }
  return `<svg viewBox="0 0 ${W} 150" class="overview" role="img" aria-label="divergences on both timelines">${parts.join('')}</svg>`;
}

const CSS = `
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 24px 48px;color:#1f2328;background:#fff}
h1{font-size:22px;margin:18px 0 6px}h2{font-size:17px;margin:26px 0 8px;border-bottom:1px solid #d0d7de}
h3{font-size:14px;margin:0 0 4px}h3 .where{font-weight:normal;color:#57606a;margin-left:8px}h3 .counts{font-weight:normal;margin-left:8px}
table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left;vertical-align:top}th{background:#f6f8fa;position:sticky;top:0}
table.grid td,table.grid th{border:1px solid #d0d7de}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.bad td{background:#ffebe9}tr.ctx td{color:#6e7781}
.verdict{font-size:16px;font-weight:600;padding:6px 10px;display:inline-block;border-radius:6px}
.verdict.same{background:#dafbe1;color:#1a7f37}.verdict.diff{background:#ffebe9;color:#cf222e}.verdict.timing{background:#fff8c5;color:#9a6700}
.banner{margin:8px 0;padding:8px;border-radius:8px;border:1px solid #d0d7de}.banner.diff{border-color:#cf222e}.banner.timing{border-color:#9a6700}.banner.same{border-color:#1a7f37}
.headlines{margin:6px 0 0 0}
.mono,table.sbs,pre{font:12px/1.35 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
table.sbs{width:100%;table-layout:fixed;margin-top:4px}
table.sbs col.seq{width:5.5em}table.sbs col.time{width:7.5em}table.sbs col.kind{width:7em}table.sbs col.op{width:1.6em}
table.sbs td{white-space:pre-wrap;word-break:break-all;border-bottom:1px solid #f0f0f0}
table.sbs td.seq,table.sbs td.time{color:#57606a;text-align:right}
tr.same td{color:#6e7781}tr.changed td{background:#fff8c5}tr.inserted td{background:#dafbe1}tr.removed td{background:#ffebe9}
tr.inserted td.empty,tr.removed td.empty{background:#f6f8fa}
td.op{text-align:center;font-weight:bold}tr.detail td{background:#fff8c5;color:#7d4e00;font-style:italic;padding-left:3em}
mark{background:#f5c400;color:inherit;border-radius:2px}
section.div{margin:18px 0;padding:10px;border:1px solid #d0d7de;border-radius:6px}section.div:target{outline:3px solid #0969da}
.what{margin:0 0 4px;color:#7d4e00;font-weight:600}.more{color:#57606a;margin:4px 0}
svg.overview{width:100%;max-width:1100px;height:auto;background:#f6f8fa;border-radius:6px}
svg .lane{stroke:#57606a;stroke-width:3}svg .join{stroke-width:1;opacity:.35}svg line{stroke-width:2}
svg text{font:12px system-ui,sans-serif;fill:#1f2328}svg .pin{fill:#0969da;opacity:.8;cursor:pointer}
.controls{position:sticky;top:0;background:#fff;padding:6px 0;z-index:2;border-bottom:1px solid #d0d7de}
.frames{display:flex;gap:12px;flex-wrap:wrap;align-items:flex-start}.frames figure{margin:0}
.frames img{max-width:480px;height:auto;image-rendering:pixelated;border:1px solid #d0d7de;display:block}
figcaption{font-size:12px;color:#57606a}section.frame-diff{margin:18px 0;padding:10px;border:1px solid #d0d7de;border-radius:6px}
.controls label{margin-right:14px}.hidden{display:none}body.noctx tr.same{display:none}
`;

const JS = `
(function(){
  var sel=document.getElementById('stream'),ctx=document.getElementById('ctx');
  if(!sel||!ctx)return; // no divergences: no filter controls
  var secs=[].slice.call(document.querySelectorAll('section.div'));
  function apply(){var v=sel.value;secs.forEach(function(s){s.classList.toggle('hidden',v!==''&&s.getAttribute('data-stream')!==v);});}
  sel.addEventListener('change',apply);
  ctx.addEventListener('change',function(){document.body.classList.toggle('noctx',!ctx.checked);});
  var cur=-1;
  document.addEventListener('keydown',function(e){
    if(e.target&&(e.target.tagName==='SELECT'||e.target.tagName==='INPUT'))return;
    var vis=secs.filter(function(s){return !s.classList.contains('hidden');});
    if(!vis.length)return;
    if(e.key==='n'||e.key==='j'){cur=Math.min(vis.length-1,cur+1);}else if(e.key==='p'||e.key==='k'){cur=Math.max(0,cur-1);}else return;
    location.hash=vis[cur].id;
  });
})();
`;

/** The whole HTML document. */
export function renderHtml(r: DiffResult, opts: HtmlOptions = {}): string {
  const budget = opts.maxRows ?? 2000;
  const title = opts.title ?? `simrun diff: ${r.a?.path ?? 'a'} vs ${r.b?.path ?? 'b'}`;
  const h: string[] = [];
  h.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`);
  h.push(`<title>${esc(title)}</title><style>${CSS}</style></head><body>`);
  h.push(`<h1>simrun diff</h1>`);
  if (r.error !== undefined) {
    h.push(`<p class="verdict diff">error: ${esc(r.error)}</p></body></html>`);
    return h.join('\n');
  }
  const v = r.verdict;
  if (v !== undefined) {
    const cls = v.verdict === 'IDENTICAL' ? 'same' : v.verdict === 'TIMING-ONLY' && !v.fails ? 'timing' : 'diff';
    h.push(`<div id="verdict-banner" class="banner ${cls}" data-verdict="${esc(v.verdict)}"><span class="verdict ${cls}">verdict: ${esc(v.verdict)}</span>` +
      ` <span>${v.fails ? 'fails' : 'passes'} with --fail-on ${esc(v.failOn)}</span>`);
    if (v.headlines.length > 0) h.push(`<ul class="headlines">${v.headlines.map((l) => `<li class="mono">${esc(l)}</li>`).join('')}</ul>`);
    h.push('</div>');
    if (v.guestErrors.added.length > 0) {
      h.push(`<h2>Guest errors in b</h2><ul class="guest-errors">${v.guestErrors.added.map((g) => `<li class="mono">${esc(g)}</li>`).join('')}</ul>`);
    }
  }
  if (opts.frames !== undefined && opts.frames.length > 0) {
    h.push(`<h2>Differing frames</h2>`, framesHtml(opts.frames));
  }
  for (const n of opts.notes ?? []) {
    if (n.lines.length === 0) continue;
    h.push(`<h2>${esc(n.title)}</h2><ul class="notes">${n.lines.map((l) => `<li class="mono">${esc(l)}</li>`).join('')}</ul>`);
  }
  const t = r.totals;
  h.push(r.identical
    ? `<p class="verdict same">structure identical — ${num(t.same)} events aligned</p>`
    : `<p class="verdict diff">structure differs — ${num(t.divergences)} divergences: ${num(t.changed)} changed, ${num(t.inserted)} inserted, ${num(t.removed)} removed; ${num(t.same)} same</p>`);
  h.push('<table class="grid"><tr><th></th><th>trace</th><th>scenario</th><th>seed</th><th>events</th><th>ends</th><th>damage</th></tr>');
  for (const [label, x] of [['a', r.a], ['b', r.b]] as const) {
    if (!x) continue;
    h.push(`<tr><th>${label}</th><td class="mono">${esc(x.path)}</td><td>${esc(x.scenario)}</td><td class="n">${x.seed}</td>` +
      `<td class="n">${num(x.events)}</td><td class="n">${esc(formatTime(x.endTime))}</td><td>${x.damage.map((d) => esc(`byte ${d.offset}: ${d.reason}`)).join('<br>')}</td></tr>`);
  }
  h.push('</table>');
  if (r.header.length > 0) {
    h.push('<h2>Header differences</h2><table class="grid"><tr><th>field</th><th>a</th><th>b</th></tr>');
    for (const d of r.header) h.push(`<tr><td>${esc(d.field)}</td><td class="mono">${esc(d.a)}</td><td class="mono">${esc(d.b)}</td></tr>`);
    h.push('</table>');
  }
  h.push('<h2>Summary per device and kind</h2><table class="grid"><tr><th>source</th><th>kind</th><th>a</th><th>b</th><th>same</th><th>changed</th><th>inserted</th><th>removed</th><th>divergences</th></tr>');
  for (const s of r.streams) {
    const bad = s.changed + s.inserted + s.removed > 0;
    const cls = !s.structural ? 'ctx' : bad ? 'bad' : '';
    h.push(`<tr class="${cls}"><td>${esc(s.source)}</td><td>${esc(s.kind)}${s.structural ? '' : ' (context)'}</td>` +
      [s.a, s.b, s.same, s.changed, s.inserted, s.removed, s.divergences].map((v) => `<td class="n">${num(v)}</td>`).join('') + '</tr>');
  }
  h.push('</table>');
  h.push('<h2>Timing</h2>');
  if (r.timing.length === 0) h.push('<p>No timing phases found.</p>');
  else {
    h.push('<table class="grid"><tr><th>source</th><th>phase</th><th>a</th><th>b</th><th>change</th></tr>');
    for (const x of r.timing) {
      const big = x.changePct !== null && Math.abs(x.changePct) >= 5;
      h.push(`<tr class="${big ? 'bad' : ''}"><td>${esc(x.source)}</td><td>${esc(x.phase)}</td><td class="n">${esc(formatPhaseValue(x.a, x.unit))}</td>` +
        `<td class="n">${esc(formatPhaseValue(x.b, x.unit))}</td><td class="n">${esc(formatPct(x.changePct))}</td></tr>`);
    }
    h.push('</table>');
  }
  h.push('<h2>Timelines</h2>', overviewSvg(r));
  h.push(`<p class="more">Each tick is a divergence (amber changed, green inserted, red removed), on a's timeline above and b's below; `
    + `a thin line joins the two positions of the same divergence. Dots link to the divergences listed below.</p>`);

  h.push(`<h2>Divergences</h2>`);
  if (r.divergences.length === 0) h.push('<p>None.</p>');
  else {
    const streams = [...new Set(r.divergences.map((d) => d.stream))].sort();
    h.push(`<div class="controls"><label>stream <select id="stream"><option value="">all</option>${streams.map((s) => `<option>${esc(s)}</option>`).join('')}</select></label>` +
      `<label><input type="checkbox" id="ctx" checked> context rows</label><span class="more">keys: n / p for next / previous</span></div>`);
    let left = budget;
    let shown = 0;
    for (const d of r.divergences) {
      if (left <= 0) break;
      const rows = d.rows.slice(0, left);
      left -= rows.length;
      shown++;
      h.push(divergenceHtml(d, rows, rows.length < d.rows.length));
    }
    const notShown = t.divergences - shown;
    if (notShown > 0) h.push(`<p class="more">${num(notShown)} more divergence${notShown === 1 ? '' : 's'} not rendered (see the summary and --json; raise the limits to see more).</p>`);
  }
  h.push(`<script>${JS}</script></body></html>`);
  return h.join('\n');
}
