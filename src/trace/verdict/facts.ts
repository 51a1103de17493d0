/**
 * Behaviour facts: what a run did at the device boundary, with time and the
 * interleaving of independent streams taken out (docs/VERDICTS.md).
 *
 * A fact is a line of space-separated tokens, most of them `key=value`
 * ("READ nsid=1 slba=4096 nlb=8 data=5a3c… SUCCESS"). Facts belong to a
 * stream of a source (a device id or a process name) and the stream says how
 * two runs must agree on them:
 * - `seq`: the same facts in the same order (admin commands, control
 *   register writes, a process's scheme requests);
 * - `seq-collapse`: the same, with consecutive repeats of one fact counted
 *   once (polling: how many times a status register was read before it
 *   changed is timing);
 * - `multiset`: the same facts the same number of times, in any order (I/O
 *   commands of concurrent clients, frames on the air);
 * - `set`: the same distinct facts, counts ignored (interrupt vectors used).
 */
import { Hasher } from '../diff/hash.js';

export type FactOrder = 'seq' | 'seq-collapse' | 'multiset' | 'set';

/** Where a device's behaviour extractor (and the generic rules) put facts. */
export interface FactSink {
  fact(stream: string, order: FactOrder, text: string): void;
}

/** Facts kept verbatim per stream; beyond it a stream is compared by hash and count only. */
export const MAX_FACTS_PER_STREAM = 200_000;

/** One stream's facts in one trace. */
export class FactStream {
  /** Facts (seq kinds) in order, or distinct facts with counts (multiset/set), up to MAX_FACTS_PER_STREAM. */
  readonly seq: string[] = [];
  readonly counts = new Map<string, number>();
  count = 0;
  /** True once facts were dropped from `seq`/`counts` (the hash still covers them). */
  truncated = false;
  private last: string | undefined;
  private readonly h = new Hasher().start(0x5eed);
  private readonly fh = new Hasher();
  /** Order-independent sum of fact hashes (multiset/set). */
  private sum = 0;

  constructor(readonly source: string, readonly name: string, readonly order: FactOrder, readonly device = false) {}

  add(text: string): void {
    if (this.order === 'seq-collapse' && text === this.last) return;
    this.last = text;
    if (this.order === 'seq' || this.order === 'seq-collapse') {
      this.count++;
      this.h.str(text);
      if (this.seq.length < MAX_FACTS_PER_STREAM) this.seq.push(text);
      else this.truncated = true;
      return;
    }
    const n = this.counts.get(text);
    if (this.order === 'set' && n !== undefined) return;
    this.count++;
    if (n !== undefined) this.counts.set(text, n + 1);
    else if (this.counts.size < MAX_FACTS_PER_STREAM) this.counts.set(text, 1);
    else this.truncated = true;
    this.sum = (this.sum + (this.fh.start(0xfac7).str(text).value() % 0x1_0000_0000)) % 0x20_0000_0000_0000;
  }

  /** A digest of the stream's facts (as its order kind compares them). */
  digest(): string {
    return this.order === 'seq' || this.order === 'seq-collapse' ? `${this.count}:${this.h.value()}` : `${this.count}:${this.sum}`;
  }
}

/** Every fact stream of one trace, keyed by "<source>\u0000<stream>". */
export class FactTable implements FactSink {
  readonly streams = new Map<string, FactStream>();
  /** Source of the facts `fact` receives (set by the collector before handing the sink on). */
  source = '';
  /** Whether `source` is a device (else a process). */
  sourceIsDevice = false;
  /** Token keys left out of every fact (ignore rules: "tsf", "rxTime", ...). */
  constructor(private readonly ignoreFields: ReadonlySet<string> = new Set()) {}

  fact(stream: string, order: FactOrder, text: string): void {
    const key = `${this.source}\u0000${stream}`;
    let s = this.streams.get(key);
    if (s === undefined) {
      s = new FactStream(this.source, stream, order, this.sourceIsDevice);
      this.streams.set(key, s);
    }
    s.add(this.ignoreFields.size === 0 ? text : dropFields(text, this.ignoreFields));
  }
}

function dropFields(text: string, ignore: ReadonlySet<string>): string {
  return text.split(' ').filter((t) => {
    const eq = t.indexOf('=');
    return eq < 0 || !ignore.has(t.slice(0, eq));
  }).join(' ');
}

/**
 * What changed between two facts, field by field: "nlb: 8 → 16, prp2: set → 0";
 * undefined when they share no field or no leading word (unrelated facts).
 */
export function factChange(a: string, b: string): string | undefined {
  const ta = a.split(' ');
  const tb = b.split(' ');
  const fields = (ts: string[]): Map<string, string> => {
    const m = new Map<string, string>();
    ts.forEach((t, i) => {
      const eq = t.indexOf('=');
      m.set(eq < 0 ? `#${i}` : t.slice(0, eq), eq < 0 ? t : t.slice(eq + 1));
    });
    return m;
  };
  const fa = fields(ta);
  const fb = fields(tb);
  const out: string[] = [];
  let shared = 0;
  for (const [k, va] of fa) {
    const vb = fb.get(k);
    if (vb === undefined) out.push(k.startsWith('#') ? `${va} removed` : `${k}=${va} removed`);
    else if (vb !== va) out.push(k.startsWith('#') ? `${va} → ${vb}` : `${k}: ${va} → ${vb}`);
    else shared++;
  }
  for (const [k, vb] of fb) if (!fa.has(k)) out.push(k.startsWith('#') ? `${vb} added` : `${k}=${vb} added`);
  if (shared === 0) return undefined;
  return out.join(', ');
}
