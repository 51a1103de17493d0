/**
 * Transmit path (Linux mvm/tx.c): TX command, TX responses and queue flow control, the netdev xmit.
 */
import { EAGAIN, EINVAL, EIO, ENOSPC } from '../../../kernel/errno.js';
import {
  RATE_MCS_ANT_POS, RATE_MCS_CCK, RATE_PLCP_1M, RATE_PLCP_6M, STA_ID_AP, TX_CMD, TX_CMD_FLG_ACK, TX_CMD_FLG_BT_DIS, TX_CMD_LIFE_TIME_INFINITE,
  TX_RESP, TX_RETRY, TX_STATUS, TX_STATUS_MSK, TXQ, seqIndex, seqQueue,
} from '../fw/api.js';
import { type RxPacket } from '../trans-api.js';
import { ETH_HLEN, HDR_LEN_3ADDR, ethToWlan, isMulticast } from '../mac80211/ieee80211.js';
import { ENETDOWN } from './errno.js';
import { MvmNvm } from './nvm.js';
import { Payload, le16, le32, hex, TXQ_STOP_SPACE, TXQ_WAKE_SPACE, MAX_ETH_FRAME } from './core.js';

export abstract class MvmTx extends MvmNvm {
  // ---- TX (mvm/tx.c) ------------------------------------------------------------------------
  protected txResp(pkt: RxPacket): void {
    const q = seqQueue(pkt.seq);
    const idx = seqIndex(pkt.seq);
    const p = pkt.payload;
    // iwl_mvm_rx_tx_cmd_single: frame_count statuses from byte 36, then the SCD SSN, the index to reclaim up to.
    const frames = p[TX_RESP.FRAME_COUNT] ?? 0;
    const ssnAt = TX_RESP.STATUS + frames * TX_RESP.AGG_STATUS_SIZE;
    if (frames !== 1 || p.length < ssnAt + 4) {
      this.err(`TX response on queue ${q} index ${idx}: ${p.length} bytes for ${frames} frame(s), expected ${TX_RESP.STATUS + 8} for one`);
      this.stats.txFailed++;
      return;
    }
    const status = le16(p, TX_RESP.STATUS) & TX_STATUS_MSK;
    const ssn = le32(p, ssnAt) & 0xfff;
    if ((ssn & 0xff) !== ((idx + 1) & 0xff)) this.dbg(`TX response on queue ${q} index ${idx}: SCD SSN ${ssn}`);
    const freed = this.trans.reclaim(q, ssn & 0xff);
    if (status !== TX_STATUS.SUCCESS) {
      this.stats.txFailed++;
      this.dbg(`TX on queue ${q} index ${idx} failed: status ${hex(status, 2)} (${p[TX_RESP.FAILURE_FRAME] ?? 0} retries)`);
    }
    if (q === TXQ.MGMT && this.mgmtTxDone !== null) this.k.complete(this.mgmtTxDone);
    if (q === TXQ.DATA && this.dataStopped && freed >= 0 && this.trans.txqSpace(TXQ.DATA) >= TXQ_WAKE_SPACE) {
      this.dataStopped = false;
      this.onTxWake?.();
    }
  }


  /** Valid TX antennas (fw.ts). */
  protected abstract txChains(): number;

  /** The band's basic rate on the first valid antenna (iwl_mvm_get_tx_rate for management frames). */
  protected rateFor(channel: number): number {
    const ant = (this.txChains() & 1) !== 0 ? 1 : this.txChains() & 2 ? 2 : 4;
    return (channel <= 14 ? RATE_PLCP_1M | RATE_MCS_CCK : RATE_PLCP_6M) | (ant << RATE_MCS_ANT_POS);
  }

  /** iwl_mvm_set_tx_cmd (TX_CMD v6): length, flags, rate, station, retry limits, infinite life time. */
  protected txCmd(len: number, channel: number, ack: boolean, staId: number, mgmt: boolean): Uint8Array {
    return new Payload(TX_CMD.SIZE)
      .u16(TX_CMD.LEN, len).u16(TX_CMD.OFFLOAD_ASSIST, 0)
      .u32(TX_CMD.TX_FLAGS, (ack ? TX_CMD_FLG_ACK : 0) | TX_CMD_FLG_BT_DIS)
      .u32(TX_CMD.RATE_N_FLAGS, this.rateFor(channel))
      .u8(TX_CMD.STA_ID, staId).u8(TX_CMD.SEC_CTL, 0).u8(TX_CMD.TID_TSPEC, 0)
      .u32(TX_CMD.LIFE_TIME, TX_CMD_LIFE_TIME_INFINITE)
      .u8(TX_CMD.RTS_RETRY_LIMIT, TX_RETRY.RTS).u8(TX_CMD.DATA_RETRY_LIMIT, mgmt ? TX_RETRY.MGMT : TX_RETRY.DATA).b;
  }

  /** Queues an 802.11 frame on `queue`; 0 or -errno (-ENOSPC: ring full). */
  protected txFrame(queue: number, frame: Uint8Array, channel: number, ack: boolean): number {
    if (this.firmwareDead) return -EIO;
    const skb = this.k.alloc_skb(frame.length, queue === TXQ.DATA ? 'iwlwifi:tx-data' : 'iwlwifi:tx-mgmt');
    this.k.skb_put_data(skb, frame);
    const r = this.trans.tx(queue, this.txCmd(frame.length, channel, ack, STA_ID_AP, queue !== TXQ.DATA), skb, HDR_LEN_3ADDR);
    if (r < 0) this.k.kfree_skb(skb);
    return r;
  }

  protected nextSeq(): number {
    const s = this.seqNum;
    this.seqNum = (this.seqNum + 1) & 0xfff;
    return s;
  }

  /**
   * netdev TX (ieee80211_subif_start_xmit): an Ethernet frame to the AP.
   * 0, -EINVAL (shorter than 14 bytes or too long), -ENETDOWN (not
   * connected), -EAGAIN (queue stopped: retry after onTxWake).
   */
  xmit(eth: Uint8Array): number {
    if (eth.length < ETH_HLEN || eth.length > MAX_ETH_FRAME) return -EINVAL;
    const c = this.connection;
    const own = this.mac;
    if (c === null || !c.assoc || own === null || this.firmwareDead) return -ENETDOWN;
    if (this.dataStopped) return -EAGAIN;
    const f = ethToWlan(eth, own, c.bss.bssidBytes, this.nextSeq());
    if (f === null) return -EINVAL;
    const r = this.txFrame(TXQ.DATA, f, c.bss.channel, !isMulticast(eth, 0));
    if (r < 0) {
      this.dataStopped = true;
      if (r !== -ENOSPC) { this.stats.txDropped++; return r; }
      return -EAGAIN;
    }
    this.stats.txPackets++;
    if (this.trans.txqSpace(TXQ.DATA) < TXQ_STOP_SPACE) this.dataStopped = true;
    return 0;
  }
}
