/**
 * Format 6: DMA writes of unmodified disk-image bytes are stored as (fixture, offset, length) and
 * read back from the fixture file, found beside the trace and checked against the header's hash.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace, type SeqEvent } from '../../src/trace/reader.js';
import { forgetImageStores, setImageRoots } from '../../src/trace/images.js';
import { Disk } from '../../src/devices/disk-image.js';
import { makeHeader, tmpDir } from './helpers.js';

const IMG = 'fixtures/disks/t.img';

function image(): Uint8Array {
  const b = new Uint8Array(64 * 1024);
  let x = 12345;
  for (let i = 0; i < b.length; i++) { x = (Math.imul(x, 1103515245) + 12345) >>> 0; b[i] = x >>> 24; }
  return b;
}
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

function record(img: Uint8Array, refs: boolean, layout: 'columns' | 'records' = 'columns'): Buffer {
  const r = TraceRecorder.toBuffer(makeHeader({ fixtures: [{ path: IMG, hash: sha(img) }] }), { layout });
  r.dma(true, 1000, 0, 0x100000, img, 4096, 4096, 'data', refs ? IMG : undefined, 4096);
  r.dma(true, 2000, 0, 0x200000, img, 8, 8, 'data', refs ? IMG : undefined, 8); // small: inline whatever the source
  r.dma(false, 3000, 0, 0x300000, img, 0, 512, 'data');
  r.mmio(true, 4000, 0, 0, 0, 0x1000, 4, 1);
  return r.close().buffer!;
}

/** DMA events of an in-memory trace whose image is only reachable as this test's fixture name (so: damage), as plain values. */
const dmasOf = (buf: Uint8Array): unknown[] => [...openTrace(buf).events({ kinds: ['dma'] })].map((e) => e.kind === 'dma' && [e.write, e.addr, e.tag, e.missing ?? null, Buffer.from(e.data).toString('hex')]);

const dmas = (file: string, opts = {}): { events: SeqEvent[]; damage: string[] } => {
  const t = openTrace(file, opts);
  const events = [...t.events({ kinds: ['dma'] })];
  return { events, damage: t.damage.map((d) => d.reason) };
};

describe('trace format 6: disk-image references', () => {
  let dir: string;
  let cleanup: () => void;
  const img = image();
  beforeEach(() => ({ dir, cleanup } = tmpDir()));
  afterEach(() => { cleanup(); setImageRoots([]); forgetImageStores(); });

  function place(traceAt: string, imageAt: string | null, bytes = img): string {
    const t = path.join(dir, traceAt);
    fs.mkdirSync(path.dirname(t), { recursive: true });
    fs.writeFileSync(t, record(img, true));
    if (imageAt !== null) {
      fs.mkdirSync(path.dirname(path.join(dir, imageAt)), { recursive: true });
      fs.writeFileSync(path.join(dir, imageAt), bytes);
    }
    return t;
  }

  it('is written only when a reference is, and the reference costs a few bytes instead of the payload', () => {
    const withRefs = record(img, true);
    const without = record(img, false);
    expect([withRefs.readUInt32LE(8), without.readUInt32LE(8)]).toEqual([7, 7]);
    expect(without.length - withRefs.length).toBeGreaterThan(3500);
    // The record layout is version 6 only when it holds a reference.
    const recWith = record(img, true, 'records');
    const recWithout = record(img, false, 'records');
    expect([recWith.readUInt32LE(8), recWithout.readUInt32LE(8)]).toEqual([6, 3]);
    expect(recWithout.length - recWith.length).toBeGreaterThan(3500);
    expect(dmasOf(recWith)).toEqual(dmasOf(withRefs));
  });

  it('reads the bytes back from the image in a parent folder of the trace (a checkout\'s fixtures/)', () => {
    const t = place('traces/a.simtrace', IMG);
    const { events, damage } = dmas(t);
    expect(damage).toEqual([]);
    expect(events.map((e) => e.kind === 'dma' && [e.write, e.addr, e.data.length])).toEqual([[true, 0x100000, 4096], [true, 0x200000, 8], [false, 0x300000, 512]]);
    const e0 = events[0]!;
    expect(e0.kind === 'dma' && Buffer.from(e0.data).equals(Buffer.from(img.subarray(4096, 8192)))).toBe(true);
  });

  it('finds the image beside the trace by its file name, or in a folder given as a root', () => {
    expect(dmas(place('x/a.simtrace', 'x/t.img')).damage).toEqual([]);
    forgetImageStores();
    const t = place('y/a.simtrace', 'elsewhere/t.img');
    expect(dmas(t).damage).toHaveLength(1);
    expect(dmas(t, { imageRoots: [path.join(dir, 'elsewhere')] }).damage).toEqual([]);
    forgetImageStores();
    setImageRoots([path.join(dir, 'elsewhere')]);
    expect(dmas(t).damage).toEqual([]);
  });

  it('an image with other content is not used: damage names the image and its hash, the event says what is missing', () => {
    const other = img.slice();
    other[5000] = (other[5000]! ^ 1) & 0xff;
    const t = place('traces/a.simtrace', IMG, other);
    const { events, damage } = dmas(t);
    expect(damage).toHaveLength(1);
    expect(damage[0]).toMatch(/fixtures\/disks\/t\.img \(sha256 [0-9a-f]{16}…\) was not found with that content/);
    expect(events[0]!.missing).toMatch(/disk image fixtures\/disks\/t\.img/);
    expect(events[0]!.kind === 'dma' && events[0]!.data.length).toBe(0);
    expect(events[1]!.missing).toBeUndefined(); // the inline payload needs no image
  });
});

describe('Disk: which bytes are the image\'s own', () => {
  it('span says whether the range is untouched image content; a write makes its chunk the overlay\'s', () => {
    const d = new Disk(image(), 512);
    expect(d.span(4096, 4096)).toBe(true);
    expect([d.spanIsImage, d.spanOff]).toEqual([true, 4096]);
    d.write(new Uint8Array(512), 0, 0, 512);
    expect(d.span(4096, 4096)).toBe(true);
    expect(d.spanIsImage).toBe(false);
    expect(d.fixture).toBeUndefined();
  });
});

describe('another open trace naming the same image differently', () => {
  it('lends it by hash (a diff of a golden trace and a run from a scenario elsewhere)', () => {
    const { dir, cleanup } = tmpDir();
    try {
      forgetImageStores();
      const img = image();
      const golden = path.join(dir, 'repo', 'traces', 'g.simtrace');
      fs.mkdirSync(path.dirname(golden), { recursive: true });
      fs.writeFileSync(golden, record(img, true));
      fs.mkdirSync(path.join(dir, 'repo', 'fixtures', 'disks'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'repo', IMG), img);
      // Recorded from a scenario outside the checkout: the image is named by its file name.
      const r = TraceRecorder.toBuffer(makeHeader({ fixtures: [{ path: 't.img', hash: sha(img) }] }));
      r.dma(true, 1000, 0, 0x100000, img, 4096, 4096, 'data', 't.img', 4096);
      const other = path.join(dir, 'tmp', 'a.simtrace');
      fs.mkdirSync(path.dirname(other), { recursive: true });
      fs.writeFileSync(other, r.close().buffer!);
      expect(dmas(other).damage).toHaveLength(1);
      forgetImageStores();
      openTrace(golden);
      const { events, damage } = dmas(other);
      expect(damage).toEqual([]);
      expect(events[0]!.kind === 'dma' && events[0]!.data.length).toBe(4096);
    } finally {
      cleanup();
      forgetImageStores();
    }
  });
});

