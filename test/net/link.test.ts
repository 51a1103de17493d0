import { describe, expect, it } from 'vitest';
import { IFG_LEN, serializationPs, wireBytes } from '../../src/net/link.js';
import { NS, US, linkHarness, runAll } from './helpers.js';

const frame = (len: number, tag = 0): Uint8Array => {
  const f = new Uint8Array(len);
  f.fill(0xff, 0, 6);
  f[6] = 0x52;
  f[12] = 0x08;
  f[len - 1] = tag;
  return f;
};

describe('link timing', () => {
  it('wire size: preamble 8 + frame padded to 60 + FCS 4; 1 Gb/s is 8 ns per byte', () => {
    expect(wireBytes(42)).toBe(72);
    expect(wireBytes(1514)).toBe(1526);
    expect(serializationPs(60, 1000)).toBe(576 * NS);
    expect(serializationPs(1514, 1000)).toBe(12_208 * NS);
    expect(serializationPs(60, 100)).toBe(5_760 * NS);
    // 3 Mb/s: 72 bytes = 576 bits = 192 us exactly; 7 Mb/s rounds up to a whole ps.
    expect(serializationPs(60, 3)).toBe(192 * US);
    expect(serializationPs(60, 7)).toBe(Math.ceil(576e6 / 7));
    expect(IFG_LEN).toBe(12);
  });

  it('a frame arrives after serialization + propagation delay', () => {
    const { q, link } = linkHarness({ delayPs: 50 * US });
    const got: number[] = [];
    link.peer.onReceive((_f, t) => got.push(t));
    q.runUntil(1000 * NS);
    expect(link.guest.transmit(frame(60))).toBe(true);
    runAll(q);
    expect(got).toEqual([1000 * NS + 576 * NS + 50 * US]);
  });

  it('frames queue behind each other with the inter-frame gap; directions are independent', () => {
    const { q, link } = linkHarness({ delayPs: 10 * US });
    const atPeer: [number, number][] = [];
    const atGuest: number[] = [];
    link.peer.onReceive((f, t) => atPeer.push([t, f[f.length - 1]!]));
    link.guest.onReceive((_f, t) => atGuest.push(t));
    link.guest.transmit(frame(1514, 1));
    link.guest.transmit(frame(60, 2));
    link.guest.transmit(frame(60, 3));
    link.peer.transmit(frame(60, 9));
    runAll(q);
    const s1 = 12_208 * NS, s2 = 576 * NS, gap = 96 * NS, d = 10 * US;
    expect(atPeer).toEqual([[s1 + d, 1], [s1 + gap + s2 + d, 2], [s1 + gap + s2 + gap + s2 + d, 3]]);
    expect(atGuest).toEqual([s2 + d]);
  });

  it('an idle wire does not delay the next frame', () => {
    const { q, link } = linkHarness({ delayPs: 0 });
    const got: number[] = [];
    link.peer.onReceive((_f, t) => got.push(t));
    link.guest.transmit(frame(60));
    runAll(q);
    q.runUntil(10 * US);
    link.guest.transmit(frame(60));
    runAll(q);
    expect(got).toEqual([576 * NS, 10 * US + 576 * NS]);
  });

  it('copies the frame at transmit: the sender may reuse its buffer', () => {
    const { q, link } = linkHarness();
    let seen = -1;
    link.peer.onReceive((f) => { seen = f[20]!; });
    const b = frame(60);
    b[20] = 7;
    link.guest.transmit(b);
    b[20] = 8;
    runAll(q);
    expect(seen).toBe(7);
  });

  it('drops runts and frames over the MTU at once, and frames with no receiver are counted', () => {
    const { q, link } = linkHarness({ mtu: 1500 });
    expect(link.guest.transmit(frame(13))).toBe(false);
    expect(link.guest.transmit(frame(1519))).toBe(false);
    expect(link.guest.transmit(frame(1518))).toBe(true); // 1500 + 14 + a VLAN tag
    runAll(q);
    expect(link.guest.counters).toMatchObject({ txDroppedSize: 2, txFrames: 1 });
    expect(link.peer.counters.rxNoHandler).toBe(1);
  });
});

describe('link up/down', () => {
  it('reports changes to both ends at the scheduled time, loses frames in flight and refuses frames while down', () => {
    const { q, link } = linkHarness({ delayPs: 50 * US });
    const changes: string[] = [];
    link.guest.onLinkChange((up, t) => changes.push(`guest ${up ? 'up' : 'down'} ${t}`));
    link.peer.onLinkChange((up, t) => changes.push(`peer ${up ? 'up' : 'down'} ${t}`));
    const got: number[] = [];
    link.peer.onReceive((_f, t) => got.push(t));
    link.scheduleLinkChange(20 * US, false);
    link.scheduleLinkChange(100 * US, true);
    link.guest.transmit(frame(60)); // in flight at 20 us: lost
    q.runUntil(30 * US);
    expect(link.guest.linkUp).toBe(false);
    expect(link.guest.transmit(frame(60))).toBe(false);
    q.runUntil(100 * US);
    expect(link.peer.linkUp).toBe(true);
    link.guest.transmit(frame(60));
    runAll(q);
    expect(changes).toEqual([`guest down ${20 * US}`, `peer down ${20 * US}`, `guest up ${100 * US}`, `peer up ${100 * US}`]);
    expect(got).toEqual([100 * US + 576 * NS + 50 * US]);
    expect(link.guest.counters).toMatchObject({ lostLinkDown: 1, txDroppedLinkDown: 1, txFrames: 2 });
  });
});

describe('seeded loss and duplication', () => {
  const run = (seed: number, lossPct: number, duplicatePct: number): number[] => {
    const { q, link } = linkHarness({ lossPct, duplicatePct, delayPs: 0 }, seed);
    const got: number[] = [];
    link.peer.onReceive((f) => got.push(f[f.length - 1]!));
    for (let i = 0; i < 200; i++) link.guest.transmit(frame(60, i));
    runAll(q);
    return got;
  };
  it('loses about lossPct of frames, the same ones for the same seed, others for another seed', () => {
    const a = run(1, 20, 0);
    expect(a.length).toBeGreaterThan(130);
    expect(a.length).toBeLessThan(190);
    expect(run(1, 20, 0)).toEqual(a);
    expect(run(2, 20, 0)).not.toEqual(a);
  });
  it('duplicates back to back, keeping order; no randomness drawn at 0%', () => {
    const d = run(1, 0, 10);
    expect(d.length).toBeGreaterThan(200);
    for (let i = 1; i < d.length; i++) expect(d[i]!).toBeGreaterThanOrEqual(d[i - 1]!);
    expect(run(1, 0, 0)).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });
});

describe('tracing', () => {
  it('traces the guest end only: tx at transmit (even when dropped), rx at delivery', () => {
    const { q, t, link } = linkHarness({ delayPs: 1 * US });
    link.guest.onReceive(() => {});
    link.guest.transmit(frame(60, 1));
    link.peer.transmit(frame(64, 2));
    link.guest.transmit(frame(5, 3)); // runt: dropped, still traced
    runAll(q);
    const eth = t.events.filter((e) => e.kind === 'eth');
    expect(eth.map((e) => e.kind === 'eth' && [e.time, e.dev, e.tx, e.port, e.data.length])).toEqual([
      [0, 3, true, 0, 60], [0, 3, true, 0, 5], [608 * NS + 1 * US, 3, false, 0, 64],
    ]);
  });
});
