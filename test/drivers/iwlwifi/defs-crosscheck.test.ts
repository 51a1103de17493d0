/**
 * The iwlwifi driver keeps its own hardware and firmware definitions
 * (src/drivers/iwlwifi/iwl-*.ts, fw/api.ts, fw/file.ts) instead of
 * importing the device model's. This test checks that both sides agree
 * where they must, checks the places where the model may do more than
 * Linux asks (the driver follows Linux there), and
 * that no driver file imports from src/devices.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as csr from '../../../src/drivers/iwlwifi/iwl-csr.js';
import * as fh from '../../../src/drivers/iwlwifi/iwl-fh.js';
import * as prph from '../../../src/drivers/iwlwifi/iwl-prph.js';
import * as api from '../../../src/drivers/iwlwifi/fw/api.js';
import * as file from '../../../src/drivers/iwlwifi/fw/file.js';
import * as regs from '../../../src/devices/iwlwifi/regs.js';
import * as mapi from '../../../src/devices/iwlwifi/fw-api.js';
import * as mfw from '../../../src/devices/iwlwifi/firmware/index.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const u32 = (v: unknown): unknown => (typeof v === 'number' ? v >>> 0 : v);
/** Compares two records key by key (numbers as u32), only the driver's keys. */
function sameFields(driver: Record<string, unknown>, model: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(driver)) {
    expect([k, u32(v)]).toEqual([k, u32(model[k])]);
  }
}

