import type { Co } from '../sim/scheduler.js';
import type { PropTable, PropValues } from '../sim/props.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Sys } from '../kernel/sys.js';
import { O_NONBLOCK, O_RDWR } from '../kernel/types.js';
import { errnoName } from '../kernel/errno.js';
import { readText, writeText } from './files.js';
import { WorkloadConfigError, type SummaryLine, type WorkloadEntry, workloadResult } from './workload.js';
import { spread } from './blockio.js';
import { awaitFrame as awaitFrameOn } from './frame-wait.js';
import { arpRequest, icmpEcho, parseArpReply, parseEchoReply, parseIpv4, parseMac } from './netpkt.js';

export const wifiParams = {
  ifname: { type: 'string', default: 'wlan0', doc: 'interface the Wi-Fi driver serves (wifictl:<ifname>/..., network.<ifname>)' },
  ssid: { type: 'string', default: 'simnet', minLength: 1, maxLength: 32, doc: 'network to connect to (must be open)' },
  ip: { type: 'string', default: '192.168.50.23', doc: 'the station\'s static IPv4 address' },
  peer: { type: 'string', default: '192.168.50.1', doc: 'address to ping (the AP answers ARP and ICMP echo for its ip)' },
  pings: { type: 'number', default: 100, min: 0, max: 1_000_000, integer: true, doc: 'ICMP echo requests to send' },
  payloadBytes: { type: 'number', default: 56, min: 0, max: 1400, integer: true, doc: 'ICMP echo payload size' },
  intervalUs: { type: 'number', default: 1000, min: 0, max: 9_000_000_000, doc: 'pause between a reply and the next request' },
  replyTimeoutMs: { type: 'number', default: 500, min: 1, max: 9_000_000, doc: 'how long to wait for each ARP / echo reply' },
  pollUs: { type: 'number', default: 100, min: 1, max: 9_000_000_000, doc: 'poll interval of the non-blocking network read while waiting for a reply' },
  waitForDriverMs: { type: 'number', default: 5000, min: 1, max: 9_000_000, doc: 'how long to wait for the driver\'s wifictl scheme to appear (bring-up)' },
  disconnect: { type: 'boolean', default: true, doc: 'disconnect at the end' },
} as const satisfies PropTable;

export type WifiParams = PropValues<typeof wifiParams>;

export type WifiStep = 'up' | 'scan' | 'list' | 'connect' | 'arp' | 'ping' | 'disconnect';

export interface WifiResult {
  /** Steps completed, in order. */
  steps: WifiStep[];
  /** The step that failed and why (undefined = all succeeded). */
  failedStep: WifiStep | undefined;
  failure: string | undefined;
  /** Lines of wlan0/networks after the scan. */
  networks: string[];
  /** Status text after connecting. */
  status: string;
  pingsSent: number;
  pingsOk: number;
  /** Round-trip times (ps) of the answered pings, in order. */
  rtts: number[];
  done: boolean;
}

/**
 * A station's life on a Wi-Fi network, as a Redox user would drive it: wait
 * for the driver's control scheme (bring-up), scan, list the networks,
 * connect, resolve the peer with ARP, ping it, disconnect. One process; it
 * talks to the driver only through `wifictl:` and `network.<if>:`.
 */
