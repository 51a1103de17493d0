/**
 * Firmware bring-up (Linux mvm/fw.c): start, ALIVE, the INIT image (NVM, calibrations) and the runtime image.
 */
import type { Co } from '../../../sim/scheduler.js';
import { EIO, ETIMEDOUT } from '../../../kernel/errno.js';
import {
  ALIVE_STATUS_OK, ALIVE_V3, BT_COEX, BT_COEX_CMD, CMD, DEVICE_POWER_CMD, DEVICE_POWER_FLAGS, PHY_CONFIGURATION, PHY_DB,
  SHARED_MEM_CFG_V1_SIZE, TX_ANT_CONFIG_SIZE, TX_FIFO, TXQ,
} from '../fw/api.js';
import { type ImageKind, UCODE_TYPE, phyRxChains, phyTxChains } from '../fw/file.js';
import { ERFKILL } from './errno.js';
import { MvmTx } from './tx.js';
import { Payload, le16, le32, hex } from './core.js';
import { bringUpFailed, broughtUp, deviceStopped, down, enterRfkill, imageAlive, imageLoading, rfkillRead } from './state.js';

export abstract class MvmFw extends MvmTx {
  // ---- bring-up (mvm/fw.c, ops.c) -------------------------------------------------------
  /** start_hw, INIT image, NVM, calibration, runtime image: the interface is up. 0 or -errno (device stopped). */
  *start(): Co<number> {
    yield* this.k.mutex_lock(this.mutex);
    try {
      this.info('starting hardware');
      const hw = yield* this.trans.startHw();
      if (hw < 0) {
        this.err(`start_hw failed: ${hw}`);
        return hw;
      }
      const rfkill = this.trans.rfKillAsserted();
      this.mvmState = rfkillRead(this.mvmState, rfkill);
      if (rfkill) {
        this.err('RF-kill switch is on: radio disabled, cannot load firmware');
        this.mvmState = enterRfkill(this.mvmState);
        return -ERFKILL;
      }
      let r = yield* this.runInitUcode();
      if (r < 0) { yield* this.stopDevice(); this.mvmState = bringUpFailed(this.mvmState); return r; }
      // As iwl_mvm_up: the INIT image is stopped, then the hardware is started again for the runtime image.
      yield* this.stopDevice();
      const hw2 = yield* this.trans.startHw();
      if (hw2 < 0) {
        this.err(`start_hw for the runtime image failed: ${hw2}`);
        this.mvmState = down(this.mvmState);
        return hw2;
      }
      r = yield* this.runRuntimeUcode();
      if (r < 0) { yield* this.stopDevice(); this.mvmState = bringUpFailed(this.mvmState); return r; }
      this.mvmState = broughtUp(this.mvmState);
      this.info(`${this.cfg.ifname} up, MAC ${this.macString}`);
      return 0;
    } finally {
      this.k.mutex_unlock(this.mutex);
    }
  }

  protected *stopDevice(): Co<void> {
    this.dbg('stopping device');
    this.mvmState = deviceStopped(this.mvmState);
    yield* this.trans.stopDevice();
  }

