/**
 * Split virtqueues (virtio 1.2 2.7) through virtio-blk: chains with and
 * without indirect tables, used ring entries, notification suppression by
 * VIRTQ_AVAIL_F_NO_INTERRUPT and by event index (used_event / avail_event),
 * and every malformed chain -> guest error + DEVICE_NEEDS_RESET with a
 * configuration change interrupt, never an exception.
 */
import { describe, expect, it } from 'vitest';
import { needEvent } from '../../../src/devices/virtio/virtqueue.js';
import { expectedSectors, Harness, V, VEC_BASE, type Buf } from './harness.js';

describe('vring_need_event', () => {
  it('fires when the used index passes used_event, with 16-bit wrap', () => {
    expect(needEvent(0, 1, 0)).toBe(true);
    expect(needEvent(1, 1, 0)).toBe(false);
    expect(needEvent(5, 7, 3)).toBe(true);
    expect(needEvent(7, 7, 3)).toBe(false);
    expect(needEvent(0xffff, 0, 0xfffe)).toBe(true);
    expect(needEvent(2, 3, 3)).toBe(false);
  });
});

describe('ring processing', () => {
  it('serves a chain of direct descriptors and returns it with the bytes written', () => {
    const h = new Harness();
    h.init({ queueSize: 8 });
    const r = h.blkRequest(V.T_IN, 4, { inLen: 2048, split: 512 });
    const u = h.exec(r);
    expect(u).toEqual({ id: 0, len: 2049 });
    expect(r.status()).toBe(V.S_OK);
    expect(r.data()).toEqual(expectedSectors(4, 4));
    expect(h.q().usedIdx()).toBe(1);
    const tags = new Set(h.dmaTags());
    for (const t of ['virtq.avail', 'virtq.desc', 'virtq.used', 'virtio-blk.req', 'data', 'virtio-blk.status']) expect(tags.has(t), t).toBe(true);
    expect(tags.has('virtq.indirect')).toBe(false);
  });

  it('serves a chain through an indirect table', () => {
    const h = new Harness();
    h.init({ queueSize: 8 });
    const r = h.blkRequest(V.T_IN, 10, { inLen: 1024, split: 256 });
    const u = h.exec(r, 0, { indirect: true });
    expect(u.len).toBe(1025);
    expect(r.data()).toEqual(expectedSectors(10, 2));
    expect(h.dmaTags().filter((t) => t === 'virtq.indirect')).toHaveLength(6);
    expect(h.codes()).toEqual([]);
  });

  it('accepts direct descriptors followed by one indirect descriptor (2.7.5.3.2)', () => {
    const h = new Harness();
    h.init({ queueSize: 8 });
    const r = h.blkRequest(V.T_IN, 0, { inLen: 512 });
    const q = h.q();
    const table = h.alloc(32, 16);
    q.writeDesc(table, 0, r.bufs[1]!, 1);
    q.writeDesc(table, 1, r.bufs[2]!, undefined);
    q.writeDesc(q.desc, 0, r.bufs[0]!, 1);
    q.writeDesc(q.desc, 1, { addr: table, len: 32, write: false }, undefined, V.DESC_INDIRECT);
    q.addHead(0);
    q.kick();
    h.settle();
    expect(q.reap()).toEqual([{ id: 0, len: 513 }]);
    expect(r.status()).toBe(V.S_OK);
  });

  it('wraps the rings: more requests than the queue size, in order', () => {
    const h = new Harness();
    h.init({ queueSize: 4 });
    for (let i = 0; i < 10; i++) {
      const r = h.blkRequest(V.T_IN, i, { inLen: 512 });
      h.exec(r);
      expect(r.data()).toEqual(expectedSectors(i, 1));
    }
    expect(h.q().usedIdx()).toBe(10);
  });

  it('pops everything made available by one notify, and serves requests concurrently', () => {
    const h = new Harness({ props: { readLatencyUs: 50 } });
    h.init({ queueSize: 16, msix: true });
    const reqs = [0, 1, 2, 3].map((s) => h.blkRequest(V.T_IN, s, { inLen: 512 }));
    for (const r of reqs) h.q().add(r.bufs);
    h.q().kick();
    h.settle();
    expect(h.q().reap().map((u) => u.id)).toEqual([0, 3, 6, 9]);
    // All four completed at the same simulated time: one media latency, not four.
    expect(h.queue.now).toBeLessThan(60_000_000);
    reqs.forEach((r, i) => expect(r.data()).toEqual(expectedSectors(i, 1)));
  });
});