export function spawnWifi(kernel: Kernel, params: WifiParams): WifiResult {
  const result: WifiResult = {
    steps: [], failedStep: undefined, failure: undefined, networks: [], status: '', pingsSent: 0, pingsOk: 0, rtts: [], done: false,
  };
  const ipOrThrow = (field: string, text: string): Uint8Array => {
    const ip = parseIpv4(text);
    if (ip === undefined) throw new WorkloadConfigError(field, `"${text}" is not an IPv4 address`);
    return ip;
  };
  const myIp = ipOrThrow('ip', params.ip);
  const peerIp = ipOrThrow('peer', params.peer);
  const proc = kernel.spawn('wifi-client', (sys) => main(sys));
  proc.exitHooks.push(() => { result.done = true; });
  return result;

  function fail(sys: Sys, step: WifiStep, why: string): number {
    result.failedStep = step;
    result.failure = why;
    sys.log('error', `wifi ${step}: ${why}`);
    return 1;
  }

  function awaitFrame(sys: Sys, fd: number, buf: Uint8Array, match: (frame: Uint8Array) => boolean): Co<boolean | number> {
    return awaitFrameOn(sys, fd, buf, match, params.replyTimeoutMs, params.pollUs);
  }

  function* main(sys: Sys): Co<number> {
    const ctl = `wifictl:${params.ifname}`;
    // Bring-up: the driver creates its schemes once the adapter is up.
    const giveUp = sys.now + params.waitForDriverMs * 1e9;
    let mac: Uint8Array | undefined;
    for (;;) {
      const text = yield* readText(sys, `${ctl}/mac`);
      if (typeof text === 'string') { mac = parseMac(text.trim()); break; }
      if (sys.now >= giveUp) return fail(sys, 'up', `${ctl} did not appear within ${params.waitForDriverMs} ms (${errnoName(text)})`);
      yield* sys.sleep(1e9);
    }
    if (mac === undefined) return fail(sys, 'up', `${ctl}/mac is not a MAC address`);
    result.steps.push('up');

    const scan = yield* writeText(sys, `${ctl}/scan`, 'scan');
    if (scan < 0) return fail(sys, 'scan', `scan failed: ${errnoName(scan)}`);
    result.steps.push('scan');

    const list = yield* readText(sys, `${ctl}/networks`);
    if (typeof list !== 'string') return fail(sys, 'list', `cannot read networks: ${errnoName(list)}`);
    result.networks = list.split('\n').filter((l) => l !== '');
    sys.log('info', `scan found ${result.networks.length} networks`);
    if (!result.networks.some((l) => l.split('\t')[1] === params.ssid)) return fail(sys, 'list', `"${params.ssid}" not among the scan results`);
    result.steps.push('list');

    const conn = yield* writeText(sys, `${ctl}/connect`, params.ssid);
    if (conn < 0) return fail(sys, 'connect', `connect to "${params.ssid}" failed: ${errnoName(conn)}`);
    const status = yield* readText(sys, `${ctl}/status`);
    result.status = typeof status === 'string' ? status : '';
    if (!result.status.includes('state=connected')) return fail(sys, 'connect', `status after connect: ${JSON.stringify(result.status)}`);
    result.steps.push('connect');

    const net = yield* sys.open(`network.${params.ifname}:`, O_RDWR | O_NONBLOCK);
    if (net < 0) return fail(sys, 'arp', `cannot open network.${params.ifname}: ${errnoName(net)}`);
    const rx = new Uint8Array(2048);
    const arp = arpRequest(mac, myIp, peerIp);
    const sent = yield* sys.write(net, arp);
    if (sent < 0) return fail(sys, 'arp', `ARP request not sent: ${errnoName(sent)}`);
    let peerMac: Uint8Array | undefined;
    const got = yield* awaitFrame(sys, net, rx, (f) => { peerMac = parseArpReply(f, myIp, peerIp); return peerMac !== undefined; });
    if (got !== true || peerMac === undefined) return fail(sys, 'arp', `no ARP reply from ${params.peer}${typeof got === 'number' ? ` (${errnoName(got)})` : ''}`);
    result.steps.push('arp');

    const id = 0x5152;
    for (let seq = 1; seq <= params.pings; seq++) {
      const req = icmpEcho(mac, peerMac, myIp, peerIp, id, seq, params.payloadBytes);
      const t0 = sys.now;
      const w = yield* sys.write(net, req);
      result.pingsSent++;
      if (w < 0) { sys.log('warn', `ping ${seq}: send failed: ${errnoName(w)}`); continue; }
      const ok = yield* awaitFrame(sys, net, rx, (f) => parseEchoReply(f, peerIp, myIp, id, seq, params.payloadBytes));
      if (ok === true) {
        result.pingsOk++;
        result.rtts.push(sys.now - t0);
      } else {
        sys.log('warn', `ping ${seq}: no reply within ${params.replyTimeoutMs} ms`);
      }
      if (params.intervalUs > 0) yield* sys.sleep(params.intervalUs * 1e6);
    }
    const lost = result.pingsSent - result.pingsOk;
    sys.log('info', `${result.pingsSent} pings sent, ${result.pingsOk} answered, ${lost} lost`);
    if (lost > 0) return fail(sys, 'ping', `${lost} of ${result.pingsSent} pings unanswered`);
    result.steps.push('ping');
    yield* sys.close(net);

    if (params.disconnect) {
      const d = yield* writeText(sys, `${ctl}/disconnect`, '1');
      if (d < 0) return fail(sys, 'disconnect', `disconnect failed: ${errnoName(d)}`);
      const after = yield* readText(sys, `${ctl}/status`);
      if (typeof after !== 'string' || after.includes('state=connected')) return fail(sys, 'disconnect', `still connected: ${JSON.stringify(after)}`);
      result.steps.push('disconnect');
    }
    return 0;
  }
}

