/**
 * The display end to end: the drm-flip compositor on redox-drm (Rust,
 * compiled to wasm) on the intel-display model. What the trace's frames
 * hold is what the client drew (checked pixel by pixel from PNGs that
 * `simrun export --frames` writes), a broken flip is a FUNCTIONAL difference
 * naming the frame, and the HTML report shows it in headless Chromium.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../src/machine/run.js';
import { drmFlipResultOf, type DrmFlipResult } from '../../src/workloads/drm-flip.js';
import { patternPixel } from '../../src/workloads/drm/pattern.js';
import { openTrace } from '../../src/trace/reader.js';
import { ROOT, scenarioPath, simrunAsync } from './helpers.js';
import { CHROMIUM, Chromium, SKIP_NOTE, openPage } from '../trace/diff/chromium.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-display-'));
const good = join(dir, 'good.simtrace');
const bad = join(dir, 'bad.simtrace');
let result: DrmFlipResult;
let browser: Chromium | undefined;

/** display-modeset with fewer flips (and optionally the driver's planted unmapped flip), recorded to `path`. */
function runModeset(path: string, flips: number, faultFlip = 0): DrmFlipResult {
  const s = JSON.parse(readFileSync(scenarioPath('display-modeset'), 'utf8')) as Record<string, unknown>;
  s.name = `display-modeset-${flips}-${faultFlip}`;
  (s.workload as Record<string, unknown>).flips = flips;
  if (faultFlip > 0) s.drivers = { 'redox-drm': { faultFlipUnmapped: faultFlip } };
  s.expect = { crashes: 0 };
  const file = join(ROOT, 'fixtures/scenarios', `.tmp-${s.name as string}.json`);
  writeFileSync(file, JSON.stringify(s));
  try {
    const out = runScenario(file, { record: path });
    const r = drmFlipResultOf(out.result.workload);
    if (r === undefined) throw new Error('no drm-flip result');
    return r;
  } finally {
    rmSync(file, { force: true });
  }
}

describe('display end to end: frames in the trace are the pictures the client drew', () => {
  beforeAll(() => {
    result = runModeset(good, 12);
    runModeset(bad, 12, 5);
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the compositor flipped every frame, with no missed vblank and every scanned frame matching', () => {
    expect(result.failedStep).toBeUndefined();
    expect(result.steps).toEqual(['open', 'probe', 'buffers', 'modeset', 'flips', 'disable']);
    expect(result.flips).toBe(12);
    expect(result.missedVblanks).toBe(0);
    expect(result.pixelErrors).toBe(0);
    expect(result.outputs[0]!.pixelChecked).toBe(12);
    const o = result.outputs[0]!;
    expect(o.lastSequence - o.firstSequence).toBe(11);
  });

  it('export --frames writes PNGs that decode to the client\'s picture, pixel by pixel', async () => {
    const out = join(dir, 'png');
    const r = await simrunAsync(ROOT, 'export', '--frames', good, '--pipe', 'A', '-o', out);
    expect(r.code, r.err).toBe(0);
    const files = readdirSync(out).filter((f) => /-pipeA-\d+\.png$/.test(f)).sort();
    const frames = [...openTrace(good).events()].filter((e) => e.kind === 'frame');
    expect(files.length).toBe(frames.length);
    expect(readdirSync(out)).toContain('contact-sheet.png');
    const o = result.outputs[0]!;
    // Frame counter s shows flip n = s - firstSequence + 1 while flipping, frame 0's picture before. After the
    // last flip the last picture stays until the CRTC goes off; then the pipe shows its bottom colour (black).
    const flipOf = (s: number) => Math.max(0, s - o.firstSequence + 1);
    let checked = 0;
    for (const f of files) {
      const counter = Number(/pipeA-(\d+)\.png$/.exec(f)![1]);
      const png = PNG.sync.read(readFileSync(join(out, f)));
      expect([png.width, png.height]).toEqual([640, 480]);
      const at = (x: number, y: number) => {
        const i = (y * png.width + x) * 4;
        return (png.data[i]! << 16) | (png.data[i + 1]! << 8) | png.data[i + 2]!;
      };
      const n = Math.min(12, flipOf(counter));
      if (counter > o.lastSequence && at(0, 0) === 0) {
        for (let i = 0; i < png.data.length; i += 4) if (png.data[i] !== 0 || png.data[i + 1] !== 0 || png.data[i + 2] !== 0) throw new Error(`${f}: after the CRTC went off, not all black`);
        continue;
      }
      for (let y = 0; y < png.height; y++) {
        for (let x = 0; x < png.width; x++) {
          const want = patternPixel(x, y, n, 640, 480);
          if (at(x, y) !== want) throw new Error(`${f} (flip ${n}): pixel (${x}, ${y}) = #${at(x, y).toString(16)}, want #${want.toString(16)}`);
        }
      }
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(13);
  });

  it('a flip whose buffer is not in the GGTT is a FUNCTIONAL difference naming the frame', async () => {
    const r = await simrunAsync(ROOT, 'diff', good, bad);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/FUNCTIONAL/);
    expect(r.out).toMatch(/gfx0 frame \d+ on pipe A differs: [\d,]+ of 307,200 pixels differ/);
    expect(r.out).toMatch(/display\.plane\.surf-unmapped/);
  });

  it.skipIf(CHROMIUM === undefined)(`the HTML report shows expected, actual and difference images of that frame in Chromium${SKIP_NOTE}`, async () => {
    const html = join(dir, 'report.html');
    const r = await simrunAsync(ROOT, 'diff', good, bad, '--html', html);
    expect(r.code).toBe(1);
    browser = Chromium.launch(CHROMIUM!);
    const page = await openPage(browser, html);
    const images = await page.evaluate<{ alt: string; w: number; h: number; lit: number }[]>(`
      [...document.querySelectorAll('img.frame-expected, img.frame-actual, img.frame-difference')].map((img) => {
        const c = document.createElement('canvas');
        c.width = img.naturalWidth; c.height = img.naturalHeight;
        const g = c.getContext('2d');
        g.drawImage(img, 0, 0);
        const d = g.getImageData(0, 0, c.width, c.height).data;
        let lit = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] > 200 && d[i + 1] < 60 && d[i + 2] > 200) lit++;
        return { alt: img.alt, w: img.naturalWidth, h: img.naturalHeight, lit };
      })`);
    expect(images.length).toBeGreaterThanOrEqual(3);
    for (const im of images) expect([im.w, im.h]).toEqual([640, 480]);
    // The difference image is magenta where pixels differ: here, the whole frame went black.
    expect(Math.max(...images.map((i) => i.lit))).toBeGreaterThan(640 * 480 * 0.9);
    expect(images.map((i) => i.alt.split(':')[0])).toEqual(expect.arrayContaining(['expected (a)', 'actual (b)', 'difference (changed pixels in magenta)']));
  });
});