describe('notification suppression', () => {
  it('VIRTQ_AVAIL_F_NO_INTERRUPT: no interrupt, but the used ring is updated', () => {
    const h = new Harness();
    h.init({ msix: true, drop: [V.F_EVENT_IDX] });
    h.q().setAvailFlags(1);
    h.exec(h.blkRequest(V.T_IN, 0, { inLen: 512 }));
    expect(h.delivered).toEqual([]);
    h.q().setAvailFlags(0);
    h.exec(h.blkRequest(V.T_IN, 0, { inLen: 512 }));
    expect(h.delivered).toEqual([VEC_BASE + 1]);
    expect(h.dev.stats()['suppressedInterrupts']).toBe(1);
  });

  it('EVENT_IDX: interrupts only when used idx passes used_event, flags ignored; avail_event published', () => {
    const h = new Harness({ props: { readLatencyUs: 10 } });
    h.init({ msix: true, queueSize: 16 });
    const q = h.q();
    q.setAvailFlags(1); // must be ignored with EVENT_IDX (2.7.7.2)
    q.setUsedEvent(2); // interrupt when the 3rd buffer is used
    for (let i = 0; i < 4; i++) {
      h.exec(h.blkRequest(V.T_IN, i, { inLen: 512 }));
      expect(q.availEvent()).toBe(i + 1);
    }
    expect(h.delivered).toEqual([VEC_BASE + 1, VEC_BASE + 1]);
    // First decision always signals (no earlier one to compare), then only passing used_event 2.
    expect(h.dev.stats()['suppressedInterrupts']).toBe(2);
  });

  it('without EVENT_IDX negotiated the device writes no avail_event and honours flags', () => {
    const h = new Harness();
    h.init({ msix: true, drop: [V.F_EVENT_IDX] });
    const q = h.q();
    q.setUsedEvent(100);
    h.exec(h.blkRequest(V.T_IN, 0, { inLen: 512 }));
    expect(q.availEvent()).toBe(0);
    expect(h.delivered).toEqual([VEC_BASE + 1]);
  });
});

interface Malformed {
  name: string;
  code: string;
  drop?: number[];
  build(h: Harness, bufs: Buf[]): void;
}

