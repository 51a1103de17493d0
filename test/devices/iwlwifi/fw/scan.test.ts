/** UMAC scan against a fake Air: probes, beacons / probe responses as RX_PHY + RX_MPDU, completion, abort, RF-kill. */
import { describe, expect, it } from 'vitest';
import {
  CMD, GROUP, RATE_MCS_CCK, RATE_PLCP_1M, RATE_PLCP_6M, RX_MPDU, RX_MPDU_STATUS_CRC_OK, RX_MPDU_STATUS_OVERRUN_OK, RX_PHY,
  RX_PHY_FLAGS_BAND_24, SCAN_COMPLETE, SCAN_ITER_COMPLETE_SIZE, SCAN_STATUS_ABORTED,
  SCAN_STATUS_DONE, SEQ_UNSOLICITED, STATUS_BAD_PARAM, STATUS_OK, STATUS_UNSUPPORTED,
} from '../../../../src/devices/iwlwifi/fw-api.js';
import { FakeAir, IMAGE, MAC, MS, US, boot, mpduFrame, rig, scanCfgPayload, scanReqPayload, send, u16, u32, type Posted } from './helpers.js';
import { encodeVer, makeSimfSections } from '../../../../src/devices/iwlwifi/firmware/index.js';

const AP1 = { bssid: new Uint8Array([2, 0x11, 0x22, 0x33, 0x44, 0x55]), ssid: 'simnet', channel: 6, signalDbm: -42, beaconTu: 100 };
const AP2 = { bssid: new Uint8Array([2, 0x66, 0x77, 0x88, 0x99, 0xaa]), ssid: 'five', channel: 36, signalDbm: -67, beaconTu: 100 };
const TU = 1024 * US;

function setup(air: FakeAir | null = new FakeAir([AP1, AP2])) {
  const r = rig({ air });
  boot(r, 'runtime');
  send(r, CMD.SCAN_CFG, GROUP.LONG, scanCfgPayload(MAC, [1, 6, 11, 36, 52]));
  r.host.run(1 * MS);
  const [cfg] = r.host.take();
  expect(cfg).toMatchObject({ cmd: CMD.SCAN_CFG, group: GROUP.LONG });
  expect(u32(cfg!.payload, 0)).toBe(STATUS_OK);
  return r;
}

/** RX_PHY + RX_MPDU pairs out of a packet list. */
function frames(posted: Posted[]) {
  const out: { phy: Uint8Array; mpdu: Uint8Array; time: number }[] = [];
  for (let i = 0; i < posted.length; i++) {
    if (posted[i]!.cmd !== CMD.RX_PHY) continue;
    const next = posted[i + 1]!;
    expect(next.cmd).toBe(CMD.RX_MPDU);
    expect(next.time).toBe(posted[i]!.time);
    out.push({ phy: posted[i]!.payload, mpdu: next.payload, time: next.time });
  }
  return out;
}

