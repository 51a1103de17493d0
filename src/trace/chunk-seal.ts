/**
 * A chunk's raw bytes as they go into the file (docs/TRACE-FORMAT.md
 * "Chunks"): lz4-compressed, behind a header of their lengths, event count,
 * first sequence number and time, with a CRC over the header's fields and
 * the block. The recorder seals its chunks here, and so does the trace
 * writer thread for the chunks it is handed (./writer-thread.ts).
 */
import { compressSync } from 'lz4-napi';
import { CHUNK_CRC_FROM, CHUNK_HEADER_SIZE, crc32, writeF64, writeU32 } from './format.js';

/** Compresses raw[0, rawLen), fills `head` (CHUNK_HEADER_SIZE bytes) and returns the compressed block. */
export function sealChunk(raw: Uint8Array, rawLen: number, count: number, firstSeq: number, firstTime: number, head: Uint8Array): Buffer {
  const comp = compressSync(Buffer.from(raw.buffer, raw.byteOffset, rawLen));
  writeU32(head, 0, comp.length);
  writeU32(head, 8, rawLen);
  writeU32(head, 12, count);
  writeF64(head, 16, firstSeq);
  writeF64(head, 24, firstTime);
  // The CRC covers the chunk header's fields after it, then the block (format 3).
  writeU32(head, 4, crc32(comp, crc32(head.subarray(CHUNK_CRC_FROM, CHUNK_HEADER_SIZE))));
  return comp;
}
