import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../kernel/harness.js';
import { expectCrash } from '../../support/crash-guard.js';
import { LinuxKpi } from '../../../src/drivers/linux-kpi/kpi.js';

describe('linux-kpi sk_buff', () => {
  it('put/push/pull/reserve move data and tail within the buffer', () => {
    const { kernel, run } = bareKernel();
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const skb = k.alloc_skb(128);
      expect([k.skb_headroom(skb), k.skb_tailroom(skb), skb.len]).toEqual([0, 128, 0]);
      k.skb_reserve(skb, 16);
      expect([k.skb_headroom(skb), k.skb_tailroom(skb)]).toEqual([16, 112]);
      k.skb_put(skb, 4).set([1, 2, 3, 4]);
      k.skb_put_data(skb, new Uint8Array([5, 6]));
      expect([...skb.bytes]).toEqual([1, 2, 3, 4, 5, 6]);
      const h = k.skb_push(skb, 2);
      h[0] = 0xaa; h[1] = 0xbb;
      expect([...skb.bytes]).toEqual([0xaa, 0xbb, 1, 2, 3, 4, 5, 6]);
      expect([k.skb_headroom(skb), k.skb_tailroom(skb), skb.len]).toEqual([14, 106, 8]);
      expect([...k.skb_pull(skb, 3)!]).toEqual([2, 3, 4, 5, 6]);
      expect(k.skb_pull(skb, 6)).toBeNull();
      expect(skb.len).toBe(5);
      k.kfree_skb(skb);
      k.kfree_skb(skb); // double free
      k.dev_kfree_skb_any(null);
      yield* k.msleep(1);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(kernel.logs.map((l) => l.text)).toEqual(['drv: kfree_skb of skb #0, which is not allocated or already freed']);
  });

  it('skb_put past the end is skb_over_panic: the driver crashes', () => {
    expectCrash(/process "drv".*skb_over_panic/);
    const { kernel, run } = bareKernel();
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const skb = k.alloc_skb(8);
      k.skb_put(skb, 9);
      yield* k.msleep(1);
    });
    run();
    expect(kernel.crashes).toHaveLength(1);
    expect(kernel.crashes[0]!.reason).toContain('skb_over_panic');
  });

  it('queues are FIFO, purge frees, and leaked skbs are reported at driver exit', () => {
    const { kernel, run } = bareKernel();
    kernel.spawn('drv', function* (sys) {
      const k = new LinuxKpi(sys, 'drv');
      const q = k.skb_queue_head_init();
      const s = [0, 1, 2].map((i) => k.alloc_skb(64 + i, 'rx'));
      for (const x of s) k.skb_queue_tail(q, x);
      expect(k.skb_queue_len(q)).toBe(3);
      expect(k.skb_dequeue(q)).toBe(s[0]);
      expect(k.skb_queue_len(q)).toBe(2);
      k.skb_queue_purge(q);
      expect(k.skb_queue_len(q)).toBe(0);
      expect(k.skb_dequeue(q)).toBeNull();
      expect(k.skbLiveCount()).toBe(1); // s[0] still owned by the driver
      k.dev_alloc_skb(100, 'tx');
      yield* k.msleep(1);
    });
    run();
    expect(kernel.logs.map((l) => `${l.level} ${l.text}`)).toEqual([
      'warn drv: leak: skb #0 (64 bytes from rx) not freed at driver exit',
      'warn drv: leak: skb #3 (132 bytes from tx) not freed at driver exit',
    ]);
  });
});