export const wifiWorkload: WorkloadEntry<typeof wifiParams, WifiResult> = {
  type: 'wifi',
  description: 'a station process: wait for the Wi-Fi driver, scan, list, connect, ARP, ping the peer, disconnect (wifictl: and network.<if>: only)',
  params: wifiParams,
  expectations: {
    wifiOutcome: '"ok" (default), "unfinished", or "fail:<step>" (up, scan, list, connect, arp, ping, disconnect) for a run that must fail there',
    minPings: 'at least this many echo requests answered',
  },
  spawn(env, params) {
    const r = spawnWifi(env.kernel, params);
    return {
      type: 'wifi',
      result: r,
      done: () => r.done,
      ios: () => 0,
      failures(e, stoppedBy) {
        const out: string[] = [];
        const got = r.failedStep === undefined ? (r.done ? 'ok' : 'unfinished') : `fail:${r.failedStep}`;
        // Stopped early (until) and still going: the outcome and the ping count are not evaluated (notEvaluated).
        const early = stoppedBy === 'until' && !r.done;
        if (got !== e.wifiOutcome && !(early && r.failedStep === undefined)) {
          out.push(`expected the Wi-Fi workload to end "${e.wifiOutcome}", it ended "${got}"${r.failure === undefined ? '' : `: ${r.failure}`}`);
        }
        if (!early && r.pingsOk < e.minPings) out.push(`expected at least ${e.minPings} answered pings, got ${r.pingsOk}`);
        return out;
      },
      notEvaluated(e, stoppedBy) {
        if (stoppedBy !== 'until' || r.done) return [];
        const out: string[] = [];
        if (r.failedStep === undefined) out.push(`wifiOutcome: "${e.wifiOutcome}" (steps so far: ${r.steps.join(' > ') || '(none)'})`);
        if (r.pingsOk < e.minPings) out.push(`minPings: at least ${e.minPings} answered pings (${r.pingsOk} so far)`);
        out.push('the workload finishing');
        return out;
      },
      summary() {
        const lines: SummaryLine[] = [
          {
            label: 'Wi-Fi steps',
            text: `${r.steps.join(' > ') || '(none)'}${r.failedStep === undefined ? '' : ` > ${r.failedStep} FAILED: ${r.failure ?? ''}`}`,
            bad: r.failedStep !== undefined,
          },
          { label: 'networks', text: r.networks.length === 0 ? '(none)' : r.networks.map((n) => n.split('\t').slice(0, 3).join(' ')).join('; ') },
          { label: 'pings', text: `${r.pingsOk}/${r.pingsSent} answered` },
        ];
        if (r.rtts.length > 0) lines.push({ label: 'ping RTT', text: spread(r.rtts) });
        return lines;
      },
      json: () => ({ ...r }),
      digest: () => `${r.steps.join(',')}/${r.pingsSent}/${r.pingsOk}`,
    };
  },
};

/** The Wi-Fi result of a run whose workload was "wifi", else undefined. */
export const wifiResultOf = (w: { type: string; result: object } | undefined): WifiResult | undefined => workloadResult(wifiWorkload, w);
