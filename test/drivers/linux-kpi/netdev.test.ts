/**
 * linux-kpi net devices served as network.<name>: a loopback driver whose
 * "hardware" holds two frames and hands each back 100 µs later, and client
 * processes using the scheme.
 */
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../../kernel/harness.js';
import { LinuxKpi } from '../../../src/drivers/linux-kpi/kpi.js';
import { NETDEV_TX_BUSY, NETDEV_TX_OK, type NetDevice } from '../../../src/drivers/linux-kpi/netdev.js';
import type { Sys } from '../../../src/kernel/sys.js';
import { EAGAIN, EINVAL, EMSGSIZE, ENETDOWN, ENOENT } from '../../../src/kernel/errno.js';
import { O_NONBLOCK } from '../../../src/kernel/types.js';

const US = 1e6;

function frame(n: number, len = 60): Uint8Array {
  const f = new Uint8Array(len).map((_, i) => (i * 13 + n) & 0xff);
  f[12] = 0x08; f[13] = 0x00;
  return f;
}

interface Loopback { dev: NetDevice; k: LinuxKpi; opens: number; stops: number; sent: Uint8Array[]; busyAwake: boolean }

/** A driver process with one loopback net device: a ring of two frames, each looped back 100 µs after it was sent. */
function startLoopback(kernel: ReturnType<typeof bareKernel>['kernel'], opts: { carrier?: boolean; busyAwake?: boolean } = {}): Loopback {
  const lb = { opens: 0, stops: 0, sent: [] as Uint8Array[], busyAwake: opts.busyAwake === true } as Loopback;
  kernel.spawn('loopd', function* (sys: Sys) {
    const k = lb.k = new LinuxKpi(sys, 'loopd');
    const ring: Uint8Array[] = [];
    let hw: ReturnType<Sys['thread']>;
    let hwIdle = false;
    const dev = lb.dev = k.alloc_etherdev();
    dev.name = 'sim%d';
    dev.mac.set([0x02, 0, 0, 0, 0, 1]);
    dev.ops = {
      *ndo_open() { lb.opens++; k.netif_start_queue(dev); return 0; },
      *ndo_stop() { lb.stops++; return 0; },
      ndo_start_xmit(_sys, f) {
        if (lb.busyAwake) { lb.busyAwake = false; return NETDEV_TX_BUSY; }
        lb.sent.push(f.slice());
        ring.push(f.slice());
        if (ring.length === 2) k.netif_stop_queue(dev);
        k.env.wakeIdle(hw, hwIdle);
        return NETDEV_TX_OK;
      },
    };
    if (opts.carrier !== false) k.netif_carrier_on(dev);
    expect(k.register_netdev(dev)).toBe(0);
    const tid = sys.spawnThread('loop-hw', function* (s: Sys) {
      for (;;) {
        if (ring.length === 0) { hwIdle = true; yield* s.park(); hwIdle = false; continue; }
        yield* s.sleep(100 * US);
        k.netif_rx(dev, ring.shift()!);
        if (k.netif_queue_stopped(dev)) k.netif_wake_queue(dev);
      }
    });
    hw = sys.thread(tid);
    yield* sys.park();
  });
  return lb;
}

function* openNet(sys: Sys, path: string, flags = 0) {
  let fd = -1;
  for (let i = 0; i < 10 && fd < 0; i++) {
    fd = yield* sys.open(path, flags);
    if (fd < 0) yield* sys.sleep(10 * US);
  }
  return fd;
}