  /** Loads `kind` and waits for its ALIVE (iwl_mvm_load_ucode_wait_alive). */
  protected *loadUcodeWaitAlive(kind: ImageKind): Co<number> {
    const label = kind === 'init' ? 'INIT' : 'RT';
    const w = this.notif.add([CMD.ALIVE]);
    this.mvmState = imageLoading(this.mvmState, kind);
    this.info(`loading ${label} ucode (${this.image.sections[kind].length} sections)`);
    const r = yield* this.trans.startFw(this.image, kind);
    if (r < 0) {
      this.notif.remove(w);
      this.err(`Failed to start ${label} ucode: ${r}`);
      return r;
    }
    const wr = yield* this.notif.wait(w, this.cfg.aliveTimeoutMs);
    if (wr < 0) {
      if (wr === -ETIMEDOUT) this.err(`timeout waiting for ALIVE (${this.cfg.aliveTimeoutMs} ms)`);
      else this.err('firmware died while waiting for ALIVE');
      this.err(`Failed to start ${label} ucode: ${wr}`);
      return wr;
    }
    const p = w.pkt!.payload;
    if (p.length !== ALIVE_V3.SIZE) {
      this.err(`Invalid ALIVE response length ${p.length} (ALIVE v3 is ${ALIVE_V3.SIZE} bytes)`);
      this.err(`Failed to start ${label} ucode: ${-EIO}`);
      return -EIO;
    }
    const status = le16(p, ALIVE_V3.STATUS);
    if (status !== ALIVE_STATUS_OK) {
      this.err(`Invalid ALIVE response: status ${hex(status, 4)}`);
      this.err(`Failed to start ${label} ucode: ${-EIO}`);
      return -EIO;
    }
    const scdBase = le32(p, ALIVE_V3.SCD_BASE_PTR);
    this.info(`Alive ucode status ${hex(status, 4)} revision ${hex(le32(p, ALIVE_V3.LMAC_MAJOR))} ${hex(le32(p, ALIVE_V3.LMAC_MINOR))}`
      + `, scd_base_ptr ${hex(scdBase, 8)}`);
    yield* this.trans.fwAlive(scdBase);
    this.mvmState = imageAlive(this.mvmState);
    return yield* this.getSharedMemConf();
  }

  /** iwl_get_shared_mem_conf: asks the firmware how its shared memory is laid out (logged, as Linux keeps it for dumps). */
  protected *getSharedMemConf(): Co<number> {
    const r = yield* this.cmd(CMD.SHARED_MEM_CFG, new Uint8Array(0), { raw: true });
    if (typeof r === 'number') return r;
    const p = r.payload;
    if (p.length < SHARED_MEM_CFG_V1_SIZE) {
      this.err(`SHARED_MEM_CFG response of ${p.length} bytes, shorter than iwl_shared_mem_cfg_v1 (${SHARED_MEM_CFG_V1_SIZE})`);
      return -EIO;
    }
    this.dbg(`shared memory: TX FIFO 0 ${le32(p, 20)} bytes, RX FIFO 0 ${le32(p, 52)} bytes, page buffer ${hex(le32(p, 60), 8)}+${le32(p, 64)}`);
    return 0;
  }

  protected calibTriggers(ucodeType: number): { flow: number; event: number } {
    const c = this.image.defCalib.find((d) => d.ucodeType === ucodeType);
    return { flow: c?.flowTrigger ?? 0, event: c?.eventTrigger ?? 0 };
  }

  /** iwl_mvm_get_valid_tx_ant: the firmware's PHY_SKU antennas, narrowed by the NVM's radio config when it names any. */
  protected txChains(): number {
    const t = phyTxChains(this.image.phySku ?? 0) || 0x3;
    const n = this.nvm?.validTxAnt ?? 0;
    return n !== 0 && (t & n) !== 0 ? t & n : t;
  }

  protected rxChains(): number {
    const r = phyRxChains(this.image.phySku ?? 0) || 0x3;
    const n = this.nvm?.validRxAnt ?? 0;
    return n !== 0 && (r & n) !== 0 ? r & n : r;
  }

  /**
   * iwl_mvm_send_bt_init_conf: this driver has no Bluetooth side to share
   * the antenna with, so it gives the shared antenna to Wi-Fi (BT_COEX_WIFI,
   * as Linux does with bt_force_ant=wifi).
   */
  protected *sendBtConfig(): Co<number> {
    return yield* this.cmdOk(CMD.BT_CONFIG, new Payload(BT_COEX_CMD.SIZE).u32(BT_COEX_CMD.MODE, BT_COEX.WIFI).u32(BT_COEX_CMD.ENABLED_MODULES, 0).b);
  }

  /**
   * iwl_mvm_power_update_device: device power save allowed, as Linux's
   * default power scheme (balanced); the NIC may then sleep between
   * accesses, which the transport's NIC-access handshake handles.
   */
  protected *sendDevicePower(): Co<number> {
    return yield* this.cmdOk(CMD.POWER_TABLE, new Payload(DEVICE_POWER_CMD.SIZE).u16(DEVICE_POWER_CMD.FLAGS, DEVICE_POWER_FLAGS.POWER_SAVE_ENA).b);
  }

