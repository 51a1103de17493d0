/**
 * The driver's own firmware API constants against Linux's fw/api/*.h
 * layouts for 7265D firmware API 22-29, as literal numbers (kept apart from
 * the model's test on purpose: each side is checked against Linux, not
 * against the other).
 */
import { describe, expect, it } from 'vitest';
import * as a from '../../../src/drivers/iwlwifi/fw/api.js';

describe('driver firmware API: sizes and offsets (Linux fw/api/*.h)', () => {
  it('INIT flow, errors and NVM', () => {
    expect(a.ERROR_RESP).toEqual({ SIZE: 20, ERROR_TYPE: 0, CMD_ID: 4, BAD_CMD_SEQ_NUM: 6, ERROR_SERVICE: 8, TIMESTAMP: 12 });
    expect(a.BT_COEX_CMD).toEqual({ SIZE: 8, MODE: 0, ENABLED_MODULES: 4 });
    expect(a.BT_COEX).toEqual({ DISABLE: 0, NW: 1, BT: 2, WIFI: 3 });
    expect(a.PHY_CONFIGURATION).toEqual({ SIZE: 12, PHY_CFG: 0, FLOW_TRIGGER: 4, EVENT_TRIGGER: 8 });
    expect(a.NVM_HW.HW_ADDR).toBe(0x15 * 2);
    expect(a.NVM_SW).toEqual({ VERSION: 0, RADIO_CFG: 2, SKU: 4, N_HW_ADDRS: 6, CHANNELS: (0x1e0 - 0x1c0) * 2 });
    expect([a.nvmRfCfgTxAnt(0x3312), a.nvmRfCfgRxAnt(0x3312)]).toEqual([3, 3]);
    expect(a.SHARED_MEM_CFG_V1_SIZE).toBe(68);
  });

  it('contexts, stations, power, link quality', () => {
    expect([a.PHY_CONTEXT.SIZE, a.PHY_CONTEXT.CI_BAND, a.PHY_CONTEXT.CI_CHANNEL, a.PHY_CONTEXT.TXCHAIN_INFO, a.PHY_CONTEXT.RXCHAIN_INFO])
      .toEqual([36, 16, 17, 20, 24]);
    expect(a.PHY_BAND).toEqual({ B5: 0, B24: 1 });
    expect([a.MAC_CONTEXT.SIZE, a.MAC_CONTEXT.BSSID_ADDR, a.MAC_CONTEXT.FILTER_FLAGS, a.MAC_CONTEXT.AC, a.MAC_CONTEXT.STA_IS_ASSOC,
      a.MAC_CONTEXT.STA_ASSOC_ID]).toEqual([148, 24, 52, 60, 100, 136]);
    expect(a.BINDING_CONTEXT.SIZE).toBe(24);
    expect([a.ADD_STA.SIZE, a.ADD_STA.STA_ID, a.ADD_STA.ASSOC_ID, a.ADD_STA.TFD_QUEUE_MSK]).toEqual([44, 16, 36, 40]);
    expect([a.ADD_STA_V10.SIZE, a.ADD_STA_V10.STATION_TYPE, a.ADD_STA_V10.RX_BA_WINDOW, a.ADD_STA_V10.UAPSD_ACS]).toEqual([48, 35, 44, 47]);
    expect([a.BINDING_CONTEXT_V2.SIZE, a.BINDING_CONTEXT_V2.LMAC_ID, a.LMAC_INDEX.B24, a.LMAC_INDEX.B5]).toEqual([28, 24, 0, 1]);
    expect([a.SCAN_REQ_UMAC_V7.N_CHANNELS, a.SCAN_REQ_UMAC_V7.DATA, a.SCAN_REQ_UMAC_V7.ADWELL_MAX_BUDGET, a.SCAN_REQ_UMAC_V7.SCAN_PRIORITY])
      .toEqual([45, 48, 22, 40]);
    expect([a.DEVICE_POWER_CMD.SIZE, a.MAC_POWER_CMD.SIZE, a.LQ_CMD.SIZE, a.LQ_CMD.RS_TABLE]).toEqual([4, 40, 88, 20]);
  });

  it('TX', () => {
    expect([a.TX_CMD.SIZE, a.TX_CMD.RATE_N_FLAGS, a.TX_CMD.STA_ID, a.TX_CMD.LIFE_TIME, a.TX_CMD.DATA_RETRY_LIMIT]).toEqual([56, 12, 16, 40, 50]);
    expect([a.TX_RESP.STATUS, a.TX_RESP.AGG_STATUS_SIZE, a.TX_RESP.SEQ_CTL, a.TX_RESP.RA_TID]).toEqual([36, 4, 28, 33]);
    expect(a.TX_STATUS.FAIL_STA_INVALID).toBe(0x8b);
  });

  it('notifications and responses', () => {
    expect([a.ALIVE_V3.SIZE, a.ALIVE_V3.STATUS, a.ALIVE_V3.SCD_BASE_PTR, a.ALIVE_V3.UMAC_DBG_PRINT_BUFF_ADDR]).toEqual([68, 0, 40, 64]);
    expect(a.NVM_ACCESS).toEqual({ SIZE: 8, OP: 0, TARGET: 1, TYPE: 2, OFFSET: 4, LENGTH: 6 });
    expect(a.NVM_ACCESS_RESP).toEqual({ HDR: 8, OFFSET: 0, LENGTH: 2, TYPE: 4, STATUS: 6, DATA: 8 });
    expect([a.RX_PHY.SIZE, a.RX_PHY.CHANNEL, a.RX_PHY.ENERGY_WORD, a.RX_PHY.RATE_N_FLAGS]).toEqual([68, 22, 28, 56]);
    expect(a.RX_MPDU).toEqual({ HDR: 4, BYTE_COUNT: 0, ASSIST: 2, FRAME: 4 });
    expect(a.PHY_DB).toEqual({ HDR: 4, TYPE: 0, LENGTH: 2, DATA: 4 });
    expect([a.SCAN_COMPLETE.SIZE, a.SCAN_COMPLETE.STATUS]).toEqual([16, 6]);
    expect([a.TIME_EVENT_CMD.SIZE, a.TIME_EVENT_CMD.DURATION, a.TIME_EVENT_CMD.POLICY, a.TIME_EVENT_RESP.UNIQUE_ID, a.TIME_EVENT_NOTIF.SIZE,
      a.TIME_EVENT_NOTIF.ACTION]).toEqual([36, 28, 34, 8, 24, 16]);
  });

  it('scan', () => {
    expect([a.SCAN_CONFIG.SIZE, a.SCAN_CONFIG.MAC_ADDR, a.SCAN_CONFIG.BCAST_STA_ID, a.SCAN_CONFIG.CHANNEL_ARRAY]).toEqual([36, 28, 34, 36]);
    expect([a.SCAN_REQ_UMAC.ACTIVE_DWELL, a.SCAN_REQ_UMAC.N_CHANNELS, a.SCAN_REQ_UMAC.DATA]).toEqual([17, 33, 36]);
    expect(a.SCAN_CHANNEL_CFG).toEqual({ SIZE: 8, FLAGS: 0, CHANNEL_NUM: 4, ITER_COUNT: 5, ITER_INTERVAL: 6 });
    expect([a.SCAN_REQ_UMAC_TAIL.SIZE, a.SCAN_REQ_UMAC_TAIL.BUF, a.SCAN_REQ_UMAC_TAIL.DIRECT_SCAN]).toEqual([1220, 28, 540]);
    expect([a.UMAC_SCAN_GEN_FLAGS.PASSIVE, a.UMAC_SCAN_GEN_FLAGS.ITER_COMPLETE]).toEqual([1 << 3, 1 << 5]);
    expect(a.SCAN_ABORT_UMAC.SIZE).toBe(8);
  });
});
