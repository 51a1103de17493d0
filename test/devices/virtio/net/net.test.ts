/**
 * virtio-net (virtio 1.2 5.1) driven directly through its PCI transport
 * with the default network attached: identity, feature negotiation, the
 * configuration, ARP and UDP through the peer host, MRG_RXBUF, checksum
 * offload, RX drops and the RX FIFO, link changes, guest errors, the
 * control queue, props, the decoder, and determinism.
 */
import { describe, expect, it } from 'vitest';
import { DeviceConfigError } from '../../../../src/devices/device.js';
import { virtioNetDecoder, virtioNetFactory } from '../../../../src/devices/virtio/net/index.js';
import { parseArp } from '../../../../src/net/proto/arp.js';
import { formatMac } from '../../../../src/net/proto/bytes.js';
import { parseIpv4Packet } from '../../../../src/net/proto/ipv4.js';
import { parseUdp } from '../../../../src/net/proto/udp.js';
import { GUEST_IP, GUEST_MAC, PEER_IP, UDP_OFF, arpWhoHasPeer, payload, udpToPeer } from './frames.js';
import { NetHarness, V, VEC_BASE, bit, networkFile } from './harness.js';

const NS = 1_000;
const US = 1_000_000;
const MS = 1_000_000_000;

describe('identity and features', () => {
  it('is PCI 1af4:1041, class 02:00:00, subsystem 1af4:0001, with three queues', () => {
    const h = new NetHarness();
    expect(h.cfg16(0x00)).toBe(0x1af4);
    expect(h.cfg16(0x02)).toBe(0x1041);
    expect(h.cfg32(0x08) >>> 8).toBe(0x020000);
    expect(h.cfg8(0x08)).toBe(1);
    expect(h.cfg16(0x2c)).toBe(0x1af4);
    expect(h.cfg16(0x2e)).toBe(1);
    expect(h.c16(V.NUM_QUEUES)).toBe(3);
    expect(virtioNetFactory.pciIds).toEqual({ vendorId: 0x1af4, deviceId: 0x1041, classCode: 0x020000 });
  });

  it('offers MAC, STATUS, MTU, MRG_RXBUF, CSUM, GUEST_CSUM, the control queue and ring features, no GSO or MQ', () => {
    const f = new NetHarness().deviceFeatures();
    for (const b of [V.F_VERSION_1, V.F_INDIRECT, V.F_EVENT_IDX, V.N_MAC, V.N_STATUS, V.N_MTU, V.N_MRG_RXBUF, V.N_CSUM, V.N_GUEST_CSUM, V.N_CTRL_VQ, V.N_CTRL_RX, V.N_CTRL_MAC_ADDR, V.N_SPEED_DUPLEX]) {
      expect(f & bit(b), `bit ${b}`).not.toBe(0n);
    }
    for (const b of [V.N_GUEST_TSO4, V.N_HOST_TSO4, V.N_MQ]) expect(f & bit(b), `bit ${b}`).toBe(0n);
    const g = new NetHarness({ props: { csum: false, guestCsum: false, mrgRxbuf: false, ctrlVq: false, eventIdx: false } });
    const gf = g.deviceFeatures();
    for (const b of [V.N_CSUM, V.N_GUEST_CSUM, V.N_MRG_RXBUF, V.N_CTRL_VQ, V.N_CTRL_RX, V.F_EVENT_IDX]) expect(gf & bit(b), `bit ${b}`).toBe(0n);
    expect(g.c16(V.NUM_QUEUES)).toBe(2);
  });

  it('refuses GSO it never offered and CTRL_RX without CTRL_VQ at FEATURES_OK', () => {
    const h = new NetHarness();
    expect(() => h.init({ features: h.deviceFeatures() | bit(V.N_HOST_TSO4) })).toThrow('FEATURES_OK refused');
    expect(() => h.init({ drop: [V.N_CTRL_VQ] })).toThrow('FEATURES_OK refused');
    expect(h.codes()).toEqual(['virtio.features.refused', 'virtio.features.refused']);
    h.init({ drop: [V.N_CTRL_VQ, V.N_CTRL_RX, V.N_CTRL_MAC_ADDR] });
    expect(h.status() & V.DRIVER_OK).toBe(V.DRIVER_OK);
  });
});