describe('iwlwifi driver definitions vs the device model', () => {
  it('CSR and HBUS (iwl-csr.h)', () => {
    sameFields(csr.CSR, regs.CSR);
    sameFields(csr.HBUS, regs.HBUS);
    sameFields(csr.HW_IF_CONFIG, regs.HW_IF_CONFIG);
    sameFields(csr.GP_CNTRL, regs.GP_CNTRL);
    sameFields(csr.RESET, regs.RESET);
    sameFields(csr.INT, regs.INT);
    sameFields(csr.FH_INT, regs.FH_INT);
    sameFields(csr.GP1, regs.GP1);
    sameFields(csr.ICT, regs.ICT);
    const pairs: [number, number][] = [
      [csr.PRPH_ADDR_MASK, regs.PRPH_ADDR_MASK], [csr.PRPH_DWORD_ACCESS, regs.PRPH_DWORD_ACCESS],
      [csr.HW_REV_TYPE_MASK, regs.HW_REV_TYPE_MASK], [csr.HW_REV_TYPE_7265D, regs.HW_REV_TYPE_7265D],
      [csr.INT_MASK_NORMAL, regs.INT_MASK_NORMAL], [csr.INT_MASK_FW_LOAD, regs.INT_MASK_FW_LOAD],
      [csr.INT_MASK_RF_KILL, regs.INT_MASK_RF_KILL], [csr.FH_INT_RX_MASK, regs.FH_INT_RX_MASK],
      [csr.FH_INT_TX_MASK, regs.FH_INT_TX_MASK], [csr.GIO_L0S_DISABLED, regs.GIO_L0S_DISABLED],
      [csr.MBOX_SET_OS_ALIVE, regs.MBOX_SET_OS_ALIVE], [csr.GIO_CHICKEN_L1A_NO_L0S_RX, regs.GIO_CHICKEN_L1A_NO_L0S_RX],
      [csr.GIO_CHICKEN_DIS_L0S_EXIT_TIMER, regs.GIO_CHICKEN_DIS_L0S_EXIT_TIMER],
      [csr.DBG_LINK_PWR_MGMT_WAKE, regs.DBG_LINK_PWR_MGMT_WAKE], [csr.MAC_SHADOW_REG_CTRL_ALL, regs.MAC_SHADOW_REG_CTRL_ALL],
    ];
    for (const [d, m] of pairs) expect(d >>> 0).toBe(m >>> 0);
    expect(regs.HW_REV_7265D & csr.HW_REV_TYPE_MASK).toBe(csr.HW_REV_TYPE_7265D);
    for (const bits of [0, 0x1, 0x80, 0x8b, 0xff00, 0x8001, 0xffff]) expect(csr.ictToInt(bits)).toBe(regs.ictToInt(bits));
    for (const v of Object.values(csr.INT)) expect(csr.ictToInt(regs.ictEntry(v))).toBe(v >>> 0);
  });

  it('FH registers and DMA structures (iwl-fh.h)', () => {
    sameFields(fh.FH, regs.FH);
    sameFields(fh.TFD, regs.TFD);
    const pairs: [number, number][] = [
      [fh.FH_SRVC_CHNL, regs.FH_SRVC_CHNL], [fh.FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE, regs.FH_MEM_RSSR_RX_STATUS_CHNL0_IDLE],
      [fh.FH_RX_CONFIG_4K, regs.FH_RX_CONFIG_4K], [fh.FH_TX_CONFIG_NORMAL, regs.FH_TX_CONFIG_NORMAL],
      [fh.FH_TX_CONFIG_SRVC_KICK, regs.FH_TX_CONFIG_SRVC_KICK], [fh.FH_TX_BUF_STS_SRVC, regs.FH_TX_BUF_STS_SRVC],
      [fh.FH_TX_CHICKEN_AUTO_RETRY, regs.FH_TX_CHICKEN_AUTO_RETRY], [fh.FH_MEM_TB_MAX_LENGTH, regs.FH_MEM_TB_MAX_LENGTH],
      [fh.TFD_QUEUE_SIZE, regs.TFD_QUEUE_SIZE], [fh.RX_QUEUE_SIZE, regs.RX_QUEUE_SIZE], [fh.RB_SIZE_4K, regs.RB_SIZE_4K],
      [fh.RB_STTS_SIZE, regs.RB_STTS_SIZE], [fh.RX_PKT_LEN_MASK, regs.RX_PKT_LEN_MASK], [fh.RX_END_MARKER, regs.RX_END_MARKER],
      [fh.RX_FRAME_ALIGN, regs.RX_FRAME_ALIGN],
    ];
    for (const [d, m] of pairs) expect(d >>> 0).toBe(m >>> 0);
    for (let q = 0; q < 32; q++) expect(fh.fhTfdRingBaseReg(q)).toBe(regs.fhTfdRingBaseReg(q));
    for (let ch = 0; ch < regs.FH_TCSR_CHANNELS; ch++) expect(regs.fhTxIdleBits(ch) & fh.fhTxIdleBits(ch)).toBe(fh.fhTxIdleBits(ch));
  });

  it('periphery: APMG, LMPM, scheduler (iwl-prph.h, iwl-scd.h)', () => {
    sameFields(prph.APMG, regs.APMG);
    sameFields(prph.SCD, regs.SCD);
    sameFields(prph.SCD_QUEUE_STTS, regs.SCD_QUEUE_STTS);
    sameFields(prph.SCD_SRAM, regs.SCD_SRAM);
    const pairs: [number, number][] = [
      [prph.APMG_CLK_VAL_DMA_CLK_RQT, regs.APMG_CLK_VAL_DMA_CLK_RQT], [prph.APMG_PCIDEV_STT_L1_ACT_DIS, regs.APMG_PCIDEV_STT_L1_ACT_DIS],
      [prph.APMG_RTC_INT_STT_RFKILL, regs.APMG_RTC_INT_STT_RFKILL], [prph.LMPM_CHICK, regs.LMPM_CHICK],
      [prph.LMPM_CHICK_EXTENDED_ADDR_SPACE, regs.LMPM_CHICK_EXTENDED_ADDR_SPACE], [prph.EXTENDED_ADDR_LOW, regs.EXTENDED_ADDR_LOW],
      [prph.EXTENDED_ADDR_HIGH, regs.EXTENDED_ADDR_HIGH], [prph.SCD_GP_CTRL_ENABLE_31_QUEUES, regs.SCD_GP_CTRL_ENABLE_31_QUEUES],
      [prph.SCD_GP_CTRL_AUTO_ACTIVE_MODE, regs.SCD_GP_CTRL_AUTO_ACTIVE_MODE], [prph.SCD_CONTEXT_WIN_SIZE_MASK, regs.SCD_CONTEXT_WIN_SIZE_MASK],
      [prph.SCD_CONTEXT_FRAME_LIMIT_SHIFT, regs.SCD_CONTEXT_FRAME_LIMIT_SHIFT], [prph.SCD_QUEUES, regs.SCD_QUEUES],
    ];
    for (const [d, m] of pairs) expect(d).toBe(m);
  });

  it('firmware command API (fw/api/*.h)', () => {
    sameFields(api.GROUP, mapi.GROUP);
    sameFields(api.CMD, mapi.CMD);
    expect(Object.keys(api.CMD).sort()).toEqual(Object.keys(mapi.CMD).sort());
    for (const id of [...Object.values(mapi.CMD), 0x77]) {
      expect(api.cmdGroup(id)).toBe(mapi.cmdGroup(id));
      for (const g of [0, 1]) expect(api.cmdName(id, g)).toBe(mapi.cmdName(id, g));
    }
    for (const g of [0, 1, 4]) expect(api.cmdHeaderSize(g)).toBe(mapi.cmdHeaderSize(g));
    for (const s of [0, 0x1234, 0x8fff, 0xffff]) {
      expect(api.seqQueue(s)).toBe(mapi.seqQueue(s));
      expect(api.seqIndex(s)).toBe(mapi.seqIndex(s));
    }
    expect(api.seqOf(10, 300)).toBe(mapi.seqOf(10, 300));
    for (const [d, m] of [
      [api.ALIVE_V3, mapi.ALIVE_V3], [api.NVM_ACCESS, mapi.NVM_ACCESS], [api.NVM_ACCESS_RESP, mapi.NVM_ACCESS_RESP],
      [api.NVM_SECTION, mapi.NVM_SECTION], [api.NVM_HW, mapi.NVM_HW], [api.NVM_SW, mapi.NVM_SW], [api.NVM_SKU, mapi.NVM_SKU],
      [api.PHY_CONFIGURATION, mapi.PHY_CONFIGURATION], [api.PHY_DB, mapi.PHY_DB], [api.PHY_DB_TYPE, mapi.PHY_DB_TYPE],
      [api.SCAN_COMPLETE, mapi.SCAN_COMPLETE], [api.RX_PHY, mapi.RX_PHY], [api.SCAN_ABORT_UMAC, mapi.SCAN_ABORT],
      [api.RX_MPDU, mapi.RX_MPDU], [api.FW_CTXT_ACTION, mapi.FW_CTXT_ACTION], [api.BINDING_CONTEXT, mapi.BINDING_CONTEXT],
      [api.ADD_STA, mapi.ADD_STA], [api.TX_STATUS, mapi.TX_STATUS], [api.TXQ, mapi.TXQ], [api.TX_FIFO, mapi.TX_FIFO],
      [api.FW_ERR, mapi.FW_ERR], [api.BT_COEX, mapi.BT_COEX_MODE], [api.UMAC_SCAN_GEN_FLAGS, mapi.SCAN_GEN_FLAGS],
      [api.DEVICE_POWER_FLAGS, mapi.DEVICE_POWER_FLAGS], [api.ADD_STA_V10, mapi.ADD_STA_V10], [api.BINDING_CONTEXT_V2, mapi.BINDING_CONTEXT_V2],
      [api.IWL_STA_TYPE, mapi.STA_TYPE],
    ] as [Record<string, unknown>, Record<string, unknown>][]) sameFields(d, m);
    const pairs: [number, number][] = [
      [api.CMD_HDR_NARROW, mapi.CMD_HDR_NARROW], [api.CMD_HDR_WIDE, mapi.CMD_HDR_WIDE], [api.SEQ_UNSOLICITED, mapi.SEQ_UNSOLICITED],
      [api.RX_PKT_HDR, mapi.RX_PKT_HDR], [api.ALIVE_STATUS_OK, mapi.ALIVE_STATUS_OK], [api.ALIVE_STATUS_ERR, mapi.ALIVE_STATUS_ERR],
      [api.BT_COEX_CMD.SIZE, mapi.BT_CONFIG.SIZE], [api.BT_COEX_CMD.MODE, mapi.BT_CONFIG.MODE], [api.NVM_OP_READ, mapi.NVM_OP_READ],
      [api.ERROR_RESP.SIZE, mapi.REPLY_ERROR.SIZE], [api.ERROR_RESP.CMD_ID, mapi.REPLY_ERROR.CMD_ID],
      [api.ERROR_RESP.BAD_CMD_SEQ_NUM, mapi.REPLY_ERROR.BAD_CMD_SEQ], [api.ERROR_RESP.TIMESTAMP, mapi.REPLY_ERROR.TIMESTAMP],
      [api.SCAN_CONFIG.SIZE, mapi.SCAN_CFG.HDR], [api.SCAN_CONFIG.MAC_ADDR, mapi.SCAN_CFG.MAC], [api.SCAN_CONFIG.CHANNEL_ARRAY, mapi.SCAN_CFG.CHANNELS],
      [api.SCAN_REQ_UMAC.N_CHANNELS, mapi.SCAN_REQ.N_CHANNELS], [api.SCAN_REQ_UMAC.DATA, mapi.SCAN_REQ.CHANNELS],
      [api.SCAN_REQ_UMAC.ACTIVE_DWELL, mapi.SCAN_REQ.ACTIVE_DWELL], [api.SCAN_REQ_UMAC.PASSIVE_DWELL, mapi.SCAN_REQ.PASSIVE_DWELL],
      [api.SCAN_CHANNEL_CFG.SIZE, mapi.SCAN_REQ.CHANNEL_ENTRY], [api.SCAN_CHANNEL_CFG.CHANNEL_NUM, mapi.SCAN_REQ.CH_NUM],
      [api.SCAN_REQ_UMAC_TAIL.SIZE, mapi.SCAN_REQ_TAIL.SIZE], [api.SCAN_REQ_UMAC_TAIL.BUF, mapi.SCAN_REQ_TAIL.PREQ_BUF],
      [api.SCAN_REQ_UMAC_TAIL.DIRECT_SCAN, mapi.SCAN_REQ_TAIL.DIRECT_SCAN], [api.SCAN_REQ_UMAC_TAIL.MAC_HEADER, mapi.SCAN_REQ_TAIL.PREQ_MAC_HEADER],
      [api.PHY_CONTEXT.SIZE, mapi.PHY_CONTEXT.SIZE], [api.PHY_CONTEXT.CI_BAND, mapi.PHY_CONTEXT.BAND], [api.PHY_CONTEXT.CI_CHANNEL, mapi.PHY_CONTEXT.CHANNEL],
      [api.PHY_BAND.B24, mapi.PHY_BAND_24], [api.PHY_BAND.B5, mapi.PHY_BAND_5],
      [api.MAC_CONTEXT.SIZE, mapi.MAC_CONTEXT.SIZE], [api.MAC_CONTEXT.BSSID_ADDR, mapi.MAC_CONTEXT.BSSID],
      [api.MAC_CONTEXT.STA_IS_ASSOC, mapi.MAC_CONTEXT.IS_ASSOC], [api.MAC_CONTEXT.STA_ASSOC_ID, mapi.MAC_CONTEXT.ASSOC_ID],
      [api.TX_CMD.SIZE, mapi.TX_CMD.SIZE], [api.TX_CMD.RATE_N_FLAGS, mapi.TX_CMD.RATE_N_FLAGS], [api.TX_CMD.STA_ID, mapi.TX_CMD.STA_ID],
      [api.TX_CMD.DATA_RETRY_LIMIT, mapi.TX_CMD.DATA_RETRY_LIMIT], [api.TX_RESP.STATUS, mapi.TX_RESP.STATUS],
      [api.TX_RESP.STATUS + api.TX_RESP.AGG_STATUS_SIZE, mapi.TX_RESP.SCD_SSN], [api.SHARED_MEM_CFG_V1_SIZE, mapi.SHARED_MEM_CFG.SIZE],
      [api.DEVICE_POWER_CMD.SIZE, mapi.POWER_TABLE.SIZE], [api.MAC_POWER_CMD.SIZE, mapi.MAC_PM_POWER_TABLE.SIZE], [api.LQ_CMD.SIZE, mapi.LQ.SIZE],
      [api.NVM_OP_WRITE, mapi.NVM_OP_WRITE], [api.NVM_CHUNK_SIZE, mapi.NVM_CHUNK_SIZE], [api.NVM_READ_OK, mapi.NVM_READ_OK],
      [api.NVM_READ_BAD_SECTION, mapi.NVM_READ_BAD_SECTION], [api.NVM_CHANNEL_VALID, mapi.NVM_CHANNEL_VALID],
      [api.NVM_CHANNEL_ACTIVE, mapi.NVM_CHANNEL_ACTIVE], [api.TX_ANT_CONFIG_SIZE, mapi.TX_ANT_CONFIG_SIZE],
      [api.SCAN_STATUS_DONE, mapi.SCAN_STATUS_DONE],
      [api.SCAN_STATUS_ABORTED, mapi.SCAN_STATUS_ABORTED], [api.RX_PHY_FLAGS_BAND_24, mapi.RX_PHY_FLAGS_BAND_24],
      [api.RX_MPDU_STATUS_CRC_OK, mapi.RX_MPDU_STATUS_CRC_OK], [api.RX_MPDU_STATUS_OVERRUN_OK, mapi.RX_MPDU_STATUS_OVERRUN_OK],
      [api.RATE_MCS_CCK, mapi.RATE_MCS_CCK], [api.RATE_PLCP_1M, mapi.RATE_PLCP_1M], [api.RATE_PLCP_6M, mapi.RATE_PLCP_6M],
      [api.FW_CTXT_INVALID, mapi.FW_CTXT_INVALID], [api.MAC_TYPE_BSS_STA, mapi.MAC_TYPE_BSS_STA],
      [api.ADD_STA_SUCCESS, mapi.ADD_STA_SUCCESS], [api.REMOVE_STA_SIZE, mapi.REMOVE_STA_SIZE],
      [api.TX_CMD_FLG_ACK, mapi.TX_CMD_FLG_ACK], [api.STA_ID_AP, mapi.STA_ID_AP], [api.STA_ID_AUX, mapi.STA_ID_AUX],
      [api.LMAC_INDEX.B24, mapi.LMAC_24G_INDEX], [api.LMAC_INDEX.B5, mapi.LMAC_5G_INDEX],
      [api.SCAN_REQ_UMAC_V7.ACTIVE_DWELL, mapi.SCAN_REQ_V7.ACTIVE_DWELL], [api.SCAN_REQ_UMAC_V7.PASSIVE_DWELL, mapi.SCAN_REQ_V7.PASSIVE_DWELL],
      [api.SCAN_REQ_UMAC_V7.ADWELL_DEFAULT_N_APS, mapi.SCAN_REQ_V7.ADWELL_DEFAULT_N_APS],
      [api.SCAN_REQ_UMAC_V7.ADWELL_DEFAULT_N_APS_SOCIAL, mapi.SCAN_REQ_V7.ADWELL_DEFAULT_N_APS_SOCIAL],
      [api.SCAN_REQ_UMAC_V7.N_CHANNELS, mapi.SCAN_REQ_V7.N_CHANNELS], [api.SCAN_REQ_UMAC_V7.DATA, mapi.SCAN_REQ_V7.CHANNELS],
    ];
    for (const [d, m] of pairs) expect(d).toBe(m);
    expect(api.NVM_CHANNELS).toEqual(mapi.NVM_CHANNELS);
    expect(api.idAndColor(3, 7)).toBe(mapi.idAndColor(3, 7));
  });

  it('firmware file format (fw/file.h) and the parser agree with the model\'s writer', () => {
    sameFields(file.TLV, mfw.TLV);
    sameFields(file.CAPA, mfw.CAPA);
    sameFields(file.API, mfw.API);
    sameFields(file.UCODE_TYPE, mfw.UCODE_TYPE);
    sameFields(file.PHY_CFG, mfw.PHY_CFG);
    const pairs: [number, number][] = [
      [file.HEADER_SIZE, mfw.HEADER_SIZE], [file.TLV_HEADER_SIZE, mfw.TLV_HEADER_SIZE], [file.TLV_UCODE_MAGIC, mfw.TLV_UCODE_MAGIC],
      [file.LEGACY_INST_DEST, mfw.LEGACY_INST_DEST], [file.LEGACY_DATA_DEST, mfw.LEGACY_DATA_DEST],
      [file.MAX_SECTIONS_PER_IMAGE, mfw.MAX_SECTIONS_PER_IMAGE], [file.MAX_CAPA_INDEX, mfw.MAX_CAPA_INDEX],
      [file.UCODE_TYPE_MAX, mfw.UCODE_TYPE_MAX], [file.DEFAULT_N_SCAN_CHANNELS, mfw.DEFAULT_N_SCAN_CHANNELS],
      [file.CPU1_CPU2_SEPARATOR_SECTION, mfw.CPU1_CPU2_SEPARATOR_SECTION], [file.PAGING_SEPARATOR_SECTION, mfw.PAGING_SEPARATOR_SECTION],
      [file.IWL7265D_API_MIN, mfw.IWL7265D_API_MIN], [file.IWL7265D_API_MAX, mfw.IWL7265D_API_MAX],
    ];
    for (const [d, m] of pairs) expect(d).toBe(m);
    for (const sku of [0, 0x00120000, 0x003a0005, 0xffffffff]) {
      expect(file.phyTxChains(sku)).toBe(mfw.phyTxChains(sku));
      expect(file.phyRxChains(sku)).toBe(mfw.phyRxChains(sku));
    }
    for (const t of [1, 19, 48, 99]) expect(file.tlvName(t)).toBe(mfw.tlvName(t));
    const fixture = new Uint8Array(readFileSync(join(ROOT, 'fixtures/firmware/iwlwifi-7265D-29.ucode')));
    const opts = { fileName: 'iwlwifi-7265D-29.ucode' };
    expect(file.parseFirmware(fixture, opts)).toStrictEqual(mfw.parseFirmware(fixture, opts));
  });

  it('the driver\'s parser refuses damaged files with the model parser\'s messages', () => {
    const fixture = new Uint8Array(readFileSync(join(ROOT, 'fixtures/firmware/iwlwifi-7265D-29.ucode')));
    const outcome = (parse: () => unknown): string => {
      try { parse(); return 'accepted'; } catch (e) { return `${(e as Error).name}: ${(e as Error).message}`; }
    };
    const damaged: Uint8Array[] = [fixture.subarray(0, 40), fixture.subarray(0, fixture.length - 3), fixture.subarray(0, 200)];
    for (const [at, v] of [[0, 1], [4, 0], [73, 40], [92, 0xff], [88, 22]] as [number, number][]) {
      const b = fixture.slice();
      b[at] = v;
      damaged.push(b);
    }
    for (const b of damaged) {
      const opts = { fileName: 'x.ucode' };
      expect(outcome(() => file.parseFirmware(b, opts))).toBe(outcome(() => mfw.parseFirmware(b, opts)));
    }
    expect(outcome(() => file.parseFirmware(fixture.subarray(0, 40), { fileName: 'x' }))).toMatch(/^FirmwareFormatError/);
  });
});

