/**
 * Content-addressed store of DMA payloads for the recorder.
 *
 * Payload bytes live in one arena (no object per blob); entries are parallel
 * typed arrays indexed by `id - epochStart`; lookup is an open-addressing
 * table of entry numbers keyed by a 32-bit content hash (four independent
 * multiply lanes over little-endian 32-bit words, so the CPU overlaps them).
 * A hash match is confirmed by comparing length and bytes, so a collision
 * never merges two payloads. When the arena would pass the window, the table
 * starts a new epoch: everything is forgotten and ids continue upwards;
 * readers drop blobs below the epoch start announced in each Blob record.
 *
 * A small cache remembers, per source address, the entry last seen there, so
 * a large buffer DMA'd again unchanged is confirmed with one memcmp and no
 * hash. Since a content has at most one entry per epoch, the cache changes
 * only the speed, never the id.
 *
 * Hashes, cache and table layout stay in memory only; the file depends on
 * the sequence of payloads alone, so traces are byte-identical across machines.
 */
import { isLittleEndianHost } from './format.js';

const MAX_ENTRIES_PER_EPOCH = 1 << 22;
/** Payloads at least this long are copied with a native Buffer call. */
const NATIVE_COPY_MIN = 64;
/** Payloads at least this long are compared with a native Buffer call (below, a word loop is cheaper than the call). */
const NATIVE_COMPARE_MIN = 512;
/** Slots of the source-address cache (a power of two). */
const ADDR_CACHE = 256;
/** Module-local copy: an imported binding costs a getter call per use under some loaders. */
const LE = isLittleEndianHost;

interface SrcView {
  ab: ArrayBufferLike;
  buf: Buffer;
  words: Uint32Array;
}

export class BlobTable {
  private arena: Buffer;
  private arenaWords: Uint32Array;
  private used = 0;
  private table: Int32Array;
  private mask: number;
  private eHash = new Int32Array(1024);
  private eOff = new Int32Array(1024);
  private eLen = new Int32Array(1024);
  private count = 0;
  /** Id of the first blob of the current epoch. */
  epochStart = 0;
  /** Next id to hand out (= blobs defined so far). */
  nextId = 0;
  /** Set by `lookup`: where the payload of the returned id sits in `arenaBytes`. */
  lastOffset = 0;
  /** Set by `lookup`: whether the returned id is new. */
  isNew = false;
  /** Direct-mapped cache: source address -> entry last stored or found there (entry + 1; 0 empty). */
  private readonly cStart = new Float64Array(ADDR_CACHE);
  private readonly cSrc: (ArrayBufferLike | undefined)[] = new Array<ArrayBufferLike | undefined>(ADDR_CACHE).fill(undefined);
  private readonly cEntry = new Int32Array(ADDR_CACHE);
  private readonly views: (SrcView | undefined)[] = [undefined, undefined, undefined, undefined];
  private viewNext = 0;

  constructor(private readonly window: number) {
    this.arena = Buffer.alloc(Math.min(window, 1 << 20) + 8);
    this.arenaWords = new Uint32Array(this.arena.buffer, this.arena.byteOffset, this.arena.length >>> 2);
    this.table = new Int32Array(4096);
    this.mask = 4095;
  }

  get arenaBytes(): Buffer {
    return this.arena;
  }