describe('configuration', () => {
  it('reads mac, status LINK_UP, max_virtqueue_pairs, mtu, speed and duplex; all read-only', () => {
    const h = new NetHarness();
    expect(h.mac()).toBe('52:54:00:12:34:56');
    expect(h.devCfg(6, 2)).toBe(V.S_LINK_UP);
    expect(h.devCfg(8, 2)).toBe(1);
    expect(h.devCfg(10, 2)).toBe(1500);
    expect(h.devCfg(12, 4)).toBe(1000);
    expect(h.devCfg(16, 1)).toBe(1);
    h.mmioWrite(h.deviceCfg + 0, 1, 0x02);
    expect(h.mac()).toBe('52:54:00:12:34:56');
    expect(h.codes()).toEqual(['virtio.device-cfg.access']);
  });

  it('takes mac and mtu from props; without a network the link is down and the speed unknown', () => {
    const h = new NetHarness({ props: { mac: '02:00:00:aa:bb:cc', mtu: 1400 } });
    expect(h.mac()).toBe('02:00:00:aa:bb:cc');
    expect(h.devCfg(10, 2)).toBe(1400);
    const n = new NetHarness({ network: '' });
    expect(n.devCfg(6, 2)).toBe(0);
    expect(n.devCfg(10, 2)).toBe(1500);
    expect(n.devCfg(12, 4)).toBe(0xffffffff);
    expect(n.dev.stall(0)[0]).toMatch(/no network attached/);
  });

  it('rejects bad props naming the field', () => {
    const field = (props: Record<string, unknown>, network?: string): string => {
      try {
        new NetHarness({ props, network });
      } catch (e) {
        if (e instanceof DeviceConfigError) return e.field;
        throw e;
      }
      return 'accepted';
    };
    expect(field({ mac: '52:54:00:12:34' })).toBe('mac');
    expect(field({ mac: '01:00:5e:00:00:01' })).toBe('mac');
    expect(field({ mac: '00:00:00:00:00:00' })).toBe('mac');
    expect(field({ mtu: 9000 })).toBe('mtu');
    expect(field({ mtu: 60 })).toBe('mtu');
    expect(field({ queueSize: 100 })).toBe('queueSize');
    expect(field({}, 'fixtures/networks/nope.json')).toBe('network');
    expect(field({ mtu: 9000 }, '')).toBe('accepted');
  });
});

