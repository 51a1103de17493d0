/**
 * Content-addressed store of DMA payloads for the recorder.
 *
 * Payload bytes live in an arena of fixed-size segments (no object per
 * blob; a full segment is never copied, and only the memory actually used
 * is touched); entries are parallel typed arrays indexed by `id -
 * epochStart`; lookup is an open-addressing table of entry numbers keyed by
 * a 32-bit content hash. A hash match is always confirmed by comparing length
 * and bytes, so a collision never merges two payloads and identical payloads
 * always get the same id. When the (virtual) arena would pass the window, the
 * table starts a new epoch: everything is forgotten and ids continue upwards;
 * readers drop blobs below the epoch start announced in each Blob record.
 *
 * Hashing a large payload in full costs more than comparing it, so payloads
 * of SAMPLE_MIN bytes or more are keyed by a *sampled* hash (length, the
 * first 64 bytes, 16 words spread over the rest and the last 8 bytes). The
 * byte compare keeps this exact; the risk is only speed, when many distinct
 * payloads agree at every sampled word. The table watches for that (probes
 * that hit an equal sampled hash with different bytes) and, past a small
 * budget, rehashes every entry with the full hash and uses it from then on.
 *
 * A small cache remembers, per source address, the entry last seen there, so
 * a large buffer DMA'd again unchanged is confirmed with one memcmp and no
 * hash. Since a content has at most one entry per epoch, the cache and the
 * hash choice change only the speed, never the id.
 *
 * Hashes, cache and table layout stay in memory only; the file depends on
 * the sequence of payloads alone, so traces are byte-identical across machines.
 */
import { isLittleEndianHost } from './format.js';
import { grown } from '../sim/grown.js';

