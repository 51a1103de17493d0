/**
 * Async flips on the intel-display model as Gen9/10 hardware does them (and
 * Linux's i915 relies on): PLANE_CTL's async bit (9) is double-buffered and
 * latched at the start of vblank; while it is latched a PLANE_SURF write
 * changes the surface within microseconds and raises flip done, and the
 * other registers it arms (PLANE_CTL included) latch at the next vblank
 * start. Leaving async mode is a flip of the same surface with the bit
 * cleared, then a vblank (intel_crtc_async_flip_disable_wa).
 */
import { describe, expect, it } from 'vitest';
import { CTL, FRMCOUNT, Harness, MODE_SMALL, PIPE_IIR, PIPE_IMR, PL, STRIDE, SURF, SURFLIVE, TRANSCONF } from './harness.js';

const W = MODE_SMALL.w;
const H = MODE_SMALL.h;
const ON = ((1 << 31) | (4 << 24)) >>> 0;
const ASYNC = 1 << 9;
const FLIP_DONE = 1 << 3;

/** Pipe A running MODE_SMALL; three framebuffers of one colour each mapped at GGTT 0, 0x40000, 0x80000; flip done unmasked. */
function setup(): { h: Harness; colours: number[] } {
  const h = new Harness();
  h.modeset(0, 1, MODE_SMALL);
  const colours = [0x00112233, 0x00445566, 0x00778899];
  colours.forEach((c, i) => {
    const phys = h.alloc(256 * H);
    for (let o = 0; o < 256 * H; o += 4) h.mem.ramView.setUint32(phys + o, c, true);
    h.map(0x40000 * i, phys, 256 * H);
  });
  h.w(PIPE_IMR(0), ~FLIP_DONE);
  h.plane(0, 0, W, H, 256);
  h.nextVblank();
  h.w(PIPE_IIR(0), 0xffffffff);
  return { h, colours };
}

const liveCtl = (h: Harness): number => h.dev.live[0]! >>> 0;
const flipDone = (h: Harness): boolean => (h.r(PIPE_IIR(0)) & FLIP_DONE) !== 0;
const clearIir = (h: Harness): void => h.w(PIPE_IIR(0), 0xffffffff);
/** The colour of pixel (3, 3) of the last frame pipe A scanned. */
const shown = (h: Harness): number => {
  const f = h.frames().at(-1)!;
  const o = (3 * W + 3) * 4;
  return (f.data[o]! | (f.data[o + 1]! << 8) | (f.data[o + 2]! << 16)) >>> 0;
};

/** Async mode on: PLANE_CTL with bit 9 and a SURF write, latched at the next vblank start like any armed update. */
function enterAsync(h: Harness, surf: number): void {
  h.w(PL(0, 1, CTL), ON | ASYNC);
  h.w(PL(0, 1, SURF), surf);
  h.runUs(100);
  expect(liveCtl(h) & ASYNC).toBe(0);
  expect(flipDone(h)).toBe(false);
  h.nextVblank();
  expect(liveCtl(h) & ASYNC).toBe(ASYNC);
  expect(h.r(PL(0, 1, SURFLIVE))).toBe(surf);
  clearIir(h);
}

