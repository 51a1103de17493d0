/** INIT flow: NVM reads, PHY configuration and calibration; command errors; the runtime PHY DB rule. */
import { describe, expect, it } from 'vitest';
import {
  CMD, GROUP, INIT_COMPLETE_SIZE, NVM_ACCESS_RESP, NVM_CHANNELS, NVM_CHANNEL_ACTIVE, NVM_CHANNEL_VALID, NVM_HW,
  NVM_READ_BAD_SECTION, NVM_READ_OK, NVM_SECTION, NVM_SKU, NVM_SW, PHY_CONFIGURATION, PHY_DB, PHY_DB_TYPE, REPLY_ERROR,
  SEQ_UNSOLICITED, STATUS_BAD_PARAM, STATUS_OK, TX_ANT_CONFIG_SIZE,
} from '../../../../src/devices/iwlwifi/fw-api.js';
import { NVM_SIZES } from '../../../../src/devices/iwlwifi/fw/index.js';
import { MAC, MS, US, boot, le, rig, send, u16, u32, type Rig } from './helpers.js';

const nvmReq = (type: number, offset: number, length: number) => le([0, 1], [0, 1], [type, 2], [offset, 2], [length, 2]);

function readSection(r: Rig, type: number, chunk: number): { data: Uint8Array; reads: number } {
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (let reads = 1; reads < 100; reads++) {
    const seq = send(r, CMD.NVM_ACCESS, 0, nvmReq(type, offset, chunk));
    r.host.run(1 * MS);
    const [resp, ...more] = r.host.take();
    expect(more).toEqual([]);
    expect(resp).toMatchObject({ cmd: CMD.NVM_ACCESS, group: 0, seq });
    const p = resp!.payload;
    expect(u16(p, NVM_ACCESS_RESP.STATUS)).toBe(NVM_READ_OK);
    expect(u16(p, NVM_ACCESS_RESP.OFFSET)).toBe(offset);
    expect(u16(p, NVM_ACCESS_RESP.TYPE)).toBe(type);
    const len = u16(p, NVM_ACCESS_RESP.LENGTH);
    expect(p.length).toBe(NVM_ACCESS_RESP.HDR + len);
    parts.push(p.slice(NVM_ACCESS_RESP.DATA));
    offset += len;
    if (len < chunk) {
      const data = new Uint8Array(offset);
      let o = 0;
      for (const x of parts) { data.set(x, o); o += x.length; }
      return { data, reads };
    }
  }
  throw new Error('NVM read did not end');
}

describe('NVM_ACCESS', () => {
  it('serves the HW section with the MAC, in chunks, ending with a short read', () => {
    const r = rig();
    boot(r);
    const { data, reads } = readSection(r, NVM_SECTION.HW, 0x100);
    expect(data.length).toBe(NVM_HW.SIZE);
    expect(reads).toBe(NVM_HW.SIZE / 0x100 + 1); // the last read returns 0 bytes
    // 7000 family: word 0x15 (byte 0x2a), each 16-bit word byte-swapped ("214365").
    expect([...data.subarray(0x2a, 0x30)]).toEqual([MAC[1], MAC[0], MAC[3], MAC[2], MAC[5], MAC[4]]);
    expect(readSection(r, NVM_SECTION.HW, 0x180).data).toEqual(data);
  });

  it('SW section: version, SKU, channel flags', () => {
    const sku = NVM_SKU.BAND_24 | NVM_SKU.N;
    const r = rig({ sku });
    boot(r);
    const { data } = readSection(r, NVM_SECTION.SW, 2048);
    expect(data.length).toBe(NVM_SIZES.SW);
    // Words 0-3: version, radio config, SKU, number of MAC addresses; channel flags from word 0x20 (byte 0x40).
    expect(u16(data, 0)).not.toBe(0);
    expect(u16(data, 2)).toBe(0x3312); // dash 2, type 1, TX antennas A+B (11:8), RX antennas A+B (15:12)
    expect(u16(data, 4)).toBe(sku);
    expect(u16(data, 6)).toBe(1);
    expect([NVM_SW.VERSION, NVM_SW.RADIO_CFG, NVM_SW.SKU, NVM_SW.N_HW_ADDRS, NVM_SW.CHANNELS]).toEqual([0, 2, 4, 6, 0x40]);
    const flags = (ch: number) => u16(data, 0x40 + 2 * NVM_CHANNELS.indexOf(ch));
    expect(flags(1)).toBe(NVM_CHANNEL_VALID | NVM_CHANNEL_ACTIVE | 0x2 | 0x100); // + IBSS, 20 MHz
    expect(flags(13)).toBe(NVM_CHANNEL_VALID | 0x100);
    expect([...data.subarray(0x20, 0x40)].every((x) => x === 0)).toBe(true); // nothing at the old byte 0x20
    expect(flags(14)).toBe(0);
    expect(flags(36)).toBe(0); // no 5 GHz in this SKU
  });

  it('CALIBRATION and PRODUCTION: some hundreds of deterministic bytes', () => {
    const a = rig();
    boot(a);
    const cal = readSection(a, NVM_SECTION.CALIBRATION, 2048).data;
    const prod = readSection(a, NVM_SECTION.PRODUCTION, 2048).data;
    expect(cal.length).toBeGreaterThan(200);
    expect(prod.length).toBeGreaterThan(200);
    const b = rig({ seed: 99 });
    boot(b);
    expect(readSection(b, NVM_SECTION.CALIBRATION, 2048).data).toEqual(cal);
  });

  it('unknown section: NVM_READ_BAD_SECTION; past the end: 0 bytes', () => {
    const r = rig();
    boot(r);
    send(r, CMD.NVM_ACCESS, 0, nvmReq(9, 0, 64));
    send(r, CMD.NVM_ACCESS, 0, nvmReq(NVM_SECTION.HW, 0x1000, 64));
    r.host.run(1 * MS);
    const [bad, end] = r.host.take();
    expect(u16(bad!.payload, NVM_ACCESS_RESP.STATUS)).toBe(NVM_READ_BAD_SECTION);
    expect(u16(bad!.payload, NVM_ACCESS_RESP.LENGTH)).toBe(0);
    expect(u16(end!.payload, NVM_ACCESS_RESP.STATUS)).toBe(NVM_READ_OK);
    expect(u16(end!.payload, NVM_ACCESS_RESP.LENGTH)).toBe(0);
  });
});

