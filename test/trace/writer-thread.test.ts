/**
 * The trace writer thread writes the same bytes the recorder writes itself:
 * traces recorded with it from the first chunk ('always' and 'auto' once it
 * runs), from some later chunk (the 'auto' recording that starts it), and
 * without it ('never') are identical, to memory and to a file, and a chunk
 * the thread cannot write fails the recording's close.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUTO_THREAD_AFTER, TraceRecorder, type RecorderOptions, type WriterThreadMode } from '../../src/trace/recorder.js';
import { awaitWriterThread } from '../../src/trace/writer-thread.js';
import { openTrace } from '../../src/trace/reader.js';
import { emitAllKinds, makeHeader, tmpDir } from './helpers.js';

/** Events of every kind, changing from round to round (new blobs, deltas, strings), and one outsized payload. */
function emitMany(r: TraceRecorder, rounds: number): void {
  const ram = new Uint8Array(64 * 1024);
  for (let i = 0; i < ram.length; i++) ram[i] = (i * 131 + 7) & 0xff;
  let t = 0;
  for (let k = 0; k < rounds; k++) {
    emitAllKinds(r, t);
    t += 100;
    ram[k % 64] = k & 0xff; // a changed word in the next submission entry: a delta
    r.dma(false, t++, 0, 0x1000 + (k % 16) * 64, ram, 0, 64, 'nvme.sqe');
    r.dma(true, t++, 0, 0x200000, ram, (k * 4096) % (ram.length - 4096), 4096, 'data');
    r.log(t++, 7, 'info', `round ${k}`);
    if (k === rounds >> 1) r.dma(true, t++, 0, 0x400000, ram, 0, ram.length, 'big');
  }
}

function record(mode: WriterThreadMode, rounds: number, opts: RecorderOptions = {}) {
  const r = TraceRecorder.toBuffer(makeHeader(), { chunkBytes: 4096, writerThread: mode, ...opts });
  emitMany(r, rounds);
  return r.close();
}

describe('trace writer thread', () => {
  const tmp = tmpDir();
  afterAll(() => tmp.cleanup());

  it("'auto' starts the thread once a recording is long; later recordings hand it every chunk; the bytes stay the same", () => {
    // This file's first recording: no thread in this process yet.
    expect(record('auto', 5).threadChunks).toBe(0);
    const own = record('never', 400);
    const chunks = openTrace(own.buffer!).index!.length;
    expect(chunks).toBeGreaterThan(2 * AUTO_THREAD_AFTER);
    // The first long one starts it after AUTO_THREAD_AFTER chunks and hands chunks over once it runs.
    const first = record('auto', 400);
    expect(first.threadChunks).toBeLessThanOrEqual(chunks - AUTO_THREAD_AFTER);
    expect(Buffer.compare(first.buffer!, own.buffer!)).toBe(0);
    expect(awaitWriterThread()).toBe(true);
    const later = record('auto', 400);
    expect(later.threadChunks).toBe(chunks);
    expect(Buffer.compare(later.buffer!, own.buffer!)).toBe(0);
    const short = record('auto', 5);
    expect(short.threadChunks).toBe(openTrace(short.buffer!).index!.length);
  });

  it("'always' writes every chunk there, byte for byte what the recorder writes itself", () => {
    const own = record('never', 400);
    const threaded = record('always', 400);
    expect(own.threadChunks).toBe(0);
    const chunks = openTrace(own.buffer!).index!.length;
    expect(chunks).toBeGreaterThan(2 * AUTO_THREAD_AFTER);
    expect(threaded.threadChunks).toBe(chunks);
    expect(threaded.bytes).toBe(own.bytes);
    expect(Buffer.compare(threaded.buffer!, own.buffer!)).toBe(0);
  });

  it('writes the same file, which reads back whole', () => {
    const files = (['never', 'always'] as const).map((mode) => {
      const p = path.join(tmp.dir, `${mode}.simtrace`);
      const r = TraceRecorder.create(p, makeHeader(), { chunkBytes: 4096, writerThread: mode });
      emitMany(r, 300);
      const res = r.close();
      expect(res.bytes).toBe(fs.statSync(p).size);
      return fs.readFileSync(p);
    });
    expect(Buffer.compare(files[0]!, files[1]!)).toBe(0);
    const t = openTrace(files[1]!);
    let n = 0;
    for (const _ of t.events()) n++;
    expect(t.damage).toEqual([]);
    expect(n).toBe(t.footer!.totalRecords);
  });

  it('a chunk the thread cannot write fails the close, naming the trace and the cause', () => {
    const p = path.join(tmp.dir, 'lost.simtrace');
    const r = TraceRecorder.create(p, makeHeader(), { chunkBytes: 4096, writerThread: 'always' });
    // The file goes away under the recorder: the thread's writes fail (EBADF).
    fs.closeSync((r as unknown as { sink: { fd: number } }).sink.fd);
    emitMany(r, 50);
    expect(() => r.close()).toThrow(/lost\.simtrace: the writer thread could not write a chunk: .*EBADF/);
  });
});