  protected *sendTxAnt(): Co<number> {
    return yield* this.cmdOk(CMD.TX_ANT_CONFIG, new Payload(TX_ANT_CONFIG_SIZE).u32(0, this.txChains()).b);
  }

  protected *sendPhyCfg(ucodeType: number): Co<number> {
    const t = this.calibTriggers(ucodeType);
    const p = new Payload(PHY_CONFIGURATION.SIZE)
      .u32(PHY_CONFIGURATION.PHY_CFG, this.image.phySku ?? 0)
      .u32(PHY_CONFIGURATION.FLOW_TRIGGER, t.flow)
      .u32(PHY_CONFIGURATION.EVENT_TRIGGER, t.event);
    this.dbg(`PHY_CONFIGURATION phy_cfg ${hex(this.image.phySku ?? 0, 8)} event ${hex(t.event)} flow ${hex(t.flow)}`);
    return yield* this.cmdOk(CMD.PHY_CONFIGURATION, p.b);
  }

  /** iwl_run_init_mvm_ucode: ALIVE, BT config, NVM, antennas, PHY config, calibrations, INIT_COMPLETE. */
  protected *runInitUcode(): Co<number> {
    this.phyDb.clear();
    let r = yield* this.loadUcodeWaitAlive('init');
    if (r < 0) return r;
    r = yield* this.sendBtConfig();
    if (r < 0) return r;
    r = yield* this.readNvm();
    if (r < 0) return r;
    r = yield* this.sendTxAnt();
    if (r < 0) return r;
    const w = this.notif.add([CMD.INIT_COMPLETE]);
    r = yield* this.sendPhyCfg(UCODE_TYPE.INIT);
    if (r < 0) { this.notif.remove(w); return r; }
    r = yield* this.notif.wait(w, this.cfg.initCompleteTimeoutMs);
    if (r === -ETIMEDOUT) {
      this.err(`Timeout waiting for INIT_COMPLETE (${this.cfg.initCompleteTimeoutMs} ms)`);
      return r;
    }
    if (r < 0) { this.err('firmware died during INIT calibrations'); return r; }
    const st = w.pkt!.payload.length >= 4 ? le32(w.pkt!.payload, 0) : 0;
    if (st !== 0) {
      this.err(`INIT_COMPLETE with status ${hex(st)}: calibration failed`);
      return -EIO;
    }
    this.info(`INIT ucode done: ${this.phyDb.size} PHY DB section(s) (${[...this.phyDb.keys()].sort((a, b) => a - b).join(', ')})`);
    return 0;
  }

  /** iwl_mvm_up after the INIT run: runtime image, PHY DB, antennas, PHY config, BT, scan config, TX queues. */
  protected *runRuntimeUcode(): Co<number> {
    let r = yield* this.loadUcodeWaitAlive('runtime');
    if (r < 0) return r;
    for (const type of [...this.phyDb.keys()].sort((a, b) => a - b)) {
      const data = this.phyDb.get(type)!;
      const p = new Payload(PHY_DB.HDR + data.length).u16(PHY_DB.TYPE, type).u16(PHY_DB.LENGTH, data.length).bytes(PHY_DB.DATA, data);
      r = yield* this.cmdOk(CMD.PHY_DB, p.b);
      if (r < 0) return r;
    }
    r = yield* this.sendTxAnt();
    if (r < 0) return r;
    r = yield* this.sendPhyCfg(UCODE_TYPE.REGULAR);
    if (r < 0) return r;
    r = yield* this.sendBtConfig();
    if (r < 0) return r;
    r = yield* this.sendDevicePower();
    if (r < 0) return r;
    r = yield* this.sendScanConfig();
    if (r < 0) return r;
    yield* this.trans.txqEnable(TXQ.MGMT, TX_FIFO.VO);
    yield* this.trans.txqEnable(TXQ.DATA, TX_FIFO.BE);
    this.dataStopped = false;
    return 0;
  }
}
