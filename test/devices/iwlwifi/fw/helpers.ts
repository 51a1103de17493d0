/** Fake transport (FirmwareHost), fake Air and command builders for the firmware CPU tests. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EventQueue } from '../../../../src/sim/event-queue.js';
import { Rng } from '../../../../src/sim/rng.js';
import { MemoryTracer } from '../../../../src/sim/tracer.js';
import { parseFirmware, type ImageKind, type Section } from '../../../../src/devices/iwlwifi/firmware/index.js';
import type { FirmwareHost } from '../../../../src/devices/iwlwifi/fw-cpu-api.js';
import { CMD_HDR_NARROW, CMD_HDR_WIDE, NVM_SKU, RX_MPDU, seqOf } from '../../../../src/devices/iwlwifi/fw-api.js';
import { SCD, SCD_SRAM_BASE_VALUE } from '../../../../src/devices/iwlwifi/regs.js';
import type { AirFrame } from '../../../../src/devices/iwlwifi/rf/types.js';
import { createFirmwareCpu, type AirLike, type FwConfig, type FwFaults } from '../../../../src/devices/iwlwifi/fw/index.js';
import type { FirmwareCpu } from '../../../../src/devices/iwlwifi/fw-cpu-api.js';

export const MAC = new Uint8Array([0x02, 0x00, 0x5e, 0x10, 0x20, 0x30]);
const FIXTURE = fileURLToPath(new URL('../../../../fixtures/firmware/iwlwifi-7265D-29.ucode', import.meta.url));
export const IMAGE = parseFirmware(readFileSync(FIXTURE), { fileName: 'iwlwifi-7265D-29.ucode' });
export const MS = 1_000_000_000;
export const US = 1_000_000;

export interface Posted {
  time: number;
  cmd: number;
  group: number;
  seq: number;
  payload: Uint8Array;
}

export class FakeHost implements FirmwareHost {
  readonly queue = new EventQueue();
  readonly tracer = new MemoryTracer();
  readonly dev = 3;
  /** SRAM regions (base -> bytes) like the fixtures use. */
  readonly sram = new Map<number, Uint8Array>([
    [0x000000, new Uint8Array(0x22000)],
    [0x040000, new Uint8Array(0x3000)],
    [0x456000, new Uint8Array(0x1000)],
    [0x800000, new Uint8Array(0x5000)],
  ]);
  readonly posted: Posted[] = [];
  readonly ints: number[] = [];
  readonly errs: { code: string; message: string }[] = [];
  /** setPowerSave calls, in order. */
  readonly powerSave: boolean[] = [];
  setPowerSave(on: boolean): void { this.powerSave.push(on); }
  rxFull = false;

  readSram(addr: number, len: number): Uint8Array | null {
    for (const [base, mem] of this.sram) {
      if (addr >= base && addr + len <= base + mem.length) return mem.slice(addr - base, addr - base + len);
    }
    return null;
  }
  writeSram(addr: number, data: Uint8Array): void {
    for (const [base, mem] of this.sram) {
      if (addr >= base && addr + data.length <= base + mem.length) { mem.set(data, addr - base); return; }
    }
    throw new Error(`no SRAM at 0x${addr.toString(16)}`);
  }
  load(sections: readonly Section[]): void {
    for (const s of this.sram.values()) s.fill(0);
    for (const s of sections) this.writeSram(s.dest, s.data);
  }
  prphRead(addr: number): number {
    return addr === SCD.SRAM_BASE_ADDR ? SCD_SRAM_BASE_VALUE : 0;
  }
  postRx(cmd: number, group: number, seq: number, payload: Uint8Array, len: number): boolean {
    if (this.rxFull) return false;
    this.posted.push({ time: this.queue.now, cmd, group, seq, payload: payload.slice(0, len) });
    return true;
  }
  raiseInt(bits: number): void {
    this.ints.push(bits);
  }
  guestErr(code: string, message: string): void {
    this.errs.push({ code, message });
    this.tracer.guestErr(this.queue.now, this.dev, code, message);
  }

  /** Runs events up to `now + ps`. */
  run(ps: number): void {
    this.queue.runUntil(this.queue.now + ps);
  }
  take(): Posted[] {
    return this.posted.splice(0);
  }
  milestones(name?: string): { name: string; a: number; b: number; time: number }[] {
    return this.tracer.events.flatMap((e) => (e.kind === 'milestone' && (name === undefined || e.name === name) ? [{ name: e.name, a: e.a, b: e.b, time: e.time }] : []));
  }
  airEvents(): { tx: boolean; channel: number; signal: number; rate: number; data: Uint8Array; time: number }[] {
    return this.tracer.events.flatMap((e) => (e.kind === 'air' ? [e] : []));
  }
}

