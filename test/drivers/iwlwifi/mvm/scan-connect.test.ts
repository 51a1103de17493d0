import { describe, expect, it } from 'vitest';
import { CMD, TXQ } from '../../../../src/devices/iwlwifi/fw-api.js';
import { AP_MAC, beacon, defaultScript, runMvm, testImage, type FwScript } from './fake-trans.js';

const OTHER = new Uint8Array([0x02, 0, 0, 0, 0, 0x99]);
const HIDDEN = new Uint8Array([0x02, 0, 0, 0, 0, 0x77]);
const SEC = new Uint8Array([0x02, 0, 0, 0, 0, 0x88]);
const SAE = new Uint8Array([0x02, 0, 0, 0, 0, 0x66]);

function scanScript(): FwScript {
  const s = defaultScript();
  s.scanFrames = [
    { channel: 6, energy: 40, frame: beacon({ bssid: AP_MAC, ssid: 'simnet', channel: 6 }) },
    { channel: 36, energy: 70, frame: beacon({ bssid: OTHER, ssid: 'simnet', channel: 36, probeResp: true }) },
    { channel: 11, energy: 55, frame: beacon({ bssid: HIDDEN, ssid: new Uint8Array(6), channel: 11 }) },
    { channel: 1, energy: 50, frame: beacon({ bssid: SEC, ssid: 'corp', channel: 1, privacy: true, rsnAkm: 2 }) },
    { channel: 1, energy: 60, frame: beacon({ bssid: SAE, ssid: 'new', channel: 1, privacy: true, rsnAkm: 8 }) },
    { channel: 1, energy: 20, frame: beacon({ bssid: new Uint8Array([2, 0, 0, 0, 0, 1]), ssid: 'crc', channel: 1 }), status: 0x2 },
  ];
  return s;
}

