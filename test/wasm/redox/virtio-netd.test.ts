/**
 * virtio-netd, the virtio-net driver daemon in Rust (guest/rust/virtio-netd
 * on the redox-driver and virtio-core crates, committed as
 * guest/modules/virtio-netd.wasm), on the virtio-net scenarios (netecho on
 * fixtures/networks/default.json): every ping and UDP echo answered with
 * MSI-X (receiveq and transmitq a vector each), with INTx (ISR read, line
 * acknowledged) and with mergeable receive buffers (a frame gathered from
 * several buffers); re-simulation matches the golden traces; the link going
 * down and up (a network file with a schedule) fails writes with ENETDOWN
 * meanwhile; DEVICE_NEEDS_RESET re-initialises the device; a full transmit
 * ring makes writes wait (or EAGAIN); runs are deterministic; the
 * network.<ifname> protocol answers as netdev.ts does; the trace's Ethernet
 * frames export to a pcap tshark decodes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runScenario } from '../../../src/machine/run.js';
import type { Co, Sys } from '../../../src/kernel/sys.js';
import { EAGAIN, EINVAL, EMSGSIZE, ENETDOWN, ENOENT } from '../../../src/kernel/errno.js';
import { O_NONBLOCK, O_RDWR } from '../../../src/kernel/types.js';
import { openTrace } from '../../../src/trace/reader.js';
import { netEchoResultOf } from '../../../src/workloads/netecho.js';
import { arpRequest, parseArpReply } from '../../../src/workloads/netpkt.js';
import type { VirtioNet } from '../../../src/devices/virtio/net/device.js';
import { ROOT, scenarioPath, simrunIn } from '../../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-virtio-netd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DEFAULT_NET = join(ROOT, 'fixtures/networks/default.json');

type ScenarioJson = Record<string, unknown> & {
  drivers: Record<string, Record<string, unknown>>;
  machine: { devices: { props: Record<string, unknown> }[] };
  workload: Record<string, unknown>;
  expect?: Record<string, unknown>;
};

let copies = 0;
/** A copy of fixtures/scenarios/<name>.json, changed by `edit`, with the network path made absolute. */
function copyScenario(name: string, edit: (s: ScenarioJson) => void): string {
  const s = JSON.parse(readFileSync(scenarioPath(name), 'utf8')) as ScenarioJson;
  s.machine.devices[0]!.props.network = DEFAULT_NET;
  edit(s);
  const p = join(dir, `${name}-${++copies}.json`);
  writeFileSync(p, JSON.stringify(s, null, 2));
  return p;
}

/** The default network with a schedule (link-down / link-up times). */
function networkWith(schedule: { at: string; action: string }[]): string {
  const n = JSON.parse(readFileSync(DEFAULT_NET, 'utf8')) as Record<string, unknown>;
  n.name = `default-sched-${++copies}`;
  n.schedule = schedule;
  const p = join(dir, `${n.name as string}.json`);
  writeFileSync(p, JSON.stringify(n));
  return p;
}

const driverLogs = (out: ReturnType<typeof runScenario>) => out.machine.kernel.logs.filter((l) => l.proc === 'virtio-netd');
const clientLogs = (out: ReturnType<typeof runScenario>) => out.machine.kernel.logs.filter((l) => l.proc === 'net-client');

