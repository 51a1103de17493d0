import type { Co, Sys, Thread } from '../../kernel/sys.js';
import { EAGAIN, EINVAL, EMSGSIZE, ENETDOWN, ENODEV, ENOENT } from '../../kernel/errno.js';
import { OP_CLOSE, OP_FSIZE, OP_OPEN, OP_READ, OP_WRITE, type Packet } from '../../kernel/sys.js';
import { O_NONBLOCK } from '../../kernel/types.js';
import type { KpiEnv } from './env.js';

/** ndo_start_xmit results (linux/netdevice.h netdev_tx_t). */
export const NETDEV_TX_OK = 0x00;
export const NETDEV_TX_BUSY = 0x10;
/** netif_rx / netif_receive_skb results. */
export const NET_RX_SUCCESS = 0;
export const NET_RX_DROP = 1;
/** Ethernet header bytes (destination, source, EtherType). */
export const ETH_HLEN = 14;
/** Frames held for readers before netif_rx drops (Linux's netdev_max_backlog sysctl). */
export const NETDEV_MAX_BACKLOG = 1000;

/**
 * `struct net_device_ops`: what the stack calls. ndo_open/ndo_stop may
 * sleep; ndo_start_xmit must not and gets a frame it must copy if it keeps
 * it past the call (NETDEV_TX_OK: taken; NETDEV_TX_BUSY: not taken, the
 * write waits for netif_wake_queue).
 */
export interface NetDeviceOps {
  ndo_open?(sys: Sys): Co<number>;
  ndo_stop?(sys: Sys): Co<number>;
  ndo_start_xmit(sys: Sys, frame: Uint8Array): number;
}

export interface NetDeviceStats {
  rxPackets: number;
  rxBytes: number;
  rxDropped: number;
  txPackets: number;
  txBytes: number;
  /** ndo_start_xmit answered NETDEV_TX_BUSY. */
  txBusy: number;
}

interface NetHandle { nonBlocking: boolean; mac: boolean }

/** `struct net_device` as the stack sees it. */
export class NetDevice {
  name: string;
  readonly mac = new Uint8Array(6);
  mtu = 1500;
  ops: NetDeviceOps | undefined;
  registered = false;
  /** Opened (ndo_open succeeded; at least one scheme handle open). */
  up = false;
  carrier = false;
  txStopped = false;
  readonly stats: NetDeviceStats = { rxPackets: 0, rxBytes: 0, rxDropped: 0, txPackets: 0, txBytes: 0, txBusy: 0 };
  /** Received frames no reader has taken yet. */
  readonly rx: Uint8Array[] = [];
  readonly readers: Packet[] = [];
  readonly writers: Packet[] = [];
  readonly handles = new Map<number, NetHandle>();
  fd = -1;
  /** The device's TX softirq thread (sends writes that waited for netif_wake_queue) and whether it is parked. */
  txThread: Thread | undefined;
  txIdle = false;
  constructor(name: string) { this.name = name; }
}

/**
 * linux/netdevice.h's device side, bound to the Redox network scheme: a
 * registered net_device is served as `network.<name>:` by a thread of the
 * driver process, the shape Wi-Fi's `network.<if>:` has.
 *
 *   open   "" (the frames): the first open brings the interface up (ndo_open); its error
 *          is the open's. "mac": the address, read as 6 raw bytes (Redox's network
 *          scheme shape); does not bring the interface up
 *   read   one received frame, whole (Ethernet header first; truncated to the buffer);
 *          blocks until one arrives, -EAGAIN with O_NONBLOCK
 *   write  one frame of ETH_HLEN..ETH_HLEN+mtu bytes (-EINVAL shorter, -EMSGSIZE longer),
 *          -ENETDOWN without carrier; handed to ndo_start_xmit; blocks while the queue is
 *          stopped (netif_stop_queue .. netif_wake_queue), -EAGAIN with O_NONBLOCK
 *   close  the last close takes the interface down (ndo_stop)
 *
 * Blocked requests are answered later from the RX path (netif_rx) or the
 * TX completion path (netif_wake_queue), from whichever driver thread calls
 * them: the scheme loop itself only waits for requests and for ndo_open/stop.
 */
export class LinuxNetdev {
  private readonly devices: NetDevice[] = [];
  private nextHandle = 1;

  constructor(private readonly env: KpiEnv) {}

  /** alloc_etherdev: "eth%d", MTU 1500, no carrier until netif_carrier_on. */
  alloc_etherdev(): NetDevice { return new NetDevice('eth%d'); }