describe('transmit and receive through the peer host', () => {
  it('sends an ARP who-has to the peer and receives its reply in a posted buffer', () => {
    const h = new NetHarness();
    h.init({ msix: true });
    h.postRx(4);
    const t0 = h.queue.now;
    const head = h.transmit(arpWhoHasPeer());
    // Notify (200 ns), then 42 bytes padded to 60 on the wire at 1 Gb/s: 576 ns; the chain returns when it has left.
    h.runUntil(t0 + 200 * NS + 576 * NS - 1);
    expect(h.q(1).reap()).toEqual([]);
    h.runUntil(t0 + 200 * NS + 576 * NS);
    expect(h.q(1).reap()).toEqual([{ id: head, len: 0 }]);
    expect(h.delivered).toContain(VEC_BASE + 2); // transmitq vector
    h.settle();
    const rx = h.received();
    expect(rx).toHaveLength(1);
    const r = rx[0]!;
    expect(r.numBuffers).toBe(1);
    expect(r.flags).toBe(V.HDR_DATA_VALID);
    expect(r.gsoType).toBe(V.GSO_NONE);
    expect(r.frame.length).toBe(60);
    expect(formatMac(r.frame, 0)).toBe('52:54:00:12:34:56');
    const arp = parseArp(r.frame.subarray(14));
    expect(arp?.op).toBe(2);
    expect(formatMac(r.frame.subarray(14), arp!.shaOff)).toBe('52:54:00:12:35:02');
    expect(h.delivered).toContain(VEC_BASE + 1); // receiveq vector
    const s = h.dev.stats();
    expect(s).toMatchObject({ txFrames: 1, rxFrames: 1, rxDropped: 0, 'peer.arpRequestsAnswered': 1, 'link.txFrames': 1, 'link.rxFrames': 1 });
    // Both frames are in the trace as eth records: the request (tx) and the reply (rx), ~100 us apart.
    const eth = h.eth();
    expect(eth.map((e) => e.tx)).toEqual([true, false]);
    expect(Array.from(eth[0]!.data)).toEqual(Array.from(arpWhoHasPeer()));
    expect(Array.from(eth[1]!.data)).toEqual(Array.from(r.frame));
    expect(eth[1]!.time - eth[0]!.time).toBeGreaterThan(100 * US);
    expect(h.dmaTags()).toContain('virtio-net.hdr');
    expect(h.dmaTags()).toContain('data');
    expect(h.codes()).toEqual([]);
  });

  it('takes a frame split across descriptors and through an indirect table', () => {
    const h = new NetHarness();
    h.init();
    h.postRx(4);
    h.transmit(udpToPeer(payload(100)), {}, { split: true });
    h.transmit(udpToPeer(payload(50, 2)), {}, { indirect: true, split: true });
    h.settle();
    expect(h.dev.stats()['peer.udpEchoed']).toBe(2);
    const rx = h.received();
    expect(rx).toHaveLength(2);
    expect(rx.map((f) => f.frame.length)).toEqual([14 + 20 + 8 + 100, 14 + 20 + 8 + 50]);
    expect(h.codes()).toEqual([]);
  });

  it('MRG_RXBUF: a large frame spans several buffers, num_buffers in the first header', () => {
    const h = new NetHarness();
    h.init();
    const heads = h.postRx(6, 512);
    const data = payload(1400, 3);
    h.transmit(udpToPeer(data));
    h.settle();
    const used = h.q(0).reap();
    // 14 + 20 + 8 + 1400 = 1442 bytes + 12 of header: 512 + 512 + 430.
    expect(used).toEqual([{ id: heads[0], len: 512 }, { id: heads[1], len: 512 }, { id: heads[2], len: 430 }]);
    const b0 = h.rxBufs.get(heads[0]!)!;
    expect(h.view.getUint16(b0.addr + 10, true)).toBe(3);
    // Reassemble: header only in the first buffer.
    const frame = new Uint8Array(1442);
    frame.set(h.bytes(b0.addr + 12, 500), 0);
    frame.set(h.bytes(h.rxBufs.get(heads[1]!)!.addr, 512), 500);
    frame.set(h.bytes(h.rxBufs.get(heads[2]!)!.addr, 430), 1012);
    const ip = parseIpv4Packet(frame.subarray(14));
    expect(ip.ok).toBe(true);
    if (!ip.ok) return;
    const udp = parseUdp(PEER_IP, GUEST_IP, ip.ip.payload);
    expect(udp.ok && udp.udp.checksumOk).toBe(true);
    if (udp.ok) expect(Array.from(udp.udp.data)).toEqual(Array.from(data));
    expect(h.dev.stats()).toMatchObject({ rxFrames: 1, rxMerged: 1 });
    // The next frame starts in a fresh buffer.
    h.transmit(arpWhoHasPeer());
    h.settle();
    expect(h.q(0).reap()).toEqual([{ id: heads[3], len: 72 }]);
  });

  it('without MRG_RXBUF a frame must fit one buffer: num_buffers 1, a too-small buffer is a guest error', () => {
    const h = new NetHarness();
    h.init({ drop: [V.N_MRG_RXBUF] });
    h.postRx(1, 512);
    h.transmit(udpToPeer(payload(1400)));
    h.settle();
    expect(h.q(0).reap()).toEqual([]);
    expect(h.codes()).toEqual(['virtio.net.rx-buffer-small']);
    expect(h.dev.stats()).toMatchObject({ rxErrors: 1, rxFrames: 0 });
    // The buffer is kept: a small frame still lands in it.
    h.transmit(arpWhoHasPeer());
    h.settle();
    const rx = h.received();
    expect(rx).toHaveLength(1);
    expect(rx[0]!.numBuffers).toBe(1);
    const [big] = h.postRx(1, 1526);
    h.transmit(udpToPeer(payload(1400)));
    h.settle();
    expect(h.q(0).reap()).toEqual([{ id: big, len: 12 + 1442 }]);
    expect(h.view.getUint16(h.rxBufs.get(big!)!.addr + 10, true)).toBe(1);
  });

  it('MRG_RXBUF: a frame needing more than rxMaxBuffers buffers is dropped as a guest error', () => {
    const h = new NetHarness({ props: { rxMaxBuffers: 2 } });
    h.init();
    h.postRx(4, 512);
    h.transmit(udpToPeer(payload(1400)));
    h.settle();
    expect(h.q(0).reap()).toEqual([]);
    expect(h.codes()).toEqual(['virtio.net.rx-buffer-small']);
    h.transmit(arpWhoHasPeer());
    h.settle();
    expect(h.received()).toHaveLength(1);
  });

  it('mtu: with MTU negotiated longer frames are refused both ways; declined, received ones pass', () => {
    const h = new NetHarness({ props: { mtu: 576 } });
    h.init();
    h.postRx(4);
    h.transmit(udpToPeer(payload(600)));
    h.settle();
    expect(h.codes()).toEqual(['virtio.net.tx-size']);
    h.transmit(udpToPeer(payload(540)));
    h.settle();
    expect(h.received().map((f) => f.frame.length)).toEqual([582]);
    // A 700-byte frame put on the wire by the far end: over mtu + 14, dropped and counted (not a guest error).
    const big = new Uint8Array(700);
    big.set(GUEST_MAC, 0);
    h.dev.net!.link.peer.transmit(big);
    h.settle();
    expect(h.received()).toEqual([]);
    expect(h.dev.stats()).toMatchObject({ rxDroppedOversize: 1 });
    expect(h.codes()).toEqual(['virtio.net.tx-size']);
    const g = new NetHarness({ props: { mtu: 576 } });
    g.init({ drop: [V.N_MTU] });
    g.postRx(4);
    // The peer's echo of a 576-byte IP packet is 590 bytes: fine; the device's own limit only binds with MTU negotiated.
    g.transmit(udpToPeer(payload(548)));
    g.settle();
    expect(g.received().map((f) => f.frame.length)).toEqual([590]);
    g.dev.net!.link.peer.transmit(big);
    g.settle();
    expect(g.received().map((f) => f.frame.length)).toEqual([700]);
    expect(g.dev.stats().rxDroppedOversize).toBe(0);
  });

  it('GUEST_CSUM declined: received frames carry no DATA_VALID', () => {
    const h = new NetHarness();
    h.init({ drop: [V.N_GUEST_CSUM] });
    h.postRx(2);
    h.transmit(arpWhoHasPeer());
    h.settle();
    expect(h.received()[0]!.flags).toBe(0);
  });
});

