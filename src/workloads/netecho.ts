import type { Co } from '../sim/scheduler.js';
import type { PropTable, PropValues } from '../sim/props.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Sys } from '../kernel/sys.js';
import { O_NONBLOCK, O_RDWR } from '../kernel/types.js';
import { errnoName } from '../kernel/errno.js';
import { WorkloadConfigError, type SummaryLine, type WorkloadEntry, workloadResult } from './workload.js';
import { readText, writeText } from './files.js';
import { spread } from './blockio.js';
import { awaitFrame as awaitFrameOn } from './frame-wait.js';
import { arpRequest, icmpEcho, parseArpReply, parseEchoReply, parseIpv4, parseUdpEcho, udpDatagram } from './netpkt.js';

export const netEchoParams = {
  ifname: { type: 'string', default: 'eth0', minLength: 1, doc: 'the interface a network driver serves as network.<ifname>: (frames; network.<ifname>:mac its address)' },
  ssid: { type: 'string', default: '', maxLength: 32, doc: 'Wi-Fi: scan for and connect to this open network through wifictl:<ifname>/ first (empty: a wired interface, nothing to connect)' },
  ip: { type: 'string', default: '10.0.2.15', doc: 'this host\'s static IPv4 address (the network file\'s guest address)' },
  peer: { type: 'string', default: '10.0.2.2', doc: 'the peer to resolve and ping (the network file\'s peer host)' },
  pings: { type: 'number', default: 20, min: 0, max: 1_000_000, integer: true, doc: 'ICMP echo requests to send, one at a time' },
  payloadBytes: { type: 'number', default: 56, min: 0, max: 1472, integer: true, doc: 'ICMP echo and UDP payload size' },
  udpPort: { type: 'number', default: 7, min: 1, max: 65535, integer: true, doc: 'the peer\'s UDP echo port' },
  udpDatagrams: { type: 'number', default: 20, min: 0, max: 1_000_000, integer: true, doc: 'UDP datagrams to send to udpPort, one at a time, each echo checked' },
  localPort: { type: 'number', default: 40000, min: 1, max: 65535, integer: true, doc: 'this host\'s UDP source port' },
  intervalUs: { type: 'number', default: 100, min: 0, max: 9_000_000_000, doc: 'pause between a reply and the next request' },
  replyTimeoutMs: { type: 'number', default: 200, min: 1, max: 9_000_000, doc: 'how long to wait for each ARP / echo reply' },
  pollUs: { type: 'number', default: 20, min: 1, max: 9_000_000_000, doc: 'poll interval of the non-blocking read while waiting for a reply' },
  waitForDriverMs: { type: 'number', default: 5000, min: 1, max: 9_000_000, doc: 'how long to wait for network.<ifname>: to appear (bring-up)' },
  maxLost: {
    type: 'number', default: 0, min: 0, max: 1_000_000, integer: true,
    doc: 'pings, and separately UDP datagrams, that may go unanswered or unsent (e.g. ENETDOWN while the link is down) before their step fails',
  },
} as const satisfies PropTable;

export type NetEchoParams = PropValues<typeof netEchoParams>;
export type NetEchoStep = 'up' | 'connect' | 'arp' | 'ping' | 'udp';

export interface NetEchoResult {
  steps: NetEchoStep[];
  failedStep: NetEchoStep | undefined;
  failure: string | undefined;
  mac: string;
  peerMac: string;
  pingsSent: number;
  pingsOk: number;
  udpSent: number;
  udpOk: number;
  /** Round-trip times (ps) of answered pings and UDP echoes, in order. */
  rtts: number[];
  done: boolean;
}

const hex = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');

/**
 * A host on a network, as a Redox program drives a NIC driver: wait for
 * `network.<if>:`, read the interface's address from `network.<if>:mac`,
 * (on Wi-Fi, with `ssid`: connect through `wifictl:<if>/connect`), resolve
 * the peer with ARP, ping it, then send UDP datagrams to its echo port and
 * check every echo. One process; frames only through the scheme, so the same
 * workload runs over virtio-net, a linux-kpi net device and Wi-Fi.
 */
