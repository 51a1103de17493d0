/**
 * A fake IwlTrans playing a scripted 7265D firmware for op-mode tests:
 * answers host commands by ID, posts ALIVE / CALIB / INIT_COMPLETE / scan
 * results / management answers through opMode.rx from a "firmware" thread.
 */
import type { Co } from '../../../../src/sim/scheduler.js';
import type { Sys } from '../../../../src/kernel/sys.js';
import { bareKernel } from '../../../kernel/harness.js';
import { LinuxKpi, type PciDev } from '../../../../src/drivers/linux-kpi/kpi.js';
import type { SkBuff } from '../../../../src/drivers/linux-kpi/skbuff.js';
import type { CmdResult, HostCmd, IwlOpMode, IwlTrans, RxPacket } from '../../../../src/drivers/iwlwifi/trans-api.js';
import { emptyImage, type FirmwareImage, type ImageKind } from '../../../../src/devices/iwlwifi/firmware/index.js';
import {
  ALIVE_STATUS_OK, ALIVE_V3, CMD, NVM_CHANNELS, NVM_HW, NVM_SECTION, RX_PHY, SCAN_COMPLETE, SEQ_UNSOLICITED, TX_STATUS, seqOf,
} from '../../../../src/devices/iwlwifi/fw-api.js';
import { IwlMvm, MVM_CONFIG_DEFAULTS, type MvmConfig } from '../../../../src/drivers/iwlwifi/mvm/mvm.js';

