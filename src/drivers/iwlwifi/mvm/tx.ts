/**
 * Transmit path (Linux mvm/tx.c): TX command, TX responses and queue flow control, the netdev xmit.
 */
import { EAGAIN, EINVAL, EIO, ENOSPC } from '../../../kernel/errno.js';
import { RATE_MCS_CCK, RATE_PLCP_1M, RATE_PLCP_6M, STA_ID_AP, TX_CMD, TX_CMD_FLG_ACK, TX_RESP, TX_STATUS, TXQ, seqIndex, seqQueue } from '../fw/api.js';
import { type RxPacket } from '../trans-api.js';
import { ETH_HLEN, HDR_LEN_3ADDR, ethToWlan, isMulticast } from '../mac80211/ieee80211.js';
import { ENETDOWN } from './errno.js';
import { MvmNvm } from './nvm.js';
import { Payload, le32, hex, TXQ_STOP_SPACE, TXQ_WAKE_SPACE, MAX_ETH_FRAME } from './core.js';

export abstract class MvmTx extends MvmNvm {
  // ---- TX (mvm/tx.c) ------------------------------------------------------------------------
  protected txResp(pkt: RxPacket): void {
    const q = seqQueue(pkt.seq);
    const idx = seqIndex(pkt.seq);
    const p = pkt.payload;
    const status = p.length >= TX_RESP.SIZE ? le32(p, TX_RESP.STATUS) & 0xff : 0;
    const freed = this.trans.reclaim(q, (idx + 1) & 0xff);
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


  protected rateFor(channel: number): number {
    return channel <= 14 ? RATE_PLCP_1M | RATE_MCS_CCK : RATE_PLCP_6M;
  }

  protected txCmd(len: number, channel: number, ack: boolean, staId: number): Uint8Array {
    return new Payload(TX_CMD.SIZE)
      .u16(TX_CMD.LEN, len).u16(TX_CMD.OFFLOAD_ASSIST, 0)
      .u32(TX_CMD.TX_FLAGS, ack ? TX_CMD_FLG_ACK : 0)
      .u32(TX_CMD.RATE_N_FLAGS, this.rateFor(channel))
      .u8(TX_CMD.STA_ID, staId).u8(TX_CMD.SEC_CTL, 0).u8(TX_CMD.TID, 0)
      .u32(TX_CMD.LIFE_TIME, 0xffffffff).b;
  }

  /** Queues an 802.11 frame on `queue`; 0 or -errno (-ENOSPC: ring full). */
  protected txFrame(queue: number, frame: Uint8Array, channel: number, ack: boolean): number {
    if (this.firmwareDead) return -EIO;
    const skb = this.k.alloc_skb(frame.length, queue === TXQ.DATA ? 'iwlwifi:tx-data' : 'iwlwifi:tx-mgmt');
    this.k.skb_put_data(skb, frame);
    const r = this.trans.tx(queue, this.txCmd(frame.length, channel, ack, STA_ID_AP), skb, HDR_LEN_3ADDR);
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
