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

