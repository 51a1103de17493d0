/**
 * The HTML report of `simrun diff --html` (also written by `simrun check
 * --html`) loaded in headless Chromium: no console errors or uncaught
 * exceptions while it loads, the verdict banner in the DOM, and a screenshot
 * in which the banner's colours sit near the top of the page.
 *
 * Chromium is driven over the DevTools protocol on a pipe
 * (`--remote-debugging-pipe`: JSON messages ending in NUL, written to its fd 3
 * and read from its fd 4), so no WebSocket client or browser library is
 * needed. Skipped when no `chromium` is installed (`.ci/run` installs Debian's
 * package with apt-get).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceDecoders } from '../../../src/devices/decoders.js';
import { runScenario } from '../../../src/machine/run.js';
import { parseScenario, type Scenario } from '../../../src/machine/scenario.js';
import { runDiff, type DiffRunResult } from '../../../src/trace/diff/index.js';
import { CHROMIUM, Chromium, SKIP_NOTE, VIEW, openPage } from './chromium.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const SCENARIO = join(ROOT, 'fixtures/scenarios/nvme-msix.json');

// ---------------------------------------------------------------------------
// Pixels.

type Rgb = readonly [number, number, number];
const rgb = (hex: string): Rgb => [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];

function isColour(png: PNG, x: number, y: number, c: Rgb): boolean {
  const i = (y * png.width + x) * 4;
  const d = png.data;
  return Math.abs(d[i]! - c[0]) <= 2 && Math.abs(d[i + 1]! - c[1]) <= 2 && Math.abs(d[i + 2]! - c[2]) <= 2;
}

/** The longest horizontal run of colour `c` in row `y`. */
function longestRun(png: PNG, y: number, c: Rgb): number {
  let best = 0;
  let run = 0;
  for (let x = 0; x < png.width; x++) {
    run = isColour(png, x, y, c) ? run + 1 : 0;
    best = Math.max(best, run);
  }
  return best;
}

interface BannerPixels {
  /** Rows of the banner's top and bottom border (lines of the border colour across most of the page). */
  top: number;
  bottom: number;
  /** Pixels of the fill colour (the verdict label's background) between the two borders. */
  fill: number;
}

/** Finds a box drawn with `border` lines across at least half the page width in the top `within` rows, and counts `fill` inside it. */
function findBanner(png: PNG, border: Rgb, fill: Rgb, within = 300): BannerPixels | undefined {
  const rows: number[] = [];
  for (let y = 0; y < Math.min(within, png.height); y++) if (longestRun(png, y, border) >= png.width / 2) rows.push(y);
  const top = rows[0];
  const bottom = rows[rows.length - 1];
  if (top === undefined || bottom === undefined || bottom - top < 10) return undefined;
  let n = 0;
  for (let y = top + 1; y < bottom; y++) for (let x = 0; x < png.width; x++) if (isColour(png, x, y, fill)) n++;
  return { top, bottom, fill: n };
}

// CSS of report-html.ts: .banner.diff border, .verdict.diff background; .banner.timing border, .verdict.timing background.
const RED_BORDER = rgb('#cf222e');
const RED_FILL = rgb('#ffebe9');
const AMBER_BORDER = rgb('#9a6700');
const YELLOW_FILL = rgb('#fff8c5');
const GREEN_BORDER = rgb('#1a7f37');
const GREEN_FILL = rgb('#dafbe1');

// ---------------------------------------------------------------------------
// The traces and reports.

/** nvme-msix with fewer I/Os (and driver parameters changed), recorded into memory. */
function record(edit: (json: Record<string, Record<string, unknown>>) => void = () => undefined, costs?: (s: Scenario) => Scenario): Uint8Array {
  const json = JSON.parse(readFileSync(SCENARIO, 'utf8')) as Record<string, Record<string, unknown>>;
  json['workload']!['ops'] = 200;
  json['expect']!['minIos'] = 100;
  edit(json);
  let s = parseScenario(json, SCENARIO, 'test');
  if (costs) s = costs(s);
  const out = runScenario(s, { recordToBuffer: true });
  expect(out.result.failures).toEqual([]);
  return out.trace!.buffer!;
}

const dir = mkdtempSync(join(tmpdir(), 'simrun-html-chromium-'));
const functionalHtml = join(dir, 'functional.html');
const timingHtml = join(dir, 'timing.html');
const identicalHtml = join(dir, 'identical.html');
const brokenHtml = join(dir, 'broken.html');
let identical: DiffRunResult;
let functional: DiffRunResult;
let timing: DiffRunResult;
let browser: Chromium | undefined;

