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
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deviceDecoders } from '../../../src/devices/decoders.js';
import { runScenario } from '../../../src/machine/run.js';
import { parseScenario, type Scenario } from '../../../src/machine/scenario.js';
import { runDiff, type DiffRunResult } from '../../../src/trace/diff/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const SCENARIO = join(ROOT, 'fixtures/scenarios/nvme-msix.json');

const CHROMIUM = ['chromium', 'chromium-browser'].find((b) => spawnSync('which', [b], { encoding: 'utf8' }).status === 0);
const SKIP_NOTE = CHROMIUM === undefined ? ' (skipped: chromium is not installed; .ci/run installs it with apt-get)' : '';

/** The viewport of every page (CSS pixels = screenshot pixels: device scale factor 1). */
const VIEW = { width: 1200, height: 800 };
/** Time allowed for one DevTools command, and for a page to load. */
const COMMAND_MS = 20_000;
const LOAD_MS = 30_000;

// ---------------------------------------------------------------------------
// A minimal DevTools protocol client over --remote-debugging-pipe.

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
  sessionId?: string;
}

interface Pending {
  method: string;
  resolve: (r: Record<string, unknown>) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

class Chromium {
  private buf = Buffer.alloc(0);
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Set<(m: CdpMessage) => void>();
  private stderr = '';
  private exited = false;
  private readonly exit: Promise<void>;

  private constructor(private readonly proc: ChildProcess, private readonly profile: string) {
    const toBrowser = proc.stdio[3] as Writable;
    const fromBrowser = proc.stdio[4] as Readable;
    fromBrowser.on('data', (chunk: Buffer) => this.receive(chunk));
    toBrowser.on('error', () => { /* reported through the exit handler */ });
    proc.stderr?.on('data', (b: Buffer) => { this.stderr = (this.stderr + b.toString('utf8')).slice(-4000); });
    this.exit = new Promise((res) => {
      proc.on('exit', (code, signal) => {
        this.exited = true;
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`chromium exited (code ${code}, signal ${signal}) during ${p.method}; stderr:\n${this.stderr}`));
          this.pending.delete(id);
        }
        res();
      });
    });
  }

  static launch(bin: string): Chromium {
    const profile = mkdtempSync(join(tmpdir(), 'simrun-chromium-'));
    const proc = spawn(bin, [
      '--headless=new', '--no-sandbox', '--disable-gpu', '--remote-debugging-pipe',
      `--user-data-dir=${profile}`, '--no-first-run', '--no-default-browser-check',
      '--disable-extensions', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // Same pixels everywhere: sRGB colours exactly as in the CSS, no scrollbars, no font hinting.
      '--force-color-profile=srgb', '--hide-scrollbars', '--font-render-hinting=none',
      `--window-size=${VIEW.width},${VIEW.height}`, 'about:blank',
    ], { stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    return new Chromium(proc, profile);
  }

  private receive(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    let end: number;
    while ((end = this.buf.indexOf(0)) >= 0) {
      const msg = JSON.parse(this.buf.subarray(0, end).toString('utf8')) as CdpMessage;
      this.buf = this.buf.subarray(end + 1);
      if (msg.id !== undefined) {
        const p = this.pending.get(msg.id);
        if (!p) continue;
        this.pending.delete(msg.id);
        clearTimeout(p.timer);
        if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message}`));
        else p.resolve(msg.result ?? {});
      } else {
        for (const l of this.listeners) l(msg);
      }
    }
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`chromium is not running (${method}); stderr:\n${this.stderr}`));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${method}: no answer from chromium in ${COMMAND_MS} ms`));
      }, COMMAND_MS);
      this.pending.set(id, { method, resolve, reject, timer });
      (this.proc.stdio[3] as Writable).write(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }) + '\0');
    });
  }

  on(listener: (m: CdpMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Browser.close, then SIGKILL if it has not exited within 5 s; removes the profile. */
  async close(): Promise<void> {
    if (!this.exited) {
      this.send('Browser.close').catch(() => undefined);
      const killed = new Promise<void>((res) => setTimeout(() => { if (!this.exited) this.proc.kill('SIGKILL'); res(); }, 5000).unref());
      await Promise.race([this.exit, killed]);
      await this.exit;
    }
    rmSync(this.profile, { recursive: true, force: true });
  }
}

interface LoadedPage {
  session: string;
  /** Console errors, uncaught exceptions and browser log errors seen while the page loaded. */
  problems: string[];
  evaluate<T>(expression: string): Promise<T>;
  screenshot(): Promise<PNG>;
}

/** Opens `file` in a new tab of VIEW size and waits for its load event and two animation frames. */
async function openPage(browser: Chromium, file: string): Promise<LoadedPage> {
  const { targetId } = await browser.send('Target.createTarget', { url: 'about:blank' }) as { targetId: string };
  const { sessionId } = await browser.send('Target.attachToTarget', { targetId, flatten: true }) as { sessionId: string };
  const problems: string[] = [];
  let loaded: () => void = () => undefined;
  const load = new Promise<void>((res) => { loaded = res; });
  const stop = browser.on((m) => {
    if (m.sessionId !== sessionId) return;
    const p = m.params ?? {};
    if (m.method === 'Runtime.exceptionThrown') {
      const d = p['exceptionDetails'] as { text: string; exception?: { description?: string } };
      problems.push(`uncaught exception: ${d.exception?.description ?? d.text}`);
    } else if (m.method === 'Runtime.consoleAPICalled' && (p['type'] === 'error' || p['type'] === 'assert')) {
      const args = (p['args'] as { value?: unknown; description?: string }[]).map((a) => String(a.value ?? a.description ?? ''));
      problems.push(`console.${String(p['type'])}: ${args.join(' ')}`);
    } else if (m.method === 'Log.entryAdded') {
      const e = p['entry'] as { level: string; text: string; url?: string };
      if (e.level === 'error') problems.push(`log error: ${e.text}${e.url ? ` (${e.url})` : ''}`);
    } else if (m.method === 'Page.loadEventFired') {
      loaded();
    }
  });
  for (const m of ['Runtime.enable', 'Log.enable', 'Page.enable']) await browser.send(m, {}, sessionId);
  await browser.send('Emulation.setDeviceMetricsOverride', { ...VIEW, deviceScaleFactor: 1, mobile: false }, sessionId);
  const nav = await browser.send('Page.navigate', { url: pathToFileURL(file).href }, sessionId);
  if (typeof nav['errorText'] === 'string') throw new Error(`cannot load ${file}: ${nav['errorText']}`);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    load,
    new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`${file}: no load event in ${LOAD_MS} ms`)), LOAD_MS); }),
  ]).finally(() => clearTimeout(timer));
  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await browser.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, sessionId) as
      { result: { value?: unknown }; exceptionDetails?: { text: string } };
    if (r.exceptionDetails) throw new Error(`evaluate ${expression}: ${r.exceptionDetails.text}`);
    return r.result.value as T;
  };
  // Two frames after load: the page has been laid out and painted.
  await evaluate('new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))');
  stop();
  return {
    session: sessionId,
    problems,
    evaluate,
    async screenshot() {
      const { data } = await browser.send('Page.captureScreenshot', { format: 'png' }, sessionId) as { data: string };
      return PNG.sync.read(Buffer.from(data, 'base64'));
    },
  };
}

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