const MALFORMED: Malformed[] = [
  {
    name: 'a loop in the descriptor table', code: 'virtq.desc.loop',
    build(h, b) {
      const q = h.q();
      q.writeDesc(q.desc, 0, b[0]!, 1);
      q.writeDesc(q.desc, 1, b[0]!, 0);
      q.addHead(0);
    },
  },
  {
    name: 'a next index outside the table', code: 'virtq.desc.next',
    build(h, b) {
      const q = h.q();
      q.writeDesc(q.desc, 0, b[0]!, 9);
      q.addHead(0);
    },
  },
  {
    name: 'an avail entry outside the table', code: 'virtq.avail.head',
    build(h) { h.q().addHead(8); },
  },
  {
    name: 'avail idx more than the queue size ahead', code: 'virtq.avail.idx',
    build(h) {
      h.q().availIdx = 9;
      h.q().publish();
    },
  },
  {
    name: 'a device-readable descriptor after a device-writable one', code: 'virtq.desc.order',
    build(h, b) {
      const q = h.q();
      q.writeDesc(q.desc, 0, b[2]!, 1);
      q.writeDesc(q.desc, 1, b[0]!, undefined);
      q.addHead(0);
    },
  },
  {
    name: 'INDIRECT inside an indirect table', code: 'virtq.desc.indirect-nested',
    build(h, b) {
      const q = h.q();
      const t = h.alloc(32, 16);
      q.writeDesc(t, 0, b[0]!, 1);
      q.writeDesc(t, 1, { addr: t, len: 32, write: false }, undefined, V.DESC_INDIRECT);
      q.writeDesc(q.desc, 0, { addr: t, len: 32, write: false }, undefined, V.DESC_INDIRECT);
      q.addHead(0);
    },
  },
  {
    name: 'INDIRECT together with NEXT', code: 'virtq.desc.indirect-next',
    build(h, b) {
      const q = h.q();
      const t = h.alloc(16, 16);
      q.writeDesc(t, 0, b[0]!, undefined);
      q.writeDesc(q.desc, 0, { addr: t, len: 16, write: false }, 1, V.DESC_INDIRECT);
      q.writeDesc(q.desc, 1, b[2]!, undefined);
      q.addHead(0);
    },
  },
  {
    name: 'an indirect table length that is not a multiple of 16', code: 'virtq.desc.indirect-len',
    build(h, b) {
      const q = h.q();
      const t = h.alloc(32, 16);
      q.writeDesc(t, 0, b[0]!, undefined);
      q.writeDesc(q.desc, 0, { addr: t, len: 24, write: false }, undefined, V.DESC_INDIRECT);
      q.addHead(0);
    },
  },
  {
    name: 'a loop inside an indirect table', code: 'virtq.desc.loop',
    build(h, b) {
      const q = h.q();
      const t = h.alloc(32, 16);
      q.writeDesc(t, 0, b[0]!, 1);
      q.writeDesc(t, 1, b[0]!, 0);
      q.writeDesc(q.desc, 0, { addr: t, len: 32, write: false }, undefined, V.DESC_INDIRECT);
      q.addHead(0);
    },
  },
  {
    name: 'an indirect table longer than the queue', code: 'virtq.desc.chain-too-long',
    build(h, b) {
      const q = h.q();
      const t = h.alloc(16 * 16, 16);
      q.writeDesc(t, 0, b[0]!, undefined);
      q.writeDesc(q.desc, 0, { addr: t, len: 16 * 16, write: false }, undefined, V.DESC_INDIRECT);
      q.addHead(0);
    },
  },
  {
    name: 'INDIRECT without VIRTIO_F_INDIRECT_DESC', code: 'virtq.desc.indirect-feature', drop: [V.F_INDIRECT],
    build(h, b) {
      const q = h.q();
      const t = h.alloc(16, 16);
      q.writeDesc(t, 0, b[0]!, undefined);
      q.writeDesc(q.desc, 0, { addr: t, len: 16, write: false }, undefined, V.DESC_INDIRECT);
      q.addHead(0);
    },
  },
  {
    name: 'a descriptor pointing at memory not mapped for DMA', code: 'virtq.dma',
    build(h) {
      const q = h.q();
      // The indirect table lies outside every DMA mapping.
      q.writeDesc(q.desc, 0, { addr: 0x1f0_0000, len: 16, write: false }, undefined, V.DESC_INDIRECT);
      q.addHead(0);
    },
  },
];

describe('malformed chains: guest error, DEVICE_NEEDS_RESET, config interrupt', () => {
  it.each(MALFORMED)('$name -> $code', (m) => {
    const h = new Harness();
    h.init({ queueSize: 8, msix: true, drop: m.drop });
    const r = h.blkRequest(V.T_IN, 0, { inLen: 512 });
    m.build(h, r.bufs);
    expect(() => {
      h.q().kick();
      h.settle();
    }).not.toThrow();
    expect(h.codes('virtq.')).toEqual([m.code]);
    expect(h.status() & V.NEEDS_RESET).toBe(V.NEEDS_RESET);
    expect(h.delivered).toEqual([VEC_BASE + 0]); // the config vector
    expect(h.q().usedIdx()).toBe(0);
    expect(h.dev.stall(h.queue.now)[0]).toContain('DEVICE_NEEDS_RESET');
    // Further notifies are ignored until reset; a reset brings the device back.
    h.q().kick();
    h.settle();
    expect(h.codes('virtq.')).toHaveLength(1);
    h.init({ queueSize: 8 });
    expect(h.status() & V.NEEDS_RESET).toBe(0);
    const ok = h.blkRequest(V.T_IN, 3, { inLen: 512 });
    h.exec(ok);
    expect(ok.data()).toEqual(expectedSectors(3, 1));
  });

  it('INTx: DEVICE_NEEDS_RESET raises ISR bit 1', () => {
    const h = new Harness();
    h.init({ queueSize: 8 });
    h.q().addHead(8);
    h.q().kick();
    h.settle();
    expect(h.fn.intxAsserted).toBe(true);
    expect(h.readIsr()).toBe(2);
  });
});