describe.skipIf(CHROMIUM === undefined)(`HTML diff report in headless Chromium${SKIP_NOTE}`, () => {
  beforeAll(() => {
    const base = record();
    const smallQueues = record((j) => { (j['drivers']!['nvme'] as Record<string, unknown>)['queueDepth'] = 32; });
    const slow = record(undefined, (s) => {
      const c = s.machine.costs;
      return { ...s, machine: { ...s.machine, costs: { ...c, mmioWritePs: c.mmioWritePs * 4, contextSwitchPs: c.contextSwitchPs * 3 } } };
    });
    functional = runDiff({ a: base, b: smallQueues, decoders: deviceDecoders(), html: functionalHtml, out: () => undefined });
    timing = runDiff({ a: base, b: slow, decoders: deviceDecoders(), html: timingHtml, out: () => undefined });
    identical = runDiff({ a: base, b: base, decoders: deviceDecoders(), html: identicalHtml, out: () => undefined });
    writeFileSync(brokenHtml, '<!doctype html><html><head><title>broken</title></head><body><h1>broken</h1>' +
      '<script>console.error("deliberate console error")</script><script>throw new Error("deliberate throw")</script></body></html>');
    browser = Chromium.launch(CHROMIUM!);
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the reports were written with the expected verdicts', () => {
    expect(functional.htmlPath).toBe(functionalHtml);
    expect(functional.verdict?.verdict).toBe('FUNCTIONAL');
    expect(timing.htmlPath).toBe(timingHtml);
    expect(timing.verdict?.verdict).toBe('TIMING-ONLY');
    expect(identical.verdict?.verdict).toBe('IDENTICAL');
  });

  it('the error check works: a page with console.error and a throw in a script is caught', async () => {
    const page = await openPage(browser!, brokenHtml);
    expect(page.problems).toEqual([
      'console.error: deliberate console error',
      expect.stringMatching(/^uncaught exception: Error: deliberate throw/),
    ]);
  });

  it('a FUNCTIONAL report loads without console errors, with the red banner and its headlines', async () => {
    const page = await openPage(browser!, functionalHtml);
    expect(page.problems).toEqual([]);
    const dom = await page.evaluate<{
      verdict: string | null; cls: string; label: string; headlines: string[]; rect: { top: number; bottom: number; height: number };
      guestErrors: string[];
    }>(`(() => {
      const b = document.getElementById('verdict-banner');
      if (!b) return null;
      const r = b.getBoundingClientRect();
      return {
        verdict: b.getAttribute('data-verdict'), cls: b.className,
        label: b.querySelector('.verdict')?.textContent ?? '',
        headlines: [...b.querySelectorAll('.headlines li')].map((li) => li.textContent),
        rect: { top: r.top, bottom: r.bottom, height: r.height },
        guestErrors: [...document.querySelectorAll('ul.guest-errors li')].map((li) => li.textContent),
      };
    })()`);
    expect(dom).not.toBeNull();
    expect(dom.verdict).toBe('FUNCTIONAL');
    expect(dom.cls).toBe('banner diff');
    expect(dom.label).toBe('verdict: FUNCTIONAL');
    const v = functional.verdict!;
    expect(v.headlines.length).toBeGreaterThan(0);
    expect(dom.headlines).toEqual(v.headlines);
    expect(dom.guestErrors).toEqual(v.guestErrors.actual.filter((g) => !v.guestErrors.expected.includes(g)));

    const png = await page.screenshot();
    expect([png.width, png.height]).toEqual([VIEW.width, VIEW.height]);
    const banner = findBanner(png, RED_BORDER, RED_FILL);
    expect(banner, 'a red-bordered banner in the top 300 px of the screenshot').toBeDefined();
    // The box in the pixels is the banner element: its border rows are the element's first and last rows.
    expect(Math.abs(banner!.top - Math.round(dom.rect.top))).toBeLessThanOrEqual(1);
    expect(Math.abs(banner!.bottom - (Math.round(dom.rect.bottom) - 1))).toBeLessThanOrEqual(1);
    // The "verdict: FUNCTIONAL" label on its pink background (a few thousand pixels, minus the text).
    expect(banner!.fill).toBeGreaterThan(1500);
    expect(findBanner(png, AMBER_BORDER, YELLOW_FILL)).toBeUndefined();
  });

  it('a TIMING-ONLY report loads without console errors and shows the yellow banner', async () => {
    const page = await openPage(browser!, timingHtml);
    expect(page.problems).toEqual([]);
    const dom = await page.evaluate<{ verdict: string | null; cls: string; label: string } | null>(`(() => {
      const b = document.getElementById('verdict-banner');
      return b && { verdict: b.getAttribute('data-verdict'), cls: b.className, label: b.querySelector('.verdict')?.textContent ?? '' };
    })()`);
    expect(dom).toEqual({ verdict: 'TIMING-ONLY', cls: 'banner timing', label: 'verdict: TIMING-ONLY' });
    const png = await page.screenshot();
    const banner = findBanner(png, AMBER_BORDER, YELLOW_FILL);
    expect(banner, 'an amber-bordered banner in the top 300 px of the screenshot').toBeDefined();
    expect(banner!.top).toBeLessThan(200);
    expect(banner!.fill).toBeGreaterThan(1500);
    expect(findBanner(png, RED_BORDER, RED_FILL)).toBeUndefined();
  });

  it('an IDENTICAL report (no divergences, so no stream filter) loads without console errors and shows the green banner', async () => {
    const page = await openPage(browser!, identicalHtml);
    expect(page.problems).toEqual([]);
    const dom = await page.evaluate<{ verdict: string | null; cls: string } | null>(`(() => {
      const b = document.getElementById('verdict-banner');
      return b && { verdict: b.getAttribute('data-verdict'), cls: b.className };
    })()`);
    expect(dom).toEqual({ verdict: 'IDENTICAL', cls: 'banner same' });
    const banner = findBanner(await page.screenshot(), GREEN_BORDER, GREEN_FILL);
    expect(banner, 'a green-bordered banner in the top 300 px of the screenshot').toBeDefined();
    expect(banner!.fill).toBeGreaterThan(1500);
  });
});
