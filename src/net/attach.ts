/**
 * How a NIC device model gets its network: a device prop names a network
 * file (like the Wi-Fi adapter's `rf` prop names a radio environment), and
 * the device's factory calls `attachNetwork` with its DeviceContext:
 *
 *   (import NETWORK_PROP and attachNetwork from src/net/attach.ts)
 *   props: { network: NETWORK_PROP, ... }
 *   create(ctx, props) {
 *     let net;
 *     try { net = props.network === '' ? undefined : attachNetwork(ctx, props.network); }
 *     catch (e) { if (e instanceof InputError) throw new DeviceConfigError('network', e.message); throw e; }
 *     net?.port.onReceive((frame, time) => ...);   // copy/DMA the frame into an RX buffer
 *     net?.port.onLinkChange((up, time) => ...);   // status bit + config interrupt
 *     ... net.port.transmit(frameBytes) when the driver queues a TX buffer ...
 *   }
 *
 * The path resolves against the machine file's directory (`ctx.baseDir`),
 * so a scenario in fixtures/scenarios/ says `"network": "../networks/default.json"`;
 * the machine hashes the file into the trace header's fixtures like any
 * string prop that names a file. The link traces the guest side's frames as
 * `eth` records under the device's trace index.
 */
import { resolve } from 'node:path';
import type { EventQueue } from '../sim/event-queue.js';
import type { Rng } from '../sim/rng.js';
import type { Tracer } from '../sim/tracer.js';
import { loadNetworkConfig, type NetworkConfig } from './config.js';
import { EthernetLink } from './link.js';
import { PeerHost } from './peer-host.js';
import type { EthernetPort } from './port.js';

/** The device prop naming the network file (spread into a NIC's prop table as `network`). */
export const NETWORK_PROP = {
  type: 'string',
  default: '',
  doc: 'Network at the far end of the link (fixtures/networks/*.json), relative to the machine file directory; empty = no cable',
} as const;

/** What attachNetwork needs of a device's context (a DeviceContext has all of it). */
export interface NetworkHostContext {
  /** Instance name, for event-target names. */
  id: string;
  /** Trace device index: the `dev` of the link's `eth` records. */
  index: number;
  queue: EventQueue;
  tracer: Tracer;
  rng: Rng;
  baseDir: string;
}

export interface AttachedNetwork {
  /** The NIC's end of the link. */
  port: EthernetPort;
  link: EthernetLink;
  peer: PeerHost;
  config: NetworkConfig;
  /** Counters for the device's run summary: link (tx/rx/drops of the guest end) and peer (answers, malformed, ...). */
  stats(): Record<string, number>;
}

/**
 * Loads the network file `file` (relative to ctx.baseDir) and builds the link
 * and the peer host for the device. Throws InputError (exit 2, naming the
 * file and field) for a missing or invalid file.
 */
export function attachNetwork(ctx: NetworkHostContext, file: string, opts: { tracePort?: number } = {}): AttachedNetwork {
  return buildNetwork(ctx, loadNetworkConfig(resolve(ctx.baseDir, file)), opts);
}

/** Builds the link and the peer host for an already validated network. */
export function buildNetwork(ctx: NetworkHostContext, config: NetworkConfig, opts: { tracePort?: number } = {}): AttachedNetwork {
  const link = new EthernetLink(config.link, {
    queue: ctx.queue, tracer: ctx.tracer, dev: ctx.index, tracePort: opts.tracePort ?? 0,
    rng: ctx.rng.fork('link'), name: `${ctx.id}.link`,
  });
  for (const e of config.schedule) {
    if (e.action === 'link-down' || e.action === 'link-up') link.scheduleLinkChange(e.atPs, e.action === 'link-up');
  }
  const peer = new PeerHost(config, link.peer, ctx.queue, `${ctx.id}.peer`);
  return {
    port: link.guest, link, peer, config,
    stats() {
      const out: Record<string, number> = {};
      for (const [k, v] of Object.entries(link.guest.counters)) out[`link.${k}`] = v;
      for (const [k, v] of Object.entries(peer.counters)) out[`peer.${k}`] = v;
      return out;
    },
  };
}