describe('INIT flow', () => {
  it('BT_CONFIG, NVM, TX_ANT_CONFIG, PHY_CONFIGURATION -> responses, CALIB_RES x4, INIT_COMPLETE within 2 s', () => {
    const r = rig();
    boot(r);
    const t0 = r.host.queue.now;
    const seqs = [
      send(r, CMD.BT_CONFIG, 0, le([3, 4], [0, 4])),
      send(r, CMD.NVM_ACCESS, 0, nvmReq(NVM_SECTION.HW, 0, 2048)),
      send(r, CMD.TX_ANT_CONFIG, 0, le([3, 4])),
      send(r, CMD.PHY_CONFIGURATION, 0, new Uint8Array(PHY_CONFIGURATION.SIZE)),
    ];
    r.host.run(2000 * MS);
    const posted = r.host.take();
    expect(posted.map((p) => [p.cmd, p.seq])).toEqual([
      [CMD.BT_CONFIG, seqs[0]], [CMD.NVM_ACCESS, seqs[1]], [CMD.TX_ANT_CONFIG, seqs[2]], [CMD.PHY_CONFIGURATION, seqs[3]],
      [CMD.CALIB_RES_NOTIF_PHY_DB, SEQ_UNSOLICITED], [CMD.CALIB_RES_NOTIF_PHY_DB, SEQ_UNSOLICITED],
      [CMD.CALIB_RES_NOTIF_PHY_DB, SEQ_UNSOLICITED], [CMD.CALIB_RES_NOTIF_PHY_DB, SEQ_UNSOLICITED],
      [CMD.INIT_COMPLETE, SEQ_UNSOLICITED],
    ]);
    for (const i of [0, 2, 3]) expect(u32(posted[i]!.payload, 0)).toBe(STATUS_OK);
    const calib = posted.slice(4, 8).map((p) => ({ type: u16(p.payload, PHY_DB.TYPE), len: u16(p.payload, PHY_DB.LENGTH), size: p.payload.length }));
    expect(calib.map((c) => c.type)).toEqual([PHY_DB_TYPE.CFG, PHY_DB_TYPE.CALIB_NCH, PHY_DB_TYPE.CALIB_CHG_PAPD, PHY_DB_TYPE.CALIB_CHG_TXP]);
    for (const c of calib) expect(c.size).toBe(PHY_DB.HDR + c.len);
    const done = posted[8]!;
    expect(done.payload).toEqual(new Uint8Array(INIT_COMPLETE_SIZE));
    expect(done.time - t0).toBeLessThan(200 * MS);
    for (let i = 1; i < posted.length; i++) expect(posted[i]!.time).toBeGreaterThanOrEqual(posted[i - 1]!.time);
    expect(r.host.milestones('fw.calib')).toHaveLength(4);
    expect(r.host.milestones('fw.init-complete')).toHaveLength(1);
    expect(r.host.errs).toEqual([]);
  });
});