describe('SCAN_REQ_UMAC', () => {
  it('active scan: probes on active channels, beacons and probe responses, SCAN_COMPLETE DONE', () => {
    const air = new FakeAir([AP1, AP2]);
    const r = setup(air);
    const t0 = r.host.queue.now;
    const seq = send(r, CMD.SCAN_REQ_UMAC, GROUP.LONG, scanReqPayload(0x1234, [1, 6, 36, 52], ['simnet']));
    r.host.run(1000 * MS);
    const posted = r.host.take();
    expect(posted[0]).toMatchObject({ cmd: CMD.SCAN_REQ_UMAC, group: GROUP.LONG, seq });
    expect(u32(posted[0]!.payload, 0)).toBe(STATUS_OK);
    const done = posted.at(-1)!;
    expect(done).toMatchObject({ cmd: CMD.SCAN_COMPLETE_UMAC, group: GROUP.LONG, seq: SEQ_UNSOLICITED });
    expect(done.payload.length).toBe(SCAN_COMPLETE.SIZE);
    expect(u32(done.payload, SCAN_COMPLETE.UID)).toBe(0x1234);
    expect(done.payload[SCAN_COMPLETE.STATUS]).toBe(SCAN_STATUS_DONE);
    // Dwell: 30 TU on 1, 6, 36 (active), 110 TU on 52 (DFS, passive).
    expect(done.time - t0).toBeGreaterThan((3 * 30 + 110) * TU);
    expect(done.time - t0).toBeLessThan((3 * 30 + 110) * TU + 2 * MS);

    const rx = frames(posted);
    const heard = rx.map((f) => ({ fc: u16(mpduFrame(f.mpdu), 0), ch: u16(f.phy, RX_PHY.CHANNEL) }));
    // AP1 (channel 6) answers the wildcard probe and the directed probe for "simnet"; AP2 (36) the wildcard one only.
    expect(heard.filter((h) => h.fc === 0x50).map((h) => h.ch)).toEqual([6, 6, 36]);
    for (const f of rx) {
      const ch = u16(f.phy, RX_PHY.CHANNEL);
      const frame = mpduFrame(f.mpdu);
      expect(f.phy.length).toBe(RX_PHY.SIZE);
      expect(u32(f.phy, RX_PHY.BYTE_COUNT)).toBe(frame.length);
      expect(f.mpdu.length).toBe(RX_MPDU.HDR + frame.length + 4);
      expect(u32(f.mpdu, RX_MPDU.FRAME + frame.length)).toBe(RX_MPDU_STATUS_CRC_OK | RX_MPDU_STATUS_OVERRUN_OK);
      const ap = ch === 6 ? AP1 : AP2;
      expect(f.phy[RX_PHY.ENERGY_WORD]).toBe(-ap.signalDbm);
      expect(u16(f.phy, RX_PHY.PHY_FLAGS) & RX_PHY_FLAGS_BAND_24).toBe(ch <= 14 ? RX_PHY_FLAGS_BAND_24 : 0);
      expect(u32(f.phy, RX_PHY.RATE_N_FLAGS)).toBe(ch <= 14 ? RATE_PLCP_1M | RATE_MCS_CCK : RATE_PLCP_6M);
      expect([...frame.subarray(10, 16)]).toEqual([...ap.bssid]);
    }
    // Probe requests on the air, built from the template: on channels 1, 6, 36 (52 is passive) the wildcard probe, then
    // the directed one (bit 0 of each channel entry); SA = our MAC, broadcast DA, the SSID element filled in, the band's rates.
    const tx = r.host.airEvents().filter((e) => e.tx);
    expect(tx.map((e) => e.channel)).toEqual([1, 1, 6, 6, 36, 36]);
    tx.forEach((e, i) => {
      expect(u16(e.data, 0)).toBe(0x0040);
      expect([...e.data.subarray(4, 10)]).toEqual([255, 255, 255, 255, 255, 255]);
      expect([...e.data.subarray(10, 16)]).toEqual([...MAC]);
      expect(new TextDecoder().decode(e.data.subarray(26, 26 + e.data[25]!))).toBe(i % 2 === 0 ? '' : 'simnet');
      const rates = e.data.subarray(26 + e.data[25]!);
      expect([...rates.subarray(0, 3)]).toEqual(e.channel <= 14 ? [1, 8, 0x82] : [1, 8, 0x8c]); // the band segment
      expect(u16(e.data, 22) & 0xf).toBe(0);
    });
    expect(tx.map((e) => e.rate)).toEqual([2, 2, 2, 2, 12, 12]);
    // Every RX frame is traced at its time.
    const rxAir = r.host.airEvents().filter((e) => !e.tx);
    expect(rxAir.map((e) => e.time)).toEqual(rx.map((f) => f.time));
    expect(air.listens.map((l) => [l.channel, l.probe])).toEqual([[1, true], [1, true], [6, true], [6, true], [36, true], [36, true], [52, false]]);
    expect(r.cpu.stats()).toMatchObject({ scans: 1, rxFrames: rx.length });
    expect(r.host.milestones('fw.scan-done')).toEqual([expect.objectContaining({ a: 0x1234, b: rx.length })]);
  });

  it('passive scan hears beacons only, with the request dwell, and ITERATION_COMPLETE when asked', () => {
    const air = new FakeAir([AP1]);
    const r = setup(air);
    send(r, CMD.SCAN_REQ_UMAC, GROUP.LONG, scanReqPayload(7, [6], ['simnet'], (1 << 3) | (1 << 5), 0, 250));
    r.host.run(1000 * MS);
    const posted = r.host.take();
    const rx = frames(posted);
    expect(rx.length).toBeGreaterThanOrEqual(2); // 250 TU covers at least two TBTTs of a 100 TU beacon
    for (const f of rx) expect(u16(mpduFrame(f.mpdu), 0)).toBe(0x0080);
    expect(r.host.airEvents().filter((e) => e.tx)).toEqual([]);
    const [iter, done] = posted.slice(-2);
    expect(iter!.cmd).toBe(CMD.SCAN_ITERATION_COMPLETE_UMAC);
    expect(iter!.payload.length).toBe(SCAN_ITER_COMPLETE_SIZE);
    expect(u32(iter!.payload, 0)).toBe(7);
    expect(done!.cmd).toBe(CMD.SCAN_COMPLETE_UMAC);
  });

  it('no Air: the scan completes with nothing heard', () => {
    const r = setup(null);
    send(r, CMD.SCAN_REQ_UMAC, GROUP.LONG, scanReqPayload(1, [1, 6], []));
    r.host.run(1000 * MS);
    expect(r.host.take().map((p) => p.cmd)).toEqual([CMD.SCAN_REQ_UMAC, CMD.SCAN_COMPLETE_UMAC]);
  });

  it('busy, unconfigured and invalid-channel requests are refused', () => {
    const r = setup();
    send(r, CMD.SCAN_REQ_UMAC, GROUP.LONG, scanReqPayload(1, [1], []));
    send(r, CMD.SCAN_REQ_UMAC, GROUP.LONG, scanReqPayload(2, [1], []));
    send(r, CMD.SCAN_REQ_UMAC, GROUP.LONG, scanReqPayload(3, [14], []));
    r.host.run(1 * MS);
    expect(r.host.take().map((p) => u32(p.payload, 0))).toEqual([STATUS_OK, STATUS_BAD_PARAM, STATUS_BAD_PARAM]);
    expect(r.host.errs.map((e) => e.code)).toEqual(['fw.scan-busy', 'fw.scan-channel']);
    const r2 = rig();
    boot(r2, 'runtime');
    send(r2, CMD.SCAN_REQ_UMAC, GROUP.LONG, scanReqPayload(1, [1], []));
    r2.host.run(1 * MS);
    expect(u32(r2.host.take()[0]!.payload, 0)).toBe(STATUS_BAD_PARAM);
  });

  it('SCAN_ABORT_UMAC ends the scan with ABORTED; without a scan it answers UNSUPPORTED', () => {
    const r = setup();
    send(r, CMD.SCAN_REQ_UMAC, GROUP.LONG, scanReqPayload(5, [1, 6, 11], ['simnet']));
    r.host.run(40 * MS);
    send(r, CMD.SCAN_ABORT_UMAC, GROUP.LONG, new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0]));
    r.host.run(1000 * MS);
    const posted = r.host.take();
    const [abortResp, done] = posted.slice(-2);
    expect(abortResp!.cmd).toBe(CMD.SCAN_ABORT_UMAC);
    expect(u32(abortResp!.payload, 0)).toBe(STATUS_OK);
    expect(done!.cmd).toBe(CMD.SCAN_COMPLETE_UMAC);
    expect(done!.payload[SCAN_COMPLETE.STATUS]).toBe(SCAN_STATUS_ABORTED);
    expect(posted.filter((p) => p.cmd === CMD.SCAN_COMPLETE_UMAC)).toHaveLength(1);
    send(r, CMD.SCAN_ABORT_UMAC, GROUP.LONG, new Uint8Array([5, 0, 0, 0, 0, 0, 0, 0]));
    r.host.run(1 * MS);
    expect(u32(r.host.take()[0]!.payload, 0)).toBe(STATUS_UNSUPPORTED);
  });

  it('refuses a probe template without the empty SSID element (fw.scan-template)', () => {
    const r = setup();
    const p = scanReqPayload(11, [1], ['']);
    p[36 + 8 + 28 + 24] = 0xdd; // mac_header's last element is no longer an empty SSID element
    send(r, CMD.SCAN_REQ_UMAC, GROUP.LONG, p);
    r.host.run(1 * MS);
    expect(u32(r.host.take()[0]!.payload, 0)).toBe(STATUS_BAD_PARAM);
    expect(r.host.errs.map((e) => e.code)).toEqual(['fw.scan-template']);
  });

  it('RF-kill aborts a running scan; a request under RF-kill completes ABORTED', () => {
    const r = setup();
    send(r, CMD.SCAN_REQ_UMAC, GROUP.LONG, scanReqPayload(9, [1, 6, 11], ['simnet']));
    r.host.run(10 * MS);
    r.cpu.rfKill(true);
    r.host.run(1000 * MS);
    const done = r.host.take().filter((p) => p.cmd === CMD.SCAN_COMPLETE_UMAC);
    expect(done.map((p) => p.payload[SCAN_COMPLETE.STATUS])).toEqual([SCAN_STATUS_ABORTED]);
    send(r, CMD.SCAN_REQ_UMAC, GROUP.LONG, scanReqPayload(10, [1], []));
    r.host.run(10 * MS);
    const after = r.host.take();
    expect(after.map((p) => p.cmd)).toEqual([CMD.SCAN_REQ_UMAC, CMD.SCAN_COMPLETE_UMAC]);
    expect(after[1]!.payload[SCAN_COMPLETE.STATUS]).toBe(SCAN_STATUS_ABORTED);
  });
});

describe('capabilities of the running image', () => {
  it('an image without UMAC_SCAN (capability 2) answers the UMAC scan commands with REPLY_ERROR', () => {
    const r = rig({ air: new FakeAir([AP1]) });
    const layout = IMAGE.sections.runtime.map((s) => ({ dest: s.dest, size: s.data.length }));
    const noUmac = [...IMAGE.capabilities].filter((c) => c !== 2);
    boot(r, 'runtime', makeSimfSections('runtime', encodeVer(IMAGE.version), IMAGE.build, layout, noUmac));
    send(r, CMD.SCAN_CFG, GROUP.LONG, scanCfgPayload(MAC, [1, 6]));
    r.host.run(1 * MS);
    const [err] = r.host.take();
    expect(err).toMatchObject({ cmd: CMD.REPLY_ERROR, seq: SEQ_UNSOLICITED });
    expect(r.host.errs.some((g) => /no UMAC scan \(capability 2\)/.test(g.message))).toBe(true);
  });
});
