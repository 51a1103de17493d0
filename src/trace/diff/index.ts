/**
 * `simrun diff <a> <b>`: aligns two traces per device and kind, reports the
 * structural differences (summary per stream, first divergences with decoded
 * context) and compares the timing of each device's phases. Text (default),
 * `json` (one JSON object) and `html` (one self-contained file). See
 * docs/DIFF.md.
 *
 * Exit codes: 0 the structures are identical (timing may differ); 1 they
 * differ; 2 a trace cannot be read (missing file, bad magic, unsupported
 * version, unreadable header), is damaged (the intact chunks were still
 * diffed and the report printed), or the options are bad.
 */
import * as fs from 'node:fs';
import { diffTraces, type DiffEngineOptions } from './engine.js';
import { renderHtml, type HtmlOptions } from './report-html.js';
import { frameImages } from './frame-images.js';
import { renderText } from './report-text.js';
import type { DiffResult } from './types.js';
import { judgeTraces, verdictFails, type FailOn, type VerdictReport } from '../verdict/judge.js';
import type { IgnoreRules } from '../verdict/collect.js';
import { formatVerdict, verdictJson } from '../verdict/report.js';

export interface DiffOptions extends DiffEngineOptions {
  /** Print one JSON object (the DiffResult) instead of text. */
  json?: boolean;
  /** Also write a self-contained HTML report to this file. */
  html?: string;
  /** Aligned rows rendered in the HTML report (default 2000). */
  htmlRows?: number;
  /** Force colours on or off in text output (default: chalk's detection). */
  color?: boolean;
  out: (line: string) => void;
  /** Error messages (default: `out`). */
  err?: (line: string) => void;
  /** What makes the exit code 1: a functional change (default) or any timing change too. */
  failOn?: FailOn;
  /** Per-phase latency budget in percent. */
  timingBudgetPct?: number;
  /** Left out of the functional comparison. */
  ignore?: IgnoreRules;
  /** The verdict of these two traces when the caller has it already (check): not judged again. */
  verdict?: VerdictReport;
}

export interface DiffRunResult {
  exitCode: 0 | 1 | 2;
  result: DiffResult;
  /** The verdict (undefined when a trace could not be read). */
  verdict?: VerdictReport;
  /** The HTML file written, if any. */
  htmlPath?: string;
}

/** Divergences kept for the HTML report when one is requested (its row budget decides how many render). */
const HTML_DIVERGENCES = 200;

export function runDiff(opts: DiffOptions): DiffRunResult {
  const err = opts.err ?? opts.out;
  const shown = opts.maxDivergences ?? 10;
  const keep = opts.html !== undefined ? Math.max(shown, HTML_DIVERGENCES) : shown;
  const result = diffTraces({ ...opts, maxDivergences: keep });
  if (result.error !== undefined) {
    if (opts.json) opts.out(JSON.stringify(result));
    err(`error: ${result.error}`);
    return { exitCode: 2, result };
  }
  let verdict: VerdictReport;
  if (opts.verdict !== undefined) verdict = opts.verdict;
  else try {
    const vo: Parameters<typeof judgeTraces>[3] = {};
    if (opts.timingBudgetPct !== undefined) vo.timingBudgetPct = opts.timingBudgetPct;
    if (opts.ignore !== undefined) vo.ignore = opts.ignore;
    if (opts.device !== undefined) vo.device = opts.device;
    if (opts.kind !== undefined) vo.kind = opts.kind;
    verdict = judgeTraces(opts.a, opts.b, opts.decoders, vo);
  } catch (e) {
    err(`error: ${(e as Error).message}`);
    return { exitCode: 2, result };
  }
  const failOn = opts.failOn ?? 'functional';
  result.verdict = verdictJson(verdict, failOn) as DiffResult['verdict'];
  let htmlPath: string | undefined;
  if (opts.html !== undefined) {
    try {
      const ho: HtmlOptions = opts.htmlRows !== undefined ? { maxRows: opts.htmlRows } : {};
      // Differing display frames: expected, actual and a difference image, for the first few.
      const refs = verdict.differences.flatMap((d) => {
        const f = d.frame;
        if (f === undefined) return [];
        const more = (f.alsoDiffer ?? []).map((counter) => ({ device: f.device, pipe: f.pipe, counter }));
        return f.status === 'differs' ? [f, ...more] : more;
      });
      if (refs.length > 0) {
        try {
          ho.frames = frameImages(opts.a, opts.b, refs);
        } catch (e) {
          err(`warning: cannot show the differing frames: ${(e as Error).message}`);
        }
      }
      fs.writeFileSync(opts.html, renderHtml(result, ho));
      htmlPath = opts.html;
    } catch (e) {
      err(`error: cannot write ${opts.html}: ${(e as Error).message}`);
      return { exitCode: 2, result };
    }
  }
  const forOutput: DiffResult = keep > shown ? { ...result, divergences: result.divergences.slice(0, shown) } : result;
  if (opts.json) opts.out(JSON.stringify(forOutput));
  else {
    for (const l of formatVerdict(verdict, failOn)) opts.out(l);
    opts.out('');
    const textOpts = opts.color !== undefined ? { color: opts.color } : {};
    for (const line of renderText(forOutput, textOpts)) opts.out(line);
    if (htmlPath !== undefined) opts.out(`html report: ${htmlPath}`);
  }
  // Damage (2) wins; otherwise the verdict decides: a timing-only change passes unless failOn is 'timing'.
  const exitCode = result.exitCode === 2 ? 2 : verdictFails(verdict, failOn) ? 1 : 0;
  const ret: DiffRunResult = { exitCode, result: forOutput, verdict };
  if (htmlPath !== undefined) ret.htmlPath = htmlPath;
  return ret;
}

export { diffTraces, type DiffEngineOptions } from './engine.js';
export { renderText, type TextOptions } from './report-text.js';
export { renderHtml, type HtmlOptions } from './report-html.js';
export { DEFAULT_ALIGN, type AlignParams } from './align.js';
export type * from './types.js';
