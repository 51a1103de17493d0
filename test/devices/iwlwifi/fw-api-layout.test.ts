/**
 * The device model's firmware API constants against Linux's fw/api/*.h
 * layouts for 7265D firmware API 22-29, as literal numbers: a change to a
 * size or an offset here is a change of the firmware interface.
 */
import { describe, expect, it } from 'vitest';
import * as m from '../../../src/devices/iwlwifi/fw-api.js';

describe('model firmware API: sizes and offsets (Linux fw/api/*.h)', () => {
  it('INIT flow and errors', () => {
    expect(m.REPLY_ERROR).toEqual({ SIZE: 20, ERROR_TYPE: 0, CMD_ID: 4, BAD_CMD_SEQ: 6, ERROR_SERVICE: 8, TIMESTAMP: 12 });
    expect(m.FW_ERR).toEqual({ UNKNOWN_CMD: 0, INVALID_CMD_PARAM: 1, SERVICE: 2 });
    expect(m.BT_CONFIG).toEqual({ SIZE: 8, MODE: 0, ENABLED_MODULES: 4 });
    expect(m.BT_COEX_MODE).toEqual({ DISABLE: 0, NW: 1, BT: 2, WIFI: 3 });
    expect(m.PHY_CONFIGURATION).toEqual({ SIZE: 12, PHY_CFG: 0, FLOW_TRIGGER: 4, EVENT_TRIGGER: 8 });
    expect(m.TX_ANT_CONFIG_SIZE).toBe(4);
    expect(m.NVM_ACCESS).toEqual({ SIZE: 8, OP: 0, TARGET: 1, TYPE: 2, OFFSET: 4, LENGTH: 6 });
    expect(m.PHY_DB).toEqual({ HDR: 4, TYPE: 0, LENGTH: 2, DATA: 4 });
    expect(m.ALIVE_V3.SIZE).toBe(68);
    expect(m.SHARED_MEM_CFG.SIZE).toBe(68);
    expect([m.SHARED_MEM_CFG.TXFIFO_SIZE, m.SHARED_MEM_CFG.RXFIFO_SIZE, m.SHARED_MEM_CFG.PAGE_BUFF_SIZE]).toEqual([20, 52, 64]);
  });

  it('contexts and stations', () => {
    expect([m.PHY_CONTEXT.SIZE, m.PHY_CONTEXT.BAND, m.PHY_CONTEXT.CHANNEL, m.PHY_CONTEXT.TXCHAIN, m.PHY_CONTEXT.RXCHAIN, m.PHY_CONTEXT.DSP_CFG_FLAGS])
      .toEqual([36, 16, 17, 20, 24, 32]);
    expect([m.PHY_BAND_24, m.PHY_BAND_5]).toEqual([1, 0]);
    expect([m.MAC_CONTEXT.SIZE, m.MAC_CONTEXT.NODE_ADDR, m.MAC_CONTEXT.BSSID, m.MAC_CONTEXT.FILTER_FLAGS, m.MAC_CONTEXT.AC, m.MAC_CONTEXT.IS_ASSOC,
      m.MAC_CONTEXT.BI, m.MAC_CONTEXT.ASSOC_ID]).toEqual([148, 16, 24, 52, 60, 100, 116, 136]);
    expect(m.BINDING_CONTEXT).toEqual({ SIZE: 24, ID_AND_COLOR: 0, ACTION: 4, MACS: 8, PHY: 20 });
    expect([m.ADD_STA.SIZE, m.ADD_STA.MAC_ID_N_COLOR, m.ADD_STA.ADDR, m.ADD_STA.STA_ID, m.ADD_STA.STATION_FLAGS, m.ADD_STA.ASSOC_ID,
      m.ADD_STA.TFD_QUEUE_MSK]).toEqual([44, 4, 8, 16, 20, 36, 40]);
    expect(m.REMOVE_STA_SIZE).toBe(4);
    // Versions chosen by TLV: BINDING_CMD_API_S_VER_2 (lmac_id) and ADD_STA_CMD_API_S_VER_10 (station_type).
    expect(m.BINDING_CONTEXT_V2).toEqual({ SIZE: 28, LMAC_ID: 24 });
    expect([m.LMAC_24G_INDEX, m.LMAC_5G_INDEX]).toEqual([0, 1]);
    expect(m.ADD_STA_V10).toEqual({ SIZE: 48, SLEEP_STATE_FLAGS: 34, STATION_TYPE: 35, RX_BA_WINDOW: 44, SP_LENGTH: 46, UAPSD_ACS: 47 });
    expect(m.STA_TYPE).toEqual({ LINK: 0, GENERAL_PURPOSE: 1, MULTICAST: 2, TDLS_LINK: 3, AUX_ACTIVITY: 4 });
  });

  it('TX command and response', () => {
    expect([m.TX_CMD.SIZE, m.TX_CMD.TX_FLAGS, m.TX_CMD.RATE_N_FLAGS, m.TX_CMD.STA_ID, m.TX_CMD.KEY, m.TX_CMD.LIFE_TIME, m.TX_CMD.RTS_RETRY_LIMIT,
      m.TX_CMD.DATA_RETRY_LIMIT, m.TX_CMD.PM_FRAME_TIMEOUT]).toEqual([56, 4, 12, 16, 20, 40, 49, 50, 52]);
    expect([m.TX_RESP.SIZE, m.TX_RESP.INITIAL_RATE, m.TX_RESP.MEDIA_TIME, m.TX_RESP.TFD_INFO, m.TX_RESP.SEQ_CTL, m.TX_RESP.BYTE_CNT,
      m.TX_RESP.RA_TID, m.TX_RESP.FRAME_CTRL, m.TX_RESP.STATUS, m.TX_RESP.SEQUENCE, m.TX_RESP.SCD_SSN]).toEqual([44, 4, 8, 24, 28, 30, 33, 34, 36, 38, 40]);
    expect(m.TX_STATUS).toEqual({ SUCCESS: 0x01, FAIL_LONG_LIMIT: 0x83, FAIL_DEST_PS: 0x88, FAIL_STA_INVALID: 0x8b });
  });

  it('scan', () => {
    expect([m.SCAN_CFG.HDR, m.SCAN_CFG.LEGACY_RATES, m.SCAN_CFG.DWELL_ACTIVE, m.SCAN_CFG.MAC, m.SCAN_CFG.BCAST_STA_ID, m.SCAN_CFG.CHANNELS])
      .toEqual([36, 12, 24, 28, 34, 36]);
    expect([m.SCAN_REQ.GENERAL_FLAGS, m.SCAN_REQ.ACTIVE_DWELL, m.SCAN_REQ.PASSIVE_DWELL, m.SCAN_REQ.SCAN_PRIORITY, m.SCAN_REQ.N_CHANNELS,
      m.SCAN_REQ.CHANNELS, m.SCAN_REQ.CHANNEL_ENTRY]).toEqual([12, 17, 18, 28, 33, 36, 8]);
    expect(m.SCAN_REQ_TAIL).toMatchObject({ SIZE: 1220, PREQ_MAC_HEADER: 12, PREQ_BUF: 28, PREQ_BUF_SIZE: 512, DIRECT_SCAN: 540, SSID_ENTRY: 34, PROBE_OPTION_MAX: 20 });
    expect(m.SCAN_REQ_TAIL.DIRECT_SCAN + 20 * 34).toBe(m.SCAN_REQ_TAIL.SIZE);
    // SCAN_REQUEST_CMD_UMAC_API_S_VER_7 (ADAPTIVE_DWELL).
    expect(m.SCAN_REQ_V7).toEqual({
      ACTIVE_DWELL: 16, PASSIVE_DWELL: 17, FRAGMENTED_DWELL: 18, ADWELL_DEFAULT_N_APS: 19, ADWELL_DEFAULT_N_APS_SOCIAL: 20,
      ADWELL_MAX_BUDGET: 22, MAX_OUT_TIME: 24, SUSPEND_TIME: 32, SCAN_PRIORITY: 40, CHANNEL_FLAGS: 44, N_CHANNELS: 45, CHANNELS: 48,
    });
    expect(m.SCAN_GEN_FLAGS.ADAPTIVE_DWELL).toBe(1 << 13);
    expect([m.SCAN_GEN_FLAGS.PASSIVE, m.SCAN_GEN_FLAGS.ITER_COMPLETE]).toEqual([8, 32]);
    expect(m.SCAN_ABORT).toEqual({ SIZE: 8, UID: 0, FLAGS: 4 });
    expect(m.SCAN_COMPLETE.SIZE).toBe(16);
    expect(m.SCAN_ITER_COMPLETE_SIZE).toBe(16);
  });

  it('notifications and responses', () => {
    expect([m.ALIVE_V3.SIZE, m.ALIVE_V3.STATUS, m.ALIVE_V3.LMAC_MAJOR, m.ALIVE_V3.ERROR_EVENT_TABLE_PTR, m.ALIVE_V3.SCD_BASE_PTR, m.ALIVE_V3.UMAC_MAJOR])
      .toEqual([68, 0, 4, 20, 40, 52]);
    expect(m.NVM_ACCESS_RESP).toEqual({ HDR: 8, OFFSET: 0, LENGTH: 2, TYPE: 4, STATUS: 6, DATA: 8 });
    expect([m.RX_PHY.SIZE, m.RX_PHY.PHY_FLAGS, m.RX_PHY.CHANNEL, m.RX_PHY.NON_CFG_PHY, m.RX_PHY.ENERGY_WORD, m.RX_PHY.RATE_N_FLAGS, m.RX_PHY.BYTE_COUNT,
      m.RX_PHY.FRAME_TIME]).toEqual([68, 20, 22, 24, 28, 56, 60, 66]);
    expect(m.RX_MPDU).toEqual({ HDR: 4, BYTE_COUNT: 0, ASSIST: 2, FRAME: 4 });
    expect(m.SCAN_COMPLETE).toEqual({ SIZE: 16, UID: 0, LAST_SCHEDULE: 4, LAST_ITER: 5, STATUS: 6, EBS_STATUS: 7, TIME: 8 });
    expect([m.INIT_COMPLETE_SIZE, m.CMD_HDR_NARROW, m.CMD_HDR_WIDE, m.RX_PKT_HDR]).toEqual([4, 4, 8, 8]);
  });

  it('runtime configuration', () => {
    expect([m.POWER_TABLE.SIZE, m.MAC_PM_POWER_TABLE.SIZE, m.LQ.SIZE, m.SF_CFG.SIZE, m.TIME_EVENT.SIZE, m.TIME_EVENT_RESP.SIZE, m.TIME_EVENT_NOTIF.SIZE])
      .toEqual([4, 40, 88, 92, 36, 16, 24]);
    expect([m.LQ.RS_TABLE, m.LQ.SS_PARAMS, m.TIME_EVENT.DURATION, m.SF_CFG.FULL_ON_TIMEOUTS]).toEqual([20, 84, 28, 52]);
    expect([m.CMD.SHARED_MEM_CFG, m.CMD.POWER_TABLE, m.CMD.MAC_PM_POWER_TABLE, m.CMD.TIME_EVENT, m.CMD.TIME_EVENT_NOTIFICATION, m.CMD.LQ, m.CMD.SF_CFG])
      .toEqual([0x8c, 0x77, 0xa9, 0x29, 0x2a, 0x4e, 0xd1]);
  });
});
