/**
 * Hashing for normalised event keys: two independent 32-bit lanes folded into
 * one 53-bit number, so a key is a plain JS number (compared with `===`) and
 * accidental equality of two different keys has odds of about 2^-53.
 * Deterministic: no seeds from the environment.
 */

/** Lane 1 after mixing word `w` (a 32-bit integer: the lane's wrapped value is all any use of it reads). */
function mix1(h1: number, w: number): number {
  let a = Math.imul(h1 ^ w, 0xcc9e2d51);
  a = (a << 15) | (a >>> 17);
  return (Math.imul(a, 0x1b873593) + 0xe6546b64) | 0;
}

/** Lane 2 after mixing word `w`. */
function mix2(h2: number, w: number): number {
  let b = Math.imul(h2 + w, 0x27d4eb2f);
  b = (b << 13) | (b >>> 19);
  return Math.imul(b ^ (b >>> 16), 0x165667b1);
}

/** Running two-lane hash state. Allocates nothing per call. */
export class Hasher {
  private h1 = 0;
  private h2 = 0;

  /** Starts a new key with a seed (use a distinct seed per event kind). */
  start(seed: number): this {
    this.h1 = Math.imul(seed ^ 0x3c6ef372, 0x9e3779b1);
    this.h2 = Math.imul(seed ^ 0x510e527f, 0x85ebca77);
    return this;
  }

  /** The running state, to `resume` later from a common prefix (e.g. a register's words before its value). */
  get s1(): number {
    return this.h1;
  }

  get s2(): number {
    return this.h2;
  }

  /** Continues from a state read with `s1`/`s2`: the same as mixing that prefix again. */
  resume(s1: number, s2: number): this {
    this.h1 = s1;
    this.h2 = s2;
    return this;
  }

  /** Mixes one 32-bit word. */
  word(w: number): this {
    this.h1 = mix1(this.h1, w);
    this.h2 = mix2(this.h2, w);
    return this;
  }

  /**
   * Numbers for `nums`, filled by the caller: a hot key's numbers go through here rather than
   * `num` calls, which are too many to be inlined where such a key is built (and a number passed
   * to a call that is not inlined is boxed, an allocation each).
   */
  readonly parts = new Float64Array(8);

  /** Mixes parts[0..n) as `num` mixes each. */
  nums(n: number): this {
    const p = this.parts;
    for (let i = 0; i < n; i++) this.num(p[i]!);
    return this;
  }

  /** Mixes a number: integers up to 2^53 exactly (two words), anything else through its float bits' text. */
  num(v: number): this {
    // Kept small so that it is inlined where keys are built: a number passed to a call that is
    // not inlined is boxed (an allocation per key part). An int32's high word is its sign.
    if ((v | 0) === v) return this.word(v).word(v >> 31);
    if (Number.isSafeInteger(v)) return this.word(v | 0).word(Math.floor(v / 4294967296) | 0);
    return this.text(v);
  }

  /** A number that is not a safe integer: through its text. */
  private text(v: number): this {
    return this.str(String(v));
  }

  /** Mixes a string (UTF-16 code units, then its length). */
  str(s: string): this {
    for (let i = 0; i < s.length; i += 2) this.word(s.charCodeAt(i) | (i + 1 < s.length ? s.charCodeAt(i + 1) << 16 : 0));
    return this.word(s.length ^ 0x5bd1e995);
  }

  /**
   * Mixes bytes [from, to) of `d`, little-endian words, then the length.
   * `origin` is where the bytes' array starts in memory as far as the hash
   * goes (its byteOffset): a window into a bigger buffer passes the negated
   * start of its payload, so it hashes as a copy of the payload would.
   */
  bytes(d: Uint8Array, from: number, to: number, origin = d.byteOffset): this {
    if (to - from >= 64 && ((origin + from) & 3) === 0) return this.aligned(d, from, to);
    let i = from;
    const end4 = from + ((to - from) & ~3);
    // The lanes in locals: short payloads (queue entries, completions) come here, a few words each.
    let h1 = this.h1;
    let h2 = this.h2;
    for (; i < end4; i += 4) {
      const w = d[i]! | (d[i + 1]! << 8) | (d[i + 2]! << 16) | (d[i + 3]! << 24);
      h1 = mix1(h1, w);
      h2 = mix2(h2, w);
    }
    this.h1 = h1;
    this.h2 = h2;
    let w = 0;
    for (let s = 0; i < to; i++, s += 8) w |= d[i]! << s;
    this.word(w);
    return this.word((to - from) ^ 0x2f0f3c4d);
  }

  /**
   * Mixes `d` except the byte ranges [start, start + length) in `skip`
   * (ascending, non-overlapping): payloads whose address or time-stamp fields
   * do not count. Each kept run is mixed as `bytes` mixes it.
   */
  bytesWithout(d: Uint8Array, skip: readonly (readonly [number, number])[]): this {
    let at = 0;
    for (const [start, length] of skip) {
      if (start >= d.length) break;
      this.bytes(d, at, start);
      at = Math.min(d.length, start + length);
    }
    return this.bytes(d, at, d.length);
  }

  /**
   * Bulk path for 4-byte-aligned data: the same words as `bytes` mixed with a
   * cheaper per-word step (payload hashing is the hot loop of a diff).
   */
  private aligned(d: Uint8Array, from: number, to: number): this {
    const n = (to - from) >>> 2;
    // Words read in place when the memory is aligned, else assembled from bytes (the same values).
    const v = ((d.byteOffset + from) & 3) === 0 ? new Int32Array(d.buffer, d.byteOffset + from, n) : undefined;
    let h1 = this.h1 ^ 0x68e31da4;
    let h2 = this.h2 ^ 0x1b56c4e9;
    // Two loops, so the common one has no per-word test.
    if (v !== undefined) {
      for (let i = 0; i < n; i++) {
        const w = v[i]!;
        h1 = Math.imul(h1 ^ w, 0x9e3779b1);
        h1 = (h1 << 13) | (h1 >>> 19);
        h2 = Math.imul(h2 + w, 0x85ebca77);
        h2 ^= h2 >>> 15;
      }
    } else {
      for (let i = 0; i < n; i++) {
        const o = from + 4 * i;
        const w = d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24);
        h1 = Math.imul(h1 ^ w, 0x9e3779b1);
        h1 = (h1 << 13) | (h1 >>> 19);
        h2 = Math.imul(h2 + w, 0x85ebca77);
        h2 ^= h2 >>> 15;
      }
    }
    this.h1 = h1;
    this.h2 = h2;
    let w = 0;
    for (let i = from + n * 4, s = 0; i < to; i++, s += 8) w |= d[i]! << s;
    this.word(w);
    return this.word((to - from) ^ 0x2f0f3c4d);
  }

  /** The 53-bit key. */
  value(): number {
    let a = this.h1 ^ (this.h2 >>> 15);
    a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
    a ^= a >>> 13;
    let b = this.h2 ^ (this.h1 >>> 17);
    b = Math.imul(b ^ (b >>> 15), 0xc2b2ae35);
    b ^= b >>> 16;
    return (a >>> 0) * 2097152 + (b >>> 11);
  }
}

/** Digits (decimal and hex literals) replaced by '#', for keys of free text. */
export function maskNumbers(s: string): string {
  return s.replace(/0x[0-9a-fA-F]+|\d+/g, '#');
}
