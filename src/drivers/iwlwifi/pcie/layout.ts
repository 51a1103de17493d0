/**
 * Pure layout code of the gen1 transport: TFDs and their TBs, host command
 * headers and how a command is split into copied and mapped parts, RX
 * packets inside a receive buffer, and ICT table decoding. No device access
 * here, so it can be tested on plain buffers.
 */
import { RX_PKT_HDR, cmdHeaderSize } from '../fw/api.js';
import { ICT, ictToInt } from '../iwl-csr.js';
import { RX_END_MARKER, RX_PKT_LEN_MASK, TFD } from '../iwl-fh.js';

/** Bytes of every command that go into TB0 (IWL_FIRST_TB_SIZE). */
export const FIRST_TB_SIZE = 20;
/** Most bytes of a host command (header included) copied into its command buffer (TFD_MAX_PAYLOAD_SIZE). */
export const MAX_CMD_COPY = 324;

// ---- TFD ------------------------------------------------------------------------

/** Marks the TFD at `off` empty (num_tbs = 0). */
export function tfdReset(dv: DataView, off: number): void {
  for (let i = 0; i < TFD.SIZE; i += 4) dv.setUint32(off + i, 0, true);
}

export function tfdNumTbs(dv: DataView, off: number): number {
  return dv.getUint8(off + TFD.NUM_TBS_OFFSET) & 0x1f;
}

/**
 * Appends a TB (address up to 36 bits, length up to 4095) to the TFD at
 * `off`. Returns the TB index, or -1 when the TFD already holds 20 TBs or
 * the length does not fit.
 */
export function tfdAddTb(dv: DataView, off: number, addr: number, len: number): number {
  const n = tfdNumTbs(dv, off);
  if (n >= TFD.MAX_TBS || len > 0xfff || len < 0) return -1;
  const tb = off + TFD.TBS_OFFSET + n * TFD.TB_SIZE;
  dv.setUint32(tb, addr >>> 0, true);
  const hi = Math.floor(addr / 0x1_0000_0000) & 0xf;
  dv.setUint16(tb + 4, (len << 4) | hi, true);
  dv.setUint8(off + TFD.NUM_TBS_OFFSET, n + 1);
  return n;
}

export function tfdTb(dv: DataView, off: number, i: number): { addr: number; len: number } {
  const tb = off + TFD.TBS_OFFSET + i * TFD.TB_SIZE;
  const hiLen = dv.getUint16(tb + 4, true);
  return { addr: dv.getUint32(tb, true) + (hiLen & 0xf) * 0x1_0000_0000, len: hiLen >>> 4 };
}

// ---- Host commands --------------------------------------------------------------

/**
 * Writes the command header at `off`: narrow (cmd, group 0, le16 seq) for
 * group 0, wide (cmd, group, le16 seq, le16 payload length, reserved,
 * version 0) otherwise. Returns the header size.
 */
export function writeCmdHeader(dv: DataView, off: number, cmd: number, group: number, seq: number, payloadLen: number): number {
  dv.setUint8(off, cmd & 0xff);
  dv.setUint8(off + 1, group & 0xff);
  dv.setUint16(off + 2, seq & 0xffff, true);
  const size = cmdHeaderSize(group);
  if (size > 4) {
    dv.setUint16(off + 4, payloadLen & 0xffff, true);
    dv.setUint8(off + 6, 0);
    dv.setUint8(off + 7, 0);
  }
  return size;
}

/** A payload fragment (or its tail from `start`) that gets its own DMA mapping and TB. */
export interface MappedPart { frag: number; start: number }

/**
 * How a host command is laid out: `copy` bytes (header + leading payload)
 * go into the command buffer (TB0 = first 20 of them, TB1 = the rest);
 * once a fragment would overflow the 324-byte copy area, it and every later
 * fragment are mapped on their own (Linux's NOCOPY path), after topping the
 * copied part up to the 20 bytes of TB0.
 */