export function spawnNetEcho(kernel: Kernel, params: NetEchoParams): NetEchoResult {
  const result: NetEchoResult = {
    steps: [], failedStep: undefined, failure: undefined, mac: '', peerMac: '', pingsSent: 0, pingsOk: 0, udpSent: 0, udpOk: 0, rtts: [], done: false,
  };
  const ipOrThrow = (field: string, text: string): Uint8Array => {
    const ip = parseIpv4(text);
    if (ip === undefined) throw new WorkloadConfigError(field, `"${text}" is not an IPv4 address`);
    return ip;
  };
  const myIp = ipOrThrow('ip', params.ip);
  const peerIp = ipOrThrow('peer', params.peer);
  if (myIp.every((b, i) => b === peerIp[i])) throw new WorkloadConfigError('peer', `is this host's own address ${params.ip}`);
  const proc = kernel.spawn('net-client', (sys) => main(sys));
  proc.exitHooks.push(() => { result.done = true; });
  return result;

  /** How many losses the step tolerated, for a failure message (nothing when none). */
  function lostNote(): string {
    return params.maxLost > 0 ? ` (maxLost ${params.maxLost})` : '';
  }

  function fail(sys: Sys, step: NetEchoStep, why: string): number {
    result.failedStep = step;
    result.failure = why;
    sys.log('error', `net ${step}: ${why}`);
    return 1;
  }

  function awaitFrame(sys: Sys, fd: number, buf: Uint8Array, match: (frame: Uint8Array) => boolean): Co<boolean | number> {
    return awaitFrameOn(sys, fd, buf, match, params.replyTimeoutMs, params.pollUs);
  }

  /** Sends `frame` and waits for the reply `match` accepts; true, or why not ("send failed: ..." / "no reply"). */
  function* exchange(sys: Sys, net: number, rx: Uint8Array, frame: Uint8Array, match: (f: Uint8Array) => boolean): Co<true | string> {
    const t0 = sys.now;
    const w = yield* sys.write(net, frame);
    if (w < 0) return `send failed: ${errnoName(w)}`;
    const ok = yield* awaitFrame(sys, net, rx, match);
    if (ok !== true) return typeof ok === 'number' ? `read failed: ${errnoName(ok)}` : `no reply within ${params.replyTimeoutMs} ms`;
    result.rtts.push(sys.now - t0);
    return true;
  }

  function* main(sys: Sys): Co<number> {
    const dev = `network.${params.ifname}`;
    const giveUp = sys.now + params.waitForDriverMs * 1e9;
    let macFd: number;
    for (;;) {
      macFd = yield* sys.open(`${dev}:mac`);
      if (macFd >= 0) break;
      if (sys.now >= giveUp) return fail(sys, 'up', `${dev}: did not appear within ${params.waitForDriverMs} ms (${errnoName(macFd)})`);
      yield* sys.sleep(1e9);
    }
    const mac = new Uint8Array(6);
    const got = yield* sys.read(macFd, mac, 0);
    yield* sys.close(macFd);
    if (got !== 6) return fail(sys, 'up', `${dev}:mac gave ${got < 0 ? errnoName(got) : `${got} bytes`}, not a 6-byte address`);
    result.mac = hex(mac);
    const net = yield* sys.open(`${dev}:`, O_RDWR | O_NONBLOCK);
    if (net < 0) return fail(sys, 'up', `cannot open ${dev}: ${errnoName(net)}`);
    result.steps.push('up');

    if (params.ssid !== '') {
      // The same workload over Wi-Fi: associate first (the driver's control scheme), then the frames are Ethernet.
      const ctl = `wifictl:${params.ifname}`;
      const scan = yield* writeText(sys, `${ctl}/scan`, `ssid=${params.ssid}`);
      if (scan < 0) return fail(sys, 'connect', `scan failed: ${errnoName(scan)}`);
      const conn = yield* writeText(sys, `${ctl}/connect`, params.ssid);
      if (conn < 0) return fail(sys, 'connect', `connect to "${params.ssid}" failed: ${errnoName(conn)}`);
      const status = yield* readText(sys, `${ctl}/status`);
      if (typeof status !== 'string' || !status.includes('state=connected')) return fail(sys, 'connect', `status after connect: ${JSON.stringify(status)}`);
      result.steps.push('connect');
    }

    const rx = new Uint8Array(2048);
    let peerMac: Uint8Array | undefined;
    const arp = yield* exchange(sys, net, rx, arpRequest(mac, myIp, peerIp), (f) => { peerMac = parseArpReply(f, myIp, peerIp); return peerMac !== undefined; });
    if (arp !== true || peerMac === undefined) return fail(sys, 'arp', `ARP for ${params.peer}: ${arp === true ? 'no address' : arp}`);
    result.peerMac = hex(peerMac);
    result.steps.push('arp');

    const id = 0x4e45;
    for (let seq = 1; seq <= params.pings; seq++) {
      result.pingsSent++;
      const r = yield* exchange(sys, net, rx, icmpEcho(mac, peerMac, myIp, peerIp, id, seq, params.payloadBytes),
        (f) => parseEchoReply(f, peerIp, myIp, id, seq, params.payloadBytes));
      if (r === true) result.pingsOk++;
      else sys.log('warn', `ping ${seq}: ${r}`);
      if (params.intervalUs > 0) yield* sys.sleep(params.intervalUs * 1e6);
    }
    sys.log('info', `${result.pingsSent} pings sent, ${result.pingsOk} answered`);
    if (result.pingsSent - result.pingsOk > params.maxLost) return fail(sys, 'ping', `${result.pingsSent - result.pingsOk} of ${result.pingsSent} pings unanswered${lostNote()}`);
    result.steps.push('ping');

    for (let seq = 1; seq <= params.udpDatagrams; seq++) {
      result.udpSent++;
      const r = yield* exchange(sys, net, rx, udpDatagram(mac, peerMac, myIp, peerIp, params.localPort, params.udpPort, seq, params.payloadBytes),
        (f) => parseUdpEcho(f, peerIp, myIp, params.localPort, params.udpPort, seq, params.payloadBytes));
      if (r === true) result.udpOk++;
      else sys.log('warn', `udp ${seq}: ${r}`);
      if (params.intervalUs > 0) yield* sys.sleep(params.intervalUs * 1e6);
    }
    sys.log('info', `${result.udpSent} UDP datagrams sent, ${result.udpOk} echoed`);
    if (result.udpSent - result.udpOk > params.maxLost) return fail(sys, 'udp', `${result.udpSent - result.udpOk} of ${result.udpSent} UDP datagrams not echoed${lostNote()}`);
    result.steps.push('udp');
    yield* sys.close(net);
    return 0;
  }
}

