/**
 * The FH service channel (TX DMA channel 9): how the host pushes firmware
 * chunks into device SRAM (fact sheet A9 step 4).
 *
 * The driver programs the SRAM destination (0x19C8), the host address and
 * byte count (TFDIB_CTRL0/1 of channel 9: 0x1948, 0x194C = addr 35:32 << 28
 * | bytes), the buffer status (0x1E28, valid TB bits 1:0 = 3) and kicks with
 * TX_CONFIG(9) = 0x80100000. The copy takes SRVC_SETUP + 1 ns per byte;
 * then the bytes land in SRAM ('iwl.fw-chunk' DMA read), a 'fw.chunk'
 * milestone (a = SRAM destination, b = bytes) is recorded and FH_TX is
 * raised (FH_INT TX channel 0 + INT.FH_TX), after every chunk (A10.8).
 *
 * A chunk whose destination lies in 0x40000-0x57FFF while LMPM_CHICK bit 0
 * is clear, or outside SRAM, is read from host memory but not stored:
 * guestErr, and FH_TX is still raised (the DMA completes, the data never
 * reaches the firmware; its image check then fails at release). A kick
 * with an invalid descriptor (buffer status not valid, 0 or more than
 * 0x20000 bytes) or while a chunk is in flight does nothing but a guestErr.
 * The transfer consumes the TB (TX_BUF_STS(9) bits 1:0 clear), so enabling
 * channel 9 again without new buffer status moves nothing.
 *
 * Chunk numbering for the corruptChunk fault: `load` counts CPU releases
 * since the device was created; `chunk` counts chunks since the last
 * release or reset.
 */
import { NO_EVENT } from '../../../sim/event-queue.js';
import type { Duration } from '../../../sim/time.js';
import {
  EXTENDED_ADDR_HIGH, EXTENDED_ADDR_LOW, FH, FH_INT, FH_TCSR_TX_CONFIG, FH_MEM_TB_MAX_LENGTH, FH_SRVC_CHNL, LMPM_CHICK_EXTENDED_ADDR_SPACE,
} from '../regs.js';
import { hex, type TransportEnv } from './env.js';
import type { Interrupts } from './interrupts.js';
import type { Prph } from './prph.js';
import type { DeviceSram } from './sram.js';
import { Ev, HostileTiming, Timing } from './timing.js';

export interface CorruptChunkFault {
  load: number;
  chunk: number;
  byteSeed: number;
}

const TFDB_VALID = 0x3;

export class ServiceChannel {
  busy = false;
  /** CPU releases since the device was created (the fault's `load`). */
  loadIndex = 0;
  /** Chunks since the last release or reset (the fault's `chunk`). */
  chunkInLoad = 0;

  /** Counters. */
  chunks = 0;
  failedChunks = 0;
  bytes = 0;

  private ev = NO_EVENT;
  private dest = 0;
  private src = 0;
  private len = 0;
  private readonly buf = new Uint8Array(FH_MEM_TB_MAX_LENGTH);

  constructor(
    private readonly t: TransportEnv,
    private readonly sram: DeviceSram,
    private readonly prph: Prph,
    private readonly ints: Interrupts,
    private readonly fault: CorruptChunkFault | null,
  ) {}

  /** SW reset / function reset: drop the chunk in flight; numbering within the load restarts. */
  reset(): void {
    this.stop();
    this.chunkInLoad = 0;
  }

  /** The CPU was released: the next chunk starts a new load. */
  noteRelease(): void {
    this.loadIndex++;
    this.chunkInLoad = 0;
  }

  /** TX_CONFIG(9) written without DMA enable: a chunk in flight is abandoned (no interrupt). */
  stop(): void {
    this.t.queue.cancel(this.ev);
    this.ev = NO_EVENT;
    this.busy = false;
  }

  /** TX_CONFIG(9) written with DMA enable. */
  kick(txConfig: number): void {
    const t = this.t;
    if (this.busy) {
      t.err('iwl.fh.srvc.busy', `${t.name}: service channel kicked while a chunk is in flight; ignored`);
      return;
    }
    const ch = FH_SRVC_CHNL;
    const ctrl1 = t.reg(FH.TFDIB_CTRL1 + 8 * ch);
    const bufSts = t.reg(FH.TCSR_CHNL_TX_BUF_STS + 0x20 * ch);
    this.dest = t.reg(FH.SRVC_CHNL_SRAM_ADDR);
    this.src = (ctrl1 >>> 28) * 0x1_0000_0000 + t.reg(FH.TFDIB_CTRL0 + 8 * ch);
    this.len = ctrl1 & 0x0fffffff;
    if ((bufSts & TFDB_VALID) !== TFDB_VALID) {
      // Nothing to move. Enabling channel 9 like a normal channel (0x80000008, a loop over 10 channels) is
      // harmless; a real kick (interrupt at end of TFD requested) without a valid TB is a driver bug.
      if ((txConfig & FH_TCSR_TX_CONFIG.HOST_END_TFD) !== 0) {
        t.err('iwl.fh.srvc.buf-sts', `${t.name}: service channel kicked with TX_BUF_STS(9) = ${hex(bufSts)} (no valid TB); nothing transferred`);
      }
      return;
    }
    if (this.len === 0 || this.len > FH_MEM_TB_MAX_LENGTH) {
      t.err('iwl.fh.srvc.len', `${t.name}: service channel chunk of ${this.len} bytes (1..${FH_MEM_TB_MAX_LENGTH} allowed); nothing transferred`);
      return;
    }
    this.busy = true;
    const setup = t.delay(Timing.SRVC_SETUP, HostileTiming.SRVC_SETUP);
    this.ev = t.queue.schedule((setup + this.len * t.vary(Timing.SRVC_PS_PER_BYTE, HostileTiming.SRVC_PS_PER_BYTE)) as Duration, t.target, Ev.SRVC_DONE);
  }

  onDone(): void {
    const t = this.t;
    this.ev = NO_EVENT;
    this.busy = false;
    // The TB is consumed: a later enable without new buffer status moves nothing.
    t.consumeSrvcTb();
    const { dest, len } = this;
    const read = t.dma.read(this.src, this.buf, 0, len, 'iwl.fw-chunk');
    let ok = read;
    if (dest >= EXTENDED_ADDR_LOW && dest <= EXTENDED_ADDR_HIGH && (this.prph.lmpmChick & LMPM_CHICK_EXTENDED_ADDR_SPACE) === 0) {
      t.err('iwl.fh.srvc.ext-addr', `${t.name}: chunk for SRAM ${hex(dest)} (extended range 0x40000-0x57FFF) loaded without LMPM_CHICK bit 0; data lost`);
      ok = false;
    } else if (!this.sram.backed(dest, len)) {
      t.err('iwl.fh.srvc.dest', `${t.name}: chunk for SRAM ${hex(dest)} (+${len}) is outside device SRAM; data lost`);
      ok = false;
    }
    const f = this.fault;
    if (ok && f !== null && f.load === this.loadIndex && f.chunk === this.chunkInLoad) {
      const off = Math.abs(Math.trunc(f.byteSeed)) % len;
      this.buf[off] = this.buf[off]! ^ 0xff;
      t.milestone('fault.corrupt-chunk', dest + off, this.chunkInLoad);
    }
    if (ok) {
      this.sram.write(dest, this.buf, len);
      this.bytes += len;
      t.milestone('fw.chunk', dest, len);
    } else {
      this.failedChunks++;
    }
    this.chunks++;
    this.chunkInLoad++;
    this.ints.raise(0, FH_INT.TX_CH0);
  }
}