export const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
export const u16 = (b: Uint8Array, o: number): number => dv(b).getUint16(o, true);
export const u32 = (b: Uint8Array, o: number): number => dv(b).getUint32(o, true);

export function noFaults(): FwFaults {
  return { alive: 'none', hwErrorDuringInit: false, delayCmd: null };
}

export interface Rig {
  host: FakeHost;
  cpu: FirmwareCpu;
  /** Next TFD index per queue. */
  idx: Map<number, number>;
}

export function rig(opts: { faults?: Partial<FwFaults>; air?: AirLike | null; sku?: number; seed?: number; hostile?: boolean } = {}): Rig {
  const host = new FakeHost();
  const cfg: FwConfig = {
    mac: MAC,
    sku: opts.sku ?? (NVM_SKU.BAND_24 | NVM_SKU.BAND_52 | NVM_SKU.N | NVM_SKU.AC),
    air: opts.air ?? null,
    rng: new Rng(opts.seed ?? 1).fork('fw'),
    faults: { ...noFaults(), ...opts.faults },
    hostile: opts.hostile === true ? new Rng(opts.seed ?? 1).fork('hostile-timing') : null,
  };
  return { host, cpu: createFirmwareCpu(host, cfg), idx: new Map() };
}

/** Loads the fixture's `kind` image, releases the CPU, runs to ALIVE and drops the ALIVE packet. */
export function boot(r: Rig, kind: ImageKind = 'init', sections?: readonly Section[]): Posted[] {
  r.host.load(sections ?? IMAGE.sections[kind]);
  r.cpu.release();
  r.host.run(5 * MS);
  return r.host.take();
}

/** Command bytes: header (narrow for group 0, wide otherwise) + payload. */
export function cmdBytes(cmd: number, group: number, seq: number, payload: Uint8Array): Uint8Array {
  const hdr = group === 0 ? CMD_HDR_NARROW : CMD_HDR_WIDE;
  const b = new Uint8Array(hdr + payload.length);
  b[0] = cmd; b[1] = group;
  dv(b).setUint16(2, seq, true);
  if (hdr === CMD_HDR_WIDE) dv(b).setUint16(4, payload.length, true);
  b.set(payload, hdr);
  return b;
}

/** Sends a command on `queue` at the next index; returns its sequence. */
export function send(r: Rig, cmd: number, group: number, payload: Uint8Array, queue = 0): number {
  const index = r.idx.get(queue) ?? 0;
  r.idx.set(queue, (index + 1) & 0xff);
  const seq = seqOf(queue, index);
  const b = cmdBytes(cmd, group, seq, payload);
  r.cpu.command(queue, index, b, b.length);
  return seq;
}

export function le(...words: [number, 1 | 2 | 4][]): Uint8Array {
  const n = words.reduce((s, [, w]) => s + w, 0);
  const b = new Uint8Array(n);
  let o = 0;
  for (const [v, w] of words) {
    if (w === 1) b[o] = v; else if (w === 2) dv(b).setUint16(o, v, true); else dv(b).setUint32(o, v >>> 0, true);
    o += w;
  }
  return b;
}