  /** Names the device (a "%d" in its name takes the first free number) and starts serving it. 0 or -errno. */
  register_netdev(dev: NetDevice): number {
    if (dev.registered) return -EINVAL;
    if (dev.ops === undefined) {
      this.env.log('error', `register_netdev(${dev.name}): no netdev_ops`);
      return -EINVAL;
    }
    if (dev.name.includes('%d')) {
      let n = 0;
      while (this.devices.some((d) => d.name === dev.name.replace('%d', String(n)))) n++;
      dev.name = dev.name.replace('%d', String(n));
    }
    if (!/^[A-Za-z0-9_-]{1,15}$/.test(dev.name) || this.devices.some((d) => d.name === dev.name)) {
      this.env.log('error', `register_netdev: bad or duplicate interface name "${dev.name}"`);
      return -EINVAL;
    }
    dev.registered = true;
    this.devices.push(dev);
    this.env.spawn(`net-${dev.name}`, (sys) => this.serve(sys, dev));
    dev.txThread = this.env.spawn(`net-tx/${dev.name}`, (sys) => this.runTx(sys, dev));
    return 0;
  }

  /** Stops serving: waiting requests and later ones get -ENODEV. */
  unregister_netdev(dev: NetDevice): void {
    if (!dev.registered) return;
    dev.registered = false;
    dev.up = false;
    const i = this.devices.indexOf(dev);
    if (i >= 0) this.devices.splice(i, 1);
    for (const p of dev.readers.splice(0)) this.reply(dev, p, -ENODEV);
    for (const p of dev.writers.splice(0)) this.reply(dev, p, -ENODEV);
    dev.rx.length = 0;
    this.env.wakeIdle(dev.txThread, dev.txIdle);
  }

  devicesServed(): readonly NetDevice[] { return this.devices; }

  /** netif_rx / netif_receive_skb: hands a received frame (copied) to the stack. */
  netif_rx(dev: NetDevice, frame: Uint8Array): number {
    if (!dev.up || frame.length < ETH_HLEN) { dev.stats.rxDropped++; return NET_RX_DROP; }
    const reader = dev.readers.shift();
    dev.stats.rxPackets++;
    dev.stats.rxBytes += frame.length;
    if (reader !== undefined) { this.deliver(dev, reader, frame); return NET_RX_SUCCESS; }
    if (dev.rx.length >= NETDEV_MAX_BACKLOG) { dev.stats.rxPackets--; dev.stats.rxBytes -= frame.length; dev.stats.rxDropped++; return NET_RX_DROP; }
    dev.rx.push(frame.slice());
    return NET_RX_SUCCESS;
  }

  netif_start_queue(dev: NetDevice): void { dev.txStopped = false; }
  netif_stop_queue(dev: NetDevice): void { dev.txStopped = true; }
  netif_queue_stopped(dev: NetDevice): boolean { return dev.txStopped; }
  /**
   * The driver has room again: waiting writes go to ndo_start_xmit, in
   * order, until it stops the queue. As in Linux (__netif_schedule raising
   * NET_TX_SOFTIRQ) that happens in a thread of its own, not inside the
   * caller, which is usually the driver's TX completion path.
   */
  netif_wake_queue(dev: NetDevice): void {
    dev.txStopped = false;
    if (dev.writers.length > 0) this.env.wakeIdle(dev.txThread, dev.txIdle);
  }
  netif_carrier_on(dev: NetDevice): void { dev.carrier = true; }
  /** Writes waiting for the queue fail with -ENETDOWN. */
  netif_carrier_off(dev: NetDevice): void {
    dev.carrier = false;
    for (const p of dev.writers.splice(0)) this.reply(dev, p, -ENETDOWN);
  }
  netif_carrier_ok(dev: NetDevice): boolean { return dev.carrier; }