describe('intel-display: async flips and leaving async mode', () => {
  it('async flip, then the async bit cleared by a flip of the same surface and a vblank, then a sync flip at the vblank, then the plane off and TRANSCONF off', () => {
    const { h, colours } = setup();
    enterAsync(h, 0x40000);
    // An async flip: the surface and flip done within microseconds, no vblank needed.
    const f0 = h.r(FRMCOUNT(0));
    h.w(PL(0, 1, SURF), 0x80000);
    h.runUs(5);
    expect(h.r(PL(0, 1, SURFLIVE))).toBe(0x80000);
    expect(flipDone(h)).toBe(true);
    expect(h.r(FRMCOUNT(0))).toBe(f0);
    clearIir(h);
    h.nextVblank();
    expect(shown(h)).toBe(colours[2]);
    // Leaving async mode: same surface, bit 9 cleared. The surface update is still async; PLANE_CTL latches at the vblank start.
    h.w(PL(0, 1, CTL), ON);
    h.w(PL(0, 1, SURF), 0x80000);
    h.runUs(5);
    expect(liveCtl(h) & ASYNC).toBe(ASYNC);
    expect(h.r(PL(0, 1, SURFLIVE))).toBe(0x80000);
    clearIir(h);
    h.nextVblank();
    expect(liveCtl(h)).toBe(ON);
    expect(flipDone(h)).toBe(false); // only PLANE_CTL latched: no flip
    // Now a SURF write arms a sync flip: nothing changes until the next vblank start, which raises flip done.
    h.w(PL(0, 1, SURF), 0);
    h.runUs(200);
    expect(h.r(PL(0, 1, SURFLIVE))).toBe(0x80000);
    expect(flipDone(h)).toBe(false);
    h.nextVblank();
    expect(h.r(PL(0, 1, SURFLIVE))).toBe(0);
    expect(flipDone(h)).toBe(true);
    expect(shown(h)).toBe(colours[0]);
    // The disable: plane off armed by SURF = 0, latched at the vblank; then TRANSCONF off. No guest error on the way.
    h.w(PL(0, 1, CTL), 0);
    h.w(PL(0, 1, SURF), 0);
    h.runUs(200);
    expect(liveCtl(h)).toBe(ON);
    h.nextVblank();
    expect(liveCtl(h)).toBe(0);
    h.w(TRANSCONF(0), 0);
    h.runMs(3);
    expect(h.r(TRANSCONF(0)) >>> 30).toBe(0);
    expect(h.codes()).toEqual([]);
  });

  it('a disable written in async mode (the workaround skipped): SURF = 0 is scanned at once by a plane still enabled until the vblank start, a guest error names it', () => {
    const { h } = setup();
    enterAsync(h, 0x40000);
    h.w(PL(0, 1, CTL), 0);
    h.w(PL(0, 1, SURF), 0);
    h.runUs(5);
    expect(h.r(PL(0, 1, SURFLIVE))).toBe(0);
    expect(liveCtl(h) & (1 << 31)).not.toBe(0);
    expect(h.codes()).toEqual(['display.plane.async-changes']);
    expect(h.guestErrs()[0]!.message).toMatch(/PLANE_CTL_1_A changed \(0x84000200 -> 0x0\)/);
    h.nextVblank();
    expect(liveCtl(h)).toBe(0);
    h.w(TRANSCONF(0), 0);
    expect(h.codes()).toEqual(['display.plane.async-changes']);
  });

  it('an async flip that also changes the stride: the new surface at once, the stride at the next vblank start, a guest error', () => {
    const { h } = setup();
    enterAsync(h, 0x40000);
    h.w(PL(0, 1, STRIDE), 512 / 64);
    h.w(PL(0, 1, SURF), 0x80000);
    h.runUs(5);
    expect(h.r(PL(0, 1, SURFLIVE))).toBe(0x80000);
    expect(h.dev.live[STRIDE >> 2]).toBe(256 / 64);
    expect(h.codes()).toEqual(['display.plane.async-changes']);
    expect(h.guestErrs()[0]!.message).toMatch(/PLANE_STRIDE_1_A changed/);
    h.nextVblank();
    expect(h.dev.live[STRIDE >> 2]).toBe(512 / 64);
    expect(h.r(PL(0, 1, SURFLIVE))).toBe(0x80000);
  });

  it('async flips with nothing else changed record no guest error and count one flip each', () => {
    const { h } = setup();
    enterAsync(h, 0x40000);
    const flips = h.dev.counters.flips;
    for (const s of [0x80000, 0, 0x40000]) {
      h.w(PL(0, 1, SURF), s);
      h.runUs(5);
      expect(h.r(PL(0, 1, SURFLIVE))).toBe(s);
      expect(flipDone(h)).toBe(true);
      clearIir(h);
    }
    h.nextVblank();
    expect(flipDone(h)).toBe(false);
    expect(h.dev.counters.flips - flips).toBe(3);
    expect(h.codes()).toEqual([]);
  });
});