describe('where the model does more than Linux waits for', () => {
  it('TX channel idle: the driver waits only for NO_PEND_REQ (16 + ch), as Linux; the model sets it (and BUFS_EMPTY, 24 + ch)', () => {
    expect(fh.fhTxIdleBits(1)).toBe(0x00020000);
    expect(fh.fhTxIdleBits(1)).toBe(fh.fhTxIdleBitsLinux(1));
    expect(regs.fhTxIdleBits(1) & fh.fhTxIdleBits(1)).toBe(fh.fhTxIdleBits(1));
  });
});

describe('FH RX ack mask (CSR_FH_INT_RX_MASK)', () => {
  it('is 0x40030000 on both sides: bit 31, the FH error, is never acked with RX', () => {
    expect(csr.FH_INT_RX_MASK).toBe(0x40030000);
    expect(regs.FH_INT_RX_MASK).toBe(0x40030000);
    expect(csr.FH_INT_RX_MASK & csr.FH_INT.ERR).toBe(0);
  });
});

describe('layering', () => {
  it('no file under src/drivers/iwlwifi imports from src/devices', () => {
    const dir = join(ROOT, 'src/drivers/iwlwifi');
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.(ts|js|mjs)$/.test(n)) files.push(p);
      }
    };
    walk(dir);
    expect(files.length).toBeGreaterThan(10);
    const devices = join(ROOT, 'src/devices');
    const offenders: string[] = [];
    const specifier = /(?:\bimport\b|\bexport\b)[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\bimport\s+['"]([^'"]+)['"]/g;
    for (const f of files) {
      const src = readFileSync(f, 'utf8');
      for (const m of src.matchAll(specifier)) {
        const spec = m[1] ?? m[2] ?? m[3] ?? '';
        const target = spec.startsWith('.') ? resolve(dirname(f), spec) : spec;
        if (target === devices || target.startsWith(devices + '/') || /(^|\/)devices\//.test(spec) && !spec.startsWith('.')) {
          offenders.push(`${relative(ROOT, f)}: ${spec}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