describe('command errors', () => {
  it('unknown command and wrong-image command: a 20-byte REPLY_ERROR notification (iwl_error_resp), no response, guestErr', () => {
    const r = rig();
    boot(r);
    const s1 = send(r, 0x7e, 0, new Uint8Array(4));
    const s2 = send(r, CMD.ADD_STA, 0, new Uint8Array(44));
    r.host.run(1 * MS);
    const posted = r.host.take();
    expect(posted.map((p) => [p.cmd, p.seq])).toEqual([[CMD.REPLY_ERROR, SEQ_UNSOLICITED], [CMD.REPLY_ERROR, SEQ_UNSOLICITED]]);
    const [e1, e2] = posted;
    expect(e1!.payload.length).toBe(20);
    expect(u32(e1!.payload, 0)).toBe(0); // error_type FW_ERR_UNKNOWN_CMD
    expect(e1!.payload[4]).toBe(0x7e); // cmd_id
    expect(u16(e1!.payload, 6)).toBe(s1); // bad_cmd_seq_num
    expect(u32(e1!.payload, 8)).toBe(0); // error_service
    const ts = u32(e1!.payload, 12) + u32(e1!.payload, 16) * 2 ** 32;
    expect(ts).toBe(Math.floor(e1!.time / US));
    expect(e2!.payload[4]).toBe(CMD.ADD_STA);
    expect(u16(e2!.payload, 6)).toBe(s2);
    expect([REPLY_ERROR.SIZE, REPLY_ERROR.CMD_ID, REPLY_ERROR.BAD_CMD_SEQ, REPLY_ERROR.ERROR_SERVICE, REPLY_ERROR.TIMESTAMP]).toEqual([20, 4, 6, 8, 12]);
    expect(r.host.errs.map((e) => e.code)).toEqual(['fw.reply-error', 'fw.reply-error']);
  });

  it('a short payload gets STATUS_BAD_PARAM + guestErr', () => {
    const r = rig();
    boot(r);
    const seq = send(r, CMD.TX_ANT_CONFIG, 0, new Uint8Array(TX_ANT_CONFIG_SIZE - 1));
    r.host.run(1 * MS);
    const [resp] = r.host.take();
    expect(resp).toMatchObject({ cmd: CMD.TX_ANT_CONFIG, seq });
    expect(u32(resp!.payload, 0)).toBe(STATUS_BAD_PARAM);
    expect(r.host.errs.map((e) => e.code)).toEqual(['fw.cmd-short']);
  });

  it('a scan command in the wrong group: REPLY_ERROR', () => {
    const r = rig();
    boot(r, 'runtime');
    send(r, CMD.SCAN_ABORT_UMAC, GROUP.LEGACY, new Uint8Array(4));
    r.host.run(1 * MS);
    expect(r.host.take().map((p) => p.cmd)).toEqual([CMD.REPLY_ERROR]);
  });
});

describe('runtime PHY DB', () => {
  const phyDb = (type: number, len: number) => { const b = new Uint8Array(PHY_DB.HDR + len); b[0] = type; b[2] = len; return b; };
  it('PHY_CONFIGURATION is refused until PHY_DB CFG was sent', () => {
    const r = rig();
    boot(r, 'runtime');
    send(r, CMD.PHY_CONFIGURATION, 0, new Uint8Array(PHY_CONFIGURATION.SIZE));
    send(r, CMD.PHY_DB, 0, phyDb(PHY_DB_TYPE.CFG, 64));
    send(r, CMD.PHY_DB, 0, phyDb(PHY_DB_TYPE.CALIB_NCH, 128));
    send(r, CMD.PHY_CONFIGURATION, 0, new Uint8Array(PHY_CONFIGURATION.SIZE));
    r.host.run(100 * MS);
    const posted = r.host.take();
    expect(posted.map((p) => [p.cmd, u32(p.payload, 0)])).toEqual([
      [CMD.PHY_CONFIGURATION, STATUS_BAD_PARAM], [CMD.PHY_DB, STATUS_OK], [CMD.PHY_DB, STATUS_OK], [CMD.PHY_CONFIGURATION, STATUS_OK],
    ]);
    expect(r.host.errs.map((e) => e.code)).toEqual(['fw.phy-db-missing']);
  });
});
