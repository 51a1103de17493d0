/**
 * `simrun export --frames`: display frames of a trace as PNG files (decoded
 * back with pngjs and compared pixel by pixel with the frames recorded), the
 * contact sheet, filters, determinism, and bad arguments (exit 2 with a
 * clear message), through the library and the CLI.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { join, resolve } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { GAP, LABEL_H, SHEET_COLUMNS, THUMB_H, THUMB_W, framePngName, runExportFrames } from '../../../src/trace/export/frames.js';
import { tmpDir } from '../helpers.js';
import { frameTrace, pattern, rgbAt } from '../frame-helpers.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const { dir: TMP, cleanup } = tmpDir();
afterAll(cleanup);

const W = 64;
const H = 48;

function write(name: string, buf: Uint8Array): string {
  const p = join(TMP, name);
  fs.writeFileSync(p, buf);
  return p;
}

/** Two pipes: A with frames 0..9 (64x48), B with frames 0..3 (32x24). */
function twoPipes(): Buffer {
  return frameTrace({
    frames: 10,
    before: (t) => {
      const b = new Uint8Array(32 * 24 * 4);
      for (let n = 0; n < 4; n++) {
        b.set(pattern(32, 24, 100 + n));
        t.frame(500_000 + n, 2, 1, n, 32, 24, 0x34325258, b, 0, b.length);
      }
    },
  });
}

function exportTo(trace: string | Uint8Array, out: string, o: { pipe?: number; from?: number; to?: number; device?: string } = {}) {
  const errs: string[] = [];
  const r = runExportFrames({ trace, outDir: out, ...o, err: (l) => errs.push(l) });
  return { ...r, errs };
}

function decode(file: string): PNG {
  return PNG.sync.read(fs.readFileSync(file));
}

