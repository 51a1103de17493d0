/**
 * The mvm op mode as the transport sees it (Linux mvm/ops.c): notification dispatch, firmware error and RF-kill handling, status and shutdown.
 */
import type { Co } from '../../../sim/scheduler.js';
import { CMD, ERROR_RESP, PHY_DB, RX_MPDU, RX_PHY, TE_V2, TIME_EVENT_NOTIF, TXQ, cmdName, seqQueue } from '../fw/api.js';
import { type IwlOpMode, type RxPacket } from '../trans-api.js';
import { MvmRx } from './rx.js';
import { le16, le32, hex } from './core.js';
import { down, firmwareDied, fwRunningOf, rfkillReported } from './state.js';

export class IwlMvm extends MvmRx implements IwlOpMode {
  // ---- notifications (ops.c iwl_mvm_rx) --------------------------------------------------------
  rx(pkt: RxPacket): void {
    this.notif.notify(pkt);
    switch (pkt.cmd) {
      case CMD.CALIB_RES_NOTIF_PHY_DB: {
        const p = pkt.payload;
        if (p.length < PHY_DB.HDR) { this.warn(`short CALIB_RES_NOTIF_PHY_DB (${p.length} bytes)`); return; }
        const type = le16(p, PHY_DB.TYPE);
        const len = Math.min(le16(p, PHY_DB.LENGTH), p.length - PHY_DB.HDR);
        this.phyDb.set(type, p.slice(PHY_DB.DATA, PHY_DB.DATA + len));
        this.dbg(`PHY DB section type ${type}: ${len} bytes`);
        return;
      }
      case CMD.RX_PHY:
        this.rxPhy(pkt.payload);
        return;
      case CMD.RX_MPDU:
        this.rxMpdu(pkt.payload);
        return;
      case CMD.TX:
        if (seqQueue(pkt.seq) !== TXQ.CMD) this.txResp(pkt);
        return;
      case CMD.REPLY_ERROR: {
        // iwl_mvm_rx_fw_error: struct iwl_error_resp.
        const p = pkt.payload;
        if (p.length < ERROR_RESP.SIZE) { this.warn(`short REPLY_ERROR (${p.length} bytes)`); return; }
        const ts = le32(p, ERROR_RESP.TIMESTAMP) + le32(p, ERROR_RESP.TIMESTAMP + 4) * 0x100000000;
        this.err(`FW Error notification: type ${hex(le32(p, ERROR_RESP.ERROR_TYPE), 8)} cmd_id ${hex(p[ERROR_RESP.CMD_ID] ?? 0, 2)} (${cmdName(p[ERROR_RESP.CMD_ID] ?? 0)})`);
        this.err(`FW Error notification: seq ${hex(le16(p, ERROR_RESP.BAD_CMD_SEQ_NUM), 4)} service ${hex(le32(p, ERROR_RESP.ERROR_SERVICE), 8)}`);
        this.err(`FW Error notification: timestamp 0x${ts.toString(16).padStart(16, '0')}`);
        return;
      }
      case CMD.TIME_EVENT_NOTIFICATION: {
        // The session-protection event ended on its own: nothing to remove any more.
        const p = pkt.payload;
        if ((le32(p, TIME_EVENT_NOTIF.ACTION) & TE_V2.NOTIF_HOST_EVENT_END) !== 0 && le32(p, TIME_EVENT_NOTIF.UNIQUE_ID) === this.teUid) {
          this.dbg(`session protection: time event ${this.teUid} ended`);
          this.teUid = null;
        }
        return;
      }
      case CMD.SCAN_ITERATION_COMPLETE_UMAC:
        this.dbg(`scan iteration complete: uid ${le32(pkt.payload, 0)}, ${pkt.payload[4] ?? 0} channel(s)`);
        return;
      default:
    }
  }

  nicError(kind: 'sw' | 'hw', csrInt: number): void {
    this.stats.fwErrors++;
    if (kind === 'sw') this.err(`Microcode SW error detected (CSR_INT ${hex(csrInt, 8)}): firmware is dead`);
    else this.err(`HW error (CSR_INT ${hex(csrInt, 8)}): device is dead`);
    const had = this.connection;
    this.mvmState = firmwareDied(this.mvmState);
    if (had !== null) this.info(`${this.cfg.ifname}: link lost (firmware error)`);
    this.notif.abortAll();
    this.abortMgmtWaits();
    this.onTxWake?.();
  }

  rfKill(asserted: boolean): void {
    if (asserted === this.rfkillOn) return;
    this.warn(`RF_KILL bit toggled to ${asserted ? 'disable' : 'enable'} radio`);
    if (asserted && this.connection !== null) this.info(`${this.cfg.ifname}: link lost (RF-kill)`);
    // On: 'rfkill' (dropping the connection) unless the firmware is dead; off: back to what runs under it.
    this.mvmState = rfkillReported(this.mvmState, asserted);
    if (asserted) {
      this.abortMgmtWaits();
      this.onTxWake?.();
    }
  }

  queueStuck(queue: number): void {
    this.stats.queueStuck++;
    this.err(`Queue ${queue} is stuck (no progress for 2500 ms)`);
  }

  protected abortMgmtWaits(): void {
    if (this.mgmtWait !== null) this.k.complete(this.mgmtWait.done);
    if (this.mgmtTxDone !== null) this.k.complete(this.mgmtTxDone);
  }


  // ---- status ---------------------------------------------------------------------------------
  statusText(): string {
    const c = this.connection;
    return `state=${this.state}\nssid=${c?.ssid ?? ''}\nbssid=${c?.bss.bssid ?? ''}\nchannel=${c?.bss.channel ?? ''}\nmac=${this.macString}\n`;
  }

  /** Frees driver-held frames and stops the device (remove / probe failure). */
  *shutdown(): Co<void> {
    this.rxQueue.length = 0;
    if (fwRunningOf(this.mvmState)) yield* this.stopDevice();
    this.mvmState = down(this.mvmState);
  }
}