  /** Buffer and word views of a source ArrayBuffer (a few cached: guest RAM plus device scratch buffers). */
  private viewOf(ab: ArrayBufferLike): SrcView {
    const v = this.views;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== undefined && x.ab === ab) return x;
    }
    const nv: SrcView = { ab, buf: Buffer.from(ab as ArrayBuffer, 0, ab.byteLength), words: new Uint32Array(ab, 0, ab.byteLength >>> 2) };
    v[this.viewNext] = nv;
    this.viewNext = (this.viewNext + 1) & 3;
    return nv;
  }

  /**
   * Id of the payload `data[offset, offset+length)`. Afterwards `isNew` says
   * whether it was just added (the caller then writes its definition from
   * `arenaBytes` at `lastOffset`).
   */
  lookup(data: Uint8Array, offset: number, length: number): number {
    const start = data.byteOffset + offset;
    const src = this.viewOf(data.buffer);
    const aligned = LE && (start & 3) === 0;
    // Large payloads: first try the blob last seen at this very source
    // address; an unchanged buffer then costs one memcmp and no hashing.
    let cslot = -1;
    if (length >= NATIVE_COMPARE_MIN) {
      cslot = ((start >>> 6) ^ (start >>> 14) ^ length) & (ADDR_CACHE - 1);
      const ce = this.cEntry[cslot]! - 1;
      if (ce >= 0 && this.cStart[cslot] === start && this.cSrc[cslot] === src.ab && this.eLen[ce] === length &&
          this.equals(this.eOff[ce]!, src, start, length, aligned)) {
        this.isNew = false;
        this.lastOffset = this.eOff[ce]!;
        return this.epochStart + ce;
      }
    }
    const h = aligned ? hashWords(src.words, start >>> 2, length, src.buf, start) : hashBytes(src.buf, start, length);
    let slot = h & this.mask;
    const table = this.table;
    for (;;) {
      const e = table[slot]!;
      if (e === 0) break;
      const i = e - 1;
      if (this.eHash[i] === h && this.eLen[i] === length && this.equals(this.eOff[i]!, src, start, length, aligned)) {
        if (cslot >= 0) this.remember(cslot, start, src.ab, i);
        this.isNew = false;
        this.lastOffset = this.eOff[i]!;
        return this.epochStart + i;
      }
      slot = (slot + 1) & this.mask;
    }
    // New payload.
    const off = (this.used + 3) & ~3;
    if (this.count > 0 && (off + length > this.window || this.count >= MAX_ENTRIES_PER_EPOCH)) {
      this.newEpoch();
      return this.lookup(data, offset, length);
    }
    if (off + length > this.arena.length) this.growArena(off + length);
    if (length >= NATIVE_COPY_MIN) src.buf.copy(this.arena, off, start, start + length);
    else for (let k = 0; k < length; k++) this.arena[off + k] = src.buf[start + k]!;
    this.used = off + length;
    const i = this.count++;
    if (i >= this.eHash.length) this.growEntries();
    this.eHash[i] = h;
    this.eOff[i] = off;
    this.eLen[i] = length;
    table[slot] = i + 1;
    if (cslot >= 0) this.remember(cslot, start, src.ab, i);
    if (this.count * 2 > table.length) this.rehash(table.length * 2);
    this.isNew = true;
    this.lastOffset = off;
    return this.nextId++;
  }

  private equals(off: number, src: SrcView, start: number, length: number, aligned: boolean): boolean {
    if (length >= NATIVE_COMPARE_MIN) return this.arena.compare(src.buf, start, start + length, off, off + length) === 0;
    const a = this.arena;
    let k = 0;
    if (aligned) {
      const aw = this.arenaWords;
      const sw = src.words;
      const ao = off >>> 2;
      const so = start >>> 2;
      const n = length >>> 2;
      for (; k < n; k++) if (aw[ao + k] !== sw[so + k]) return false;
      k <<= 2;
    }
    const sb = src.buf;
    for (; k < length; k++) if (a[off + k] !== sb[start + k]) return false;
    return true;
  }

  private remember(cslot: number, start: number, ab: ArrayBufferLike, entry: number): void {
    this.cStart[cslot] = start;
    this.cSrc[cslot] = ab;
    this.cEntry[cslot] = entry + 1;
  }

  private newEpoch(): void {
    this.cEntry.fill(0);
    this.epochStart = this.nextId;
    this.count = 0;
    this.used = 0;
    this.table.fill(0);
    if (this.table.length > 1 << 16) {
      this.table = new Int32Array(4096);
      this.mask = 4095;
    }
  }

  private growArena(need: number): void {
    let size = this.arena.length;
    while (size < need) size *= 2;
    size = Math.max(need, Math.min(size, this.window));
    const na = Buffer.alloc(size + 8);
    this.arena.copy(na, 0, 0, this.used);
    this.arena = na;
    this.arenaWords = new Uint32Array(na.buffer, na.byteOffset, na.length >>> 2);
  }

  private growEntries(): void {
    const n = this.eHash.length * 2;
    const h = new Int32Array(n); h.set(this.eHash); this.eHash = h;
    const o = new Int32Array(n); o.set(this.eOff); this.eOff = o;
    const l = new Int32Array(n); l.set(this.eLen); this.eLen = l;
  }

  private rehash(size: number): void {
    const t = new Int32Array(size);
    const mask = size - 1;
    for (let i = 0; i < this.count; i++) {
      let s = this.eHash[i]! & mask;
      while (t[s] !== 0) s = (s + 1) & mask;
      t[s] = i + 1;
    }
    this.table = t;
    this.mask = mask;
  }
}