function simrun(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/simrun.js'), ...args], {
    cwd: TMP, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' }, maxBuffer: 1 << 26,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('export --frames: PNG files', () => {
  const trace = write('two-pipes.simtrace', twoPipes());

  it('writes one RGB PNG per frame, named <dev>-pipe<P>-<counter>.png, equal pixel by pixel to the frame recorded', () => {
    const out = join(TMP, 'all');
    const r = exportTo(trace, out);
    expect(r.exitCode).toBe(0);
    expect(r.errs).toEqual([]);
    expect(r.files.map((f) => f.slice(out.length + 1))).toEqual([
      ...[0, 1, 2, 3].map((n) => `display0-pipeB-00000${n}.png`),
      ...Array.from({ length: 10 }, (_, n) => `display0-pipeA-${String(n).padStart(6, '0')}.png`),
    ]);
    expect(framePngName('display0', 0, 12)).toBe('display0-pipeA-000012.png');
    for (let n = 0; n < 10; n++) {
      const png = decode(join(out, framePngName('display0', 0, n)));
      expect([png.width, png.height]).toEqual([W, H]);
      const want = pattern(W, H, n);
      let bad = 0;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const o = (y * W + x) * 4;
          const [r0, g0, b0] = rgbAt(want, W, x, y);
          if (png.data[o] !== r0 || png.data[o + 1] !== g0 || png.data[o + 2] !== b0 || png.data[o + 3] !== 255) bad++;
        }
      }
      expect(bad, `frame ${n}`).toBe(0);
    }
    // RGB without alpha: colour type 2 in the IHDR chunk.
    expect(fs.readFileSync(join(out, framePngName('display0', 0, 3)))[25]).toBe(2);
    const b = decode(join(out, framePngName('display0', 1, 2)));
    expect([b.width, b.height]).toEqual([32, 24]);
    expect([b.data[0], b.data[1], b.data[2]]).toEqual(rgbAt(pattern(32, 24, 102), 32, 0, 0));
  });

  it('is deterministic: the same trace gives the same bytes', () => {
    const a = exportTo(trace, join(TMP, 'det-a'));
    const b = exportTo(trace, join(TMP, 'det-b'));
    expect(a.files.length).toBe(b.files.length);
    a.files.forEach((f, i) => expect(Buffer.compare(fs.readFileSync(f), fs.readFileSync(b.files[i]!)), f).toBe(0));
    expect(Buffer.compare(fs.readFileSync(a.contactSheet!), fs.readFileSync(b.contactSheet!))).toBe(0);
  });

  it('writes a contact sheet: thumbnails in a grid, a label under each', () => {
    const r = exportTo(trace, join(TMP, 'sheet'));
    const sheet = decode(r.contactSheet!);
    // 14 frames: 8 per row, 2 rows.
    expect(sheet.width).toBe(SHEET_COLUMNS * (THUMB_W + GAP) + GAP);
    expect(sheet.height).toBe(2 * (THUMB_H + LABEL_H + GAP) + GAP);
    // The first cell holds pipe B frame 0 (32x24: not enlarged, centred in its cell); the ninth, pipe A frame 4
    // (64x48, centred too), at the start of the second row.
    const px = (x: number, y: number): number[] => { const o = (y * sheet.width + x) * 4; return [sheet.data[o]!, sheet.data[o + 1]!, sheet.data[o + 2]!]; };
    expect(px(GAP + 64, GAP + 48)).toEqual(rgbAt(pattern(32, 24, 100), 32, 0, 0));
    expect(px(GAP + 64 + 31, GAP + 48 + 23)).toEqual(rgbAt(pattern(32, 24, 100), 32, 31, 23));
    expect(px(GAP + 63, GAP + 48)).toEqual([0x20, 0x20, 0x20]);
    const row2 = GAP + THUMB_H + LABEL_H + GAP;
    expect(px(GAP + 48, row2 + 36)).toEqual(rgbAt(pattern(W, H, 4), W, 0, 0));
    // The label band under the first cell has light (text) pixels; the gap between cells is background.
    let light = 0;
    for (let y = GAP + THUMB_H; y < GAP + THUMB_H + LABEL_H; y++) for (let x = GAP; x < GAP + THUMB_W; x++) if (px(x, y)[0]! > 0xc0) light++;
    expect(light).toBeGreaterThan(10);
    expect(px(1, 1)).toEqual([0x20, 0x20, 0x20]);
  });

  it('filters by pipe (letter or number), frame range and device', () => {
    const a = exportTo(trace, join(TMP, 'pipeA'), { pipe: 0, from: 3, to: 5 });
    expect(a.exitCode).toBe(0);
    expect(a.files.map((f) => f.split('/').pop())).toEqual(['display0-pipeA-000003.png', 'display0-pipeA-000004.png', 'display0-pipeA-000005.png']);
    const b = exportTo(trace, join(TMP, 'pipeB'), { pipe: 1, device: 'display0' });
    expect(b.files).toHaveLength(4);
    expect(decode(b.contactSheet!).width).toBe(4 * (THUMB_W + GAP) + GAP);
  });

  it('an unchanged screen over many vblanks: every frame written, each the same PNG', () => {
    const still = pattern(W, H, 7);
    const t = write('still.simtrace', frameTrace({ frames: 30, picture: () => still }));
    const r = exportTo(t, join(TMP, 'still'));
    expect(r.files).toHaveLength(30);
    const first = fs.readFileSync(r.files[0]!);
    for (const f of r.files) expect(Buffer.compare(fs.readFileSync(f), first)).toBe(0);
  });

  it('bad arguments: exit 2 with a message naming the problem', () => {
    const noPipe = exportTo(trace, join(TMP, 'x1'), { pipe: 2 });
    expect(noPipe.exitCode).toBe(2);
    expect(noPipe.error).toMatch(/has no frames on pipe C \(pipes with frames: A, B\)/);
    const empty = exportTo(trace, join(TMP, 'x2'), { from: 5, to: 2 });
    expect(empty.error).toBe('empty frame range: --from 5 is after --to 2');
    const none = exportTo(trace, join(TMP, 'x3'), { pipe: 0, from: 50, to: 60 });
    expect(none.exitCode).toBe(2);
    expect(none.error).toBe('no frames numbered 50..60 on pipe A (frame numbers in the trace: 0..9)');
    const noFrames = write('no-frames.simtrace', frameTrace({ frames: 0, before: (t) => t.milestone(1, 0, 'ready', 0, 0) }));
    const nf = exportTo(noFrames, join(TMP, 'x4'));
    expect(nf.exitCode).toBe(2);
    expect(nf.error).toMatch(/no-frames\.simtrace has no display frames \(frame records\): nothing to export/);
    const blocker = write('a-file', new Uint8Array(1));
    const uw = exportTo(trace, join(blocker, 'sub'));
    expect(uw.exitCode).toBe(2);
    expect(uw.error).toMatch(/a-file\/sub: cannot write PNG files there/);
    const dev = exportTo(trace, join(TMP, 'x5'), { device: 'nope0' });
    expect(dev.exitCode).toBe(2);
    expect(dev.error).toMatch(/nope0/);
  });
});