/** SCAN_CFG as Linux's iwl_scan_config_v1 lays it out: MAC at 28, broadcast station at 34, channel array at 36 (zero padded). */
export function scanCfgPayload(mac: Uint8Array, channels: number[], arraySize = 52): Uint8Array {
  const b = new Uint8Array(36 + Math.max(arraySize, channels.length));
  b.set(mac, 28);
  b[34] = 15;
  b.set(channels, 36);
  return b;
}

/**
 * SCAN_REQ_UMAC (v1) as Linux's iwl_mvm_scan_umac builds it: dwells at
 * 16-19, channel count at 33, 8-byte channel entries from 36 (flags = SSID
 * bitmap, channel at +4), then the 1220-byte tail: probe template segments
 * at +12 (mac_header), +16/+20 (bands), +24 (common), buffer at +28,
 * direct_scan SSIDs at +540.
 */
export function scanReqPayload(uid: number, channels: number[], ssids: string[], genFlags = 0, activeDwell = 0, passiveDwell = 0): Uint8Array {
  const direct = ssids.filter((s) => s !== '');
  const tail = 36 + 8 * channels.length;
  const b = new Uint8Array(tail + 1220);
  const d = dv(b);
  d.setUint32(4, uid, true);
  d.setUint16(12, genFlags | (ssids.length === 0 ? 1 << 3 : 0), true); // no SSID at all: PASSIVE, as Linux
  b[17] = activeDwell;
  b[18] = passiveDwell;
  b[33] = channels.length;
  channels.forEach((c, i) => {
    d.setUint32(36 + 8 * i, (1 << direct.length) - 1, true);
    b[36 + 8 * i + 4] = c;
    b[36 + 8 * i + 5] = 1;
  });
  // Template: probe request header from MAC + empty SSID element; 2.4 GHz rates; 5 GHz rates.
  const buf = tail + 28;
  b.set([0x40, 0, 0, 0, 255, 255, 255, 255, 255, 255, ...MAC, 255, 255, 255, 255, 255, 255, 0, 0, 0, 0], buf);
  const r24 = [1, 8, 0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24];
  const r5 = [1, 8, 0x8c, 0x12, 0x98, 0x24, 0xb0, 0x48, 0x60, 0x6c];
  b.set(r24, buf + 26);
  b.set(r5, buf + 26 + r24.length);
  d.setUint16(tail + 12, 0, true); d.setUint16(tail + 14, 26, true);
  d.setUint16(tail + 16, 26, true); d.setUint16(tail + 18, r24.length, true);
  d.setUint16(tail + 20, 26 + r24.length, true); d.setUint16(tail + 22, r5.length, true);
  d.setUint16(tail + 24, 26 + r24.length + r5.length, true); d.setUint16(tail + 26, 0, true);
  direct.forEach((s, i) => {
    const at = tail + 540 + i * 34;
    b[at + 1] = s.length;
    b.set(new TextEncoder().encode(s), at + 2);
  });
  return b;
}

/** 802.11 management frame: fc, addr1 (DA), addr2 (SA), addr3 (BSSID), body. */
export function mgmt(fc: number, a1: Uint8Array, a2: Uint8Array, a3: Uint8Array, body: Uint8Array = new Uint8Array(0), seqCtl = 0): Uint8Array {
  const f = new Uint8Array(24 + body.length);
  dv(f).setUint16(0, fc, true);
  f.set(a1, 4); f.set(a2, 10); f.set(a3, 16);
  dv(f).setUint16(22, seqCtl, true);
  f.set(body, 24);
  return f;
}

/** iwl_tx_cmd (v6, 56 bytes): len at 0, rate_n_flags at 12, sta_id at 16, data_retry_limit at 50; the frame at 56. */
export function txPayload(staId: number, frame: Uint8Array, rateNFlags = 10 | (1 << 9), retryLimit = 0): Uint8Array {
  const b = new Uint8Array(56 + frame.length);
  const d = dv(b);
  d.setUint16(0, frame.length, true);
  d.setUint32(12, rateNFlags, true);
  b[16] = staId;
  b[50] = retryLimit;
  b.set(frame, 56);
  return b;
}

