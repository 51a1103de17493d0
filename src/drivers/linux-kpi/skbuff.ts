import type { KpiEnv } from './env.js';

/**
 * `struct sk_buff`: one linear buffer [head .. end) with the packet in
 * [data .. tail). Offsets instead of pointers; `bytes` is the packet view.
 */
export class SkBuff {
  data = 0;
  tail = 0;
  readonly end: number;
  protocol = 0;
  /** Driver-private control block (skb->cb). */
  readonly cb = new Uint8Array(48);
  constructor(readonly id: number, readonly head: Uint8Array, readonly tag: string) {
    this.end = head.length;
  }
  get len(): number { return this.tail - this.data; }
  /** The packet bytes (skb->data, skb->len). */
  get bytes(): Uint8Array { return this.head.subarray(this.data, this.tail); }
}

/** `struct sk_buff_head`. */
export class SkBuffHead {
  readonly list: SkBuff[] = [];
  get qlen(): number { return this.list.length; }
}

/**
 * linux/skbuff.h: allocation (tracked until freed: a leak at driver exit is
 * reported), the head/tail operations, and sk_buff_head queues. Overflowing
 * an skb is skb_over_panic/skb_under_panic: the driver crashes.
 */
export class LinuxSkb {
  private readonly live = new Set<SkBuff>();
  private nextId = 0;

  /** `onAlloc` runs after each allocation (the facade registers its exit leak report on first use). */
  constructor(private readonly env: KpiEnv, private readonly onAlloc: () => void) {}

  alloc_skb(size: number, tag = 'alloc_skb'): SkBuff {
    const skb = new SkBuff(this.nextId++, new Uint8Array(size), tag);
    this.live.add(skb);
    this.onAlloc();
    return skb;
  }

  /** alloc_skb with NET_SKB_PAD (32) bytes of headroom reserved. */
  dev_alloc_skb(len: number, tag = 'dev_alloc_skb'): SkBuff {
    const skb = this.alloc_skb(len + 32, tag);
    this.skb_reserve(skb, 32);
    return skb;
  }

  /** Extends the data at the tail; returns the added area. Overflow is skb_over_panic (the driver crashes). */
  skb_put(skb: SkBuff, len: number): Uint8Array {
    if (skb.tail + len > skb.end) throw new Error(`skb_over_panic: skb_put ${len} with tailroom ${skb.end - skb.tail} (skb #${skb.id})`);
    const at = skb.tail;
    skb.tail += len;
    return skb.head.subarray(at, skb.tail);
  }

  skb_put_data(skb: SkBuff, data: Uint8Array): Uint8Array {
    const p = this.skb_put(skb, data.length);
    p.set(data);
    return p;
  }

  /** Extends the data at the head; returns the new data (starting with the pushed bytes). */
  skb_push(skb: SkBuff, len: number): Uint8Array {
    if (len > skb.data) throw new Error(`skb_under_panic: skb_push ${len} with headroom ${skb.data} (skb #${skb.id})`);
    skb.data -= len;
    return skb.bytes;
  }

  /** Removes `len` bytes from the head; returns the remaining data, or null if shorter than len. */
  skb_pull(skb: SkBuff, len: number): Uint8Array | null {
    if (len > skb.len) return null;
    skb.data += len;
    return skb.bytes;
  }

  skb_trim(skb: SkBuff, len: number): void { if (skb.len > len) skb.tail = skb.data + len; }

  /** Reserves headroom in an empty skb. */
  skb_reserve(skb: SkBuff, len: number): void {
    if (skb.tail + len > skb.end) throw new Error(`skb_over_panic: skb_reserve ${len} (skb #${skb.id})`);
    skb.data += len;
    skb.tail += len;
  }

  skb_headroom(skb: SkBuff): number { return skb.data; }
  skb_tailroom(skb: SkBuff): number { return skb.end - skb.tail; }

  kfree_skb(skb: SkBuff | null | undefined): void {
    if (skb === null || skb === undefined) return;
    if (!this.live.delete(skb)) this.env.log('error', `kfree_skb of skb #${skb.id}, which is not allocated or already freed`);
  }

  /** skbs allocated and not yet freed. */
  liveCount(): number { return this.live.size; }

  skb_queue_head_init(): SkBuffHead { return new SkBuffHead(); }
  skb_queue_tail(q: SkBuffHead, skb: SkBuff): void { q.list.push(skb); }
  skb_queue_head(q: SkBuffHead, skb: SkBuff): void { q.list.unshift(skb); }
  skb_dequeue(q: SkBuffHead): SkBuff | null { return q.list.shift() ?? null; }
  skb_peek(q: SkBuffHead): SkBuff | null { return q.list[0] ?? null; }
  skb_queue_len(q: SkBuffHead): number { return q.qlen; }
  skb_queue_empty(q: SkBuffHead): boolean { return q.qlen === 0; }
  skb_queue_purge(q: SkBuffHead): void { for (const s of q.list.splice(0)) this.kfree_skb(s); }

  /** Logs skbs still allocated (at driver exit), oldest first. */
  reportLeaks(): void {
    for (const s of [...this.live].sort((a, b) => a.id - b.id)) {
      this.env.log('warn', `leak: skb #${s.id} (${s.end} bytes from ${s.tag}) not freed at driver exit`);
    }
  }
}