describe('checksum offload', () => {
  it('NEEDS_CSUM: the device completes the UDP checksum and the peer echoes the datagram', () => {
    const h = new NetHarness();
    h.init();
    h.postRx(4);
    h.transmit(udpToPeer(payload(333), 7, 'partial'), { flags: V.HDR_NEEDS_CSUM, csumStart: UDP_OFF, csumOffset: 6 });
    h.settle();
    expect(h.dev.stats()).toMatchObject({ txCsumOffload: 1, 'peer.udpEchoed': 1, 'peer.malformed': 0 });
    const sent = h.eth()[0]!.data;
    const ip = parseIpv4Packet(sent.subarray(14));
    expect(ip.ok).toBe(true);
    if (ip.ok) {
      const u = parseUdp(GUEST_IP, PEER_IP, ip.ip.payload);
      expect(u.ok && u.udp.checksumOk && u.udp.checksum !== 0).toBe(true);
    }
    expect(h.received()).toHaveLength(1);
    expect(h.codes()).toEqual([]);
  });

  it('the same partial checksum without NEEDS_CSUM is wrong on the wire: the peer drops it', () => {
    const h = new NetHarness();
    h.init();
    h.postRx(4);
    h.transmit(udpToPeer(payload(333), 7, 'partial'));
    h.settle();
    expect(h.dev.stats()).toMatchObject({ txCsumOffload: 0, 'peer.udpEchoed': 0, 'peer.malformed': 1 });
  });

  it('CSUM declined: NEEDS_CSUM is a guest error and the frame goes out as is', () => {
    const h = new NetHarness();
    h.init({ drop: [V.N_CSUM] });
    h.postRx(4);
    h.transmit(udpToPeer(payload(10), 7, 'partial'), { flags: V.HDR_NEEDS_CSUM, csumStart: UDP_OFF, csumOffset: 6 });
    h.settle();
    expect(h.codes()).toEqual(['virtio.net.tx-csum']);
    expect(h.dev.stats()).toMatchObject({ txFrames: 1, 'peer.malformed': 1 });
  });

  it('csum_start / csum_offset past the frame: guest error, nothing sent, chain returned', () => {
    const h = new NetHarness();
    h.init();
    const frame = udpToPeer(payload(10), 7, 'partial');
    const head = h.transmit(frame, { flags: V.HDR_NEEDS_CSUM, csumStart: UDP_OFF, csumOffset: frame.length - UDP_OFF - 1 });
    h.settle();
    expect(h.q(1).reap()).toEqual([{ id: head, len: 0 }]);
    expect(h.codes()).toEqual(['virtio.net.tx-csum']);
    expect(h.eth()).toEqual([]);
    expect(h.dev.stats()).toMatchObject({ txErrors: 1, txFrames: 0 });
  });
});