export const AP_MAC = new Uint8Array([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
export const OWN_MAC = new Uint8Array([0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc]);

export function le16(v: number): number[] { return [v & 0xff, (v >>> 8) & 0xff]; }
export function le32(v: number): number[] { return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff]; }

/** HW section as the 7000 family stores it: the MAC at word 0x15 in le16 words (byte pairs swapped). */
export function hwSection(mac = OWN_MAC): Uint8Array {
  const b = new Uint8Array(NVM_HW.SIZE);
  for (let i = 0; i < 6; i += 2) { b[0x2a + i] = mac[i + 1]!; b[0x2a + i + 1] = mac[i]!; }
  return b;
}

/** SW section: SKU 2.4+5 GHz; channels valid except 12, 13, 14 and 144. */
export function swSection(sku = 0x3, invalid: number[] = [12, 13, 14, 144]): Uint8Array {
  const b = new Uint8Array(0x40 + 2 * NVM_CHANNELS.length + 8);
  b.set(le16(0x0c1f), 0);
  b.set(le16(0x3312), 2);
  b.set(le16(sku), 4);
  b.set(le16(1), 6);
  NVM_CHANNELS.forEach((ch, i) => b.set(le16(invalid.includes(ch) ? 0 : 0x9), 0x40 + 2 * i));
  return b;
}

export function mgmtHdr(stype: number, a1: Uint8Array, a2: Uint8Array, a3: Uint8Array): number[] {
  return [stype << 4, 0, 0, 0, ...a1, ...a2, ...a3, 0x10, 0];
}

export interface BeaconSpec { bssid: Uint8Array; ssid: string | Uint8Array; channel: number; privacy?: boolean; rsnAkm?: number; probeResp?: boolean }

export function beacon(s: BeaconSpec): Uint8Array {
  const ssid = typeof s.ssid === 'string' ? [...new TextEncoder().encode(s.ssid)] : [...s.ssid];
  const ies = [0, ssid.length, ...ssid, 1, 4, 0x82, 0x84, 0x8b, 0x96, 3, 1, s.channel];
  if (s.rsnAkm !== undefined) ies.push(48, 20, 1, 0, 0x00, 0x0f, 0xac, 4, 1, 0, 0x00, 0x0f, 0xac, 4, 1, 0, 0x00, 0x0f, 0xac, s.rsnAkm, 0, 0);
  const cap = 0x1 | (s.privacy ? 0x10 : 0);
  return new Uint8Array([
    ...mgmtHdr(s.probeResp ? 5 : 8, new Uint8Array([255, 255, 255, 255, 255, 255]), s.bssid, s.bssid),
    0, 0, 0, 0, 0, 0, 0, 0, ...le16(100), ...le16(cap), ...ies,
  ]);
}

export function rxPhy(channel: number, energy: number): Uint8Array {
  const b = new Uint8Array(RX_PHY.SIZE);
  b.set(le16(channel <= 14 ? 1 : 0), RX_PHY.PHY_FLAGS);
  b.set(le16(channel), RX_PHY.CHANNEL);
  b.set(le32(energy | (energy + 3) << 8), RX_PHY.ENERGY_WORD);
  return b;
}

export function rxMpdu(frame: Uint8Array, status = 0x3): Uint8Array {
  return new Uint8Array([...le16(frame.length), 0, 0, ...frame, ...le32(status)]);
}

export function notif(cmd: number, payload: Uint8Array | number[], group = 0): RxPacket {
  return { cmd, group, seq: SEQ_UNSOLICITED, payload: payload instanceof Uint8Array ? payload : new Uint8Array(payload) };
}

export interface ScanFrame { channel: number; energy: number; frame: Uint8Array; status?: number }

export interface FwScript {
  alive: 'ok' | 'none' | 'bad-status' | 'short';
  initComplete: boolean;
  nvm: Map<number, Uint8Array>;
  scanFrames: ScanFrame[];
  scanComplete: boolean;
  authStatus: number | null;
  assocStatus: number | null;
  aid: number;
}

export function defaultScript(): FwScript {
  return {
    alive: 'ok', initComplete: true,
    nvm: new Map([[NVM_SECTION.HW, hwSection()], [NVM_SECTION.SW, swSection()], [NVM_SECTION.CALIBRATION, new Uint8Array(100)]]),
    scanFrames: [], scanComplete: true, authStatus: 0, assocStatus: 0, aid: 1,
  };
}

export interface SentCmd { id: number; group: number; payload: Uint8Array }

export class FakeTrans implements IwlTrans {
  readonly hwRev = 0x210;
  op: IwlOpMode | null = null;
  readonly events: string[] = [];
  readonly cmds: SentCmd[] = [];
  readonly txFrames: { queue: number; txCmd: Uint8Array; frame: Uint8Array }[] = [];
  private readonly pending = new Map<number, SkBuff[]>();
  private readonly txIdx = new Map<number, number>();
  mode: ImageKind | null = null;
  space = 200;

  constructor(private readonly k: LinuxKpi, readonly script: FwScript) {}

  /** Delivers packets in order `delayMs` from now, from a firmware thread (NAPI stand-in). */
  post(pkts: RxPacket[], delayMs = 1): void {
    const op = this.op!;
    this.k.kthread_run('fake-fw', function* (sys: Sys) {
      yield* sys.sleep(delayMs * 1e9);
      for (const p of pkts) op.rx(p);
    });
  }

  *startHw(): Co<number> { this.events.push('startHw'); return 0; }

  *startFw(_image: FirmwareImage, kind: ImageKind): Co<number> {
    this.events.push(`startFw:${kind}`);
    this.mode = kind;
    const a = new Uint8Array(ALIVE_V3.SIZE);
    a.set(le16(ALIVE_STATUS_OK), ALIVE_V3.STATUS);
    a.set(le32(0x800), ALIVE_V3.SCD_BASE_PTR);
    if (this.script.alive === 'ok') this.post([notif(CMD.ALIVE, a)], 2);
    else if (this.script.alive === 'bad-status') { a.set(le16(0xdead), ALIVE_V3.STATUS); this.post([notif(CMD.ALIVE, a)], 2); }
    else if (this.script.alive === 'short') this.post([notif(CMD.ALIVE, a.subarray(0, 64))], 2);
    return 0;
  }

  *fwAlive(scd: number): Co<void> { this.events.push(`fwAlive:0x${scd.toString(16)}`); }
  *stopDevice(): Co<void> { this.events.push('stopDevice'); this.mode = null; }
  *txqEnable(q: number, fifo: number): Co<void> { this.events.push(`txqEnable:${q}:${fifo}`); }
  *txqDisable(q: number): Co<void> { this.events.push(`txqDisable:${q}`); }
  rfKillAsserted(): boolean { return false; }
  txqSpace(_q: number): number { return this.space; }

  /** Async commands are recorded like the others; the scripted firmware answers nothing for them. */
  sendCmdAsync(cmd: HostCmd): number {
    const payload = new Uint8Array(cmd.data.reduce((n, d) => n + d.length, 0));
    let o = 0;
    for (const d of cmd.data) { payload.set(d, o); o += d.length; }
    this.cmds.push({ id: cmd.id, group: cmd.group, payload });
    this.events.push(`async:0x${cmd.id.toString(16)}`);
    return 0;
  }

  *sendCmd(cmd: HostCmd): Co<CmdResult> {
    const payload = new Uint8Array(cmd.data.reduce((n, d) => n + d.length, 0));
    let o = 0;
    for (const d of cmd.data) { payload.set(d, o); o += d.length; }
    this.cmds.push({ id: cmd.id, group: cmd.group, payload });
    this.events.push(`cmd:0x${cmd.id.toString(16)}`);
    const dv = new DataView(payload.buffer);
    let resp: number[] = le32(0);
    switch (cmd.id) {
      case CMD.NVM_ACCESS: {
        const type = dv.getUint16(2, true);
        const off = dv.getUint16(4, true);
        const len = dv.getUint16(6, true);
        const sec = this.script.nvm.get(type);
        if (sec === undefined) resp = [...le16(off), ...le16(0), ...le16(type), ...le16(1)];
        else {
          const data = sec.subarray(off, off + len);
          resp = [...le16(off), ...le16(data.length), ...le16(type), ...le16(0), ...data];
        }
        break;
      }
      case CMD.ADD_STA: resp = le32(1); break;
      case CMD.TIME_EVENT: {
        // iwl_time_event_resp { status 0, id, unique_id 7, id_and_color }; ADD also starts the event.
        const add = dv.getUint32(4, true) === 1;
        resp = [...le32(0), ...le32(dv.getUint32(8, true)), ...le32(7), ...le32(dv.getUint32(0, true))];
        if (add) this.post([notif(CMD.TIME_EVENT_NOTIFICATION, [...le32(0), ...le32(0), ...le32(7), ...le32(0), ...le32(1), ...le32(1)])], 1);
        break;
      }
      case CMD.SHARED_MEM_CFG: resp = Array.from({ length: 68 }, (_v, i) => (i === 20 ? 0x40 : 0)); break;
      case CMD.PHY_CONFIGURATION:
        if (this.mode === 'init' && this.script.initComplete) {
          this.post([
            notif(CMD.CALIB_RES_NOTIF_PHY_DB, [...le16(1), ...le16(4), 1, 2, 3, 4]),
            notif(CMD.CALIB_RES_NOTIF_PHY_DB, [...le16(2), ...le16(2), 9, 9]),
            notif(CMD.INIT_COMPLETE, le32(0)),
          ], 5);
        }
        break;
      case CMD.SCAN_REQ_UMAC: {
        const uid = dv.getUint32(4, true);
        const pk: RxPacket[] = [];
        for (const f of this.script.scanFrames) {
          pk.push(notif(CMD.RX_PHY, rxPhy(f.channel, f.energy)), notif(CMD.RX_MPDU, rxMpdu(f.frame, f.status ?? 3)));
        }
        const c = new Uint8Array(SCAN_COMPLETE.SIZE);
        c.set(le32(uid), SCAN_COMPLETE.UID);
        c[SCAN_COMPLETE.STATUS] = 1;
        if (this.script.scanComplete) pk.push(notif(CMD.SCAN_COMPLETE_UMAC, c, 1));
        this.post(pk, 20);
        break;
      }
      default:
    }
    return { status: 0, resp: { cmd: cmd.id, group: cmd.group, seq: 0, payload: new Uint8Array(resp) } };
  }

  tx(queue: number, txCmd: Uint8Array, skb: SkBuff, _hdrLen: number): number {
    const frame = new Uint8Array(skb.bytes);
    this.txFrames.push({ queue, txCmd: new Uint8Array(txCmd), frame });
    const list = this.pending.get(queue) ?? [];
    list.push(skb);
    this.pending.set(queue, list);
    const idx = this.txIdx.get(queue) ?? 0;
    this.txIdx.set(queue, (idx + 1) & 0xff);
    // iwl_mvm_tx_resp_v3 with one status (le16 at 36) and the SCD SSN after it (le32 at 40).
    const txr = new Uint8Array(44);
    txr[0] = 1;
    txr.set(le16(TX_STATUS.SUCCESS), 36);
    txr.set(le32((idx + 1) & 0xff), 40);
    const pk: RxPacket[] = [{ cmd: CMD.TX, group: 0, seq: seqOf(queue, idx), payload: txr }];
    const stype = (frame[0]! >>> 4) & 0xf;
    const type = (frame[0]! >>> 2) & 3;
    const s = this.script;
    if (type === 0 && stype === 0xb && s.authStatus !== null) {
      pk.push(notif(CMD.RX_PHY, rxPhy(6, 40)), notif(CMD.RX_MPDU, rxMpdu(new Uint8Array([...mgmtHdr(0xb, OWN_MAC, AP_MAC, AP_MAC), ...le16(0), ...le16(2), ...le16(s.authStatus)]))));
    }
    if (type === 0 && stype === 0x0 && s.assocStatus !== null) {
      pk.push(notif(CMD.RX_MPDU, rxMpdu(new Uint8Array([...mgmtHdr(0x1, OWN_MAC, AP_MAC, AP_MAC), ...le16(0x1), ...le16(s.assocStatus), ...le16(s.aid | 0xc000), 1, 1, 0x82]))));
    }
    this.post(pk, 1);
    return 0;
  }

  reclaim(queue: number, ssn: number): number {
    const list = this.pending.get(queue) ?? [];
    let n = 0;
    while (list.length > 0 && n < 256) {
      this.k.kfree_skb(list.shift());
      n++;
      if (list.length === 0) break;
      void ssn;
    }
    return n;
  }

  cmdIds(): number[] { return this.cmds.map((c) => c.id); }
}

export function testImage(): FirmwareImage {
  const img = emptyImage('test 7265D', { major: 17, minor: 1, api: 29, serial: 0 });
  img.sections.init.push({ dest: 0, data: new Uint8Array(16) });
  img.sections.runtime.push({ dest: 0, data: new Uint8Array(16) });
  img.phySku = (0x3 << 16) | (0x3 << 20);
  img.capabilities.add(2); // UMAC_SCAN
  img.defCalib.push({ ucodeType: 1, flowTrigger: 0x11, eventTrigger: 0x22 }, { ucodeType: 0, flowTrigger: 0x33, eventTrigger: 0x44 });
  return img;
}

export const PDEV = { bdf: '0000:03:00.0' } as PciDev;

/** Runs `scenario` in a driver process with an IwlMvm on a FakeTrans. */
export function runMvm(
  script: FwScript, scenario: (mvm: IwlMvm, t: FakeTrans, k: LinuxKpi, sys: Sys) => Co<void>, cfg: Partial<MvmConfig> = {}, image = testImage(),
) {
  const h = bareKernel();
  let mvm: IwlMvm | undefined;
  let trans: FakeTrans | undefined;
  h.kernel.spawn('iwlwifi', function* (sys) {
    const k = new LinuxKpi(sys, 'iwlwifi');
    trans = new FakeTrans(k, script);
    mvm = new IwlMvm(k, PDEV, trans, image, { ...MVM_CONFIG_DEFAULTS, ...cfg });
    trans.op = mvm;
    yield* scenario(mvm, trans, k, sys);
  });
  h.run();
  const logs = h.kernel.logs.map((l) => `${l.level} ${l.text}`);
  return { ...h, logs, mvm: mvm!, trans: trans! };
}
