import { EventQueue } from '../../src/sim/event-queue.js';
import { Rng } from '../../src/sim/rng.js';
import { MemoryTracer, type Tracer } from '../../src/sim/tracer.js';
import { EthernetLink, type LinkParams } from '../../src/net/link.js';
import { buildNetwork, type AttachedNetwork } from '../../src/net/attach.js';
import { parseNetworkConfig } from '../../src/net/config.js';

export const US = 1_000_000;
export const NS = 1_000;

export function linkHarness(p: Partial<LinkParams> = {}, seed = 1): { q: EventQueue; t: MemoryTracer; link: EthernetLink } {
  const q = new EventQueue(64);
  const t = new MemoryTracer();
  const link = new EthernetLink(
    { delayPs: 50 * US, bandwidthMbps: 1000, mtu: 1500, lossPct: 0, duplicatePct: 0, ...p },
    { queue: q, tracer: t, dev: 3, rng: new Rng(seed).fork('link') },
  );
  return { q, t, link };
}

/** A network built from JSON (defaults for what is not given), with the guest's received frames collected. */
export function netHarness(json: Record<string, unknown> = {}, seed = 1, tracer: Tracer = new MemoryTracer(), index = 2): {
  q: EventQueue; t: Tracer; net: AttachedNetwork; rx: { frame: Uint8Array; time: number }[];
} {
  const q = new EventQueue(64);
  const t = tracer;
  const config = parseNetworkConfig({ name: 'test', ...json }, '/fixtures/networks/test.json');
  const net = buildNetwork({ id: 'net0', index, queue: q, tracer: t, rng: new Rng(seed), baseDir: '/' }, config);
  const rx: { frame: Uint8Array; time: number }[] = [];
  net.port.onReceive((frame, time) => rx.push({ frame: frame.slice(), time }));
  return { q, t, net, rx };
}

export function runAll(q: EventQueue, limit = 1e6): void {
  for (let i = 0; i < limit && q.step(); i++);
}
