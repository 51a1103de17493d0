/**
 * Seeded randomness. One seed per run; each component takes a named stream
 * with `fork(name)`, whose state derives from the parent seed and the name
 * alone, so adding a device never perturbs another device's stream.
 * Generator: xoshiro128** (32-bit state words, integer-only arithmetic).
 */
function hashString(seed: number, s: string): number {
  // FNV-1a over UTF-16 code units, mixed with the seed, then murmur3 finalizer.
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return fmix(h);
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  readonly seed: number;
  readonly name: string;

  constructor(seed: number, name = 'root') {
    this.seed = seed >>> 0;
    this.name = name;
    // splitmix32-style expansion of the seed into four non-zero words.
    let x = hashString(this.seed, name);
    const next = () => { x = (x + 0x9e3779b9) >>> 0; return fmix(x) || 1; };
    this.s0 = next(); this.s1 = next(); this.s2 = next(); this.s3 = next();
  }

  /** A named child stream; depends only on this stream's seed and names. */
  fork(name: string): Rng {
    return new Rng(hashString(this.seed, this.name), `${this.name}/${name}`);
  }

  /** Uniform uint32. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 bits of randomness. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  fill(buf: Uint8Array): void {
    let i = 0;
    for (; i + 4 <= buf.length; i += 4) {
      const v = this.nextU32();
      buf[i] = v; buf[i + 1] = v >>> 8; buf[i + 2] = v >>> 16; buf[i + 3] = v >>> 24;
    }
    if (i < buf.length) {
      const v = this.nextU32();
      for (let k = 0; i < buf.length; i++, k++) buf[i] = v >>> (8 * k);
    }
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