describe('linux-kpi net devices (network.<name>:)', () => {
  it('names the device, opens it once, loops frames back whole, and stops it on the last close', () => {
    const { kernel, run } = bareKernel();
    const lb = startLoopback(kernel);
    const got: number[] = [];
    const reads: Uint8Array[] = [];
    kernel.spawn('client', function* (sys: Sys) {
      const fd = yield* openNet(sys, 'network.sim0:');
      const fd2 = yield* sys.open('network.sim0:');
      got.push(fd >= 0 ? 0 : fd, fd2 >= 0 ? 0 : fd2, yield* sys.open('network.sim0:sub'));
      got.push(yield* sys.write(fd, frame(1)));
      const buf = new Uint8Array(2048);
      got.push(yield* sys.read(fd, buf));
      reads.push(buf.slice(0, 60));
      // A short buffer takes the head of the frame.
      got.push(yield* sys.write(fd, frame(2, 100)));
      const small = new Uint8Array(20);
      got.push(yield* sys.read(fd, small));
      reads.push(small);
      // The address file, as Redox's network scheme serves it: 6 raw bytes; closing it does not take the interface down.
      const macFd = yield* sys.open('network.sim0:mac');
      const mac = new Uint8Array(8);
      got.push(yield* sys.read(macFd, mac, 0), yield* sys.write(macFd, frame(3)), yield* sys.close(macFd));
      reads.push(mac.slice(0, 6));
      got.push(yield* sys.close(fd2), yield* sys.close(fd));
    });
    run(1e12);
    expect(kernel.crashes).toEqual([]);
    expect(got).toEqual([0, 0, -ENOENT, 60, 60, 100, 20, 6, -EINVAL, 0, 0, 0]);
    expect(reads[0]).toEqual(frame(1));
    expect(reads[1]).toEqual(frame(2, 100).subarray(0, 20));
    expect([...reads[2]!]).toEqual([0x02, 0, 0, 0, 0, 1]);
    expect(lb.dev.name).toBe('sim0');
    expect(lb.opens).toBe(1);
    expect(lb.stops).toBe(1);
    expect(lb.dev.stats).toMatchObject({ rxPackets: 2, rxBytes: 160, txPackets: 2, txBytes: 160, rxDropped: 0 });
    expect(kernel.logs.map((l) => l.text)).toContain('loopd: sim0: serving network.sim0: (mac 02:00:00:00:00:01, mtu 1500)');
  });

  it('checks frame sizes and carrier', () => {
    const { kernel, run } = bareKernel();
    const lb = startLoopback(kernel, { carrier: false });
    const got: number[] = [];
    kernel.spawn('client', function* (sys: Sys) {
      const fd = yield* openNet(sys, 'network.sim0:');
      got.push(yield* sys.write(fd, frame(1)));
      lb.k.netif_carrier_on(lb.dev);
      got.push(yield* sys.write(fd, new Uint8Array(13)));
      got.push(yield* sys.write(fd, new Uint8Array(1515)));
      got.push(yield* sys.write(fd, new Uint8Array(1514)));
      got.push(yield* sys.read(fd, new Uint8Array(2000)));
    });
    run(1e12);
    expect(kernel.crashes).toEqual([]);
    expect(got).toEqual([-ENETDOWN, -EINVAL, -EMSGSIZE, 1514, 1514]);
  });

  it('blocks writes while the driver stops its queue and sends them in order on netif_wake_queue; O_NONBLOCK gets -EAGAIN', () => {
    const { kernel, run } = bareKernel();
    const lb = startLoopback(kernel);
    const got: number[] = [];
    const times: number[] = [];
    kernel.spawn('client', function* (sys: Sys) {
      const fd = yield* openNet(sys, 'network.sim0:');
      const nb = yield* sys.open('network.sim0:', O_NONBLOCK);
      got.push(yield* sys.read(nb, new Uint8Array(100)));
      const t0 = sys.now;
      for (let i = 0; i < 5; i++) {
        got.push(yield* sys.write(fd, frame(i)));
        times.push(Math.round((sys.now - t0) / US));
        if (i === 1) got.push(yield* sys.write(nb, frame(99))); // ring full: the queue is stopped
      }
      for (let i = 0; i < 5; i++) {
        const b = new Uint8Array(100);
        yield* sys.read(fd, b);
        got.push(b[0]!);
      }
    });
    run(1e12);
    expect(kernel.crashes).toEqual([]);
    expect(got).toEqual([-EAGAIN, 60, 60, -EAGAIN, 60, 60, 60, ...[0, 1, 2, 3, 4].map((i) => frame(i)[0]!)]);
    // Frames 0 and 1 fill the ring; 2 waits for the first loop-back at 100 µs, 3 for the second, ...
    expect(times[0]).toBeLessThan(10);
    expect(times[1]).toBeLessThan(10);
    expect(times[2]).toBeGreaterThanOrEqual(100);
    expect(times[3]).toBeGreaterThanOrEqual(200);
    expect(lb.sent.map((f) => f[0])).toEqual([0, 1, 2, 3, 4].map((i) => frame(i)[0]));
  });

  it('reports NETDEV_TX_BUSY with the queue awake as the bug Linux warns about, and retries on wake', () => {
    const { kernel, run } = bareKernel();
    const lb = startLoopback(kernel, { busyAwake: true });
    const got: number[] = [];
    kernel.spawn('client', function* (sys: Sys) {
      const fd = yield* openNet(sys, 'network.sim0:');
      // Nothing wakes the queue but the next open's traffic: the write waits until a wake.
      kernel.spawn('waker', function* (s: Sys) { yield* s.sleep(500 * US); lb.k.netif_wake_queue(lb.dev); });
      got.push(yield* sys.write(fd, frame(7)));
      got.push(Math.round(sys.now / US) >= 500 ? 1 : 0);
    });
    run(1e12);
    expect(kernel.crashes).toEqual([]);
    expect(got).toEqual([60, 1]);
    expect(lb.dev.stats.txBusy).toBe(1);
    expect(kernel.logs.map((l) => l.text)).toContain('loopd: sim0: BUG! ndo_start_xmit returned NETDEV_TX_BUSY with the queue awake');
  });

  it('drops received frames while the interface is down, and reports a bad interface name', () => {
    const { kernel, run } = bareKernel();
    kernel.spawn('drv', function* (sys: Sys) {
      const k = new LinuxKpi(sys, 'drv');
      const dev = k.alloc_etherdev();
      dev.ops = { ndo_start_xmit: () => NETDEV_TX_OK };
      expect(k.register_netdev(dev)).toBe(0);
      expect(dev.name).toBe('eth0');
      expect(k.netif_rx(dev, frame(1))).toBe(1); // NET_RX_DROP: nobody opened it
      expect(dev.stats.rxDropped).toBe(1);
      const bad = k.alloc_etherdev();
      bad.name = 'a name with spaces';
      bad.ops = dev.ops;
      expect(k.register_netdev(bad)).toBe(-EINVAL);
      const second = k.alloc_etherdev();
      second.ops = dev.ops;
      expect(k.register_netdev(second)).toBe(0);
      expect(second.name).toBe('eth1');
      k.unregister_netdev(dev);
      k.unregister_netdev(second);
    });
    run(1e12);
    expect(kernel.crashes).toEqual([]);
    expect(kernel.logs.map((l) => l.text)).toContain('drv: register_netdev: bad or duplicate interface name "a name with spaces"');
  });
});
