/**
 * Syscalls without a generator per call (src/kernel/co.ts): a call that
 * completes at once returns the shared done iterator, a blocking call the
 * calling task's own reused frame; results, file offsets, timeouts and the
 * rare generator paths stay as they were; and an NVMe read path end to end
 * makes no generator and allocates well under what it did with generators.
 */
import { describe, expect, it } from 'vitest';
import { bareKernel } from './harness.js';
import { DONE, Frame } from '../../src/kernel/co.js';
import { Kernel } from '../../src/kernel/kernel.js';
import { Sys, type Packet } from '../../src/kernel/sys.js';
import { OP_READ } from '../../src/kernel/schemes/user.js';
import { EBADF } from '../../src/kernel/errno.js';
import { parseScenario } from '../../src/machine/scenario.js';
import { runScenario } from '../../src/machine/run.js';
import type { Co } from '../../src/sim/scheduler.js';
import { nvmeReadAllocBytes } from '../../bench/support/alloc-workload.js';
import { nvmeReadsScenario } from '../../bench/support/nvme-reads.js';
import { expectCrash } from '../support/crash-guard.js';
import { scenarioPath } from '../e2e/helpers.js';

const isGenerator = (co: unknown): boolean => Object.prototype.toString.call(co) === '[object Generator]';

/** A daemon serving "echo": a read of n bytes fills them with the request id and replies n; others reply 0. */
function* echoDaemon(sys: Sys, served: unknown[] = []): Co<void> {
  const fd = yield* sys.createScheme('echo');
  for (;;) {
    const co = sys.nextRequest(fd);
    served.push(co);
    const p: Packet | null = yield* co;
    if (p === null) return;
    if (p.op === OP_READ && p.buf !== null) p.buf.fill(p.id & 0xff);
    sys.reply(fd, p, p.op === OP_READ && p.buf !== null ? p.buf.length : 0);
  }
}

