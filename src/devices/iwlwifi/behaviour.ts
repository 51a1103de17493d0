/**
 * iwlwifi behaviour facts for verdicts (docs/VERDICTS.md). What follows
 * timing rather than the driver's behaviour is taken out:
 * - the sequence numbers of received frames (the peer counts its beacons too);
 * - time stamps the firmware writes: RX_PHY system time, TSF and beacon
 *   time (iwl_rx_phy_info), the TSF in beacons and probe responses (802.11
 *   timestamp field, IEEE 802.11-2016 9.4.1.10), SCAN_COMPLETE_UMAC
 *   time_from_last_iter, SCAN_ITERATION_COMPLETE start_tsf and the
 *   TIME_EVENT_NOTIFICATION timestamp (iwl_time_event_notif);
 * - beacons: how many arrive is the length of the run, so they are a set;
 * - interrupt bookkeeping: ICT entries, the RB status write-back
 *   (closed_rb_num), RBD fetches (how many at a time is restocking), and the
 *   interrupt cause / mask / acknowledge and write-pointer registers;
 * - buffer addresses in TFDs (only the TB lengths count).
 * Host commands and TX frames (their TBs) and the other notifications stay
 * as multisets of their bytes, responses by command.
 */
import type { DeviceBehaviour, FactSink } from '../../trace/decoder.js';
import type { SeqEvent } from '../../trace/reader.js';
import { Hasher } from '../../trace/diff/hash.js';
import { CMD, RX_PHY, RX_MPDU, SCAN_COMPLETE, TIME_EVENT_NOTIF, cmdName } from './fw-api.js';

/** Registers touched once per interrupt or per ring update (CSR_INT and friends, write pointers). */
const VOLATILE = new Set(['CSR_INT', 'CSR_INT_MASK', 'CSR_FH_INT_STATUS', 'HBUS_TARG_WRPTR', 'FH_RSCSR_CHNL0_WPTR', 'FH_MEM_RCSR_CHNL0_RBDCB_WPTR']);

export function isVolatileIwlRegister(name: string): boolean {
  return VOLATILE.has(name);
}

/** 802.11 management subtypes with a timestamp first in the body (beacon 8, probe response 5). */
function timestampedFrame(frame: Uint8Array, at: number): boolean {
  const fc0 = frame[at];
  return fc0 === 0x80 || fc0 === 0x50;
}

/** Header (24 bytes) then the 8-byte timestamp: IEEE 802.11-2016 9.3.3.3 and 9.3.3.11. */
const FRAME_TSF = 24;
/**
 * Sequence Control (IEEE 802.11-2016 9.2.4.4) of received frames: the peer
 * numbers every frame it sends, beacons included, so how many beacons fell
 * between two replies (timing) shows in it.
 */
const FRAME_SEQ = 22;
const RX_PKT_HDR = 8;

export class IwlBehaviour implements DeviceBehaviour {
  private readonly h = new Hasher();

  add(ev: SeqEvent, out: FactSink): boolean {
    if (ev.kind === 'air') {
      const d = ev.data;
      const masks: [number, number][] = ev.tx ? [] : [[FRAME_SEQ, 2]];
      if (timestampedFrame(d, 0)) masks.push([FRAME_TSF, 8]);
      const masked = this.hashMasked(d, masks);
      const beacon = d[0] === 0x80;
      out.fact(`${ev.tx ? 'air:tx' : 'air:rx'}${beacon ? ' beacons' : ''}`, beacon ? 'set' : 'multiset', `ch=${ev.channel} len=${d.length} frame=${masked}`);
      return true;
    }
    if (ev.kind !== 'dma') return false;
    const d = ev.data;
    switch (ev.tag) {
      case 'iwl.ict':
      case 'iwl.rb-stts':
        return true;
      case 'iwl.rbd':
        out.fact('rx buffers', 'set', `rbd len=${d.length}`);
        return true;
      case 'iwl.tfd': {
        // iwl_tfd: 3 reserved bytes, num_tbs, then 20 TBs of le32 lo + le16 hi_n_len (length in 15:4).
        const n = (d[3] ?? 0) & 0x1f;
        const lens: number[] = [];
        for (let i = 0; i < n && 4 + i * 6 + 6 <= d.length; i++) lens.push(((d[4 + i * 6 + 4]! | (d[4 + i * 6 + 5]! << 8)) >>> 4));
        out.fact('dma:iwl.tfd', 'multiset', `tbs=${n} lens=${lens.join(',')}`);
        return true;
      }
      case 'iwl.rx':
        this.rxPacket(d, out);
        return true;
      default:
        return false;
    }
  }

  private rxPacket(d: Uint8Array, out: FactSink): void {
    if (d.length < RX_PKT_HDR) {
      out.fact('rx packets', 'multiset', `short len=${d.length}`);
      return;
    }
    const cmd = d[4]!;
    const group = d[5]!;
    const p = RX_PKT_HDR;
    const name = cmdName(cmd, group);
    let masks: [number, number][] = [];
    let stream = 'rx packets';
    let order: 'multiset' | 'set' = 'multiset';
    if (cmd === CMD.RX_PHY) {
      masks = [[p + RX_PHY.SYSTEM_TIMESTAMP, 4], [p + RX_PHY.TIMESTAMP, 8], [p + RX_PHY.BEACON_TIME_STAMP, 4]];
      // Which frame it describes is told by the RX_MPDU after it; PHY descriptions of beacons repeat.
      stream = 'rx phy';
      order = 'set';
    } else if (cmd === CMD.RX_MPDU) {
      const f = p + RX_MPDU.FRAME;
      masks = [[f + FRAME_SEQ, 2]];
      if (timestampedFrame(d, f)) masks.push([f + FRAME_TSF, 8]);
      if (d[f] === 0x80) { stream = 'rx beacons'; order = 'set'; }
    } else if (cmd === CMD.SCAN_COMPLETE_UMAC) {
      masks = [[p + SCAN_COMPLETE.TIME, 4]];
    } else if (cmd === CMD.SCAN_ITERATION_COMPLETE_UMAC) {
      masks = [[p + 8, 8]];
    } else if (cmd === CMD.TIME_EVENT_NOTIFICATION) {
      masks = [[p + TIME_EVENT_NOTIF.TIMESTAMP, 4]];
    }
    out.fact(stream, order, `${name} len=${d.length} data=${this.hashMasked(d, masks)}`);
  }

  private hashMasked(d: Uint8Array, masks: readonly (readonly [number, number])[]): string {
    return this.h.start(0x1e1).bytesWithout(d, masks).value().toString(16);
  }
}
