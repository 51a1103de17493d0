/**
 * Small structured DMA payloads (queue entries, completions, descriptors) as
 * word deltas against the previous payload of the same stream (format 6,
 * Rec.DmaDelta). A stream is one device, tag and direction; the base is the
 * last payload of that stream in the same chunk (every chunk starts without
 * bases, so a lost chunk cannot corrupt the next one). A delta stores a mask
 * of the 32-bit words that changed and those words.
 *
 * The recorder and the reader keep the same bases by the same rule: every
 * DMA event of an eligible stream (length DELTA_MIN..DELTA_MAX, a multiple of
 * 4; an interned tag below 2^20; a device below 1024) replaces its stream's
 * base, whatever record stored it.
 */
import { grown } from '../sim/grown.js';
import { WordView } from '../sim/word-view.js';

export const DELTA_MIN = 8;
export const DELTA_MAX = 128;
const MAX_DEV = 1024;
const MAX_TAG = 1 << 20;

/** Entries of DeltaBases' table of recent keys. */
const RECENT = 64;

/** A key's entry in that table: device, tag and direction bits mixed. */
function recentIndex(key: number): number {
  return (key ^ (key >>> 6) ^ (key >>> 21)) & (RECENT - 1);
}

/** Stream key of an eligible payload, or -1 (fits a small integer: no allocation as a Map key). */
export function deltaKey(dev: number, tagId: number, write: boolean, length: number): number {
  if (length < DELTA_MIN || length > DELTA_MAX || (length & 3) !== 0 || dev < 0 || dev >= MAX_DEV || tagId < 0 || tagId >= MAX_TAG) return -1;
  return (dev << 21) | (tagId << 1) | (write ? 1 : 0);
}

/**
 * The bases of the current chunk, with no allocation once a stream has a slot.
 * A base is held as a copy in `store`, or (`refer`, the reader's side) as a
 * reference to bytes that stay as they are, copied only when a delta applies
 * to it: most payloads are never the base of a delta.
 */
export class DeltaBases {
  private readonly slot = new Map<number, number>();
  /** Recent keys' slots, direct-mapped by key bits (-1: empty): a stream's next payload finds its slot without a Map lookup. */
  private readonly recentKey = new Int32Array(RECENT).fill(-1);
  private readonly recentSlot = new Int32Array(RECENT);
  private bytes = new Uint8Array(16 * DELTA_MAX);
  /** `bytes` as 32-bit words (a slot starts on a word). */
  private words = new Uint32Array(this.bytes.buffer);
  /** Per slot: the words of the array its payloads come from (a stream's payloads come from one array). */
  private readonly src: WordView[] = [];
  private lens = new Int32Array(16);
  private gens = new Int32Array(16);
  /** Where a slot's base is a reference (from `refAt[s]`), not yet in `bytes`: the referenced array; else undefined. */
  private readonly refs: (Uint8Array | undefined)[] = [];
  private refAt = new Int32Array(16);
  private gen = 1;
  /** Where `baseLength` found the base: byte offset in `store`. */
  at = 0;

  /** Forgets every base (a new chunk). */
  reset(): void {
    this.gen++;
    this.refs.fill(undefined);
  }

  get store(): Uint8Array {
    return this.bytes;
  }

  /** Length of stream `key`'s base in this chunk (setting `at`), or -1. */
  baseLength(key: number): number {
    const s = this.find(key);
    if (s < 0 || this.gens[s] !== this.gen) return -1;
    if (this.refs[s] !== undefined) this.copyReferenced(s);
    this.at = s * DELTA_MAX;
    return this.lens[s]!;
  }

  /** Makes data[offset, offset+length) the base of stream `key`. */
  set(key: number, data: Uint8Array, offset: number, length: number): void {
    const s = this.slotOf(key);
    this.copyIn(s, data, offset, length);
    this.lens[s] = length;
    this.gens[s] = this.gen;
    this.refs[s] = undefined;
  }

  /**
   * As `set`, keeping a reference instead of a copy: `data` must stay as it
   * is while it is the base (until the stream's next payload or `reset`).
   */
  refer(key: number, data: Uint8Array, offset: number, length: number): void {
    const s = this.slotOf(key);
    this.refs[s] = data;
    this.refAt[s] = offset;
    this.lens[s] = length;
    this.gens[s] = this.gen;
  }

