/**
 * Recurring short payloads (blobs) have their content hash remembered by blob
 * id: for the device and tag it was computed for only, since the same bytes
 * under another tag or device have other address fields (or none).
 */
import { describe, expect, it } from 'vitest';
import { deviceDecoders } from '../../../src/devices/decoders.js';
import { diffTraces } from '../../../src/trace/diff/engine.js';
import { TraceRecorder } from '../../../src/trace/recorder.js';
import { makeHeader } from '../helpers.js';

/** A 64-byte submission entry whose PRP entries (bytes 24-39) point at `base` and the page after it. */
function entry(base: number): Uint8Array {
  const e = new Uint8Array(64);
  e[0] = 2;
  const v = new DataView(e.buffer);
  v.setBigUint64(24, BigInt(base), true);
  v.setBigUint64(32, BigInt(base + 4096), true);
  return e;
}

/** The same entry, over and over, as nvme0's nvme.sqe (PRP fields renamed), nvme0's nvme.cqe and wifi0's nvme.sqe (neither has address fields). */
function trace(base: number, n: number): Buffer {
  const r = TraceRecorder.toBuffer(makeHeader());
  const e = entry(base);
  for (let i = 0; i < n; i++) {
    r.dma(false, 100 * i, 0, 0x1000, e, 0, 64, 'nvme.sqe');
    r.dma(true, 100 * i + 10, 0, 0x2000, e, 0, 64, 'nvme.cqe');
    r.dma(false, 100 * i + 20, 1, 0x3000, e, 0, 64, 'nvme.sqe');
  }
  return r.close().buffer!;
}

describe('the diff normaliser on recurring short blobs', () => {
  it('renames address fields only for the device and tag that have them, however often the blob recurs', () => {
    const n = 200;
    const r = diffTraces({ a: trace(0x40_0000, n), b: trace(0x90_0000, n), decoders: deviceDecoders() });
    const byStream = new Map(r.streams.map((s) => [s.stream, s]));
    // Moved buffers: the same entries once renamed.
    expect(byStream.get('nvme0 dma:nvme.sqe')).toMatchObject({ same: n, changed: 0 });
    // The same bytes where they are not addresses: every one differs.
    expect(byStream.get('nvme0 dma:nvme.cqe')).toMatchObject({ same: 0, changed: n });
    expect(byStream.get('wifi0 dma:nvme.sqe')).toMatchObject({ same: 0, changed: n });
  });
});
