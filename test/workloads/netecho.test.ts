/**
 * The netecho workload against a net device on the simulated Ethernet: a
 * TypeScript driver process whose net device (linux-kpi, network.eth0:)
 * puts frames on the link of fixtures/networks/default.json, whose peer host
 * answers ARP, ICMP echo and UDP echo.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bareKernel } from '../kernel/harness.js';
import { LinuxKpi } from '../../src/drivers/linux-kpi/kpi.js';
import { NETDEV_TX_OK } from '../../src/drivers/linux-kpi/netdev.js';
import type { Sys } from '../../src/kernel/sys.js';
import { Rng } from '../../src/sim/rng.js';
import { attachNetwork } from '../../src/net/attach.js';
import { netEchoParams, spawnNetEcho, type NetEchoParams } from '../../src/workloads/netecho.js';
import { arpRequest, parseUdpEcho, udpDatagram } from '../../src/workloads/netpkt.js';
import { ROOT } from '../e2e/helpers.js';
import { WorkloadConfigError } from '../../src/workloads/workload.js';

const defaults = Object.fromEntries(Object.entries(netEchoParams).map(([k, v]) => [k, v.default])) as NetEchoParams;

/** A machine with a NIC driver on the default network; `corrupt` flips a byte of every UDP frame the peer sends back. */
function wired(params: Partial<NetEchoParams>, opts: { corruptUdp?: boolean; network?: string } = {}) {
  const { kernel, queue, tracer, run } = bareKernel();
  const net = attachNetwork({ id: 'nic0', index: 0, queue, tracer, rng: new Rng(1), baseDir: join(ROOT, 'fixtures/networks') }, opts.network ?? 'default.json');
  kernel.spawn('nicd', function* (sys: Sys) {
    const k = new LinuxKpi(sys, 'nicd');
    const dev = k.alloc_etherdev();
    dev.mac.set([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    dev.ops = { ndo_start_xmit: (_s, f) => { net.port.transmit(f); return NETDEV_TX_OK; } };
    net.port.onReceive((f) => {
      const copy = f.slice();
      if (opts.corruptUdp === true && copy[23] === 17) copy[copy.length - 1]! ^= 0xff;
      k.netif_rx(dev, copy);
    });
    k.netif_carrier_on(dev);
    k.register_netdev(dev);
    yield* sys.park();
  });
  const r = spawnNetEcho(kernel, { ...defaults, ...params });
  run(2e12, () => r.done);
  return { r, kernel, net };
}

describe('netecho workload', () => {
  it('reads the MAC, resolves the peer, pings it and gets every UDP datagram echoed, with round trips of the link', () => {
    const { r, kernel, net } = wired({ pings: 5, udpDatagrams: 4 });
    expect(kernel.crashes).toEqual([]);
    expect(r.failure).toBeUndefined();
    expect(r).toMatchObject({ steps: ['up', 'arp', 'ping', 'udp'], mac: '52:54:00:12:34:56', peerMac: '52:54:00:12:35:02', pingsSent: 5, pingsOk: 5, udpSent: 4, udpOk: 4, done: true });
    // 50 µs each way plus serialization and polling: every round trip is at least 100 µs.
    expect(r.rtts).toHaveLength(10);
    for (const t of r.rtts) expect(t).toBeGreaterThanOrEqual(100e6);
    expect(net.peer.counters).toMatchObject({ framesReceived: 10, arpRequestsAnswered: 1, echoReplies: 5, udpEchoed: 4, malformed: 0 });
  });

  it('fails the UDP step when the echoes come back altered', () => {
    const { r } = wired({ pings: 1, udpDatagrams: 2, replyTimeoutMs: 5 }, { corruptUdp: true });
    expect(r.steps).toEqual(['up', 'arp', 'ping']);
    expect(r.failedStep).toBe('udp');
    expect(r.failure).toBe('2 of 2 UDP datagrams not echoed');
  });

  it('maxLost: pings lost while the carrier is down (link-flap.json, 10-15 ms) fail the step by default and are tolerated up to maxLost', () => {
    const params = { pings: 80, udpDatagrams: 10, replyTimeoutMs: 1 };
    const strict = wired(params, { network: 'link-flap.json' }).r;
    expect(strict.steps).toEqual(['up', 'arp']);
    expect(strict.failedStep).toBe('ping');
    expect(strict.pingsSent).toBe(80);
    const lost = strict.pingsSent - strict.pingsOk;
    expect(lost).toBeGreaterThan(1);
    expect(strict.failure).toBe(`${lost} of 80 pings unanswered`);
    const short = wired({ ...params, maxLost: lost - 1 }, { network: 'link-flap.json' }).r;
    expect(short.failedStep).toBe('ping');
    expect(short.failure).toBe(`${lost} of 80 pings unanswered (maxLost ${lost - 1})`);
    const tolerant = wired({ ...params, maxLost: lost }, { network: 'link-flap.json' }).r;
    expect(tolerant.failure).toBeUndefined();
    expect(tolerant).toMatchObject({ steps: ['up', 'arp', 'ping', 'udp'], pingsSent: 80, pingsOk: 80 - lost, udpSent: 10, udpOk: 10, done: true });
    expect(defaults.maxLost).toBe(0);
  });

  it('fails at ARP when the peer is not the one on the wire, and at bring-up without a driver', () => {
    const { r } = wired({ peer: '10.0.2.3', replyTimeoutMs: 5 });
    expect(r.failedStep).toBe('arp');
    expect(r.failure).toBe('ARP for 10.0.2.3: no reply within 5 ms');
    const none = wired({ ifname: 'eth7', waitForDriverMs: 3 });
    expect(none.r.failedStep).toBe('up');
    expect(none.r.failure).toMatch(/^network\.eth7: did not appear within 3 ms/);
  });

  it('rejects addresses that are not IPv4 or the same for both ends', () => {
    const { kernel } = bareKernel();
    expect(() => spawnNetEcho(kernel, { ...defaults, ip: '10.0.2' })).toThrow(WorkloadConfigError);
    expect(() => spawnNetEcho(kernel, { ...defaults, peer: defaults.ip })).toThrow(/peer: is this host's own address/);
  });
});

describe('netpkt UDP', () => {
  it('builds a datagram whose checksum verifies and recognizes only its own echo', () => {
    const mac = Uint8Array.of(2, 0, 0, 0, 0, 1), peer = Uint8Array.of(2, 0, 0, 0, 0, 2);
    const me = Uint8Array.of(10, 0, 2, 15), them = Uint8Array.of(10, 0, 2, 2);
    const f = udpDatagram(mac, peer, me, them, 40000, 7, 3, 33);
    expect(f.length).toBe(14 + 20 + 8 + 33);
    // The echo: addresses and ports swapped (checksum unchanged: the pseudo-header sum is symmetric).
    const echo = f.slice();
    echo.set(f.subarray(26, 30), 30); echo.set(f.subarray(30, 34), 26);
    echo.set(f.subarray(34, 36), 36); echo.set(f.subarray(36, 38), 34);
    expect(parseUdpEcho(echo, them, me, 40000, 7, 3, 33)).toBe(true);
    expect(parseUdpEcho(echo, them, me, 40000, 7, 4, 33)).toBe(false);
    const bad = echo.slice(); bad[50]! ^= 1;
    expect(parseUdpEcho(bad, them, me, 40000, 7, 3, 33)).toBe(false);
    expect(parseUdpEcho(arpRequest(mac, me, them), them, me, 40000, 7, 3, 33)).toBe(false);
  });
});

describe('netecho over Wi-Fi (the same workload, with ssid)', () => {
  it('brings up the iwlwifi driver, connects to simnet, reads network.wlan0:mac and pings the access point', async () => {
    const { runScenario } = await import('../../src/machine/run.js');
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'simrun-netecho-wifi-'));
    const p = join(dir, 'wifi-netecho.json');
    writeFileSync(p, JSON.stringify({
      name: 'wifi-netecho', seed: 1,
      machine: { cores: 2, ramMiB: 256, devices: [{ type: 'iwlwifi', id: 'wlan0', bdf: '00:05.0', props: { rf: join(ROOT, 'fixtures/rf/home.json') } }] },
      drivers: { iwlwifi: { irqMode: 'msi', firmwareDir: join(ROOT, 'fixtures/firmware') } },
      workload: { type: 'netecho', ifname: 'wlan0', ssid: 'simnet', ip: '192.168.50.23', peer: '192.168.50.1', pings: 10, udpDatagrams: 0, replyTimeoutMs: 500 },
      limits: { simTime: '20s' },
      expect: { minPings: 10, maxGuestErrors: 0, crashes: 0 },
    }));
    const out = runScenario(p);
    expect(out.result.failures).toEqual([]);
    const w = out.result.workload as { result: { steps: string[]; mac: string; pingsOk: number } };
    expect(w.result.steps).toEqual(['up', 'connect', 'arp', 'ping', 'udp']);
    expect(w.result.pingsOk).toBe(10);
    expect(w.result.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(w.result.mac).not.toBe('00:00:00:00:00:00');
  });
});