describe('receive buffers running out', () => {
  it('with no RX buffer the frame is dropped and counted, not a guest error; stall() says so', () => {
    const h = new NetHarness();
    h.init();
    h.transmit(arpWhoHasPeer());
    h.transmit(arpWhoHasPeer());
    h.settle();
    expect(h.dev.stats()).toMatchObject({ rxDropped: 2, rxFrames: 0 });
    expect(h.codes()).toEqual([]);
    expect(h.eth().filter((e) => !e.tx)).toHaveLength(2); // the link delivered them: the device dropped them
    const stall = h.dev.stall(h.queue.now);
    expect(stall.some((l) => /^rx: 2 frames dropped, no RX buffers posted since \d/.test(l))).toBe(true);
    expect(h.tracer.events.some((e) => e.kind === 'milestone' && e.name === 'net.rx-no-buffers')).toBe(true);
    h.postRx(2);
    h.transmit(arpWhoHasPeer());
    h.settle();
    expect(h.received()).toHaveLength(1);
    expect(h.dev.stall(h.queue.now).some((l) => l.startsWith('rx:'))).toBe(false);
  });

  it('frames before DRIVER_OK are dropped as not ready', () => {
    const h = new NetHarness({ network: networkFile('arp-at-1us', { schedule: [{ at: '1us', action: 'gratuitous-arp' }] }) });
    h.settle();
    expect(h.dev.stats()).toMatchObject({ rxDroppedNotReady: 1, rxDropped: 0 });
  });

  it('rxFifoFrames: the device holds frames until buffers are posted', () => {
    const h = new NetHarness({ props: { rxFifoFrames: 2 } });
    h.init();
    for (let i = 0; i < 3; i++) h.transmit(arpWhoHasPeer());
    h.settle();
    expect(h.dev.stats()).toMatchObject({ rxQueued: 2, rxDropped: 1 });
    expect(h.dev.stall(h.queue.now).some((l) => /2 frames waiting in the device's RX FIFO/.test(l))).toBe(true);
    h.postRx(4);
    h.settle();
    expect(h.received()).toHaveLength(2);
    expect(h.dev.stats().rxFrames).toBe(2);
  });
});

describe('link state', () => {
  it('link down and up change status LINK_UP with a configuration interrupt; frames sent while down are dropped', () => {
    const file = networkFile('blink', { schedule: [{ at: '1ms', action: 'link-down' }, { at: '2ms', action: 'link-up' }] });
    const h = new NetHarness({ network: file });
    h.init({ msix: true });
    const gen0 = h.c8(V.GENERATION);
    h.runUntil(1 * MS - 1);
    expect(h.devCfg(6, 2)).toBe(V.S_LINK_UP);
    expect(h.delivered).not.toContain(VEC_BASE);
    h.runUntil(1 * MS);
    expect(h.devCfg(6, 2)).toBe(0);
    expect(h.delivered.filter((v) => v === VEC_BASE)).toHaveLength(1);
    expect(h.c8(V.GENERATION)).not.toBe(gen0);
    expect(h.readIsr() & 2).toBe(2);
    const head = h.transmit(arpWhoHasPeer());
    h.runUntil(1.5 * MS);
    expect(h.q(1).reap()).toEqual([{ id: head, len: 0 }]);
    expect(h.dev.stats()).toMatchObject({ txDroppedLinkDown: 1, txFrames: 0, linkChanges: 1 });
    expect(h.eth().map((e) => e.tx)).toEqual([true]);
    expect(h.dev.stall(h.queue.now)[0]).toMatch(/^link down since 1\.000 ms/);
    h.runUntil(2 * MS);
    expect(h.devCfg(6, 2)).toBe(V.S_LINK_UP);
    expect(h.delivered.filter((v) => v === VEC_BASE)).toHaveLength(2);
    h.postRx(1);
    h.transmit(arpWhoHasPeer());
    h.settle();
    expect(h.received()).toHaveLength(1);
  });

  it('without STATUS negotiated the status field still follows the link but no interrupt is sent', () => {
    const h = new NetHarness({ network: networkFile('blink2', { schedule: [{ at: '1ms', action: 'link-down' }] }) });
    h.init({ msix: true, drop: [V.N_STATUS] });
    h.settle();
    expect(h.devCfg(6, 2)).toBe(0);
    expect(h.delivered).not.toContain(VEC_BASE);
  });
});

describe('guest errors', () => {
  it('TX: unsupported gso_type, runt and oversized frames, a short header, writable descriptors, RX-only flags', () => {
    const h = new NetHarness();
    h.init();
    h.postRx(8);
    h.transmit(arpWhoHasPeer(), { gsoType: V.GSO_TCPV4 });
    h.transmit(new Uint8Array(10));
    h.transmit(new Uint8Array(1515));
    h.settle();
    expect(h.codes()).toEqual(['virtio.net.tx-gso', 'virtio.net.tx-size', 'virtio.net.tx-size']);
    const a = h.alloc(8, 16);
    h.q(1).add([{ addr: a, len: 8, write: false }]);
    h.q(1).kick();
    h.settle();
    expect(h.codes().slice(3)).toEqual(['virtio.net.tx-header']);
    expect(h.eth()).toEqual([]);
    expect(h.dev.stats().txErrors).toBe(4);
    h.transmit(arpWhoHasPeer(), { flags: V.HDR_DATA_VALID });
    h.settle();
    expect(h.codes().slice(4)).toEqual(['virtio.net.tx-flags']);
    expect(h.dev.stats().txFrames).toBe(1);
    // A VLAN-tagged frame may carry 4 more bytes.
    const tagged = new Uint8Array(1518);
    tagged.set(arpWhoHasPeer().subarray(0, 12));
    tagged[12] = 0x81;
    h.transmit(tagged);
    h.settle();
    expect(h.dev.stats().txFrames).toBe(2);
    expect(h.codes()).toHaveLength(5);
    expect(h.status() & V.NEEDS_RESET).toBe(0);
  });

  it('RX: a buffer without room for the header is returned with length 0; the next one is used', () => {
    const h = new NetHarness();
    h.init();
    const [small] = h.postRx(1, 8);
    const [good] = h.postRx(1, 1526);
    h.transmit(arpWhoHasPeer());
    h.settle();
    expect(h.q(0).reap()).toEqual([{ id: small, len: 0 }, { id: good, len: 72 }]);
    expect(h.codes()).toEqual(['virtio.net.rx-header']);
  });

  it('the model records only catalogued codes', () => {
    const cat = Object.keys(virtioNetFactory.guestErrors);
    for (const c of ['virtio.net.tx-gso', 'virtio.net.tx-size', 'virtio.net.tx-csum', 'virtio.net.rx-header', 'virtio.net.rx-buffer-small', 'virtio.net.ctrl-unsupported']) {
      expect(cat).toContain(c);
    }
  });
});

describe('control queue', () => {
  it('PROMISC off filters frames for other addresses; ADDR_SET moves config.mac; unsupported commands get ERR', () => {
    const h = new NetHarness({ network: networkFile('ask', { schedule: [{ at: '1ms', action: 'arp-request' }] }) });
    h.init();
    h.postRx(8);
    expect(h.control(V.CTRL_RX, V.CTRL_RX_PROMISC, Uint8Array.of(0))).toBe(V.CTRL_OK);
    // The peer's who-has is broadcast: received.
    h.runUntil(1 * MS + 100 * US);
    expect(h.received()).toHaveLength(1);
    // A new MAC: the peer's replies to the old one are filtered.
    const mac = Uint8Array.of(0x02, 0, 0, 0, 0, 0x42);
    expect(h.control(V.CTRL_MAC, V.CTRL_MAC_ADDR_SET, mac)).toBe(V.CTRL_OK);
    expect(h.mac()).toBe('02:00:00:00:00:42');
    h.transmit(arpWhoHasPeer(GUEST_MAC));
    h.settle();
    expect(h.received()).toHaveLength(0);
    expect(h.dev.stats().rxFiltered).toBe(1);
    // With the unicast table holding the old MAC it is received again.
    const table = new Uint8Array(4 + 6 + 4);
    table[0] = 1;
    table.set(GUEST_MAC, 4);
    expect(h.control(V.CTRL_MAC, V.CTRL_MAC_TABLE_SET, table)).toBe(V.CTRL_OK);
    h.transmit(arpWhoHasPeer(GUEST_MAC));
    h.settle();
    expect(h.received()).toHaveLength(1);
    expect(h.control(V.CTRL_RX, V.CTRL_RX_NOBCAST, Uint8Array.of(1))).toBe(V.CTRL_ERR);
    expect(h.control(V.CTRL_RX, V.CTRL_RX_PROMISC, Uint8Array.of(1, 2))).toBe(V.CTRL_ERR);
    expect(h.codes()).toEqual(['virtio.net.ctrl-unsupported', 'virtio.net.ctrl-format']);
    // Reset restores the MAC and promiscuous mode.
    h.init();
    expect(h.mac()).toBe('52:54:00:12:34:56');
  });
});

describe('interrupt suppression', () => {
  it('NO_INTERRUPT on receiveq suppresses its interrupt; the buffers are still used', () => {
    const h = new NetHarness({ props: { eventIdx: false } });
    h.init({ msix: true });
    h.postRx(2);
    h.q(0).setAvailFlags(1);
    h.transmit(arpWhoHasPeer());
    h.settle();
    expect(h.delivered).not.toContain(VEC_BASE + 1);
    expect(h.received()).toHaveLength(1);
    expect(h.dev.stats().suppressedInterrupts).toBeGreaterThan(0);
  });
});

describe('decoder', () => {
  it('names the network configuration fields and decodes the header and control payloads', () => {
    const d = virtioNetDecoder;
    expect(d.type).toBe('virtio-net');
    expect(d.regName(4, 0x2000, 4)).toBe('config.mac');
    expect(d.regName(4, 0x2006, 2)).toBe('config.status');
    expect(d.regName(4, 0x2008, 2)).toBe('config.max_virtqueue_pairs');
    expect(d.regName(4, 0x200a, 2)).toBe('config.mtu');
    expect(d.regName(4, 0x200c, 4)).toBe('config.speed');
    const hdr = Uint8Array.of(1, 0, 0, 0, 0, 0, 34, 0, 6, 0, 1, 0);
    expect(d.decodeDma?.('virtio-net.hdr', hdr)).toBe('flags=NEEDS_CSUM gso=NONE csum_start=34 csum_offset=6 num_buffers=1');
    expect(d.decodeDma?.('virtio-net.ctrl', Uint8Array.of(0, 0))).toBe('RX.PROMISC');
    expect(d.decodeDma?.('virtio-net.ack', Uint8Array.of(0))).toBe('OK');
    expect(d.decodeDma?.('virtq.used', Uint8Array.of(3, 0, 0, 0, 72, 0, 0, 0))).toBe('id=3 len=72');
  });
});

describe('determinism', () => {
  function run(seed: number): { trace: string; hash: number } {
    const h = new NetHarness({ seed, network: 'fixtures/networks/flaky.json' });
    h.init({ msix: true });
    h.postRx(16, 512);
    for (let i = 0; i < 40; i++) {
      h.transmit(i % 2 === 0 ? arpWhoHasPeer() : udpToPeer(payload(200 + i * 20, i), 7, 'partial'), i % 2 === 0 ? {} : { flags: V.HDR_NEEDS_CSUM, csumStart: UDP_OFF, csumOffset: 6 });
      h.runUntil(h.queue.now + 700 * US);
      h.q(1).reap();
      const got = h.q(0).reap().length;
      if (got > 0) h.postRx(got, 512);
    }
    h.settle();
    const trace = JSON.stringify(h.tracer.events, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v));
    return { trace, hash: h.dev.stateHash() };
  }

  it('the same seed gives the same trace and state hash', () => {
    const a = run(7);
    const b = run(7);
    expect(a.trace).toBe(b.trace);
    expect(a.hash).toBe(b.hash);
    expect(a.trace).toContain('"kind":"eth"');
  });
});