describe('simrun export CLI', () => {
  const trace = write('cli.simtrace', twoPipes());

  it('--frames <trace> --pipe A --from --to -o dir writes the PNGs and the contact sheet', () => {
    const r = simrun('export', '--frames', trace, '--pipe', 'A', '--from', '8', '--to', '9', '-o', join(TMP, 'cli-out'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain('2 frames as PNG, contact sheet contact-sheet.png');
    expect(fs.readdirSync(join(TMP, 'cli-out')).sort()).toEqual(['contact-sheet.png', 'display0-pipeA-000008.png', 'display0-pipeA-000009.png']);
    // The trace as positional argument, default directory beside it.
    const d = simrun('export', trace, '--frames', '--pipe', 'b');
    expect(d.code).toBe(0);
    expect(fs.readdirSync(join(TMP, 'cli-frames'))).toHaveLength(5);
  });

  it('bad arguments exit 2 with a clear message', () => {
    const cases: [string[], RegExp][] = [
      [['export', '--frames', trace, '--pipe', 'Q1'], /--pipe must be a pipe letter/],
      [['export', '--frames', trace, '--pipe', 'D'], /has no frames on pipe D/],
      [['export', '--frames', trace, '--from', '4', '--to', '1'], /empty frame range: --from 4 is after --to 1/],
      [['export', '--frames', trace, '--from', '-3'], /--from must be a frame number/],
      [['export', '--frames', join(TMP, 'missing.simtrace')], /trace file not found/],
      [['export', '--frames', 'eth'], /--frames eth chooses the frames of a pcap export: give --pcap <trace>/],
      [['export', '--frames', trace, '-o', join(TMP, 'cli.simtrace')], /cannot write PNG files there/],
      [['export', '--pcap', trace, '--pipe', 'A'], /--pipe is an option of the PNG export/],
      [['export', '--pcap', trace, '--frames', 'png'], /--frames must be air or eth with --pcap/],
    ];
    for (const [args, re] of cases) {
      const r = simrun(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(re);
    }
  });

  it('--pcap still takes --frames air|eth, and --link air|eth', () => {
    const eth = frameTrace({ frames: 1, before: (t) => { const f = new Uint8Array(60); f[12] = 8; t.eth(5, 1, true, 0, f, 0, 60); } });
    const p = write('eth.simtrace', eth);
    for (const args of [['--frames', 'eth'], ['--link', 'eth']]) {
      const r = simrun('export', '--pcap', p, ...args, '-o', join(TMP, 'e.pcap'));
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.out).toContain('e.pcap: 1 frame');
      expect(fs.readFileSync(join(TMP, 'e.pcap')).readUInt32LE(20)).toBe(1); // link type Ethernet
    }
    const air = simrun('export', '--pcap', p, '--link', 'air', '-o', join(TMP, 'a.pcap'));
    expect(air.code).toBe(0);
    expect(air.out).toContain('a.pcap: 0 frames');
  });
});
