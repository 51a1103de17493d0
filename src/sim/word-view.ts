/**
 * 32-bit views for copying and comparing short payloads a word at a time
 * (queue entries, completions) instead of a byte at a time. A view covers the
 * whole buffer of a long-lived byte array (guest RAM, a reader's delta bases)
 * and is made once per array: the last array asked about is remembered,
 * with its byteOffset (a property slow to read per payload). Arrays on short
 * buffers get no view (they may be new per payload, and a view each would
 * cost more than the bytes); that too is remembered for the last array.
 */

/** Buffers shorter than this get no view. */
const VIEW_MIN = 1024;

export class WordView {
  private arr: Uint8Array | undefined;
  private words: Uint32Array<ArrayBufferLike> | undefined = undefined;
  /** `byteOffset` of the array `of` was last asked about. */
  offset = 0;

  /** The words of `a`'s buffer (index = byte offset / 4, from the buffer's start; `offset` is a's), or undefined. */
  of(a: Uint8Array): Uint32Array<ArrayBufferLike> | undefined {
    if (a === this.arr) {
      // A view of a buffer since detached (a grown wasm memory) has no words left: looked at again.
      const w = this.words;
      if (w === undefined || w.length !== 0) return w;
    }
    const buf = a.buffer;
    this.arr = a;
    this.offset = a.byteOffset;
    this.words = buf.byteLength >= VIEW_MIN ? new Uint32Array(buf, 0, buf.byteLength >>> 2) : undefined;
    return this.words;
  }
}
