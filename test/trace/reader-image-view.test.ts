/** The cursor's column view of a disk-image reference (format 6+): the whole image and the record's offset, looked up once. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace } from '../../src/trace/reader.js';
import { forgetImageStores } from '../../src/trace/images.js';
import { makeHeader, tmpDir } from './helpers.js';

const IMG = 'fixtures/disks/v.img';
const img = Uint8Array.from({ length: 32 * 1024 }, (_, i) => (i * 31 + (i >> 8)) & 0xff);

describe('the column view of a disk-image reference', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tmpDir()));
  afterEach(() => { cleanup(); forgetImageStores(); });

  /** A trace of three image references (and an inline DMA), with the image beside it holding `bytes`. */
  function place(bytes: Uint8Array): string {
    const hash = createHash('sha256').update(img).digest('hex');
    fs.mkdirSync(path.join(dir, 'traces'), { recursive: true });
    const r = TraceRecorder.create(path.join(dir, 'traces/a.simtrace'), makeHeader({ fixtures: [{ path: IMG, hash }] }));
    for (const [k, off] of [4096, 12288, 4096].entries()) r.dma(true, 1000 * (k + 1), 0, 0x100000 * (k + 1), img, off, 4096, 'data', IMG, off);
    r.dma(false, 5000, 0, 0x300000, img, 0, 8, 'data');
    r.close();
    fs.mkdirSync(path.join(dir, 'fixtures/disks'), { recursive: true });
    fs.writeFileSync(path.join(dir, IMG), bytes);
    return path.join(dir, 'traces/a.simtrace');
  }

  it('is the whole image (one array for every record) at the record\'s offset, kept by reference (stable), as next() gives it', () => {
    const t = place(img);
    const byObject = openTrace(t).cursor();
    const c = openTrace(t).cursor();
    const v = c.view;
    const arrays = new Set<Uint8Array>();
    for (let k = 0; k < 3; k++) {
      const e = byObject.next()!;
      expect(c.advance()).toBe(true);
      const p = v.payload;
      expect([p.at, p.length, p.stable, p.own, v.image, v.missing]).toEqual([[4096, 12288, 4096][k], 4096, true, false, IMG, undefined]);
      expect(p.data.length).toBe(img.length);
      arrays.add(p.data);
      expect(e.kind === 'dma' && [e.image, e.imageOffset]).toEqual([IMG, p.at]);
      expect(e.kind === 'dma' && Buffer.from(e.data).equals(Buffer.from(p.data.subarray(p.at, p.at + p.length)))).toBe(true);
    }
    expect(arrays.size).toBe(1);
  });

  it('an image that is not there: no bytes, and the view says what is missing as next() does', () => {
    const other = img.slice();
    other[0] = other[0]! ^ 1;
    const t = place(other);
    const e = openTrace(t).cursor().next()!;
    const c = openTrace(t).cursor();
    expect(c.advance()).toBe(true);
    expect(c.view.payload.length).toBe(0);
    expect(c.view.missing).toBe(e.missing);
    expect(e.missing).toBe(`disk image ${IMG}`);
  });

  it('references to two images in turn each read their own image', () => {
    const IMG2 = 'fixtures/disks/w.img';
    const img2 = img.map((x) => x ^ 0x5a);
    const fixtures = [img, img2].map((b, k) => ({ path: k === 0 ? IMG : IMG2, hash: createHash('sha256').update(b).digest('hex') }));
    fs.mkdirSync(path.join(dir, 'traces'), { recursive: true });
    const t = path.join(dir, 'traces/two.simtrace');
    const r = TraceRecorder.create(t, makeHeader({ fixtures }));
    const refs: [string, Uint8Array, number][] = [[IMG, img, 4096], [IMG2, img2, 4096], [IMG2, img2, 8192], [IMG, img, 0], [IMG2, img2, 0]];
    refs.forEach(([name, bytes, off], k) => r.dma(true, 1000 * (k + 1), 0, 0x100000 * (k + 1), bytes, off, 4096, 'data', name, off));
    r.close();
    fs.mkdirSync(path.join(dir, 'fixtures/disks'), { recursive: true });
    fs.writeFileSync(path.join(dir, IMG), img);
    fs.writeFileSync(path.join(dir, IMG2), img2);
    const c = openTrace(t).cursor();
    const v = c.view;
    for (const [name, bytes, off] of refs) {
      expect(c.advance()).toBe(true);
      const p = v.payload;
      expect([v.image, v.missing, p.at]).toEqual([name, undefined, off]);
      expect(Buffer.from(p.data.subarray(p.at, p.at + p.length)).equals(Buffer.from(bytes.subarray(off, off + 4096)))).toBe(true);
    }
  });
});