describe('syscalls without a generator per call', () => {
  it('a call that completes at once returns the one shared done iterator, with the right values', () => {
    const { kernel, run } = bareKernel();
    const got: unknown[] = [];
    kernel.spawn('t', function* (sys) {
      const fd = yield* sys.openOrThrow('time:monotonic');
      const b = new Uint8Array(8);
      const r1 = sys.read(fd, b);
      got.push(r1 === DONE, yield* r1);
      const r2 = sys.fsize(99);
      got.push(r2 === DONE, yield* r2);
      const irq = yield* sys.allocMsi();
      // An irq: fsize and a legacy-style ack of an MSI handle: both immediate.
      const r3 = sys.fsize(irq.fd);
      got.push(r3 === DONE, yield* r3);
      const r4 = sys.ackIrq(irq.fd, b);
      got.push(r4 === DONE, yield* r4);
    });
    run();
    expect(got).toEqual([true, 8, true, -EBADF, true, 0, true, 8]);
  });

  it('a blocking call returns the task\'s own frame, the same object on every call; replies come back right', () => {
    const { kernel, run } = bareKernel();
    const served: unknown[] = [];
    const calls: unknown[] = [];
    const results: number[] = [];
    const bytes: number[] = [];
    kernel.spawn('echod', (sys) => echoDaemon(sys, served));
    kernel.spawn('client', function* (sys) {
      yield* sys.sleep(1e6);
      const fd = yield* sys.openOrThrow('echo:x');
      const buf = new Uint8Array(16);
      for (let i = 0; i < 200; i++) {
        const co = sys.read(fd, buf, 0);
        calls.push(co);
        results.push(yield* co);
        bytes.push(buf[0]!);
      }
    });
    run();
    expect(results).toEqual(new Array(200).fill(16));
    // Request ids: open was 0, the reads 1..200.
    expect(bytes).toEqual(Array.from({ length: 200 }, (_, i) => (i + 1) & 0xff));
    expect(calls[0]).toBeInstanceOf(Frame);
    expect(calls.every((c) => c === calls[0])).toBe(true);
    expect((calls[0] as Frame).busy).toBe(false);
    // The daemon: each wait for a request is its frame (it blocked) or the done iterator (one was queued).
    expect(served.every((c) => c instanceof Frame || c === DONE)).toBe(true);
    expect(new Set(served.filter((c) => c instanceof Frame)).size).toBe(1);
    expect(served.concat(calls).some(isGenerator)).toBe(false);
    // One frame per task that blocked (pcid-less bare kernel: the daemon and the client).
    expect(kernel.frames.made).toBe(2);
  });

  it('reads at the file offset advance it by what was read, whether or not the call blocked', () => {
    const { kernel, run } = bareKernel();
    const offsets: number[] = [];
    kernel.spawn('echod', (sys) => echoDaemon(sys));
    kernel.spawn('client', function* (sys) {
      yield* sys.sleep(1e6);
      const fd = yield* sys.openOrThrow('echo:x');
      const t = yield* sys.openOrThrow('time:monotonic');
      const buf = new Uint8Array(24);
      for (let i = 0; i < 3; i++) {
        expect(yield* sys.read(fd, buf)).toBe(24); // blocks: the offset step rides on the frame
        offsets.push(yield* sys.lseek(fd, 0, 1));
        expect(yield* sys.read(t, buf.subarray(0, 8))).toBe(8); // at once
        offsets.push(yield* sys.lseek(t, 0, 1));
      }
    });
    run();
    expect(offsets).toEqual([24, 8, 48, 16, 72, 24]);
  });

  it('waitIrq through the frame: the count after blocking, at once when interrupts are already pending, the irq: fd offset advancing', () => {
    const { kernel, run, irq } = bareKernel();
    let address = 0;
    let data = 0;
    const seen: [boolean, number][] = [];
    let offset = 0;
    kernel.spawn('drv', function* (sys) {
      const v = yield* sys.allocMsi();
      address = v.address; data = v.data;
      const b = new Uint8Array(8);
      const w1 = sys.waitIrq(v.fd, b);
      seen.push([w1 instanceof Frame, yield* w1]); // blocks until the first MSI
      yield* sys.sleep(5e9); // two more arrive meanwhile
      const w2 = sys.waitIrq(v.fd, b);
      seen.push([w2 instanceof Frame, yield* w2]);
      offset = yield* sys.lseek(v.fd, 0, 1);
    });
    const q = kernel.queue;
    const target = q.register('dev', () => irq.msi(0, address, data));
    for (const t of [1e9, 2e9, 3e9]) q.scheduleAt(t as never, target);
    run();
    expect(seen).toEqual([[true, 1], [false, 2]]);
    expect(offset).toBe(16);
  });

  it('park and sleep on the frame: park reports unpark against timeout, sleep returns nothing', () => {
    const { kernel, run } = bareKernel();
    const got: unknown[] = [];
    kernel.spawn('p', function* (sys) {
      const me = sys.currentThread();
      sys.spawnThread('waker', function* (s2) {
        yield* s2.sleep(1e9);
        s2.unpark(me);
      });
      got.push(yield* sys.park(sys.now + 10e9)); // unparked at 1 ms
      got.push(yield* sys.park(sys.now + 1e9)); // nobody: times out
      got.push(yield* sys.sleep(1e6));
      yield* sys.yield();
      got.push('after yield');
    });
    run();
    expect(got).toEqual([true, false, undefined, 'after yield']);
  });

  it('a syscall whose entry must give up the core still runs, after the task is back (the generator path)', () => {
    const { kernel, run } = bareKernel(1);
    const got: unknown[] = [];
    kernel.spawn('echod', (sys) => echoDaemon(sys));
    kernel.spawn('spinner', function* (sys) {
      yield* sys.sleep(1e6);
      const fd = yield* sys.openOrThrow('echo:x');
      const buf = new Uint8Array(4);
      sys.spin(2e9); // past the 1 ms tick, with the other task ready below
      const co = sys.read(fd, buf, 0);
      got.push(isGenerator(co), yield* co, buf[0]);
    });
    kernel.spawn('other', function* (sys) {
      for (let i = 0; i < 3; i++) yield* sys.sleep(5e8);
    });
    run();
    expect(got).toEqual([true, 4, 1]); // request 0 was the open
  });

  it('a task killed while blocked leaves its frame free', () => {
    const { kernel, run } = bareKernel();
    let call: unknown;
    kernel.spawn('echod', function* (sys) {
      const fd = yield* sys.createScheme('echo');
      const open = (yield* sys.nextRequest(fd))!;
      sys.reply(fd, open, 0);
      yield* sys.sleep(1e12); // serves nothing more
    });
    const client = kernel.spawn('client', function* (sys) {
      yield* sys.sleep(1e6);
      const fd = yield* sys.openOrThrow('echo:x');
      call = sys.fsize(fd);
      yield* call as Co<number>;
    });
    run(1e9);
    expect(call).toBeInstanceOf(Frame);
    expect((call as Frame).busy).toBe(true);
    kernel.kill(client);
    expect((call as Frame).busy).toBe(false);
  });

  it('a blocking call made while the previous one\'s result was never consumed crashes the process, naming the task', () => {
    expectCrash(/never consumed/);
    const { kernel, run } = bareKernel();
    kernel.spawn('echod', (sys) => echoDaemon(sys));
    kernel.spawn('careless', function* (sys) {
      yield* sys.sleep(1e6);
      const fd = yield* sys.openOrThrow('echo:x');
      const buf = new Uint8Array(4);
      sys.read(fd, buf, 0); // blocks the task and is dropped
      yield* sys.read(fd, buf, 0);
    });
    run(1e10);
    expect(kernel.crashes.map((c) => c.reason)).toEqual([expect.stringMatching(/task careless made a blocking call/)]);
  });
});