  private *serve(sys: Sys, dev: NetDevice): Co<void> {
    const scheme = `network.${dev.name}`;
    dev.fd = yield* sys.createScheme(scheme);
    this.env.log('info', `${dev.name}: serving ${scheme}: (mac ${[...dev.mac].map((b) => b.toString(16).padStart(2, '0')).join(':')}, mtu ${dev.mtu})`);
    for (;;) {
      const p = yield* sys.nextRequest(dev.fd);
      if (p === null) return;
      if (!dev.registered) { sys.reply(dev.fd, p, p.op === OP_CLOSE ? 0 : -ENODEV); continue; }
      switch (p.op) {
        case OP_OPEN: {
          if (p.path === 'mac') {
            const h = this.nextHandle++;
            dev.handles.set(h, { nonBlocking: false, mac: true });
            sys.reply(dev.fd, p, h);
            break;
          }
          if (p.path !== '') { sys.reply(dev.fd, p, -ENOENT); break; }
          if (!dev.up) {
            const r = dev.ops!.ndo_open === undefined ? 0 : yield* dev.ops!.ndo_open(sys);
            if (r < 0) { this.env.log('warn', `${dev.name}: ndo_open failed: ${r}`); sys.reply(dev.fd, p, r); break; }
            dev.up = true;
          }
          const h = this.nextHandle++;
          dev.handles.set(h, { nonBlocking: (p.flags & O_NONBLOCK) !== 0, mac: false });
          sys.reply(dev.fd, p, h);
          break;
        }
        case OP_CLOSE: {
          const closing = dev.handles.get(p.handle);
          if (closing === undefined) { sys.reply(dev.fd, p, -EINVAL); break; }
          dev.handles.delete(p.handle);
          if (!closing.mac && dev.up && ![...dev.handles.values()].some((x) => !x.mac)) {
            dev.up = false;
            dev.rx.length = 0;
            for (const q of dev.readers.splice(0)) sys.reply(dev.fd, q, -ENETDOWN);
            for (const q of dev.writers.splice(0)) sys.reply(dev.fd, q, -ENETDOWN);
            const r = dev.ops!.ndo_stop === undefined ? 0 : yield* dev.ops!.ndo_stop(sys);
            if (r < 0) this.env.log('warn', `${dev.name}: ndo_stop failed: ${r}`);
          }
          sys.reply(dev.fd, p, 0);
          break;
        }
        case OP_FSIZE:
          sys.reply(dev.fd, p, dev.handles.has(p.handle) ? 0 : -EINVAL);
          break;
        case OP_READ: {
          const h = dev.handles.get(p.handle);
          if (h === undefined || p.buf === null) { sys.reply(dev.fd, p, -EINVAL); break; }
          if (h.mac) {
            const part = dev.mac.subarray(Math.min(6, Math.max(0, p.offset)));
            const n = Math.min(part.length, p.buf.length);
            p.buf.set(part.subarray(0, n));
            sys.reply(dev.fd, p, n);
            break;
          }
          const f = dev.readers.length === 0 ? dev.rx.shift() : undefined;
          if (f !== undefined) this.deliver(dev, p, f);
          else if (h.nonBlocking) sys.reply(dev.fd, p, -EAGAIN);
          else dev.readers.push(p);
          break;
        }
        case OP_WRITE: {
          const h = dev.handles.get(p.handle);
          if (h === undefined || p.buf === null || h.mac) { sys.reply(dev.fd, p, -EINVAL); break; }
          const buf = p.buf;
          if (buf.length < ETH_HLEN) { sys.reply(dev.fd, p, -EINVAL); break; }
          if (buf.length > ETH_HLEN + dev.mtu) { sys.reply(dev.fd, p, -EMSGSIZE); break; }
          if (!dev.carrier) { sys.reply(dev.fd, p, -ENETDOWN); break; }
          const r = dev.writers.length > 0 ? -EAGAIN : this.xmit(sys, dev, buf);
          if (r !== -EAGAIN) sys.reply(dev.fd, p, r < 0 ? r : buf.length);
          else if (h.nonBlocking) sys.reply(dev.fd, p, -EAGAIN);
          else dev.writers.push(p);
          break;
        }
        default:
          sys.reply(dev.fd, p, -EINVAL);
      }
    }
  }

  /** NET_TX_SOFTIRQ for one device: drains the writes waiting while the queue was stopped. */
  private *runTx(sys: Sys, dev: NetDevice): Co<void> {
    for (;;) {
      while (dev.registered && !dev.txStopped && dev.writers.length > 0) {
        const p = dev.writers[0]!;
        const r = this.xmit(sys, dev, p.buf!);
        if (r === -EAGAIN) break;
        dev.writers.shift();
        this.reply(dev, p, r < 0 ? r : p.buf!.length);
      }
      if (!dev.registered) return;
      dev.txIdle = true;
      yield* sys.park();
      dev.txIdle = false;
    }
  }

  /** One frame to ndo_start_xmit: 0 sent, -EAGAIN when the queue is stopped or the driver is busy. */
  private xmit(sys: Sys, dev: NetDevice, frame: Uint8Array): number {
    if (dev.txStopped) return -EAGAIN;
    const r = dev.ops!.ndo_start_xmit(sys, frame);
    if (r === NETDEV_TX_BUSY) {
      dev.stats.txBusy++;
      if (!dev.txStopped) {
        // Linux warns about this too: a busy driver must stop its queue, or it is asked again at once.
        this.env.log('error', `${dev.name}: BUG! ndo_start_xmit returned NETDEV_TX_BUSY with the queue awake`);
        dev.txStopped = true;
      }
      return -EAGAIN;
    }
    if (r !== NETDEV_TX_OK) this.env.log('error', `${dev.name}: ndo_start_xmit returned ${r} (not NETDEV_TX_OK or NETDEV_TX_BUSY)`);
    dev.stats.txPackets++;
    dev.stats.txBytes += frame.length;
    return 0;
  }

  private deliver(dev: NetDevice, p: Packet, frame: Uint8Array): void {
    const buf = p.buf!;
    const n = Math.min(frame.length, buf.length);
    buf.set(frame.subarray(0, n));
    this.reply(dev, p, n);
  }

  private reply(dev: NetDevice, p: Packet, r: number): void {
    if (!p.replied) this.env.sys.reply(dev.fd, p, r);
  }
}