/** The 802.11 frame inside an RX_MPDU payload. */
export function mpduFrame(p: Uint8Array): Uint8Array {
  return p.subarray(RX_MPDU.FRAME, RX_MPDU.FRAME + u16(p, RX_MPDU.BYTE_COUNT));
}

// ---- fake Air --------------------------------------------------------------------------------

export interface FakeAp {
  bssid: Uint8Array;
  ssid: string;
  channel: number;
  signalDbm: number;
  beaconTu: number;
}

const TU_PS = 1024 * US;

function ssidIe(ssid: string): Uint8Array {
  const s = new TextEncoder().encode(ssid);
  const b = new Uint8Array(2 + s.length);
  b[0] = 0; b[1] = s.length; b.set(s, 2);
  return b;
}

/** SSID of a probe request (first IE), "" = wildcard. */
function probeSsid(probe: Uint8Array): string {
  if (probe[24] !== 0) return '';
  return new TextDecoder().decode(probe.subarray(26, 26 + (probe[25] ?? 0)));
}

export class FakeAir implements AirLike {
  readonly transmitted: { channel: number; atPs: number; frame: Uint8Array }[] = [];
  readonly listens: { channel: number; fromPs: number; toPs: number; probe: boolean }[] = [];
  constructor(readonly aps: FakeAp[], readonly responseDelayPs = 150 * US) {}

  listen(channel: number, fromPs: number, toPs: number, probe: Uint8Array | null): AirFrame[] {
    this.listens.push({ channel, fromPs, toPs, probe: probe !== null });
    const out: AirFrame[] = [];
    for (const ap of this.aps) {
      if (ap.channel !== channel) continue;
      const rate500k = channel <= 14 ? 2 : 12;
      const period = ap.beaconTu * TU_PS;
      for (let t = Math.ceil(fromPs / period) * period; t < toPs; t += period) {
        out.push({ timePs: t, channel, signalDbm: ap.signalDbm, rate500k, data: mgmt(0x80, new Uint8Array(6).fill(0xff), ap.bssid, ap.bssid, ssidIe(ap.ssid)) });
      }
      if (probe !== null) {
        const want = probeSsid(probe);
        if (want === '' || want === ap.ssid) {
          const t = fromPs + this.responseDelayPs;
          if (t < toPs) out.push({ timePs: t, channel, signalDbm: ap.signalDbm, rate500k, data: mgmt(0x50, probe.subarray(10, 16), ap.bssid, ap.bssid, ssidIe(ap.ssid)) });
        }
      }
    }
    return out.sort((a, b) => a.timePs - b.timePs);
  }

  transmit(channel: number, atPs: number, frame: Uint8Array): { acked: boolean; replies: AirFrame[] } {
    this.transmitted.push({ channel, atPs, frame: frame.slice() });
    const ap = this.aps.find((a) => a.channel === channel && frame.subarray(4, 10).every((x, i) => x === a.bssid[i]));
    if (ap === undefined) return { acked: false, replies: [] };
    const sa = frame.subarray(10, 16);
    const fc = u16(frame, 0) & 0xfc;
    const rate500k = channel <= 14 ? 2 : 12;
    const replies: AirFrame[] = [];
    const at = atPs + this.responseDelayPs;
    if (fc === 0xb0) replies.push({ timePs: at, channel, signalDbm: ap.signalDbm, rate500k, data: mgmt(0xb0, sa, ap.bssid, ap.bssid, le([0, 2], [2, 2], [0, 2])) });
    if (fc === 0x00) replies.push({ timePs: at, channel, signalDbm: ap.signalDbm, rate500k, data: mgmt(0x10, sa, ap.bssid, ap.bssid, le([0x0401, 2], [0, 2], [0xc001, 2])) });
    // A frame for somebody else, which the firmware must filter out.
    if (fc === 0x00) replies.push({ timePs: at + 10 * US, channel, signalDbm: ap.signalDbm, rate500k, data: mgmt(0x10, new Uint8Array([2, 9, 9, 9, 9, 9]), ap.bssid, ap.bssid) });
    return { acked: true, replies };
  }
}