function finish(a: number, b: number, c: number, d: number, length: number): number {
  // Each lane's last xor-ed word is not yet diffused: multiply every lane once more before combining.
  let h = Math.imul(a, 0x85ebca6b) ^ Math.imul(b, 0xc2b2ae35) ^ Math.imul(c ^ (c >>> 15), 0x27d4eb2f) ^ Math.imul(d ^ (d >>> 15), 0x165667b1) ^ length;
  h ^= (a >>> 16) ^ (b >>> 13) ^ (c >>> 11) ^ (d >>> 17);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * Four-lane word hash; `words[w0..]` holds the payload (little-endian host,
 * aligned). Each step of a lane takes two words, one before and one after the
 * multiply (the next multiply diffuses the second); the lanes are independent
 * so the CPU overlaps them. `finish` mixes the lanes and the tail.
 */
function hashWords(words: Uint32Array, w0: number, length: number, bytes: Uint8Array, start: number): number {
  let a = 0x811c9dc5 ^ length, b = 0x9747b28c | 0, c = 0x27d4eb2f, d = 0x165667b1; // all int32 so the loop stays in integer registers
  const n = length >>> 2;
  const n8 = n & ~7;
  let i = 0;
  for (; i < n8; i += 8) {
    const q = w0 + i;
    a = Math.imul(a ^ words[q]!, 0x01000193) ^ words[q + 4]!;
    b = Math.imul(b ^ words[q + 1]!, 0x5bd1e995) ^ words[q + 5]!;
    c = Math.imul(c ^ words[q + 2]!, 0x01000193) ^ words[q + 6]!;
    d = Math.imul(d ^ words[q + 3]!, 0x5bd1e995) ^ words[q + 7]!;
  }
  for (; i < n; i++) a = Math.imul(a ^ words[w0 + i]!, 0x01000193);
  for (let p = start + (n << 2); p < start + length; p++) b = Math.imul(b ^ bytes[p]!, 0x5bd1e995);
  return finish(a, b, c, d, length);
}

/** The same hash over bytes read as little-endian words (unaligned payloads, big-endian hosts). */
function hashBytes(bytes: Uint8Array, start: number, length: number): number {
  let a = 0x811c9dc5 ^ length, b = 0x9747b28c | 0, c = 0x27d4eb2f, d = 0x165667b1; // all int32 so the loop stays in integer registers
  const n = length >>> 2;
  const n8 = n & ~7;
  const w = (k: number): number => {
    const p = start + (k << 2);
    return bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
  };
  let i = 0;
  for (; i < n8; i += 8) {
    a = Math.imul(a ^ w(i), 0x01000193) ^ w(i + 4);
    b = Math.imul(b ^ w(i + 1), 0x5bd1e995) ^ w(i + 5);
    c = Math.imul(c ^ w(i + 2), 0x01000193) ^ w(i + 6);
    d = Math.imul(d ^ w(i + 3), 0x5bd1e995) ^ w(i + 7);
  }
  for (; i < n; i++) a = Math.imul(a ^ w(i), 0x01000193);
  for (let p = start + (n << 2); p < start + length; p++) b = Math.imul(b ^ bytes[p]!, 0x5bd1e995);
  return finish(a, b, c, d, length);
}
