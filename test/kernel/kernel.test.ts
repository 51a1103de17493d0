import { describe, expect, it } from 'vitest';
import { bareKernel } from './harness.js';
import { expectCrash } from '../support/crash-guard.js';
import { EACCES, ENODEV, ENOENT, EIO } from '../../src/kernel/errno.js';
import { OP_OPEN, OP_READ } from '../../src/kernel/schemes/user.js';
import { EVENT_READ } from '../../src/kernel/readiness.js';
import { TIMED_OUT } from '../../src/sim/scheduler.js';

describe('kernel: processes and user schemes', () => {
  it('serves a user scheme: open/read requests reach the daemon and replies wake the client', () => {
    const { kernel, run, tracer } = bareKernel();
    const got: string[] = [];
    kernel.spawn('daemon', function* (sys) {
      const fd = yield* sys.createScheme('echo');
      for (;;) {
        const p = yield* sys.nextRequest(fd);
        if (p === null) return;
        if (p.op === OP_OPEN) sys.reply(fd, p, p.path === 'x' ? 7 : -ENOENT);
        else if (p.op === OP_READ) { p.buf!.fill(0x41); sys.reply(fd, p, p.buf!.length); }
        else sys.reply(fd, p, 0);
      }
    });
    kernel.spawn('client', function* (sys) {
      yield* sys.sleep(1e6);
      expect(yield* sys.open('echo:nope')).toBe(-ENOENT);
      const fd = yield* sys.openOrThrow('echo:x');
      const buf = new Uint8Array(4);
      const n = yield* sys.read(fd, buf, 0);
      got.push(`${n}:${String.fromCharCode(...buf)}`);
      yield* sys.close(fd);
    });
    run();
    expect(got).toEqual(['4:AAAA']);
    const reqs = tracer.events.filter((e) => e.kind === 'schemeReq');
    const replies = tracer.events.filter((e) => e.kind === 'schemeReply');
    expect(reqs.map((r) => r.kind === 'schemeReq' && r.op)).toEqual(['open', 'open', 'read', 'close']);
    expect(replies).toHaveLength(4);
  });

  it('a throwing task is a crashed process; its clients get errors and the rest runs on', () => {
    expectCrash('process "buggy": null pointer dereference in handle_open');
    const { kernel, run, tracer } = bareKernel();
    let clientResult = 0;
    let otherRan = false;
    kernel.spawn('buggy', function* (sys) {
      const fd = yield* sys.createScheme('bug');
      const p = yield* sys.nextRequest(fd);
      expect(p).not.toBeNull();
      throw new Error('null pointer dereference in handle_open');
    });
    kernel.spawn('client', function* (sys) {
      yield* sys.sleep(1e6);
      clientResult = yield* sys.open('bug:x');
      const again = yield* sys.open('bug:y');
      expect([ENOENT, ENODEV]).toContain(-again);
    });
    kernel.spawn('other', function* (sys) { yield* sys.sleep(5e9); otherRan = true; });
    run();
    expect(clientResult).toBe(-EIO);
    expect(otherRan).toBe(true);
    expect(kernel.crashes).toEqual([{ pid: 1, name: 'buggy', reason: 'null pointer dereference in handle_open' }]);
    expect(tracer.events.some((e) => e.kind === 'proc' && e.event === 'crash')).toBe(true);
  });

  it('the null namespace refuses new opens but keeps open fds', () => {
    const { kernel, run } = bareKernel();
    const results: number[] = [];
    kernel.spawn('d', function* (sys) {
      const t = yield* sys.openOrThrow('time:monotonic');
      sys.setNullNamespace();
      results.push(yield* sys.open('time:monotonic'));
      results.push(yield* sys.read(t, new Uint8Array(8)));
      expect(() => sys.physalloc(4096)).toThrow(/not in namespace/);
    });
    run();
    expect(results).toEqual([-EACCES, 8]);
  });

  it('sleep advances simulated time exactly and the time: scheme reads it', () => {
    const { kernel, run } = bareKernel();
    let before = 0;
    let after = 0;
    let nsRead = 0n;
    kernel.spawn('sleeper', function* (sys) {
      before = sys.now;
      yield* sys.sleep(2e9); // 2 ms
      after = sys.now;
      const fd = yield* sys.openOrThrow('time:monotonic');
      const b = new Uint8Array(8);
      yield* sys.read(fd, b);
      nsRead = new DataView(b.buffer).getBigUint64(0, true);
    });
    run();
    expect(after - before).toBeGreaterThanOrEqual(2e9);
    expect(after - before).toBeLessThan(2e9 + 1e6);
    expect(Number(nsRead)).toBeGreaterThanOrEqual(Math.floor(after / 1000));
  });

  it('round-robins tasks on a core with the tick and interleaves cores by local time', () => {
    const { kernel, run } = bareKernel(1);
    const order: string[] = [];
    for (const name of ['a', 'b']) {
      kernel.spawn(name, function* (sys) {
        for (let i = 0; i < 3; i++) {
          sys.spend(3_000_000 * 2); // ~2 ms of compute at 3 GHz, longer than the 1 ms tick
          yield* sys.sleep(0); // a kernel entry: preemption point
          order.push(name);
        }
      }, { core: 0 });
    }
    run();
    expect(order).toEqual(['a', 'b', 'a', 'b', 'a', 'b']);
  });

  it('event: reports readiness of irq handles and timers', () => {
    const { kernel, run, irq } = bareKernel();
    const events: number[] = [];
    let address = 0;
    let data = 0;
    kernel.spawn('drv', function* (sys) {
      const efd = yield* sys.openOrThrow('event:');
      const v = yield* sys.allocMsi();
      address = v.address; data = v.data;
      const t = yield* sys.openOrThrow('time:monotonic');
      expect(sys.subscribe(efd, v.fd, EVENT_READ, 100)).toBe(0);
      expect(sys.subscribe(efd, t, EVENT_READ, 200)).toBe(0);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, BigInt(Math.floor((sys.now + 5e9) / 1000)), true);
      yield* sys.write(t, b);
      for (let i = 0; i < 2; i++) {
        const ev = yield* sys.waitEvent(efd);
        events.push(ev!.data);
      }
      const none = yield* sys.waitEvent(efd, sys.now + 1e9);
      expect(none).toBeUndefined();
    });
    // An MSI arrives at 1 ms from a device (index 0).
    const q = kernel.queue;
    const target = q.register('dev', () => irq.msi(0, address, data));
    q.scheduleAt(1e9 as never, target);
    run();
    expect(events).toEqual([100, 200]);
  });

  it('legacy interrupts stay in service until acknowledged, then redeliver if still asserted', () => {
    const { kernel, run, irq } = bareKernel();
    const seen: number[] = [];
    kernel.spawn('drv', function* (sys) {
      const fd = yield* sys.openOrThrow('irq:17');
      const b = new Uint8Array(8);
      for (let i = 0; i < 2; i++) {
        yield* sys.waitIrq(fd, b);
        seen.push(sys.now);
        if (i === 1) irq.changeLine(0, 17, -1); // device deasserts before the second ack
        yield* sys.ackIrq(fd, b);
      }
      const r = yield* kernel.block(sys.ctx, sys.now + 5e9);
      expect(r).toBe(TIMED_OUT);
    });
    const t = kernel.queue.register('dev', () => irq.changeLine(0, 17, 1));
    kernel.queue.scheduleAt(1e9 as never, t);
    run();
    expect(seen).toHaveLength(2); // once on assertion, once more at the ack while still asserted
    expect(seen[1]!).toBeGreaterThan(seen[0]!);
  });

  it('physalloc hands out zeroed DMA-able pages and physfree revokes DMA permission', () => {
    const { kernel, run, mem } = bareKernel();
    kernel.spawn('d', function* (sys) {
      const a = sys.physalloc(5000);
      expect(a.size).toBe(8192);
      expect(a.phys % 4096).toBe(0);
      expect(mem.isDmaAllowed(a.phys, 8192)).toBe(true);
      a.view[0] = 9;
      sys.physfree(a);
      expect(mem.isDmaAllowed(a.phys, 1)).toBe(false);
      const b = sys.physalloc(4096);
      expect(b.phys).toBe(a.phys);
      expect(b.view[0]).toBe(0);
    });
    run();
    expect(kernel.crashes).toEqual([]);
  });
});