describe('iwlwifi mvm scan and association', () => {
  it('scans all valid channels and builds the BSS list (hidden, secured, CRC-bad dropped)', () => {
    let n = 0;
    const res = runMvm(scanScript(), function* (mvm) {
      expect(yield* mvm.start()).toBe(0);
      n = yield* mvm.scan();
    });
    expect(res.kernel.crashes).toEqual([]);
    expect(n).toBe(5);
    const req = res.trans.cmds.find((c) => c.id === CMD.SCAN_REQ_UMAC)!;
    expect(new DataView(req.payload.buffer).getUint32(4, true)).toBe(1); // uid
    // iwl_scan_req_umac v1: channel count at 33, 8-byte channel entries from 36, then the 1220-byte tail.
    const dv = new DataView(req.payload.buffer);
    expect(req.payload[33]).toBe(35);
    expect(req.payload.length).toBe(36 + 35 * 8 + 1220);
    expect(dv.getUint16(12, true) & (1 << 3)).toBe(0); // not PASSIVE: the wildcard SSID makes it active
    expect(dv.getUint16(12, true) & (1 << 5)).toBe(1 << 5); // ITER_COMPLETE
    expect([req.payload[17], req.payload[18]]).toEqual([10, 110]); // active / passive dwell
    expect([req.payload[36 + 4], dv.getUint32(36, true)]).toEqual([1, 0]); // channel 1, no directed SSID
    const tail = 36 + 35 * 8;
    // Probe template: mac_header segment {0, 26} = 802.11 header + empty SSID element.
    expect([dv.getUint16(tail + 12, true), dv.getUint16(tail + 14, true)]).toEqual([0, 26]);
    expect([...req.payload.subarray(tail + 28 + 10, tail + 28 + 16)]).toEqual([0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc]);
    expect([req.payload[tail + 28 + 24], req.payload[tail + 28 + 25]]).toEqual([0, 0]);
    expect(req.payload[tail + 540 + 1]).toBe(0); // no direct_scan SSID
    expect(res.mvm.bss.text()).toBe(
      '02:11:22:33:44:55\tsimnet\t6\t-40\topen\n'
      + '02:00:00:00:00:88\tcorp\t1\t-50\twpa2-psk\n'
      + '02:00:00:00:00:77\t\t11\t-55\topen\n'
      + '02:00:00:00:00:66\tnew\t1\t-60\twpa3-sae\n'
      + '02:00:00:00:00:99\tsimnet\t36\t-70\topen\n');
    expect(res.mvm.state).toBe('up');
    expect(res.mvm.stats.rxCrcDropped).toBe(1);
  });

  it('scan times out without SCAN_COMPLETE and aborts', () => {
    const s = scanScript();
    s.scanComplete = false;
    let r = 0;
    const res = runMvm(s, function* (mvm) { yield* mvm.start(); r = yield* mvm.scan(); }, { scanTimeoutMs: 500 });
    expect(r).toBe(-110);
    expect(res.trans.cmdIds()).toContain(CMD.SCAN_ABORT_UMAC);
    expect(res.mvm.state).toBe('up');
  });

  it('connects to the strongest open BSS: contexts, auth, assoc, MAC modify', () => {
    let r = 1;
    const res = runMvm(scanScript(), function* (mvm) {
      yield* mvm.start();
      yield* mvm.scan();
      r = yield* mvm.connect('simnet\n');
    });
    expect(r).toBe(0);
    const t = res.trans;
    const after = t.cmdIds().slice(t.cmdIds().indexOf(CMD.SCAN_REQ_UMAC) + 1);
    expect(after).toEqual([
      CMD.PHY_CONTEXT, CMD.MAC_CONTEXT, CMD.BINDING_CONTEXT, CMD.ADD_STA, CMD.LQ, CMD.TIME_EVENT, CMD.MAC_CONTEXT, CMD.TIME_EVENT,
      CMD.ADD_STA, CMD.MAC_PM_POWER_TABLE,
    ]);
    // Session protection: TIME_EVENT v2 (36 bytes) ADD of TE_BSS_STA_AGGRESSIVE_ASSOC, then REMOVE of its unique id after association.
    const tes = t.cmds.filter((c) => c.id === CMD.TIME_EVENT).map((c) => new DataView(c.payload.buffer));
    expect(tes.map((d) => [d.byteLength, d.getUint32(4, true), d.getUint32(8, true)])).toEqual([[36, 1, 0], [36, 3, 7]]);
    expect([tes[0]!.getUint32(28, true), tes[0]!.getUint8(32), tes[0]!.getUint16(34, true)]).toEqual([488, 1, 0x803]);
    // PHY_CONTEXT v1, 36 bytes: band PHY_BAND_24 (1), channel 6, txchain at 20.
    const phy = t.cmds.find((c) => c.id === CMD.PHY_CONTEXT)!;
    expect(phy.payload.length).toBe(36);
    expect([phy.payload[16], phy.payload[17], phy.payload[20]]).toEqual([1, 6, 3]);
    // MAC_CONTEXT v1, 148 bytes: BSSID at 24, is_assoc at 100, assoc_id at 136.
    const macs = t.cmds.filter((c) => c.id === CMD.MAC_CONTEXT);
    expect(macs.map((m) => m.payload.length)).toEqual([148, 148]);
    expect([...macs[0]!.payload.subarray(24, 30)]).toEqual([0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    const dv = new DataView(macs[1]!.payload.buffer);
    expect([dv.getUint32(4, true), dv.getUint32(100, true), dv.getUint32(136, true)]).toEqual([2, 1, 1]);
    // ADD_STA v7, 44 bytes: sta_id at 16, tfd_queue_msk at 40; the modify carries the AID at 36.
    const stas = t.cmds.filter((c) => c.id === CMD.ADD_STA).map((c) => new DataView(c.payload.buffer));
    expect(stas.map((d) => [d.byteLength, d.getUint8(0), d.getUint8(16), d.getUint16(36, true), d.getUint32(40, true)]))
      .toEqual([[44, 0, 0, 0, (1 << TXQ.MGMT) | (1 << TXQ.DATA)], [44, 1, 0, 1, (1 << TXQ.MGMT) | (1 << TXQ.DATA)]]);
    expect(t.cmds.find((c) => c.id === CMD.LQ)!.payload.length).toBe(88);
    expect(t.cmds.find((c) => c.id === CMD.MAC_PM_POWER_TABLE)!.payload.length).toBe(40);
    // TX_CMD v6, 56 bytes: len, rate (1 Mb/s CCK on antenna A) at 12, sta at 16, retry limit 3 for management at 50.
    const txc = new DataView(t.txFrames[0]!.txCmd.buffer);
    expect([txc.byteLength, txc.getUint16(0, true), txc.getUint32(12, true), txc.getUint8(16), txc.getUint8(50)])
      .toEqual([56, t.txFrames[0]!.frame.length, 10 | (1 << 9) | (1 << 14), 0, 3]);
    expect(t.txFrames.map((f) => [f.queue, f.frame[0]])).toEqual([[TXQ.MGMT, 0xb0], [TXQ.MGMT, 0x00]]);
    expect(res.mvm.state).toBe('connected');
    expect(res.mvm.statusText()).toBe('state=connected\nssid=simnet\nbssid=02:11:22:33:44:55\nchannel=6\nmac=00:1b:21:aa:bb:cc\n');
    expect(res.logs).toContain('info iwlwifi 0000:03:00.0: wlan0: associated with simnet (02:11:22:33:44:55), AID 1');
  });

  it('refuses secured and unknown networks, reports a refused association and cleans up', () => {
    const s = scanScript();
    s.assocStatus = 17;
    const rs: number[] = [];
    const res = runMvm(s, function* (mvm) {
      yield* mvm.start();
      yield* mvm.scan();
      rs.push(yield* mvm.connect('corp'), yield* mvm.connect('nowhere'), yield* mvm.connect('simnet'));
    });
    expect(rs).toEqual([-95, -2, -111]);
    expect(res.logs).toContain('error iwlwifi 0000:03:00.0: corp: security wpa2-psk not supported');
    expect(res.logs).toContain('error iwlwifi 0000:03:00.0: association with 02:11:22:33:44:55 failed: status 17');
    const ids = res.trans.cmdIds();
    expect(ids.slice(-7)).toEqual([CMD.LQ, CMD.TIME_EVENT, CMD.TIME_EVENT, CMD.REMOVE_STA, CMD.BINDING_CONTEXT, CMD.MAC_CONTEXT, CMD.PHY_CONTEXT]);
    expect(res.mvm.state).toBe('up');
  });

  it('retries authentication 3 times then times out', () => {
    const s = scanScript();
    s.authStatus = null;
    let r = 0;
    const res = runMvm(s, function* (mvm) { yield* mvm.start(); yield* mvm.scan(); r = yield* mvm.connect('simnet'); });
    expect(r).toBe(-110);
    expect(res.trans.txFrames.filter((f) => f.frame[0] === 0xb0)).toHaveLength(3);
  });

  it('converts Ethernet frames to 802.11 and back on the data path; handles deauth from the AP', () => {
    const frames: number[][] = [];
    const res = runMvm(scanScript(), function* (mvm, t, k) {
      yield* mvm.start();
      yield* mvm.scan();
      expect(yield* mvm.connect('simnet')).toBe(0);
      const eth = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc, 0x08, 0x06, 1, 2, 3];
      expect(mvm.xmit(new Uint8Array(eth))).toBe(0);
      expect(mvm.xmit(new Uint8Array(10))).toBe(-22);
      const tx = t.txFrames.at(-1)!;
      expect(tx.queue).toBe(TXQ.DATA);
      frames.push([...tx.frame]);
      // FromDS data frame from the AP to us.
      mvm.rxFrame(new Uint8Array([0x08, 0x02, 0, 0, 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc, ...AP_MAC, 0x02, 0x99, 0, 0, 0, 1, 0x20, 0,
        0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, 9, 8, 7]));
      frames.push([...mvm.rxQueue.shift()!]);
      mvm.rxFrame(new Uint8Array([0xc0, 0, 0, 0, 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc, ...AP_MAC, ...AP_MAC, 0, 0, 7, 0]));
      expect(mvm.state).toBe('up');
      expect(mvm.xmit(new Uint8Array(eth))).toBe(-100);
      yield* k.msleep(10);
    });
    expect(frames[0]).toEqual([0x08, 0x01, 0, 0, ...AP_MAC, 0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc, ...AP_MAC, 0x20, 0,
      0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x06, 1, 2, 3]);
    expect(frames[1]).toEqual([0x00, 0x1b, 0x21, 0xaa, 0xbb, 0xcc, 0x02, 0x99, 0, 0, 0, 1, 0x08, 0x00, 9, 8, 7]);
    expect(res.logs).toContain('info iwlwifi 0000:03:00.0: wlan0: deauthenticated by 02:11:22:33:44:55: reason 7');
    expect(res.trans.cmdIds().slice(-4)).toEqual([CMD.REMOVE_STA, CMD.BINDING_CONTEXT, CMD.MAC_CONTEXT, CMD.PHY_CONTEXT]);
    // From RX context the MAC context leaves the associated state at once, asynchronously; the work item does the rest.
    const ev = res.trans.events;
    const asyncMac = ev.lastIndexOf('async:0x28');
    expect(asyncMac).toBeGreaterThan(0);
    expect(ev.slice(asyncMac + 1)).toEqual(['cmd:0x19', 'cmd:0x2b', 'cmd:0x28', 'cmd:0x8']);
  });
});

describe('iwlwifi mvm: firmware capabilities', () => {
  it('firmware without UMAC_SCAN: no SCAN_CFG at bring-up, scans refused with EOPNOTSUPP and a log line', () => {
    const img = testImage();
    img.capabilities.delete(2);
    let n = 0;
    const res = runMvm(scanScript(), function* (mvm) {
      expect(yield* mvm.start()).toBe(0);
      n = yield* mvm.scan();
    }, {}, img);
    expect(n).toBe(-95);
    expect(res.trans.cmds.some((c) => c.id === CMD.SCAN_CFG || c.id === CMD.SCAN_REQ_UMAC)).toBe(false);
    expect(res.logs.some((l) => /firmware has no UMAC scan \(capability 2\)/.test(l))).toBe(true);
  });
});