describe('the NVMe 4 KiB read path', () => {
  /** The bench's read scenario, small: 4 clients, MSI-X, 2 I/O queues. */
  function reads(ops: number) {
    const path = scenarioPath('nvme-msix');
    return parseScenario(nvmeReadsScenario(ops, { name: 'alloc-test-nvme-reads', verify: true, simTime: '60s' }), path, 'test');
  }

  it('the client\'s read, the daemon\'s request wait and the IRQ thread\'s wait make no generator (bar preempted entries)', () => {
    const kinds = { done: 0, frame: 0, generator: 0, other: 0 };
    let preempted = 0;
    const sysProto = Sys.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const kernelProto = Kernel.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
    const saved = { read: sysProto.read!, nextRequest: sysProto.nextRequest!, waitIrq: sysProto.waitIrq!, syscallEntry: kernelProto.syscallEntry! };
    const classify = (co: unknown) => {
      if (co === DONE) kinds.done++;
      else if (co instanceof Frame) kinds.frame++;
      else if (isGenerator(co)) kinds.generator++;
      else kinds.other++;
      return co;
    };
    for (const name of ['read', 'nextRequest', 'waitIrq'] as const) {
      const orig = saved[name];
      sysProto[name] = function (this: unknown, ...a: unknown[]) { return classify(orig.apply(this, a)); };
    }
    kernelProto.syscallEntry = function (this: unknown, ...a: unknown[]) {
      const r = saved.syscallEntry.apply(this, a);
      if (r === true) preempted++;
      return r;
    };
    let ios = 0;
    try {
      const out = runScenario(reads(400));
      ios = out.result.ios;
      expect(out.result.failures).toEqual([]);
    } finally {
      Object.assign(sysProto, { read: saved.read, nextRequest: saved.nextRequest, waitIrq: saved.waitIrq });
      kernelProto.syscallEntry = saved.syscallEntry;
    }
    expect(ios).toBe(400);
    // Per read: a client read (blocks), a request wait, about half an IRQ wait (waitIrq and its read).
    expect(kinds.frame + kinds.done).toBeGreaterThan(2 * 400);
    expect(kinds.other).toBe(0);
    expect(kinds.generator).toBeLessThanOrEqual(preempted);
  });

  it('allocates well under the ~1.9 KB per read it did with a generator per call', () => {
    // With generators: ~1900 bytes; without: ~560 (the rest is DMA, device and driver work outside the kernel).
    expect(nvmeReadAllocBytes(3000, { rounds: 3 })).toBeLessThan(1200);
  });
});
