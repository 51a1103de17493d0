import { describe, expect, it } from 'vitest';
import { deviceDecoders } from '../../../src/devices/decoders.js';
import { Normaliser } from '../../../src/trace/diff/normalise.js';
import { EventStore, inColumns } from '../../../src/trace/diff/store.js';
import { TraceRecorder } from '../../../src/trace/recorder.js';
import { openTrace, type SeqEvent } from '../../../src/trace/reader.js';
import { makeHeader } from '../helpers.js';

/** A trace of every kind the store holds in columns or as objects, with small (word-delta), short and long DMA payloads. */
function mixedTrace(n: number): Buffer {
  const rec = TraceRecorder.toBuffer(makeHeader());
  const page = new Uint8Array(4096);
  for (let i = 0; i < n; i++) {
    const t = 1000 + i * 100;
    const sqe = new Uint8Array(64);
    sqe[0] = 2;
    sqe[2] = i & 0xff;
    page.fill(i & 0xff, 0, 64);
    switch (i % 9) {
      case 0: rec.mmio(i % 2 === 0, t, 0, 0, 0, 0x1000 + (i % 4) * 8, 4, i); break;
      case 1: rec.dma(false, t, 0, 0x10000 + (i % 64) * 64, sqe, 0, 64, 'nvme.sqe'); break;
      case 2: rec.dma(true, t, 0, 0x800000 + i * 4096, page, 0, 4096, 'nvme.data'); break;
      case 3: rec.dma(true, t, 0, 0x20000, sqe, 0, 24, 'nvme.odd'); break;
      case 4: rec.schemeReq(t, 3, 'disk.nvme', 'read', i, i * 8, 4096); break;
      case 5: rec.msi(t, 0, 0xfee00000, 0x30, 0, 0x30 + (i % 3)); break;
      case 6: rec.cfg(false, t, 0, 1, 0x10, 4, i); break;
      case 7: rec.milestone(t, 0, 'tick', i, 0); break;
      default: rec.intx(t, 1, 11, i % 2); break;
    }
  }
  return rec.close().buffer!;
}

/** The event as the store gives it back: DMA data cut to its kept prefix (128 bytes). */
function asKept(ev: SeqEvent): SeqEvent {
  return ev.kind === 'dma' ? { ...ev, data: ev.data.slice(0, 128) } : ev;
}

describe('EventStore (the diff slot store)', () => {
  it('gives back each event it holds, in distinct slots, while others are released and their slots reused', () => {
    const buf = mixedTrace(12_000);
    const expected = [...openTrace(buf).events()];
    const t = openTrace(buf);
    const norm = new Normaliser<number>(t.header, deviceDecoders(), () => 0);
    const store = new EventStore();
    const cur = t.cursor();
    /** Slot -> the event put there (its index in `expected`) and what the normaliser found for it. */
    const held = new Map<number, { at: number; key: number; shape: number; len: number; addr: number; addrNs: string }>();
    let at = 0;
    let rng = 12345;
    const check = (): void => {
      for (const [slot, h] of held) {
        const it = store.item(slot);
        expect({ key: it.key, shape: it.shape, len: it.len, addr: it.addr, addrNs: it.addrNs }).toEqual({ key: h.key, shape: h.shape, len: h.len, addr: h.addr, addrNs: h.addrNs });
        expect(it.ev).toEqual(asKept(expected[h.at]!));
        expect(store.seq(slot)).toBe(expected[h.at]!.seq);
        expect(store.time(slot)).toBe(expected[h.at]!.time);
      }
    };
    while (cur.advance()) {
      const v = cur.view;
      norm.item(v, inColumns(v.block.kind[v.i]!) ? undefined : v.event());
      const slot = store.put(v, norm);
      expect(held.has(slot)).toBe(false);
      held.set(slot, { at, key: norm.key, shape: norm.shape, len: norm.len, addr: norm.addr, addrNs: norm.addrNs });
      at++;
      // Hold up to 1500 (the store grows past its first 1024 slots), then about 200, releasing in an order
      // of no pattern: slots are taken again, by events of other kinds, many times over.
      if (held.size > 1500 || (at > 1500 && held.size > 200)) {
        rng = (Math.imul(rng, 1103515245) + 12345) >>> 0;
        const slots = [...held.keys()];
        const s = slots[rng % slots.length]!;
        store.release(s);
        held.delete(s);
      }
      if (at % 1000 === 0) check();
    }
    expect(at).toBe(expected.length);
    check();
    // A slot released by one kind and taken by another shows only the new event (objects and shared bytes dropped).
    const kinds = new Set([...held.values()].map((h) => expected[h.at]!.kind));
    expect([...kinds].sort()).toEqual(['cfg', 'dma', 'intx', 'milestone', 'mmio', 'msi', 'schemeReq']);
  });
});
