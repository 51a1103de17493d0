import { describe, expect, it } from 'vitest';
import { EBADF, EFAULT, EINVAL, ENODEV, ENOTTY } from '../../src/kernel/errno.js';
import { MappedMemory } from '../../src/kernel/sys.js';
import { OP_CALL, OP_FMAP, OP_OPEN, OP_READ } from '../../src/kernel/schemes/user.js';
import { EVENT_READ } from '../../src/kernel/readiness.js';
import { bareKernel } from './harness.js';

describe('kernel: scheme calls, maps and posted events (what the DRM scheme is built on)', () => {
  it('a call carries the request in and the reply out of one buffer, with its code', () => {
    const { kernel, run, tracer } = bareKernel();
    const got: number[] = [];
    kernel.spawn('daemon', function* (sys) {
      const fd = yield* sys.createScheme('dev');
      for (;;) {
        const p = yield* sys.nextRequest(fd);
        if (p === null) return;
        if (p.op === OP_OPEN) sys.reply(fd, p, 3);
        else if (p.op === OP_CALL) {
          // Reply: the request's first byte doubled, at offset 1, and the code.
          p.buf![1] = p.buf![0]! * 2;
          sys.reply(fd, p, p.flags === 0xa7 ? 0 : -EINVAL);
        } else sys.reply(fd, p, 0);
      }
    });
    kernel.spawn('client', function* (sys) {
      yield* sys.sleep(1e6);
      const fd = yield* sys.openOrThrow('dev:card0');
      const buf = new Uint8Array([21, 0]);
      got.push(yield* sys.call(fd, buf, 0xa7), buf[1]!);
      got.push(yield* sys.call(fd, buf, 0x01));
      got.push(yield* sys.call(99, buf, 0xa7));
      const t = yield* sys.openOrThrow('time:monotonic');
      got.push(yield* sys.call(t, buf, 0xa7));
    });
    run();
    expect(got).toEqual([0, 42, -EINVAL, -EBADF, -ENOTTY]);
    const calls = tracer.events.filter((e) => e.kind === 'schemeReq' && e.op === 'call');
    expect(calls.map((e) => e.kind === 'schemeReq' && e.a)).toEqual([0xa7, 0x01]);
  });

  it('fmap lends RAM the daemon names: the client writes what the daemon reads; not RAM is EFAULT', () => {
    const { kernel, run } = bareKernel();
    let daemonSaw = -1;
    const results: (number | string)[] = [];
    kernel.spawn('daemon', function* (sys) {
      const fd = yield* sys.createScheme('gem');
      const buf = sys.physalloc(8192);
      for (;;) {
        const p = yield* sys.nextRequest(fd);
        if (p === null) return;
        if (p.op === OP_OPEN) sys.reply(fd, p, 1);
        else if (p.op === OP_FMAP) {
          // offset 0: the buffer; offset 1: an address with no RAM; size checked against the buffer.
          if (p.offset === 0) sys.reply(fd, p, p.flags <= buf.size ? buf.phys : -EINVAL);
          else sys.reply(fd, p, 0xfee00000);
        } else if (p.op === OP_READ) {
          daemonSaw = buf.view[100]!;
          sys.reply(fd, p, 0);
        } else sys.reply(fd, p, 0);
      }
    });
    kernel.spawn('client', function* (sys) {
      yield* sys.sleep(1e6);
      const fd = yield* sys.openOrThrow('gem:x');
      const m = yield* sys.fmap(fd, 0, 8192);
      expect(m).toBeInstanceOf(MappedMemory);
      (m as MappedMemory).bytes()[100] = 0x5a;
      results.push((m as MappedMemory).bytes().length);
      yield* sys.read(fd, new Uint8Array(1));
      results.push((yield* sys.fmap(fd, 0, 3 * 4096)) as number);
      results.push((yield* sys.fmap(fd, 1, 4096)) as number);
      results.push((yield* sys.fmap(fd, 0, 0)) as number);
      const t = yield* sys.openOrThrow('time:monotonic');
      results.push((yield* sys.fmap(t, 0, 4096)) as number);
    });
    run();
    expect(daemonSaw).toBe(0x5a);
    expect(results).toEqual([8192, -EINVAL, -EFAULT, -EINVAL, -ENODEV]);
  });

  it('a daemon posts readiness of a client handle: the client subscribed through event: wakes', () => {
    const { kernel, run } = bareKernel();
    const seen: string[] = [];
    kernel.spawn('daemon', function* (sys) {
      const fd = yield* sys.createScheme('drm');
      for (;;) {
        const p = yield* sys.nextRequest(fd);
        if (p === null) return;
        if (p.op === OP_OPEN) {
          sys.reply(fd, p, 5);
          // Later (a vblank), handle 5 has an event to read.
          yield* sys.sleep(2e9);
          expect(sys.postEvent(fd, 5, EVENT_READ)).toBe(0);
          expect(sys.postEvent(fd, 6, EVENT_READ)).toBe(0); // nobody watches handle 6: nothing happens
        } else sys.reply(fd, p, 0);
      }
    });
    kernel.spawn('client', function* (sys) {
      yield* sys.sleep(1e6);
      const fd = yield* sys.openOrThrow('drm:card0');
      const q = yield* sys.openOrThrow('event:');
      expect(sys.subscribe(q, fd, EVENT_READ, 77)).toBe(0);
      const ev = yield* sys.waitEvent(q, sys.clock() + 10e9);
      seen.push(ev === undefined ? 'timeout' : `data ${ev.data} at >= 2 ms: ${sys.clock() >= 2e9}`);
    });
    run();
    expect(seen).toEqual(['data 77 at >= 2 ms: true']);
  });
});
