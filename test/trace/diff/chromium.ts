/**
 * Headless Chromium for the HTML report tests, driven over the DevTools
 * protocol on a pipe (`--remote-debugging-pipe`: JSON messages ending in
 * NUL, written to its fd 3 and read from its fd 4), so no WebSocket client or
 * browser library is needed. `CHROMIUM` is undefined when no `chromium` is
 * installed (`.ci/run` installs Debian's package with apt-get): tests skip then.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { PNG } from 'pngjs';

export const CHROMIUM = ['chromium', 'chromium-browser'].find((b) => spawnSync('which', [b], { encoding: 'utf8' }).status === 0);
export const SKIP_NOTE = CHROMIUM === undefined ? ' (skipped: chromium is not installed; .ci/run installs it with apt-get)' : '';

/** The viewport of every page (CSS pixels = screenshot pixels: device scale factor 1). */
export const VIEW = { width: 1200, height: 800 };
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

export class Chromium {
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

export interface LoadedPage {
  session: string;
  /** Console errors, uncaught exceptions and browser log errors seen while the page loaded. */
  problems: string[];
  evaluate<T>(expression: string): Promise<T>;
  screenshot(): Promise<PNG>;
}

/** Opens `file` in a new tab of VIEW size and waits for its load event and two animation frames. */
export async function openPage(browser: Chromium, file: string): Promise<LoadedPage> {
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

