/**
 * The HTML diff report of two traces whose display frames differ, loaded in
 * headless Chromium: for a differing frame, the expected, actual and
 * difference images load (naturalWidth > 0), and the difference image is
 * magenta exactly where pixels differ (read back through a canvas). Skipped
 * when no `chromium` is installed (`.ci/run` installs it).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDiff, type DiffRunResult } from '../../../src/trace/diff/index.js';
import { renderHtml } from '../../../src/trace/diff/report-html.js';
import { CHROMIUM, Chromium, SKIP_NOTE, openPage } from './chromium.js';
import { frameTrace, pattern } from '../frame-helpers.js';

const W = 64;
const H = 48;
/** Pixels changed in frame 5 of the actual run. */
const CHANGED: readonly [number, number][] = [[10, 4], [11, 4], [12, 4], [40, 30], [63, 47]];
/** Frame 9 differs too, in one pixel. */
const CHANGED_9: readonly [number, number][] = [[0, 0]];

function edited(n: number, at: readonly [number, number][]): Uint8Array {
  const d = pattern(W, H, n);
  for (const [x, y] of at) {
    const o = (y * W + x) * 4;
    d[o] = d[o]! ^ 0xff; d[o + 1] = d[o + 1]! ^ 0x55;
  }
  return d;
}

const dir = mkdtempSync(join(tmpdir(), 'simrun-frames-html-'));
const html = join(dir, 'frames.html');
let diff: DiffRunResult;
let browser: Chromium | undefined;

describe('HTML diff report: differing frames', () => {
  beforeAll(() => {
    const a = frameTrace({ frames: 12, width: W, height: H });
    const b = frameTrace({
      frames: 12, width: W, height: H,
      picture: (n) => (n === 5 ? edited(5, CHANGED) : n === 9 ? edited(9, CHANGED_9) : pattern(W, H, n)),
    });
    diff = runDiff({ a, b, decoders: new Map(), html, out: () => undefined });
  });

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the report names the frame and embeds three PNG images for it', () => {
    expect(diff.exitCode).toBe(1);
    expect(diff.verdict!.verdict).toBe('FUNCTIONAL');
    expect(diff.verdict!.headlines[0]).toMatch(/^display0 frame 5 on pipe A differs: 5 of 3,072 pixels differ, first at \(10, 4\)/);
    // No frames section without differing frames.
    expect(renderHtml(diff.result)).not.toContain('frame-difference');
  });

  describe.skipIf(CHROMIUM === undefined)(`in headless Chromium${SKIP_NOTE}`, () => {
    beforeAll(() => {
      browser = Chromium.launch(CHROMIUM!);
    });

    it('expected, actual and difference images load; the difference is magenta exactly at the changed pixels', async () => {
      const page = await openPage(browser!, html);
      expect(page.problems).toEqual([]);
      const r = await page.evaluate<{
        sections: { frame: string | null; differing: string | null; title: string; imgs: { cls: string; complete: boolean; w: number; h: number }[] }[];
        magenta: [number, number][][];
        same: boolean[];
      }>(`(async () => {
        const secs = [...document.querySelectorAll('section.frame-diff')];
        const pixels = async (img) => {
          await img.decode();
          const c = document.createElement('canvas');
          c.width = img.naturalWidth; c.height = img.naturalHeight;
          const g = c.getContext('2d');
          g.drawImage(img, 0, 0);
          return g.getImageData(0, 0, c.width, c.height);
        };
        const magenta = [];
        const same = [];
        for (const s of secs) {
          const d = await pixels(s.querySelector('img.frame-difference'));
          const hits = [];
          for (let i = 0; i < d.width * d.height; i++) {
            const o = i * 4;
            if (d.data[o] === 255 && d.data[o + 1] === 0 && d.data[o + 2] === 255) hits.push([i % d.width, Math.floor(i / d.width)]);
          }
          magenta.push(hits);
          const e = await pixels(s.querySelector('img.frame-expected'));
          const a = await pixels(s.querySelector('img.frame-actual'));
          const [x, y] = hits[0] ?? [0, 0];
          const o = (y * e.width + x) * 4;
          same.push(e.data[o] === a.data[o] && e.data[o + 1] === a.data[o + 1] && e.data[o + 2] === a.data[o + 2]);
        }
        return {
          sections: secs.map((s) => ({
            frame: s.getAttribute('data-frame'), differing: s.getAttribute('data-differing'), title: s.querySelector('h3').textContent,
            imgs: [...s.querySelectorAll('img')].map((i) => ({ cls: i.className, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight })),
          })),
          magenta, same,
        };
      })()`);
      expect(r.sections.map((s) => [s.frame, s.differing, s.title])).toEqual([
        ['5', '5', 'display0: frame 5 on pipe A'],
        ['9', '1', 'display0: frame 9 on pipe A'],
      ]);
      for (const s of r.sections) {
        expect(s.imgs.map((i) => i.cls)).toEqual(['frame-expected', 'frame-actual', 'frame-difference']);
        for (const i of s.imgs) {
          expect(i.complete).toBe(true);
          expect(i.w).toBe(W);
          expect(i.h).toBe(H);
        }
      }
      // Non-blank where pixels differ, and only there.
      expect(r.magenta[0]!.sort((p, q) => p[1] - q[1] || p[0] - q[0])).toEqual([...CHANGED]);
      // At a changed pixel the expected and actual images differ.
      expect(r.same).toEqual([false, false]);
      expect(r.magenta[1]).toEqual([...CHANGED_9]);
    });
  });
});