describe.each(['msix', 'intx', 'mrg'] as const)('virtio-netd on virtio-net-%s', (mode) => {
  const name = `virtio-net-${mode}`;
  const trace = join(dir, `${name}.simtrace`);
  const out = runScenario(scenarioPath(name), { record: trace });

  it('passes the scenario: ARP, 20 pings and 20 UDP echoes through network.eth0:, every reply checked, no guest errors', () => {
    const r = out.result;
    expect(r.failures).toEqual([]);
    expect(r.crashes).toEqual([]);
    expect(r.stoppedBy).toBe('workload-done');
    const w = netEchoResultOf(r.workload)!;
    expect(w).toMatchObject({ steps: ['up', 'arp', 'ping', 'udp'], mac: '52:54:00:12:34:56', peerMac: '52:54:00:12:35:02', pingsSent: 20, pingsOk: 20, udpSent: 20, udpOk: 20 });
    const logs = driverLogs(out).map((l) => l.text);
    expect(logs).toContain(`interrupts: ${mode === 'intx' ? 'legacy, 1' : 'msix, 3'} vector(s)`);
    const features = logs.find((l) => l.startsWith('features '))!;
    expect(features).toMatch(/ MTU MAC /);
    expect(features).toMatch(/ STATUS /);
    expect(features).not.toMatch(/TSO|UFO|CTRL_VQ|MQ/);
    if (mode === 'intx') expect(features).toMatch(/^features 0x[0-9a-f]+: MTU MAC STATUS VERSION_1$/);
    else expect(features).toMatch(/^features 0x[0-9a-f]+: CSUM GUEST_CSUM MTU MAC MRG_RXBUF STATUS INDIRECT_DESC EVENT_IDX VERSION_1$/);
    expect(logs).toContain('mac 52:54:00:12:34:56, mtu 1500, link up');
    expect(logs).toContain({
      msix: 'receiveq 256 entries (256 buffers of 1530 bytes, mergeable), transmitq 256 entries, event index',
      intx: 'receiveq 256 entries (256 buffers of 1530 bytes), transmitq 256 entries',
      mrg: 'receiveq 256 entries (128 buffers of 256 bytes, mergeable), transmitq 256 entries, event index',
    }[mode]);
    expect(logs).toContain('eth0: serving network.eth0: (mac 52:54:00:12:34:56, mtu 1500)');
    expect(driverLogs(out).filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    const stats = r.deviceStats.vnet0!;
    expect(stats).toMatchObject({ txFrames: 41, rxFrames: 41, rxDropped: 0, rxErrors: 0, txErrors: 0, guestErrors: 0 });
    expect(stats['peer.malformed']).toBe(0);
  });

  it('re-simulates identically to its golden trace', () => {
    const r = simrunIn(ROOT, 'check', name);
    expect(r.out).toMatch(/^verdict: IDENTICAL/m);
    expect(r.code).toBe(0);
  });

  it('replays its golden trace both ways: as hardware (the driver against the trace) and as driver (the model against it)', () => {
    const hw = simrunIn(ROOT, 'replay', `traces/${name}.simtrace`);
    expect(hw.out).toMatch(/^verdict: IDENTICAL/m);
    expect(hw.code).toBe(0);
    const dev = simrunIn(ROOT, 'replay', `traces/${name}.simtrace`, '--devices');
    expect(dev.out).toMatch(/^verdict: IDENTICAL/m);
    expect(dev.code).toBe(0);
  });

  if (mode === 'msix') {
    it('takes receiveq and transmitq completions on MSI-X vectors of their own (none on the configuration vector)', () => {
      const evs = [...openTrace(readFileSync(trace)).events()];
      const vectors = new Set(evs.flatMap((e) => e.kind === 'msi' ? [e.vector] : []));
      expect(vectors.size).toBe(2);
      expect(evs.some((e) => e.kind === 'intx')).toBe(false);
      expect(out.result.deviceStats.vnet0!.configInterrupts).toBe(0);
    });
  } else if (mode === 'intx') {
    it('reads the ISR and acknowledges the legacy line: it rises and falls, no message is sent; every frame in one buffer', () => {
      const evs = [...openTrace(readFileSync(trace)).events()];
      expect(evs.filter((e) => e.kind === 'intx' && e.level === 1).length).toBeGreaterThan(40);
      expect(evs.filter((e) => e.kind === 'intx' && e.level === 0).length).toBeGreaterThan(40);
      expect(evs.some((e) => e.kind === 'msi')).toBe(false);
      expect(out.result.deviceStats.vnet0!.rxMerged).toBe(0);
    });
  } else {
    it('gathers each 1442-byte echo from 6 receive buffers of 256 bytes (num_buffers > 1)', () => {
      const stats = out.result.deviceStats.vnet0!;
      expect(stats.rxMerged).toBe(40); // 20 ICMP and 20 UDP echoes; the ARP reply fits one buffer
      expect(stats.rxBytes).toBe(60 + 40 * 1442);
    });
  }
});

describe('virtio-netd', () => {
  it('logs the link going down and up (configuration interrupts); writes meanwhile fail with ENETDOWN, pings after it are answered', () => {
    const net = networkWith([{ at: '3ms', action: 'link-down' }, { at: '4ms', action: 'link-up' }]);
    const p = copyScenario('virtio-net-msix', (s) => {
      s.machine.devices[0]!.props.network = net;
      s.workload.replyTimeoutMs = 2;
      s.expect = {};
    });
    const out = runScenario(p);
    expect(out.result.crashes).toEqual([]);
    const logs = driverLogs(out).map((l) => l.text);
    expect(logs).toContain('link down');
    expect(logs).toContain('link up');
    expect(logs.indexOf('link down')).toBeLessThan(logs.indexOf('link up'));
    const stats = out.result.deviceStats.vnet0!;
    expect(stats.linkChanges).toBe(2);
    expect(stats.configInterrupts).toBe(2);
    // netecho goes on after a failed ping and fails the step at the end: the writes while down got ENETDOWN.
    const w = netEchoResultOf(out.result.workload)!;
    const down = clientLogs(out).filter((l) => /^ping \d+: send failed: ENETDOWN$/.test(l.text));
    expect(down.length).toBeGreaterThan(0);
    expect(w.failedStep).toBe('ping');
    expect(w.pingsOk).toBeGreaterThanOrEqual(20 - down.length - 1); // at most one more lost on the wire when the carrier dropped
    expect(w.pingsOk).toBeLessThan(20);
    // The last ping went after the link came back.
    expect(clientLogs(out).some((l) => l.text.startsWith('ping 20:'))).toBe(false);
    expect(driverLogs(out).filter((l) => l.level === 'error')).toEqual([]);
  });

  it('on DEVICE_NEEDS_RESET resets and re-initialises the device, and the echoes go on', () => {
    const p = copyScenario('virtio-net-msix', (s) => {
      s.workload.replyTimeoutMs = 2;
      s.expect = {};
    });
    const out = runScenario(p, {
      onBuilt: (m) => m.kernel.spawn('breaker', function* (sys: Sys) {
        yield* sys.sleep(3e9); // 3 ms: pinging
        (m.devices[0]!.model as VirtioNet).t.needsReset('virtq.avail.idx', 'injected by the test');
        return 0;
      }),
    });
    expect(out.result.crashes).toEqual([]);
    const logs = driverLogs(out).map((l) => l.text);
    expect(logs).toContain('device needs reset (device_status ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK|DEVICE_NEEDS_RESET); resetting the device');
    expect(logs).toContain('device re-initialised after reset');
    expect(out.result.deviceStats.vnet0!.resets).toBe(2);
    const w = netEchoResultOf(out.result.workload)!;
    expect(w.pingsSent).toBe(20);
    expect(w.pingsOk).toBeGreaterThanOrEqual(19); // at most the ping in flight is lost
    expect(w.pingsOk + w.udpOk).toBeGreaterThanOrEqual(w.pingsSent + w.udpSent - 1);
  });

  it('records byte-identical traces run after run', () => {
    for (const name of ['virtio-net-msix', 'virtio-net-mrg']) {
      const p = copyScenario(name, (s) => { s.workload.pings = 5; s.workload.udpDatagrams = 5; s.expect = { minPings: 5, minUdpEchoes: 5 }; });
      const a = runScenario(p, { recordToBuffer: true }).trace!.buffer!;
      const b = runScenario(p, { recordToBuffer: true }).trace!.buffer!;
      expect(Buffer.compare(a, b)).toBe(0);
    }
  });

  /** A machine with the virtio-net device and virtio-netd (params), a client process, no workload. */
  function protocolRun(driver: Record<string, unknown>, network: string, client: (sys: Sys) => Co<void>) {
    const p = join(dir, `protocol-${++copies}.json`);
    writeFileSync(p, JSON.stringify({
      name: 'virtio-netd-protocol', seed: 1,
      machine: { cores: 2, ramMiB: 64, devices: [{ type: 'virtio-net', id: 'vnet0', bdf: '00:06.0', props: { network } }] },
      drivers: { 'virtio-netd': driver },
      limits: { simTime: '50ms' },
    }));
    return runScenario(p, {
      onBuilt: (m) => m.kernel.spawn('client', function* (sys: Sys) {
        yield* client(sys);
        return 0;
      }),
    });
  }

  function* openWhenUp(sys: Sys, path: string, flags = 0) {
    for (let i = 0; i < 100; i++) {
      const fd = yield* sys.open(path, flags);
      if (fd >= 0) return fd;
      yield* sys.sleep(100e6);
    }
    return -1;
  }

  const me = Uint8Array.of(10, 0, 2, 15), peer = Uint8Array.of(10, 0, 2, 2);

  it('answers the network.<ifname> protocol: mac, frames, sizes, EAGAIN, blocking reads answered later, ENETDOWN while the link is down', () => {
    const net = networkWith([{ at: '2ms', action: 'link-down' }, { at: '3ms', action: 'link-up' }]);
    const seen: Record<string, number> = {};
    let mac = new Uint8Array(0);
    let reply = new Uint8Array(0);
    const out = protocolRun({ ifname: 'net7', irqMode: 'intx' }, net, function* (sys) {
      const macFd = yield* openWhenUp(sys, 'network.net7:mac');
      seen.macOpen = macFd >= 0 ? 0 : macFd;
      mac = new Uint8Array(8);
      seen.macRead = yield* sys.read(macFd, mac, 0);
      seen.macTail = yield* sys.read(macFd, new Uint8Array(8), 4);
      seen.macWrite = yield* sys.write(macFd, new Uint8Array(60));
      seen.other = yield* sys.open('network.net7:ip');
      const fd = yield* sys.open('network.net7:', O_RDWR);
      const nb = yield* sys.open('network.net7:', O_RDWR | O_NONBLOCK);
      seen.fsize = yield* sys.fsize(fd);
      seen.nbRead = yield* sys.read(nb, new Uint8Array(2048));
      seen.runt = yield* sys.write(fd, new Uint8Array(13));
      seen.tooLong = yield* sys.write(fd, new Uint8Array(1515));
      const arp = arpRequest(mac.subarray(0, 6), me, peer);
      seen.arp = yield* sys.write(fd, arp);
      const buf = new Uint8Array(2048);
      seen.arpReply = yield* sys.read(fd, buf); // blocks until the reply arrives
      reply = buf.slice(0, seen.arpReply);
      seen.write2 = yield* sys.write(nb, arp);
      yield* sys.sleep(1000e6); // the reply is kept until read
      seen.truncated = yield* sys.read(nb, new Uint8Array(20));
      seen.nbEmpty = yield* sys.read(nb, buf);
      while (sys.now < 2.5e9) yield* sys.sleep(100e6);
      seen.whileDown = yield* sys.write(fd, arp);
      while (sys.now < 3.5e9) yield* sys.sleep(100e6);
      seen.afterUp = yield* sys.write(fd, arp);
      seen.afterUpReply = yield* sys.read(fd, buf);
      seen.close = yield* sys.close(fd);
      seen.closeNb = yield* sys.close(nb);
      seen.closeMac = yield* sys.close(macFd);
    });
    expect(out.result.crashes).toEqual([]);
    expect(seen).toEqual({
      macOpen: 0, macRead: 6, macTail: 2, macWrite: -EINVAL, other: -ENOENT, fsize: 0, nbRead: -EAGAIN, runt: -EINVAL, tooLong: -EMSGSIZE,
      arp: 42, arpReply: 60, write2: 42, truncated: 20, nbEmpty: -EAGAIN, whileDown: -ENETDOWN, afterUp: 42, afterUpReply: 60,
      close: 0, closeNb: 0, closeMac: 0,
    });
    expect([...mac.subarray(0, 6)]).toEqual([0x52, 0x54, 0x00, 0x12, 0x34, 0x56]);
    expect(parseArpReply(reply, me, peer)).toEqual(Uint8Array.of(0x52, 0x54, 0x00, 0x12, 0x35, 0x02));
    const logs = driverLogs(out).map((l) => l.text);
    expect(logs).toContain('net7: serving network.net7: (mac 52:54:00:12:34:56, mtu 1500)');
    expect(logs).toEqual(expect.arrayContaining(['interface up', 'link down', 'link up']));
    expect(logs.at(-1)).toBe('interface down: 3 frames received (0 merged, 0 dropped, 0 bad), 3 sent (0 found the transmit ring full)');
    expect(out.result.deviceStats.vnet0!.guestErrors).toBe(0);
  });

  it('with a full transmit ring a write waits for a completion (EAGAIN with O_NONBLOCK); every accepted frame is sent', () => {
    const frame = (i: number) => {
      const f = new Uint8Array(1514);
      f.fill(0xff, 0, 6); // broadcast; the peer ignores EtherType 0x88b5 (local experimental)
      f.set([0x52, 0x54, 0x00, 0x12, 0x34, 0x56], 6);
      f[12] = 0x88; f[13] = 0xb5; f[14] = i;
      return f;
    };
    const results: number[] = [];
    const nbResults: number[] = [];
    const out = protocolRun({ queueSize: 8 }, DEFAULT_NET, function* (sys) {
      const fd = yield* openWhenUp(sys, 'network.eth0:', O_RDWR);
      for (let i = 0; i < 40; i++) results.push(yield* sys.write(fd, frame(i)));
      yield* sys.sleep(1000e6);
      const nb = yield* sys.open('network.eth0:', O_RDWR | O_NONBLOCK);
      for (let i = 40; i < 60; i++) nbResults.push(yield* sys.write(nb, frame(i)));
    });
    expect(out.result.crashes).toEqual([]);
    expect(results).toEqual(Array(40).fill(1514));
    // The first 8 fill the idle ring; later ones go as completions free buffers, the rest get EAGAIN.
    const sent = nbResults.filter((r) => r === 1514).length;
    expect(nbResults.slice(0, 8)).toEqual(Array(8).fill(1514));
    expect(nbResults.filter((r) => r !== 1514 && r !== -EAGAIN)).toEqual([]);
    expect(sent).toBeLessThan(20);
    const stats = out.result.deviceStats.vnet0!;
    expect(stats.txFrames).toBe(40 + sent);
    expect(stats.guestErrors).toBe(0);
    const logs = driverLogs(out).map((l) => l.text);
    expect(logs).toContain('receiveq 8 entries (8 buffers of 1530 bytes, mergeable), transmitq 8 entries, event index');
    // Blocking writes waited too: the driver counts every write that found the ring full.
    const down = logs.find((l) => l.startsWith('interface down: '))!;
    const busy = Number(/\((\d+) found the transmit ring full\)$/.exec(down)![1]);
    expect(busy).toBeGreaterThan(20 - sent);
  });

  it.skipIf(spawnSync('which', ['tshark']).status !== 0)('exports the trace\'s Ethernet frames to a pcap that tshark decodes (ARP, ICMP, UDP)', () => {
    const trace = join(dir, 'pcap.simtrace');
    runScenario(scenarioPath('virtio-net-msix'), { record: trace });
    const pcap = join(dir, 'virtio-net.pcap');
    const r = simrunIn(ROOT, 'export', '--pcap', trace, '-o', pcap);
    expect(r.code).toBe(0);
    expect(r.out).toContain('82 frames');
    const t = spawnSync('tshark', ['-r', pcap, '-T', 'fields', '-e', 'frame.protocols'], { encoding: 'utf8' });
    expect(t.status).toBe(0);
    const protos = t.stdout.trim().split('\n');
    expect(protos).toHaveLength(82);
    expect(protos.filter((x) => x === 'eth:ethertype:arp')).toHaveLength(2);
    expect(protos.filter((x) => x.startsWith('eth:ethertype:ip:icmp'))).toHaveLength(40);
    expect(protos.filter((x) => x.startsWith('eth:ethertype:ip:udp'))).toHaveLength(40);
  });
});
