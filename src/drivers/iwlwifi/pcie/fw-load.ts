/**
 * Firmware loading through the FH service channel (Linux pcie/trans.c
 * iwl_pcie_load_section / iwl_pcie_load_firmware_chunk): each section goes
 * in chunks of at most 0x20000 bytes from one coherent bounce buffer; a
 * chunk whose destination lies in 0x40000-0x57FFF needs LMPM_CHICK bit 0
 * (extended address space) around it; every chunk waits for the FH_TX
 * interrupt, up to 5 s.
 */
import type { Co } from '../../../sim/scheduler.js';
import { EIO, ENOMEM, ETIMEDOUT } from '../../../kernel/errno.js';
import { CPU1_CPU2_SEPARATOR_SECTION, PAGING_SEPARATOR_SECTION, type Section } from '../fw/file.js';
import { FH, FH_MEM_TB_MAX_LENGTH, FH_SRVC_CHNL, FH_TX_BUF_STS_SRVC, FH_TX_CONFIG_SRVC_KICK } from '../iwl-fh.js';
import { EXTENDED_ADDR_HIGH, EXTENDED_ADDR_LOW, LMPM_CHICK, LMPM_CHICK_EXTENDED_ADDR_SPACE } from '../iwl-prph.js';
import type { PcieTrans } from './trans.js';

/** How long the driver waits for the FH_TX interrupt of one chunk. */
export const FW_CHUNK_TIMEOUT_MS = 5000;

export interface FwChunk {
  /** Index of the section in the image. */
  section: number;
  /** SRAM destination of this chunk. */
  dest: number;
  /** Offset of the chunk in the section's data. */
  offset: number;
  len: number;
  /** Destination in the extended address space: LMPM_CHICK bit 0 around the chunk. */
  extended: boolean;
}

/**
 * The chunks to send for `sections`, in order. The CPU1/CPU2 separator is
 * skipped; the paging separator ends the list (paging sections are not
 * loaded through the service channel).
 */
export function planChunks(sections: readonly Section[], maxChunk = FH_MEM_TB_MAX_LENGTH): FwChunk[] {
  const out: FwChunk[] = [];
  for (let s = 0; s < sections.length; s++) {
    const sec = sections[s]!;
    if (sec.dest === PAGING_SEPARATOR_SECTION) break;
    if (sec.dest === CPU1_CPU2_SEPARATOR_SECTION) continue;
    for (let off = 0; off < sec.data.length; off += maxChunk) {
      const dest = sec.dest + off;
      out.push({
        section: s, dest, offset: off, len: Math.min(maxChunk, sec.data.length - off),
        extended: dest >= EXTENDED_ADDR_LOW && dest <= EXTENDED_ADDR_HIGH,
      });
    }
  }
  return out;
}

/** Service-channel registers of channel 9. */
const SRVC_TX_CONFIG = FH.TCSR_CHNL_TX_CONFIG + 0x20 * FH_SRVC_CHNL;
const SRVC_BUF_STS = FH.TCSR_CHNL_TX_BUF_STS + 0x20 * FH_SRVC_CHNL;
const SRVC_TFDIB_CTRL0 = FH.TFDIB_CTRL0 + 8 * FH_SRVC_CHNL;
const SRVC_TFDIB_CTRL1 = FH.TFDIB_CTRL1 + 8 * FH_SRVC_CHNL;

/** Loads every chunk of `sections`; 0 or -errno. */
export function* loadSections(t: PcieTrans, sections: readonly Section[]): Co<number> {
  const { k, io } = t;
  const chunks = planChunks(sections);
  if (chunks.length === 0) {
    io.err('no firmware sections to load');
    return -EIO;
  }
  let size = 0;
  for (const c of chunks) size = Math.max(size, c.len);
  const buf = k.dma_alloc_coherent(t.pdev, size);
  if (buf === null) {
    io.err(`could not allocate ${size} bytes for the firmware chunk buffer`);
    return -ENOMEM;
  }
  let ret = 0;
  for (const c of chunks) {
    const sec = sections[c.section]!;
    k.sys.memcpy(buf.cpu, 0, sec.data, c.offset, c.len);
    if (c.extended) io.prphSetBits(LMPM_CHICK, LMPM_CHICK_EXTENDED_ADDR_SPACE);
    ret = yield* loadChunk(t, c.dest, buf.dma, c.len);
    if (c.extended) io.prphClearBits(LMPM_CHICK, LMPM_CHICK_EXTENDED_ADDR_SPACE);
    if (ret < 0) {
      io.err(`Could not load the [${c.section}] uCode section`);
      break;
    }
  }
  k.dma_free_coherent(t.pdev, buf);
  return ret;
}

function* loadChunk(t: PcieTrans, dest: number, dma: number, len: number): Co<number> {
  const { k, io } = t;
  k.reinit_completion(t.fwChunkDone);
  if (!io.grabNicAccess()) return -EIO;
  io.write32(SRVC_TX_CONFIG, 0); // pause the channel
  io.write32(FH.SRVC_CHNL_SRAM_ADDR, dest);
  io.write32(SRVC_TFDIB_CTRL0, dma >>> 0);
  io.write32(SRVC_TFDIB_CTRL1, (((Math.floor(dma / 0x1_0000_0000) & 0xf) << 28) | len) >>> 0);
  io.write32(SRVC_BUF_STS, FH_TX_BUF_STS_SRVC);
  io.write32(SRVC_TX_CONFIG, FH_TX_CONFIG_SRVC_KICK);
  io.releaseNicAccess();
  const left = yield* k.wait_for_completion_timeout(t.fwChunkDone, k.msecs_to_jiffies(FW_CHUNK_TIMEOUT_MS));
  if (left === 0) {
    io.err('Failed to load firmware chunk!');
    return -ETIMEDOUT;
  }
  return 0;
}