const MAX_ENTRIES_PER_EPOCH = 1 << 22;
/** Arena segment size; a larger payload gets a segment of its own. */
const SEGMENT_BYTES = 1 << 20;
/** Payloads at least this long are copied with a native Buffer call. */
const NATIVE_COPY_MIN = 64;
/** Payloads at least this long are compared with a native Buffer call (below, a word loop is cheaper than the call). */
const NATIVE_COMPARE_MIN = 512;
/** Payloads at least this long are keyed by the sampled hash (unless the table switched to full hashing). */
const SAMPLE_MIN = 256;
/** Probes of one lookup that may find an equal sampled hash with different bytes before full hashing takes over. */
const FALSE_MATCHES_PER_LOOKUP = 4;
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
  private readonly segs: Buffer[] = [];
  private readonly segWords: Uint32Array[] = [];
  /** Segment being filled and the bytes used in it. */
  private seg = 0;
  private segUsed = 0;
  /** Arena bytes as if payloads were packed back to back at 4-byte alignment: decides epochs. */
  private used = 0;
  private table: Int32Array;
  private mask: number;
  private eHash = new Int32Array(1024);
  private eSeg = new Int32Array(1024);
  private eOff = new Int32Array(1024);
  private eLen = new Int32Array(1024);
  private count = 0;
  /** Set once sampled hashing proved a poor key for this data: every payload is then hashed in full. */
  private fullHash = false;
  private falseMatches = 0;
  private lookups = 0;
  /** Id of the first blob of the current epoch. */
  epochStart = 0;
  /** Next id to hand out (= blobs defined so far). */
  nextId = 0;
  /** Set by `lookup`: the segment and offset where the payload of the returned id sits. */
  lastBuffer: Buffer;
  lastOffset = 0;
  /** Set by `lookup`: whether the returned id is new. */
  isNew = false;
  /** Direct-mapped cache: source address -> entry last stored or found there (entry + 1; 0 empty). */
  private readonly cStart = new Float64Array(ADDR_CACHE);
  private readonly cSrc: (ArrayBufferLike | undefined)[] = new Array<ArrayBufferLike | undefined>(ADDR_CACHE).fill(undefined);
  private readonly cEntry = new Int32Array(ADDR_CACHE);
  private readonly views: (SrcView | undefined)[] = [undefined, undefined, undefined, undefined];
  private readonly viewMap = new WeakMap<ArrayBufferLike, SrcView>();
  private viewNext = 0;

  constructor(private readonly window: number) {
    this.table = new Int32Array(4096);
    this.mask = 4095;
    this.newSegment(0, Math.min(SEGMENT_BYTES, window + 8));
    this.lastBuffer = this.segs[0]!;
  }

  /**
   * Buffer and word views of a source ArrayBuffer: the last few used are
   * checked first (guest RAM, device scratch buffers, disk storage), then a
   * weak map (a disk's many overlay chunks).
   */
  private viewOf(ab: ArrayBufferLike): SrcView {
    const v = this.views;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      if (x !== undefined && x.ab === ab) return x;
    }
    let nv = this.viewMap.get(ab);
    if (nv === undefined) {
      nv = { ab, buf: Buffer.from(ab as ArrayBuffer, 0, ab.byteLength), words: new Uint32Array(ab, 0, ab.byteLength >>> 2) };
      this.viewMap.set(ab, nv);
    }
    v[this.viewNext] = nv;
    this.viewNext = (this.viewNext + 1) & 3;
    return nv;
  }

  /**
   * Id of the payload `data[offset, offset+length)`. Afterwards `isNew` says
   * whether it was just added (the caller then writes its definition from
   * `lastBuffer` at `lastOffset`).
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
          this.equals(ce, src, start, length, aligned)) {
        return this.found(ce);
      }
    }
    const h = this.hashOf(src, start, length, aligned);
    let slot = h & this.mask;
    const table = this.table;
    let falseMatches = 0;
    this.lookups++;
    for (;;) {
      const e = table[slot]!;
      if (e === 0) break;
      const i = e - 1;
      if (this.eHash[i] === h && this.eLen[i] === length) {
        if (this.equals(i, src, start, length, aligned)) {
          if (cslot >= 0) this.remember(cslot, start, src.ab, i);
          return this.found(i);
        }
        // Same key, different bytes: expected to be rare; if it is not, the sampled hash is a poor key here.
        if (length >= SAMPLE_MIN && !this.fullHash && ++falseMatches >= FALSE_MATCHES_PER_LOOKUP) break;
      }
      slot = (slot + 1) & this.mask;
    }
    if (falseMatches > 0) {
      this.falseMatches += falseMatches;
      if (falseMatches >= FALSE_MATCHES_PER_LOOKUP || this.falseMatches > 64 + (this.lookups >>> 4)) {
        this.switchToFullHash();
        return this.lookup(data, offset, length);
      }
    }
    // New payload.
    const voff = (this.used + 3) & ~3;
    if (this.count > 0 && (voff + length > this.window || this.count >= MAX_ENTRIES_PER_EPOCH)) {
      this.newEpoch();
      return this.lookup(data, offset, length);
    }
    this.used = voff + length;
    const off = this.place(length);
    const dst = this.segs[this.seg]!;
    if (length >= NATIVE_COPY_MIN) src.buf.copy(dst, off, start, start + length);
    else for (let k = 0; k < length; k++) dst[off + k] = src.buf[start + k]!;
    const i = this.count++;
    if (i >= this.eHash.length) this.growEntries();
    this.eHash[i] = h;
    this.eSeg[i] = this.seg;
    this.eOff[i] = off;
    this.eLen[i] = length;
    table[slot] = i + 1;
    if (cslot >= 0) this.remember(cslot, start, src.ab, i);
    if (this.count * 2 > table.length) this.rehash(table.length * 2);
    this.isNew = true;
    this.lastBuffer = dst;
    this.lastOffset = off;
    return this.nextId++;
  }

  private found(i: number): number {
    this.isNew = false;
    this.lastBuffer = this.segs[this.eSeg[i]!]!;
    this.lastOffset = this.eOff[i]!;
    return this.epochStart + i;
  }

  private hashOf(src: SrcView, start: number, length: number, aligned: boolean): number {
    if (length >= SAMPLE_MIN && !this.fullHash) return aligned ? sampleWords(src.words, start >>> 2, length, src.buf, start) : sampleBytes(src.buf, start, length);
    return aligned ? hashWords(src.words, start >>> 2, length, src.buf, start) : hashBytes(src.buf, start, length);
  }

  /** Offset in the current segment (moving to the next one if needed) for `length` bytes, 4-byte aligned. */
  private place(length: number): number {
    let off = (this.segUsed + 3) & ~3;
    if (off + length > this.segs[this.seg]!.length) {
      this.seg++;
      const have = this.segs[this.seg];
      if (have === undefined || have.length < length) this.newSegment(this.seg, Math.max(SEGMENT_BYTES, length));
      off = 0;
    }
    this.segUsed = off + length;
    return off;
  }

  private newSegment(index: number, bytes: number): void {
    // Not zero-filled: only bytes written by `lookup` are ever read back.
    const b = Buffer.allocUnsafeSlow((bytes + 7) & ~7);
    this.segs[index] = b;
    this.segWords[index] = new Uint32Array(b.buffer, b.byteOffset, b.length >>> 2);
  }

  private equals(entry: number, src: SrcView, start: number, length: number, aligned: boolean): boolean {
    const a = this.segs[this.eSeg[entry]!]!;
    const off = this.eOff[entry]!;
    if (length >= NATIVE_COMPARE_MIN) return a.compare(src.buf, start, start + length, off, off + length) === 0;
    let k = 0;
    if (aligned) {
      const aw = this.segWords[this.eSeg[entry]!]!;
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

  /** Re-keys every entry by its full hash; from now on every payload is hashed in full. */
  private switchToFullHash(): void {
    this.fullHash = true;
    for (let i = 0; i < this.count; i++) {
      const len = this.eLen[i]!;
      if (len < SAMPLE_MIN) continue;
      const seg = this.eSeg[i]!;
      const off = this.eOff[i]!;
      this.eHash[i] = LE ? hashWords(this.segWords[seg]!, off >>> 2, len, this.segs[seg]!, off) : hashBytes(this.segs[seg]!, off, len);
    }
    this.rehash(this.table.length);
  }

  private newEpoch(): void {
    this.cEntry.fill(0);
    this.epochStart = this.nextId;
    this.count = 0;
    this.used = 0;
    this.seg = 0;
    this.segUsed = 0;
    this.table.fill(0);
    if (this.table.length > 1 << 16) {
      this.table = new Int32Array(4096);
      this.mask = 4095;
    }
  }

  private growEntries(): void {
    const n = this.eHash.length * 2;
    this.eHash = grown(this.eHash, n);
    this.eSeg = grown(this.eSeg, n);
    this.eOff = grown(this.eOff, n);
    this.eLen = grown(this.eLen, n);
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
  let i = 0;
  for (; i < n8; i += 8) {
    a = Math.imul(a ^ le32(bytes, start + (i << 2)), 0x01000193) ^ le32(bytes, start + ((i + 4) << 2));
    b = Math.imul(b ^ le32(bytes, start + ((i + 1) << 2)), 0x5bd1e995) ^ le32(bytes, start + ((i + 5) << 2));
    c = Math.imul(c ^ le32(bytes, start + ((i + 2) << 2)), 0x01000193) ^ le32(bytes, start + ((i + 6) << 2));
    d = Math.imul(d ^ le32(bytes, start + ((i + 3) << 2)), 0x5bd1e995) ^ le32(bytes, start + ((i + 7) << 2));
  }
  for (; i < n; i++) a = Math.imul(a ^ le32(bytes, start + (i << 2)), 0x01000193);
  for (let p = start + (n << 2); p < start + length; p++) b = Math.imul(b ^ bytes[p]!, 0x5bd1e995);
  return finish(a, b, c, d, length);
}

function le32(bytes: Uint8Array, p: number): number {
  return bytes[p]! | (bytes[p + 1]! << 8) | (bytes[p + 2]! << 16) | (bytes[p + 3]! << 24);
}

/**
 * Sampled hash of a payload of at least SAMPLE_MIN bytes: its length, its
 * first 16 words, 16 words evenly spread over the rest, its last 2 whole
 * words and the tail bytes. Only a table key (equal keys are confirmed byte
 * by byte); `sampleBytes` gives the same value for the same content.
 */
function sampleWords(words: Uint32Array, w0: number, length: number, bytes: Uint8Array, start: number): number {
  const n = length >>> 2; // >= 64
  let a = 0x811c9dc5 ^ length, b = 0x9747b28c | 0, c = 0x27d4eb2f, d = 0x165667b1;
  for (let i = 0; i < 16; i += 4) {
    a = Math.imul(a ^ words[w0 + i]!, 0x01000193);
    b = Math.imul(b ^ words[w0 + i + 1]!, 0x5bd1e995);
    c = Math.imul(c ^ words[w0 + i + 2]!, 0x01000193);
    d = Math.imul(d ^ words[w0 + i + 3]!, 0x5bd1e995);
  }
  const step = Math.floor((n - 16) / 16);
  for (let k = 0, q = w0 + 16 + (step >>> 1); k < 16; k += 2, q += 2 * step) {
    a = Math.imul(a ^ words[q]!, 0x5bd1e995);
    c = Math.imul(c ^ words[q + step]!, 0x5bd1e995);
  }
  b = Math.imul(b ^ words[w0 + n - 2]!, 0x01000193);
  d = Math.imul(d ^ words[w0 + n - 1]!, 0x01000193);
  for (let p = start + (n << 2); p < start + length; p++) b = Math.imul(b ^ bytes[p]!, 0x5bd1e995);
  return finish(a, b, c, d, length);
}

/** `sampleWords` over bytes read as little-endian words (unaligned payloads, big-endian hosts); the tail bytes are included. */
function sampleBytes(bytes: Uint8Array, start: number, length: number): number {
  const n = length >>> 2;
  let a = 0x811c9dc5 ^ length, b = 0x9747b28c | 0, c = 0x27d4eb2f, d = 0x165667b1;
  for (let i = 0; i < 16; i += 4) {
    a = Math.imul(a ^ le32(bytes, start + (i << 2)), 0x01000193);
    b = Math.imul(b ^ le32(bytes, start + ((i + 1) << 2)), 0x5bd1e995);
    c = Math.imul(c ^ le32(bytes, start + ((i + 2) << 2)), 0x01000193);
    d = Math.imul(d ^ le32(bytes, start + ((i + 3) << 2)), 0x5bd1e995);
  }
  const step = Math.floor((n - 16) / 16);
  for (let k = 0, q = 16 + (step >>> 1); k < 16; k += 2, q += 2 * step) {
    a = Math.imul(a ^ le32(bytes, start + (q << 2)), 0x5bd1e995);
    c = Math.imul(c ^ le32(bytes, start + ((q + step) << 2)), 0x5bd1e995);
  }
  b = Math.imul(b ^ le32(bytes, start + ((n - 2) << 2)), 0x01000193);
  d = Math.imul(d ^ le32(bytes, start + ((n - 1) << 2)), 0x01000193);
  for (let p = start + (n << 2); p < start + length; p++) b = Math.imul(b ^ bytes[p]!, 0x5bd1e995);
  return finish(a, b, c, d, length);
}