  /** Copies slot s's referenced base into `bytes`. */
  private copyReferenced(s: number): void {
    this.copyIn(s, this.refs[s]!, this.refAt[s]!, this.lens[s]!);
    this.refs[s] = undefined;
  }

  /** data[offset, offset+length) into slot s's bytes. */
  private copyIn(s: number, data: Uint8Array, offset: number, length: number): void {
    const b = this.bytes;
    const o = s * DELTA_MAX;
    for (let i = 0; i < length; i++) b[o + i] = data[offset + i]!;
  }

  /**
   * Makes data[offset, offset+length) the base of stream `key` and returns the mask of the 32-bit
   * words that differ from the base it replaces (bit i = word i), or -1 when the stream had no base
   * of `length` bytes in this chunk. Compares and copies in one pass (the recorder's side).
   */
  swap(key: number, data: Uint8Array, offset: number, length: number): number {
    const s = this.slotOf(key);
    const o = s * DELTA_MAX;
    const had = this.gens[s] === this.gen && this.lens[s] === length;
    if (had && this.refs[s] !== undefined) this.copyReferenced(s);
    this.refs[s] = undefined;
    this.lens[s] = length;
    this.gens[s] = this.gen;
    if (!had) {
      this.copyIn(s, data, offset, length);
      return -1;
    }
    // A word at a time where the payload's array is a view of a long-lived buffer (a device's
    // queue-entry memory) and the payload starts on a word; else a byte at a time.
    const view = this.src[s]!;
    const dw = view.of(data);
    const at = view.offset + offset;
    if (dw !== undefined && (at & 3) === 0) {
      const bw = this.words;
      let mask = 0;
      for (let w = 0, x = at >>> 2, y = o >>> 2, n = length >>> 2; w < n; w++) {
        const v = dw[x + w]!;
        if (bw[y + w] !== v) {
          mask |= 1 << w;
          bw[y + w] = v;
        }
      }
      return mask >>> 0;
    }
    const b = this.bytes;
    let mask = 0;
    for (let w = 0, i = 0; i < length; w++, i += 4) {
      const d0 = data[offset + i]!, d1 = data[offset + i + 1]!, d2 = data[offset + i + 2]!, d3 = data[offset + i + 3]!;
      const j = o + i;
      if (b[j] !== d0 || b[j + 1] !== d1 || b[j + 2] !== d2 || b[j + 3] !== d3) {
        mask |= 1 << w;
        b[j] = d0; b[j + 1] = d1; b[j + 2] = d2; b[j + 3] = d3;
      }
    }
    return mask >>> 0;
  }

  /** Drops stream `key`'s base (its last payload is unknown to a reader). */
  forget(key: number): void {
    const s = this.find(key);
    if (s < 0) return;
    this.gens[s] = 0;
    this.refs[s] = undefined;
  }

  /** Stream `key`'s slot, given one on first sight. */
  private slotOf(key: number): number {
    let s = this.find(key);
    if (s < 0) {
      s = this.slot.size;
      if (s >= this.lens.length) this.growTo(2 * this.lens.length);
      this.slot.set(key, s);
      this.src.push(new WordView());
      this.recentKey[recentIndex(key)] = key;
      this.recentSlot[recentIndex(key)] = s;
    }
    return s;
  }

  /** Stream `key`'s slot, or -1 if it has none. */
  private find(key: number): number {
    const r = recentIndex(key);
    if (this.recentKey[r] === key) return this.recentSlot[r]!;
    const s = this.slot.get(key);
    if (s === undefined) return -1;
    this.recentKey[r] = key;
    this.recentSlot[r] = s;
    return s;
  }

  private growTo(n: number): void {
    this.bytes = grown(this.bytes, n * DELTA_MAX);
    this.words = new Uint32Array(this.bytes.buffer);
    this.lens = grown(this.lens, n);
    this.gens = grown(this.gens, n);
    this.refAt = grown(this.refAt, n);
  }
}

export function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
