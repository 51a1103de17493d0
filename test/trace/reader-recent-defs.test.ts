/**
 * The reader's table of recent blob and string lookups (Defs): payloads and
 * tags read back as recorded when more blobs and tags are in use than the
 * table holds, and across blob windows (epochs) that drop old blobs.
 */
import { describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { openTrace } from '../../src/trace/reader.js';
import { makeHeader } from './helpers.js';

describe("the reader's recent blobs and strings", () => {
  for (const window of [64 * 1024, 4 << 20]) it(`gives every payload and tag as recorded, with 300 blobs and 600 tags in turn (blob window ${window} bytes)`, () => {
    const r = TraceRecorder.toBuffer(makeHeader(), { blobWindowBytes: window, chunkBytes: 8192 });
    const pool = Array.from({ length: 300 }, (_, p) => Uint8Array.from({ length: 256 }, (_, i) => (i < 2 ? p >> (8 * i) : i * 13 + p * 7) & 0xff));
    const want: string[] = [];
    let x = 99;
    for (let i = 0; i < 6000; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const p = (x >>> 8) % 300;
      const tag = `tag${(x >>> 4) % 600}`;
      r.dma(true, 10 * i, 0, 0x1000 * (i % 64), pool[p]!, 0, 256, tag);
      want.push(`${tag} ${p}`);
    }
    const t = openTrace(r.close().buffer!);
    const name = (d: Uint8Array): number => pool.findIndex((q) => Buffer.from(q).equals(Buffer.from(d)));
    const c = t.cursor();
    const got: string[] = [];
    while (c.advance()) {
      const v = c.view.payload;
      got.push(`${c.view.tag} ${name(v.data.subarray(v.at, v.at + v.length))}`);
    }
    expect(t.damage).toEqual([]);
    expect(got).toEqual(want);
    expect([...t.events()].map((e) => (e.kind === 'dma' ? `${e.tag} ${name(e.data)}` : ''))).toEqual(want);
  });
});