export const netEchoWorkload: WorkloadEntry<typeof netEchoParams, NetEchoResult> = {
  type: 'netecho',
  description: 'a host on a network: wait for network.<if>:, read its MAC, (Wi-Fi: connect), ARP the peer, ping it, UDP echo round trips',
  params: netEchoParams,
  expectations: {
    minPings: 'at least this many echo requests answered',
    minUdpEchoes: 'at least this many UDP datagrams echoed',
  },
  spawn(env, params) {
    const r = spawnNetEcho(env.kernel, params);
    return {
      type: 'netecho',
      result: r,
      done: () => r.done,
      ios: () => 0,
      failures(e, stoppedBy) {
        const out: string[] = [];
        if (r.failedStep !== undefined) out.push(`the network workload failed at ${r.failedStep}: ${r.failure ?? ''}`);
        if (stoppedBy === 'until' && !r.done) return out;
        if (!r.done && r.failedStep === undefined) out.push(`the network workload did not finish (steps: ${r.steps.join(' > ') || '(none)'})`);
        if (r.pingsOk < e.minPings) out.push(`expected at least ${e.minPings} answered pings, got ${r.pingsOk}`);
        if (r.udpOk < e.minUdpEchoes) out.push(`expected at least ${e.minUdpEchoes} UDP echoes, got ${r.udpOk}`);
        return out;
      },
      notEvaluated(e, stoppedBy) {
        if (stoppedBy !== 'until' || r.done) return [];
        const out: string[] = [];
        if (r.pingsOk < e.minPings) out.push(`minPings: at least ${e.minPings} answered pings (${r.pingsOk} so far)`);
        if (r.udpOk < e.minUdpEchoes) out.push(`minUdpEchoes: at least ${e.minUdpEchoes} UDP echoes (${r.udpOk} so far)`);
        out.push('the workload finishing');
        return out;
      },
      summary() {
        const lines: SummaryLine[] = [
          {
            label: 'network steps',
            text: `${r.steps.join(' > ') || '(none)'}${r.failedStep === undefined ? '' : ` > ${r.failedStep} FAILED: ${r.failure ?? ''}`}`,
            bad: r.failedStep !== undefined,
          },
          { label: 'addresses', text: `${r.mac || '?'} (this host), ${r.peerMac || '?'} (peer)` },
          { label: 'echoes', text: `${r.pingsOk}/${r.pingsSent} pings, ${r.udpOk}/${r.udpSent} UDP` },
        ];
        if (r.rtts.length > 0) lines.push({ label: 'round trips', text: spread(r.rtts) });
        return lines;
      },
      json: () => ({ ...r, rtts: undefined, rttCount: r.rtts.length }),
      digest: () => `${r.steps.join(',')}/${r.pingsOk}/${r.udpOk}`,
    };
  },
};

/** The result of a run whose workload was "netecho", else undefined. */
export const netEchoResultOf = (w: { type: string; result: object } | undefined): NetEchoResult | undefined => workloadResult(netEchoWorkload, w);
