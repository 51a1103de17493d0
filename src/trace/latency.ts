/**
 * Latency samples with bounded memory: exact up to a cap, then a log-scale
 * histogram (buckets 0.5 % wide). Used by the timing phases of diff, the
 * generic ones and those a device supplies (DeviceDecoder.timingPhases).
 */
/** Exact samples kept before switching to the histogram. */
const EXACT_CAP = 1 << 16;
/** Histogram bucket ratio. */
const RATIO = 1.005;
const LOG_RATIO = Math.log(RATIO);
/** Outstanding commands/requests a phase collector tracks at most per device or scheme. */
export const PENDING_CAP = 1 << 16;

/** Latency samples: exact up to EXACT_CAP, then a log-scale histogram. */
export class LatencyStats {
  private exact: number[] = [];
  private hist: Map<number, number> | undefined;
  count = 0;
  sum = 0;

  add(v: number): void {
    this.count++;
    this.sum += v;
    if (this.hist) {
      this.bin(v);
      return;
    }
    this.exact.push(v);
    if (this.exact.length > EXACT_CAP) {
      this.hist = new Map();
      for (const x of this.exact) this.bin(x);
      this.exact = [];
    }
  }

  private bin(v: number): void {
    const b = v <= 0 ? -1 : Math.floor(Math.log(v) / LOG_RATIO);
    this.hist!.set(b, (this.hist!.get(b) ?? 0) + 1);
  }

  /** Nearest-rank percentile (exact below the cap; the bucket's geometric middle above it). */
  percentile(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    if (!this.hist) {
      const s = [...this.exact].sort((x, y) => x - y);
      return s[rank - 1];
    }
    let seen = 0;
    for (const b of [...this.hist.keys()].sort((x, y) => x - y)) {
      seen += this.hist.get(b)!;
      if (seen >= rank) return b < 0 ? 0 : Math.round(Math.exp((b + 0.5) * LOG_RATIO));
    }
    return undefined;
  }

  mean(): number | undefined {
    return this.count === 0 ? undefined : Math.round(this.sum / this.count);
  }
}

/**
 * Start times of outstanding commands or requests by key, for the timing
 * phases: what a Map<number, number> does, without an entry and a boxed time
 * allocated per insertion (a diff makes one per I/O and per scheme request).
 * Open addressing with linear probing; a deletion moves later entries of its
 * run back, so no tombstones pile up while keys keep changing.
 */
export class PendingTimes {
  private keys = new Float64Array(64);
  private times = new Float64Array(64);
  private used = new Uint8Array(64);
  private mask = 63;
  /** 32 minus log2 of the slot count: a key's home is the top bits of its mixed hash. */
  private shift = 26;
  /** Keys held. */
  size = 0;

  /** Home slot of `key` (any number; keys that compare equal share it). */
  private home(key: number): number {
    const lo = key | 0;
    const hi = (key / 4294967296) | 0;
    return Math.imul(lo ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** The slot holding `key`, or -1. */
  private find(key: number): number {
    const keys = this.keys;
    const used = this.used;
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      if (used[i] === 0) return -1;
      const k = keys[i]!;
      if (k === key || (k !== k && key !== key)) return i;
    }
  }

  get(key: number): number | undefined {
    const i = this.find(key);
    return i < 0 ? undefined : this.times[i];
  }

  set(key: number, time: number): void {
    const i = this.find(key);
    if (i >= 0) {
      this.times[i] = time;
      return;
    }
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    let j = this.home(key);
    while (this.used[j] !== 0) j = (j + 1) & this.mask;
    this.used[j] = 1;
    this.keys[j] = key;
    this.times[j] = time;
    this.size++;
  }

  delete(key: number): boolean {
    let i = this.find(key);
    if (i < 0) return false;
    const mask = this.mask;
    // Backward-shift deletion: an entry after the hole moves into it unless its home lies
    // cyclically in (hole, its own slot], where it would not be found from.
    for (let j = (i + 1) & mask; this.used[j] !== 0; j = (j + 1) & mask) {
      const h = this.home(this.keys[j]!);
      if (((j - h) & mask) >= ((j - i) & mask)) {
        this.keys[i] = this.keys[j]!;
        this.times[i] = this.times[j]!;
        i = j;
      }
    }
    this.used[i] = 0;
    this.size--;
    return true;
  }

  clear(): void {
    this.used.fill(0);
    this.size = 0;
  }

  private grow(): void {
    const keys = this.keys, times = this.times, used = this.used;
    const n = 2 * (this.mask + 1);
    this.keys = new Float64Array(n);
    this.times = new Float64Array(n);
    this.used = new Uint8Array(n);
    this.mask = n - 1;
    this.shift--;
    this.size = 0;
    for (let i = 0; i < used.length; i++) if (used[i] !== 0) this.set(keys[i]!, times[i]!);
  }
}
