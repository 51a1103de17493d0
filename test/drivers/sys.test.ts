import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVERS, type DriverEntry } from '../../src/drivers/registry.js';
import { Dma, IrqHandle, PciDevice } from '../../src/drivers/sys/index.js';
import { parseScenario } from '../../src/machine/scenario.js';
import { runScenario } from '../../src/machine/run.js';
import { DISK } from '../e2e/helpers.js';
import { bareKernel } from '../kernel/harness.js';
import type { Thread } from '../../src/kernel/sys.js';

const found: Record<string, string | number> = {};

/** A native Redox-style driver: no linux-kpi, just redox-driver-sys-like calls. */
const redoxIdentify: DriverEntry = {
  name: 'redox-identify',
  description: 'test: identify an NVMe controller the Redox way',
  kind: 'redox',
  params: {},
  idTable: [{ class: 0x010802, classMask: 0xffffff }],
  *main(sys, handle) {
    const pci = new PciDevice(sys, handle);
    yield* pci.enable();
    const bar = pci.mapBar(0);
    found.vs = bar.read32(0x08);
    const irqs = (yield* pci.enableMsix(1))!;
    const irq: IrqHandle = irqs[0]!;
    const asq = Dma.zeroed(sys, 4096);
    const acq = Dma.zeroed(sys, 4096);
    const id = Dma.zeroed(sys, 4096);
    bar.write32(0x24, (1 << 16) | 1); // 2-entry admin queues
    bar.write32(0x28, asq.phys); bar.write32(0x2c, 0);
    bar.write32(0x30, acq.phys); bar.write32(0x34, 0);
    bar.write32(0x14, 0x00460001);
    while ((bar.read32(0x1c) & 1) === 0) yield* sys.sleep(100e6);
    const sqe = asq.view;
    sqe.setUint8(0, 0x06); // Identify
    sqe.setUint16(2, 0x1234, true);
    sqe.setUint32(24, id.phys, true);
    sqe.setUint32(40, 1, true); // CNS 1: controller
    bar.write32(0x1000, 1);
    found.irqs = yield* irq.wait();
    found.cid = acq.view.getUint16(12, true);
    found.phase = (acq.view.getUint16(14, true) & 1);
    found.model = String.fromCharCode(...id.bytes.subarray(24, 64)).trim();
    bar.write32(0x1004, 1);
    return 0;
  },
};

describe('redox-driver-sys layer', () => {
  beforeAll(() => { DRIVERS.push(redoxIdentify); });
  afterAll(() => { DRIVERS.splice(DRIVERS.indexOf(redoxIdentify), 1); });

  it('a native driver maps the BAR, sets up MSI-X, allocates DMA and identifies the controller', () => {
    const s = parseScenario({
      name: 'sys',
      machine: { devices: [{ type: 'nvme', bdf: '00:04.0', props: { image: DISK } }] },
      drivers: { 'redox-identify': {} },
    }, '/tmp/sys.json', 'h');
    const out = runScenario(s);
    expect(out.result.crashes).toEqual([]);
    expect(out.result.guestErrors).toBe(0);
    expect(found).toEqual({ vs: 0x00010400, irqs: 1, cid: 0x1234, phase: 1, model: 'simrun NVMe SSD' });
  });
});

describe('Sys: the thread and wait calls linux-kpi is built on', () => {
  it('park blocks until unpark (true) or until the deadline (false); unpark of a running thread is false', () => {
    const { kernel, run } = bareKernel(1);
    const seen: string[] = [];
    kernel.spawn('p', function* (sys) {
      const me = sys.currentThread();
      expect(me.name).toBe('p');
      expect(me.pid).toBe(sys.pid);
      expect(sys.unpark(me)).toBe(false); // running, not parked
      const t0 = sys.now;
      const woken = yield* sys.park(t0 + 5e9);
      seen.push(`timeout ${woken} after ${(sys.now - t0) / 1e9} ms`);
      const tid = sys.spawnThread('waker', function* (s2) {
        yield* s2.sleep(2e9);
        expect(s2.currentThread().name).toBe('waker');
        expect(s2.unpark(me)).toBe(true);
        expect(s2.unpark(me)).toBe(false); // already ready
      });
      expect(sys.thread(tid)?.name).toBe('waker');
      const t1 = sys.now;
      const seq = me.waitSeq;
      const w2 = yield* sys.park(t1 + 50e9);
      seen.push(`woken ${w2} after ${Math.round((sys.now - t1) / 1e9)} ms`);
      expect(me.waitSeq).toBe(seq + 1);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(seen).toEqual(['timeout false after 5 ms', 'woken true after 2 ms']);
  });

  it('park charges nothing: the core time moves only by the wait itself', () => {
    const { kernel, run } = bareKernel(1);
    let syscalls = -1;
    kernel.spawn('p', function* (sys) {
      const before = kernel.syscalls;
      const t0 = sys.now;
      yield* sys.park(t0 + 1e9);
      expect(sys.now - t0).toBe(1e9);
      syscalls = kernel.syscalls - before;
    });
    run();
    expect(syscalls).toBe(0);
  });

  it('thread and killThread reach only threads of the calling process', () => {
    const { kernel, run } = bareKernel(1);
    let otherTid = -1;
    let ran = 0;
    let killedRan = 0;
    kernel.spawn('a', function* (sys) {
      otherTid = sys.spawnThread('a-worker', function* (s) { yield* s.sleep(10e9); ran++; });
      yield* sys.sleep(100e9);
    });
    kernel.spawn('b', function* (sys) {
      yield* sys.sleep(1e9);
      expect(sys.thread(otherTid)).toBeUndefined(); // a's thread
      sys.killThread(otherTid); // not b's: no effect
      const mine = sys.spawnThread('b-worker', function* (s) { yield* s.sleep(10e9); killedRan++; });
      expect(sys.thread(mine)?.pid).toBe(sys.pid);
      yield* sys.sleep(1e9);
      sys.killThread(mine);
      yield* sys.sleep(20e9);
    });
    run();
    expect(kernel.crashes).toEqual([]);
    expect(ran).toBe(1);
    expect(killedRan).toBe(0);
  });

  it('atExit hooks run once, in order, when the process ends; serviceRoundTrip blocks for two scheme hops', () => {
    const { kernel, run, cores } = bareKernel(1);
    const order: string[] = [];
    let waited = 0;
    kernel.spawn('p', function* (sys) {
      sys.atExit(() => order.push('first'));
      sys.atExit(() => order.push('second'));
      const t0 = sys.now;
      yield* sys.serviceRoundTrip();
      waited = sys.now - t0;
    });
    run();
    expect(order).toEqual(['first', 'second']);
    expect(waited).toBeGreaterThanOrEqual(2 * cores[0]!.costs.schemeHopPs);
  });

  it('a parked thread is a wait-queue entry: FIFO wake order is the order of unpark', () => {
    const { kernel, run } = bareKernel(1);
    const order: string[] = [];
    kernel.spawn('p', function* (sys) {
      const q: Thread[] = [];
      for (const n of ['x', 'y', 'z']) {
        sys.spawnThread(n, function* (s) { q.push(s.currentThread()); yield* s.park(); order.push(n); });
      }
      yield* sys.sleep(1e9);
      expect(q.map((t) => t.name)).toEqual(['x', 'y', 'z']);
      for (const t of [q[2]!, q[0]!, q[1]!]) sys.unpark(t);
      yield* sys.sleep(1e9);
    });
    run();
    expect(order).toEqual(['z', 'x', 'y']);
  });
});