export interface CmdPlan {
  hdrLen: number;
  payloadLen: number;
  copy: number;
  /** Bytes of each fragment that are copied (a prefix). */
  copied: number[];
  mapped: MappedPart[];
  /** TBs the TFD will hold. */
  tbs: number;
}

export function planHostCmd(group: number, data: readonly Uint8Array[]): CmdPlan {
  const hdrLen = cmdHeaderSize(group);
  let copy = hdrLen;
  let payloadLen = 0;
  let mapping = false;
  const copied: number[] = [];
  const mapped: MappedPart[] = [];
  for (let i = 0; i < data.length; i++) {
    const len = data[i]!.length;
    payloadLen += len;
    if (!mapping && copy + len <= MAX_CMD_COPY) {
      copy += len;
      copied.push(len);
      continue;
    }
    mapping = true;
    const head = copy < FIRST_TB_SIZE ? Math.min(FIRST_TB_SIZE - copy, len) : 0;
    copy += head;
    copied.push(head);
    if (head < len) mapped.push({ frag: i, start: head });
  }
  const tbs = (copy > 0 ? 1 : 0) + (copy > FIRST_TB_SIZE ? 1 : 0) + mapped.length;
  return { hdrLen, payloadLen, copy, copied, mapped, tbs };
}

/** Copies the header and the copied prefixes of `data` into `dst` at `off`, per `plan`. */
export function fillHostCmd(dst: Uint8Array, dv: DataView, off: number, cmd: number, group: number, seq: number,
  data: readonly Uint8Array[], plan: CmdPlan): void {
  let at = off + writeCmdHeader(dv, off, cmd, group, seq, plan.payloadLen);
  for (let i = 0; i < data.length; i++) {
    const n = plan.copied[i] ?? 0;
    if (n > 0) dst.set(data[i]!.subarray(0, n), at);
    at += n;
  }
}

// ---- RX packets ----------------------------------------------------------------------

/**
 * Walks the packets of one receive buffer: le32 len_n_flags (13:0 = header +
 * payload length), stopping at the end marker, a zero length or the end of
 * the buffer; the next packet starts at ALIGN(offset + len + 4, 64). Calls
 * `visit(offset, len)` per packet and returns how many there were. A packet
 * that runs past the buffer is reported through `bad` and ends the walk.
 */
export function walkRb(dv: DataView, base: number, size: number, visit: (off: number, len: number) => void,
  bad?: (off: number, lenNFlags: number) => void): number {
  let off = 0;
  let n = 0;
  while (off + 4 <= size) {
    const lnf = dv.getUint32(base + off, true);
    if (lnf === RX_END_MARKER) break;
    const len = lnf & RX_PKT_LEN_MASK;
    if (len === 0) break;
    if (off + 4 + len > size || len < RX_PKT_HDR - 4) {
      bad?.(off, lnf);
      break;
    }
    visit(off, len);
    n++;
    off = align64(off + len + 4);
  }
  return n;
}

export function align64(v: number): number { return (v + 63) & ~63; }

// ---- ICT ----------------------------------------------------------------------------------

/**
 * Collects ICT entries from `state.index`: ORs them, zeroes them, advances
 * mod 1024 until a zero entry. Returns the raw OR (0 = nothing there).
 */
export function ictCollect(dv: DataView, base: number, state: { index: number }): number {
  let val = 0;
  let read = dv.getUint32(base + state.index * 4, true);
  while (read !== 0) {
    val = (val | read) >>> 0;
    dv.setUint32(base + state.index * 4, 0, true);
    state.index = (state.index + 1) & (ICT.ENTRIES - 1);
    read = dv.getUint32(base + state.index * 4, true);
  }
  return val;
}

/**
 * CSR_INT bits for a raw ICT value, with Linux's hardware workaround: when
 * interrupt coalescing drops the RX bit (15), bits 18/19 stay set, so either
 * of them means RX. 0xFFFFFFFF is ignored.
 */
export function ictRawToInt(raw: number): number {
  let v = raw >>> 0;
  if (v === 0xffffffff) v = 0;
  if ((v & 0xc0000) !== 0) v |= 0x8000;
  return ictToInt(v);
}
