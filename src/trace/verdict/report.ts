/** Text and JSON of a verdict (check, diff, replay, bisect print these first). */
import chalk from 'chalk';
import type { FailOn, VerdictReport } from './judge.js';
import { verdictFails } from './judge.js';

/** "verdict: TIMING-ONLY" and its headlines, facts first. */
export function formatVerdict(r: VerdictReport, failOn: FailOn = 'functional'): string[] {
  const fails = verdictFails(r, failOn);
  const colour = r.verdict === 'IDENTICAL' ? chalk.green : r.verdict === 'TIMING-ONLY' ? (fails ? chalk.red : chalk.yellow) : chalk.red;
  const why = r.verdict === 'FUNCTIONAL'
    ? ` (${r.differingStreams === 1 ? '1 stream differs' : `${r.differingStreams} streams differ`})`
    : r.verdict === 'TIMING-ONLY' && r.overBudget.length > 0 ? ` (${r.overBudget.length} phase${r.overBudget.length === 1 ? '' : 's'} over the ${r.timingBudgetPct}% budget)` : '';
  const lines = [colour.bold(`verdict: ${r.verdict}`) + why];
  for (const h of r.headlines) lines.push(`  ${r.verdict === 'FUNCTIONAL' ? chalk.yellow(h) : h}`);
  if (r.verdict !== 'IDENTICAL' && r.guestErrors.added.length > 0) {
    lines.push('  guest errors in the actual run:');
    for (const g of r.guestErrors.added) lines.push(`    ${chalk.red(g)}`);
  }
  return lines;
}

/** The verdict as `--json` carries it. */
export function verdictJson(r: VerdictReport, failOn: FailOn = 'functional'): Record<string, unknown> {
  return {
    verdict: r.verdict,
    fails: verdictFails(r, failOn),
    failOn,
    headlines: r.headlines,
    differences: r.differences,
    differingStreams: r.differingStreams,
    timingBudgetPct: r.timingBudgetPct ?? null,
    overBudget: r.overBudget,
    guestErrors: r.guestErrors,
  };
}
