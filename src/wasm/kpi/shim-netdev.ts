/**
 * The `linux` imports for net devices (guest/include/linux/netdevice.h),
 * backed by the TypeScript linux-kpi's LinuxNetdev: register_netdev reads
 * the C struct net_device and its net_device_ops, and the device's scheme
 * calls the C ndo_* functions. A frame written to `network.<name>:` becomes
 * an skb built here in the module's memory (kmalloc's heap, so the driver's
 * kfree_skb frees it) in the layout skbuff.h checks with static asserts.
 */
import { ENOMEM } from '../../kernel/errno.js';
import { NETDEV_TX_BUSY, type NetDevice } from '../../drivers/linux-kpi/netdev.js';
import type { ImportTable, WasmCallContext } from '../runtime/process.js';
import type { KpiShim } from './shim.js';
import { cFunction } from './shim-sync.js';

const shim = (cx: WasmCallContext) => cx.proc.host as KpiShim;
const EINVAL = 22;
/** struct net_device on wasm32. */
const NETDEV = { name: 0, nameBytes: 16, devAddr: 16, mtu: 24, ops: 32, handle: 36 } as const;
/** struct net_device_ops: function table indices. */
const OPS = { open: 0, stop: 4, startXmit: 8 } as const;
/** struct sk_buff on wasm32 (skbuff.h asserts the same offsets). */
const SKB = { len: 8, protocol: 12, head: 16, data: 20, tail: 24, end: 28, dev: 32, macHeader: 36, bytes: 88 } as const;
const NET_SKB_PAD = 32;

export const NETDEV_IMPORTS: ImportTable = {
  linux: {
    register_netdev: {
      fn: (cx, devPtr) => {
        const s = shim(cx);
        const proc = cx.proc;
        const opsPtr = proc.u32(devPtr + NETDEV.ops);
        if (opsPtr === 0) {
          s.k.env.log('error', 'register_netdev: dev->netdev_ops is NULL');
          return -EINVAL;
        }
        const open = proc.u32(opsPtr + OPS.open), stop = proc.u32(opsPtr + OPS.stop), xmit = proc.u32(opsPtr + OPS.startXmit);
        const startXmit = cFunction(cx, xmit, 'register_netdev: ndo_start_xmit');
        const ndoOpen = open === 0 ? undefined : cFunction(cx, open, 'register_netdev: ndo_open');
        const ndoStop = stop === 0 ? undefined : cFunction(cx, stop, 'register_netdev: ndo_stop');
        const dev = s.k.alloc_etherdev();
        dev.name = proc.cstring(devPtr + NETDEV.name, NETDEV.nameBytes - 1);
        dev.mac.set(proc.bytes.subarray(devPtr + NETDEV.devAddr, devPtr + NETDEV.devAddr + 6));
        dev.mtu = proc.u32(devPtr + NETDEV.mtu);
        const devArg = [devPtr];
        const xmitArgs = [0, devPtr];
        dev.ops = {
          ...(ndoOpen === undefined ? {} : { ndo_open: (sys) => proc.call(sys, ndoOpen, devArg, 'ndo_open') }),
          ...(ndoStop === undefined ? {} : { ndo_stop: (sys) => proc.call(sys, ndoStop, devArg, 'ndo_stop') }),
          ndo_start_xmit: (sys, frame) => {
            const skb = buildSkb(cx, devPtr, frame);
            if (skb === 0) return NETDEV_TX_BUSY;
            xmitArgs[0] = skb;
            const r = proc.callSync(sys, startXmit, xmitArgs, 'ndo_start_xmit');
            if (r === NETDEV_TX_BUSY) {
              // Not taken: the skb is still ours.
              proc.free(proc.u32(skb + SKB.head));
              proc.free(skb);
            }
            return r;
          },
        };
        const r = s.k.register_netdev(dev);
        if (r < 0) return r;
        // The final name ("eth%d" numbered) back into dev->name.
        const name = new TextEncoder().encode(dev.name);
        proc.bytes.fill(0, devPtr + NETDEV.name, devPtr + NETDEV.name + NETDEV.nameBytes);
        proc.bytes.set(name.subarray(0, NETDEV.nameBytes - 1), devPtr + NETDEV.name);
        proc.setU32(devPtr + NETDEV.handle, s.add('net_device', dev));
        return 0;
      },
    },
    unregister_netdev: { fn: (cx, h) => { const s = shim(cx); s.k.unregister_netdev(s.get<NetDevice>(h, 'net_device')); } },
    netif_rx: {
      fn: (cx, h, frame, len) => {
        const s = shim(cx);
        const dev = s.get<NetDevice>(h, 'net_device');
        const p = frame >>> 0, n = len >>> 0;
        if (p + n > cx.proc.bytes.length) { cx.proc.u32(p + n); return 1; } // out of bounds: traps with the call named
        return s.k.netif_rx(dev, cx.proc.bytes.subarray(p, p + n));
      },
    },
    netif_queue: {
      fn: (cx, h, op) => {
        const s = shim(cx);
        const dev = s.get<NetDevice>(h, 'net_device');
        switch (op) {
          case 0: s.k.netif_start_queue(dev); return 0;
          case 1: s.k.netif_stop_queue(dev); return 0;
          case 2: s.k.netif_wake_queue(dev); return 0;
          default: return s.k.netif_queue_stopped(dev) ? 1 : 0;
        }
      },
    },
    netif_carrier: {
      fn: (cx, h, op) => {
        const s = shim(cx);
        const dev = s.get<NetDevice>(h, 'net_device');
        switch (op) {
          case 0: s.k.netif_carrier_on(dev); return 0;
          case 1: s.k.netif_carrier_off(dev); return 0;
          default: return s.k.netif_carrier_ok(dev) ? 1 : 0;
        }
      },
    },
  },
};

/** An skb holding `frame` in the module's memory (NET_SKB_PAD headroom, mac_header = data, dev set); 0 when out of memory. */
function buildSkb(cx: WasmCallContext, devPtr: number, frame: Uint8Array): number {
  const proc = cx.proc;
  const skb = proc.malloc(SKB.bytes, 16, true);
  const head = skb === 0 ? 0 : proc.malloc(NET_SKB_PAD + frame.length, 16);
  if (head === 0) {
    if (skb !== 0) proc.free(skb);
    shim(cx).k.env.log('warn', `ndo_start_xmit: no memory for an skb of ${frame.length} bytes (-${ENOMEM})`);
    return 0;
  }
  const data = head + NET_SKB_PAD;
  proc.bytes.set(frame, data);
  proc.setU32(skb + SKB.len, frame.length);
  // skb->protocol: the EtherType bytes as they are (__be16).
  proc.bytes[skb + SKB.protocol] = frame[12] ?? 0;
  proc.bytes[skb + SKB.protocol + 1] = frame[13] ?? 0;
  proc.setU32(skb + SKB.head, head);
  proc.setU32(skb + SKB.data, data);
  proc.setU32(skb + SKB.tail, data + frame.length);
  proc.setU32(skb + SKB.end, data + frame.length);
  proc.setU32(skb + SKB.dev, devPtr);
  proc.setU32(skb + SKB.macHeader, data);
  return skb;
}
