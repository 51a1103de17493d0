/**
 * Normalised keys for the structural diff (docs/DIFF.md "Normalisation").
 *
 * Every event goes to one stream — (source, kind), where the source is the
 * device id, the scheme (`disk.x:`) or `kernel` (process events and log
 * lines), and DMA is further split by tag — and gets two numbers:
 *
 * - `key`: what must be equal for two events to be "the same": kind,
 *   direction, register (bar/offset/size) and value; for DMA the tag, length,
 *   a hash of the payload and the address renamed by first appearance; MSI
 *   vector; INTx line and level; milestone name and arguments; scheme op and
 *   arguments (not the request id or pid); guestErr code and message with
 *   numbers masked; log text with numbers masked; 802.11 frames (air:tx and
 *   air:rx streams) direction, channel, signal, rate, length and a hash of
 *   the frame; Ethernet frames (eth:tx and eth:rx streams) direction, port,
 *   length and a hash of the frame; display frames (one `frame:pipe X`
 *   stream per pipe) frame counter, size, format and a hash of the pixels.
 *   Times never enter a key.
 * - `shape`: what must be equal for two different events to be "changed"
 *   rather than "removed + inserted": kind, direction and register; DMA tag;
 *   milestone name; scheme op; guestErr code; 802.11 frame type/subtype;
 *   Ethernet frame protocol; a display frame's counter.
 *
 * DMA addresses are renamed per device by 4 KiB page, in order of first
 * appearance within a namespace: the namespace is where the page was first
 * seen — the DMA tag for the address of a transfer ("data#3+0x40"), the tag
 * plus ".ptr" for address fields inside payloads whose layout the device's
 * decoder gives (`dmaAddressFields`, e.g. the PRP entries of a submission
 * entry: "<tag>.ptr#1+0x0"), the register name for registers the decoder
 * lists in `addressRegisters` (e.g. an admin queue base: "ASQ#0+0x0"). So two
 * runs that differ only in where buffers were allocated compare equal, and
 * one extra buffer of one kind does not shift the names of the others.
 */
import type { DeviceDecoder } from '../decoder.js';
import type { TraceHeader } from '../format.js';
import type { EventView, SeqEvent } from '../reader.js';
import { Rec } from '../../sim/tracer.js';
import { Hasher, maskNumbers } from './hash.js';
import { PageTable } from './pages.js';
import { frameType, frameSubtype } from '../air.js';
import { ethProtocol } from '../eth.js';
import { carryFrameHash, frameHash, pipeName } from '../frames.js';

/** Payload bytes kept per DMA event for decoding context lines (the key hashes the whole payload). */
export const KEEP_DMA_BYTES = 128;
/**
 * Blobs longer than KEEP_DMA_BYTES whose hash and kept prefix are remembered, by blob id
 * (direct-mapped): blobs recur, and hashing a 4 KiB one again costs more than a lookup. An
 * entry holds its blob's array (and the chunk's blob array it is a view of, tens of KiB), so
 * they are few: 256 (the 1M-event bench trace's 17,500 distinct blobs are hashed 18,600
 * times, against 21,900 with 64 slots; the 10M-event diff's peak RSS barely moves).
 */
const LONG_SLOTS = 256;
/**
 * Blobs of at most KEEP_DMA_BYTES (queue entries from a pool, templates) whose content hash is
 * remembered by blob id, direct-mapped, with the device and tag it was computed for: a blob's
 * bytes never change and a page once named keeps its name, so its hash, address fields renamed,
 * is the same every time (the 1M-event bench trace's 137,000 submission entries are 32 blobs).
 */
const SHORT_SLOTS = 256;
/** Distinct pages renamed per device; beyond this, addresses are compared raw. */
const MAX_RENAMED_PAGES = 1 << 20;
const PAGE = 4096;

/** One aligned unit: a normalised event. */
export interface Item {
  key: number;
  shape: number;
  /** The event; DMA and air `data` is cut to KEEP_DMA_BYTES (see `len`). */
  ev: SeqEvent;
  /** DMA payload or 802.11 frame length (0 for other kinds). */
  len: number;
  /** DMA: renamed address (page number in its namespace * 4096 + offset + 1); 0 for address 0 or other kinds. */
  addr: number;
  /** DMA: the namespace of `addr` (see `renamedName`). */
  addrNs: string;
}

export interface StreamDesc {
  /** Unique name: "<device id> dma:<tag>", "<device id> mmio", "<scheme>: schemeReq", ... */
  id: string;
  /** Device id, `<scheme>:` or `kernel`. */
  source: string;
  /** Event kind, with the tag for DMA ("dma:<tag>"). */
  kind: string;
  /** False for log lines: aligned and counted, but never a divergence. */
  structural: boolean;
}

// Seeds keep keys of different kinds apart.
const S = {
  mmio: 1, pio: 2, cfg: 3, dma: 4, intx: 5, msi: 6, schemeReq: 7, schemeReply: 8, milestone: 9, log: 10, guestErr: 11,
  proc: 12, content: 13, air: 14, eth: 15, frame: 16, shape: 100,
} as const;

const KIND_CODE: Record<SeqEvent['kind'], number> = {
  mmio: 0, pio: 1, cfg: 2, dma: 3, intx: 4, msi: 5, schemeReq: 6, schemeReply: 7, milestone: 8, log: 9, guestErr: 10, proc: 11,
  air: 12, // and 13: frames sent (air:tx) and received (air:rx) are separate streams
  eth: 14, // and 15: Ethernet frames sent (eth:tx) and received (eth:rx), likewise
  frame: 16, // display frames: one stream per pipe, in DevState.frames
};

function u64(d: Uint8Array, o: number): number {
  const lo = (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
  const hi = (d[o + 4]! | (d[o + 5]! << 8) | (d[o + 6]! << 16) | (d[o + 7]! << 24)) >>> 0;
  return hi * 4294967296 + lo;
}

/** "data#3+0x40" for a renamed address (see Item.addr). */
export function renamedName(addr: number, ns: string): string {
  if (addr === 0) return '0';
  if (addr < 0) return addr === -1 ? '?' : `0x${(-addr - 2).toString(16)}`;
  const v = addr - 1;
  return `${ns}#${Math.floor(v / PAGE)}+0x${(v % PAGE).toString(16)}`;
}

/** A DMA stream of one device: its tag's hash and the page its last transfer address was in (most transfers of a tag stay in one page). */
interface DmaTag<S> {
  s: S;
  tagH: number;
  /** Shapes of reads and writes. */
  shapeR: number;
  shapeW: number;
  lastPage: number;
  /** Its record in the device's page table (-1: none). */
  lastRec: number;
}

/** One register access form (direction, bar, offset, size): its address name, shape and the key's hash state before the value. */
interface Reg {
  name: string | undefined;
  shape: number;
  k1: number;
  k2: number;
}

interface DevState<S> {
  id: string;
  type: string;
  dec: DeviceDecoder | undefined;
  /** Page -> [namespace, index in it]. */
  pages: PageTable;
  /** Pages named per namespace. */
  nsCount: Map<string, number>;
  streams: (S | undefined)[];
  /** DMA streams by tag, with the tag's hash. */
  dma: Map<string, DmaTag<S>>;
  /** Display frame streams by pipe. */
  frames: Map<number, S>;
  /** (bar, offset, size) -> the register's name if it holds an address, else ''. */
  addrReg: Map<number, string>;
  /** Registers by direction, bar, offset and size (small values only): see `Reg`. */
  regs: Map<number, Reg>;
  addrNames: ReadonlySet<string>;
}

/**
 * Per-trace normaliser: keeps the address renaming state of each device, so
 * feed it every event of one trace in order. `resolve` maps a stream to the
 * caller's object for it (called once per stream and trace).
 */
export class Normaliser<S> {
  private readonly h = new Hasher();
  private readonly devs = new Map<number, DevState<S>>();
  /** Devices of index 0..255 (the common case), without a map lookup. */
  private readonly devList: (DevState<S> | undefined)[] = [];
  /** Scheme request and reply streams by scheme name (two maps: a key made per event would be a new string to hash each time). */
  private readonly schemeReqs = new Map<string, S>();
  private readonly schemeReplies = new Map<string, S>();
  private readonly kernel: (S | undefined)[] = [];
  private readonly strHash = new Map<string, number>();
  private readonly contentCache = new WeakMap<Uint8Array, number>();
  /** Payloads longer than KEEP_DMA_BYTES without address fields, by blob id (see LONG_SLOTS): the blob, its hash and kept prefix. */
  private readonly longData: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(LONG_SLOTS).fill(undefined);
  private readonly longHash = new Float64Array(LONG_SLOTS);
  private readonly longCut: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(LONG_SLOTS).fill(undefined);
  /** Blobs of at most KEEP_DMA_BYTES by blob id (see SHORT_SLOTS): the blob, the device and tag, its content hash. */
  private readonly shortData: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SHORT_SLOTS).fill(undefined);
  private readonly shortDev: (DevState<S> | undefined)[] = new Array<DevState<S> | undefined>(SHORT_SLOTS).fill(undefined);
  private readonly shortTag: string[] = new Array<string>(SHORT_SLOTS).fill('');
  private readonly shortHash = new Float64Array(SHORT_SLOTS);
  /** The stream of the event last passed to `item`. */
  stream!: S;

  constructor(
    private readonly header: TraceHeader,
    private readonly decoders: Map<string, DeviceDecoder>,
    private readonly resolve: (d: StreamDesc) => S,
  ) {}

  private dev(index: number): DevState<S> {
    const small = index >>> 0 === index && index < 256;
    return (small ? this.devList[index] : this.devs.get(index)) ?? this.addDev(index, small);
  }

  /**
   * A device's first event. Apart from `dev`, which every event calls: the closure
   * here would make `dev` (and every caller it is inlined into) allocate a context
   * for `index` on each call.
   */
  private addDev(index: number, small: boolean): DevState<S> {
    const info = this.header.devices.find((x) => x.index === index);
    const type = info?.type ?? '?';
    const d: DevState<S> = {
      id: info?.id ?? `dev${index}`, type, dec: this.decoders.get(type), pages: new PageTable(), nsCount: new Map(), streams: [], dma: new Map(), frames: new Map(),
      addrReg: new Map(), regs: new Map(), addrNames: new Set(this.decoders.get(type)?.addressRegisters ?? []),
    };
    if (small) this.devList[index] = d;
    else this.devs.set(index, d);
    return d;
  }

  private sh(s: string): number {
    let v = this.strHash.get(s);
    if (v === undefined) {
      v = new Hasher().start(0x777).str(s).value();
      if (this.strHash.size < 65536) this.strHash.set(s, v);
    }
    return v;
  }

  /** Namespace of the address last renamed (set by `rename`). */
  private lastNs = '';
  private lastNsHash = 0;
  /** The page record of the address last renamed (-1 when it was not named: 0, not an integer, table full). */
  private lastRec = -1;
  /** Namespaces by id (page records hold the id): name and hash. */
  private readonly nsIds = new Map<string, number>();
  private readonly nsNames: string[] = [];
  private readonly nsHashes: number[] = [];

  private nsId(ns: string): number {
    let id = this.nsIds.get(ns);
    if (id === undefined) {
      id = this.nsNames.length;
      this.nsIds.set(ns, id);
      this.nsNames.push(ns);
      this.nsHashes.push(this.sh(ns));
    }
    return id;
  }

  /**
   * Renamed address: page index within its namespace * 4096 + offset + 1; 0
   * stays 0; -1 for a non-integer; raw (negated, -addr - 2) once the table is full.
   * Sets `lastNs`/`lastNsHash` to the page's namespace (the one it was first seen in).
   */
  private rename(d: DevState<S>, addr: number, ns: string): number {
    this.lastNs = '';
    this.lastNsHash = 0;
    this.lastRec = -1;
    if (addr === 0) return 0;
    if (!Number.isSafeInteger(addr) || addr < 0) return -1;
    const page = Math.floor(addr / PAGE);
    const pages = d.pages;
    let r = pages.get(page);
    if (r < 0) {
      if (pages.size >= MAX_RENAMED_PAGES) return -addr - 2;
      const idx = d.nsCount.get(ns) ?? 0;
      d.nsCount.set(ns, idx + 1);
      r = pages.add(page, this.nsId(ns), idx);
    }
    const n = pages.ns(r);
    this.lastNs = this.nsNames[n]!;
    this.lastNsHash = this.nsHashes[n]!;
    this.lastRec = r;
    return pages.idx(r) * PAGE + (addr % PAGE) + 1;
  }

  /** The register's name if it holds a buffer address, else undefined. */
  private addrReg(d: DevState<S>, bar: number, offset: number, size: number): string | undefined {
    if (d.addrNames.size === 0 || !d.dec) return undefined;
    const k = bar * 65536 * 16 + offset * 16 + size;
    let v = d.addrReg.get(k);
    if (v === undefined) {
      let name: string | undefined;
      try {
        name = d.dec.regName(bar, offset, size);
      } catch {
        name = undefined;
      }
      v = name !== undefined && d.addrNames.has(name) ? name : '';
      d.addrReg.set(k, v);
    }
    return v === '' ? undefined : v;
  }

  private devStream(d: DevState<S>, c: number, kind: SeqEvent['kind']): S {
    let s = d.streams[c];
    if (s === undefined) {
      s = this.resolve({ id: `${d.id} ${kind}`, source: d.id, kind, structural: true });
      d.streams[c] = s;
    }
    return s;
  }

  /** Whether the decoder lists address fields in this payload (they are renamed, so its hash depends on the renaming state). */
  private hasAddressFields(d: DevState<S>, tag: string, len: number): boolean {
    const offs = d.dec?.dmaAddressFields?.(tag, len);
    return offs !== undefined && offs.length > 0;
  }

  /** Hash of payload bytes [at, at + len) of `data` (`origin` as Hasher.bytes), its address fields renamed; `own`: data is the payload's own (recurring) array. */
  private contentHash(d: DevState<S>, tag: string, data: Uint8Array, at: number, len: number, own: boolean): number {
    const offs = d.dec?.dmaAddressFields?.(tag, len);
    const h = this.h;
    const origin = own ? data.byteOffset : -at;
    if (offs !== undefined) {
      if (offs.length > 0) {
        const ns = `${tag}.ptr`;
        h.start(S.content);
        let pos = 0;
        for (const o of offs) {
          if (o + 8 > len) break;
          if (o > pos) h.bytes(data, at + pos, at + o, origin);
          const parts = h.parts;
          parts[0] = this.rename(d, u64(data, at + o), ns);
          parts[1] = this.lastNsHash;
          h.nums(2);
          pos = o + 8;
        }
        if (pos < len) h.bytes(data, at + pos, at + len, origin);
        return h.value();
      }
    }
    if (len > 64 && own) {
      const c = this.contentCache.get(data);
      if (c !== undefined) return c;
      const v = h.start(S.content).bytes(data, 0, len).value();
      this.contentCache.set(data, v);
      return v;
    }
    return h.start(S.content).bytes(data, at, at + len, origin).value();
  }

  /** What `item` found for the event last passed to it (see Item; `ev` and `kept` as in Normalised, store.ts). */
  key = 0;
  shape = 0;
  len = 0;
  addr = 0;
  addrNs = '';
  ev: SeqEvent | undefined = undefined;
  kept: Uint8Array | undefined = undefined;

  /**
   * Normalises the event the cursor's view is on and sets `stream` and the
   * fields above. Events of one trace must come in order. Register accesses,
   * interrupts and DMA are read from the columns (store.ts `inColumns`);
   * other kinds are objects (`ev`: `built`, or built here). Takes ownership
   * of the object: a payload longer than KEEP_DMA_BYTES is cut to that many
   * bytes (the item records the real length).
   */
  item(v: EventView, built: SeqEvent | undefined): void {
    const b = v.block;
    const i = v.i;
    const k = b.kind[i]!;
    const f = b.f;
    const h = this.h;
    this.ev = undefined;
    this.kept = undefined;
    this.len = 0;
    this.addr = 0;
    this.addrNs = '';
    switch (k) {
      case Rec.MmioRead:
      case Rec.MmioWrite: {
        const d = this.dev(f[1]![i]!);
        this.stream = this.devStream(d, KIND_CODE.mmio, 'mmio');
        const w = k === Rec.MmioWrite ? 1 : 0;
        const bar = f[2]![i]!;
        const offset = f[3]![i]!;
        const size = f[4]![i]!;
        const value = f[5]![i]!;
        let r: Reg | undefined;
        // Registers of common forms are remembered (the words before the value, and the shape, are the
        // same every time), under a key below 2^28 (a small integer: no number allocated for the lookup).
        const small = bar >>> 0 === bar && bar < 8 && offset >>> 0 === offset && offset < 0x100000 && size >>> 0 === size && size < 16;
        const rk = small ? (((bar * 0x100000 + offset) * 16 + size) * 2 + w) : -1;
        if (small) r = d.regs.get(rk);
        if (r === undefined) {
          const name = this.addrReg(d, bar, offset, size);
          h.start(S.mmio).word(w).word(bar).word(offset).word(size);
          const k1 = h.s1;
          const k2 = h.s2;
          r = { name, k1, k2, shape: h.start(S.shape + S.mmio).word(w).word(bar).word(offset).word(size).value() };
          if (small) d.regs.set(rk, r);
        }
        const reg = r.name;
        const val = reg !== undefined ? this.rename(d, value, reg) : value;
        const parts = h.parts;
        parts[0] = val;
        parts[1] = reg !== undefined ? this.lastNsHash : 0;
        this.key = h.resume(r.k1, r.k2).nums(2).value();
        this.shape = r.shape;
        return;
      }
      case Rec.PioRead:
      case Rec.PioWrite:
      case Rec.CfgRead:
      case Rec.CfgWrite: {
        // The same fields for both: core, dev, port or config offset, size, value.
        const pio = k === Rec.PioRead || k === Rec.PioWrite;
        const sk = pio ? S.pio : S.cfg;
        this.stream = this.devStream(this.dev(f[1]![i]!), pio ? KIND_CODE.pio : KIND_CODE.cfg, pio ? 'pio' : 'cfg');
        const w = k === Rec.PioWrite || k === Rec.CfgWrite ? 1 : 0;
        const where = f[2]![i]!;
        const size = f[3]![i]!;
        this.key = h.start(sk).word(w).word(where).word(size).num(f[4]![i]!).value();
        this.shape = h.start(S.shape + sk).word(w).word(where).word(size).value();
        return;
      }
      case Rec.DmaRead:
      case Rec.DmaWrite:
      case Rec.DmaImage:
      case Rec.DmaDelta: {
        this.dma(v, k);
        return;
      }
      case Rec.Intx:
        this.stream = this.devStream(this.dev(f[0]![i]!), KIND_CODE.intx, 'intx');
        this.key = h.start(S.intx).num(f[1]![i]!).num(f[2]![i]!).value();
        this.shape = h.start(S.shape + S.intx).num(f[1]![i]!).value();
        return;
      case Rec.Msi:
        this.stream = this.devStream(this.dev(f[0]![i]!), KIND_CODE.msi, 'msi');
        this.key = h.start(S.msi).num(f[4]![i]!).value();
        this.shape = S.shape + S.msi;
        return;
      case Rec.SchemeReq:
        // Fields: pid, scheme, op, reqId, a, b (the strings from the view: EventView.schemeStrings).
        this.stream = this.schemeStream(v.scheme, 'schemeReq');
        this.schemeReqKey(this.sh(v.op), f[4]![i]!, f[5]![i]!);
        return;
      case Rec.SchemeReply:
        // Fields: pid, scheme, reqId, result.
        this.stream = this.schemeStream(v.scheme, 'schemeReply');
        this.key = h.start(S.schemeReply).num(f[3]![i]!).value();
        this.shape = S.shape + S.schemeReply;
        return;
      default: {
        const ev = built ?? v.event();
        this.ev = ev;
        this.other(ev);
      }
    }
  }

  /** A DMA event (of record kind k) of the view: its stream, renamed address, payload hash and kept prefix. */
  private dma(v: EventView, k: number): void {
    const h = this.h;
    const f = v.block.f;
    const i = v.i;
    // Read here, not passed in: an address passed to a call that is not inlined is boxed.
    const write = k === Rec.DmaDelta ? (f[3]![i]! & 1) !== 0 : k !== Rec.DmaRead;
    const a = f[1]![i]!;
    const d = this.dev(f[0]![i]!);
    const tag = v.tag;
    let t = d.dma.get(tag);
    if (t === undefined) {
      t = {
        s: this.resolve({ id: `${d.id} dma:${tag}`, source: d.id, kind: `dma:${tag}`, structural: true }), tagH: this.sh(tag),
        shapeR: 0, shapeW: 0, lastPage: -1, lastRec: -1,
      };
      t.shapeR = h.start(S.shape + S.dma).word(0).num(t.tagH).value();
      t.shapeW = h.start(S.shape + S.dma).word(1).num(t.tagH).value();
      d.dma.set(tag, t);
    }
    this.stream = t.s;
    const w = write ? 1 : 0;
    const p = v.payload;
    const data = p.data;
    const at = p.at;
    const len = p.length;
    this.len = len;
    let addr: number;
    const page = Math.floor(a / PAGE);
    if (page === t.lastPage && t.lastRec >= 0 && a > 0 && Number.isSafeInteger(a)) {
      // The page of the tag's last transfer: named already (pages are never renamed).
      const r = t.lastRec;
      const n = d.pages.ns(r);
      this.lastNs = this.nsNames[n]!;
      this.lastNsHash = this.nsHashes[n]!;
      addr = d.pages.idx(r) * PAGE + (a % PAGE) + 1;
    } else {
      addr = this.rename(d, a, tag);
      t.lastPage = page;
      t.lastRec = this.lastRec;
    }
    this.addr = addr;
    this.addrNs = this.lastNs;
    const nsH = this.lastNsHash;
    // A blob recurs: hashed and cut once.
    const own = p.own;
    let content: number;
    if (len > KEEP_DMA_BYTES && !this.hasAddressFields(d, tag, len)) {
      const slot = p.blob >= 0 ? p.blob & (LONG_SLOTS - 1) : -1;
      if (slot >= 0 && this.longData[slot] === data) {
        content = this.longHash[slot]!;
        this.kept = this.longCut[slot];
      } else {
        // A blob's cut prefix can be a view (blobs are never written); a window's bytes are copied.
        const cut = own ? data.subarray(0, KEEP_DMA_BYTES) : data.slice(at, at + KEEP_DMA_BYTES);
        content = h.start(S.content).bytes(data, at, at + len, own ? data.byteOffset : -at).value();
        this.kept = cut;
        if (slot >= 0) {
          this.longData[slot] = data;
          this.longHash[slot] = content;
          this.longCut[slot] = cut;
        }
      }
    } else if (own && p.blob >= 0 && len <= KEEP_DMA_BYTES) {
      // A blob short enough is kept whole (shared, as the reader hands it out).
      this.kept = data;
      const slot = p.blob & (SHORT_SLOTS - 1);
      if (this.shortData[slot] === data && this.shortDev[slot] === d && this.shortTag[slot] === tag) {
        content = this.shortHash[slot]!;
      } else {
        content = this.contentHash(d, tag, data, at, len, own);
        this.shortData[slot] = data;
        this.shortDev[slot] = d;
        this.shortTag[slot] = tag;
        this.shortHash[slot] = content;
      }
    } else {
      content = this.contentHash(d, tag, data, at, len, own);
    }
    const parts = h.parts;
    parts[0] = t.tagH;
    parts[1] = len;
    parts[2] = content;
    parts[3] = addr;
    parts[4] = nsH;
    this.key = h.start(S.dma).word(w).nums(5).word(v.missing !== undefined ? 1 : 0).value();
    this.shape = w === 1 ? t.shapeW : t.shapeR;
  }

  /** Kinds built as objects (scheme, milestone, log, process, guest error, frames). */
  private other(ev: SeqEvent): void {
    const h = this.h;
    let key: number;
    let shape: number;
    let len = 0;
    switch (ev.kind) {
      case 'milestone': {
        this.stream = this.devStream(this.dev(ev.dev), KIND_CODE.milestone, 'milestone');
        const n = this.sh(ev.name);
        key = h.start(S.milestone).num(n).num(ev.a).num(ev.b).value();
        shape = h.start(S.shape + S.milestone).num(n).value();
        break;
      }
      case 'guestErr': {
        this.stream = this.devStream(this.dev(ev.dev), KIND_CODE.guestErr, 'guestErr');
        const c = this.sh(ev.code);
        key = h.start(S.guestErr).num(c).str(maskNumbers(ev.message)).value();
        shape = h.start(S.shape + S.guestErr).num(c).value();
        break;
      }
      case 'air': {
        // Sent and received frames are separate streams (what the driver sends vs what the RF
        // environment delivers); the key is the whole frame with channel, signal and rate, the
        // shape its type/subtype, so a changed field aligns as "changed".
        const d = this.dev(ev.dev);
        const c = KIND_CODE.air + (ev.tx ? 0 : 1);
        let s = d.streams[c];
        if (s === undefined) {
          const kind = ev.tx ? 'air:tx' : 'air:rx';
          s = this.resolve({ id: `${d.id} ${kind}`, source: d.id, kind, structural: true });
          d.streams[c] = s;
        }
        this.stream = s;
        len = ev.data.length;
        const content = h.start(S.content).bytes(ev.data, 0, len).value();
        const ts = len > 0 ? (frameType(ev.data) << 4) | frameSubtype(ev.data) : -1;
        key = h.start(S.air).word(ev.tx ? 1 : 0).num(ev.channel).num(ev.signal).num(ev.rate).num(len).num(content).word(ev.missing ? 1 : 0).value();
        shape = h.start(S.shape + S.air).word(ev.tx ? 1 : 0).num(ts).value();
        if (len > KEEP_DMA_BYTES) ev.data = ev.data.slice(0, KEEP_DMA_BYTES);
        break;
      }
      case 'eth': {
        // As 802.11 frames: sent and received are separate streams; the key is the port and the whole
        // frame, the shape its protocol (ARP, ICMP, UDP, ...), so a changed field aligns as "changed".
        const d = this.dev(ev.dev);
        const c = KIND_CODE.eth + (ev.tx ? 0 : 1);
        let s = d.streams[c];
        if (s === undefined) {
          const kind = ev.tx ? 'eth:tx' : 'eth:rx';
          s = this.resolve({ id: `${d.id} ${kind}`, source: d.id, kind, structural: true });
          d.streams[c] = s;
        }
        this.stream = s;
        len = ev.data.length;
        const content = h.start(S.content).bytes(ev.data, 0, len).value();
        key = h.start(S.eth).word(ev.tx ? 1 : 0).num(ev.port).num(len).num(content).word(ev.missing ? 1 : 0).value();
        shape = h.start(S.shape + S.eth).word(ev.tx ? 1 : 0).num(ev.port).str(ethProtocol(ev.data)).value();
        if (len > KEEP_DMA_BYTES) ev.data = ev.data.slice(0, KEEP_DMA_BYTES);
        break;
      }
      case 'frame': {
        // One stream per pipe ("frame:pipe A"); the key is the frame counter, size, format and the
        // pixels' hash, the shape the frame counter, so the same frame with other pixels aligns as
        // "changed" and a frame missing from one trace as removed / inserted. The pixels are dropped
        // from the buffered item (megabytes each); the hash stays readable through frameHash.
        const d = this.dev(ev.dev);
        let s = d.frames.get(ev.pipe);
        if (s === undefined) {
          const kind = `frame:pipe ${pipeName(ev.pipe)}`;
          s = this.resolve({ id: `${d.id} ${kind}`, source: d.id, kind, structural: true });
          d.frames.set(ev.pipe, s);
        }
        this.stream = s;
        len = ev.data.length;
        const hash = this.sh(frameHash(ev.data));
        key = h.start(S.frame).num(ev.counter).num(ev.width).num(ev.height).num(ev.format).num(len).num(hash).word(ev.missing ? 1 : 0).value();
        shape = h.start(S.shape + S.frame).num(ev.counter).value();
        const kept = new Uint8Array(0);
        carryFrameHash(ev.data, kept);
        ev.data = kept;
        break;
      }
      case 'proc': {
        this.stream = this.kernelStream('proc', true);
        const n = this.sh(ev.name);
        key = h.start(S.proc).str(ev.event).num(n).str(ev.detail).value();
        shape = h.start(S.shape + S.proc).str(ev.event).num(n).value();
        break;
      }
      case 'log':
        this.stream = this.kernelStream('log', false);
        key = h.start(S.log).str(ev.level).str(maskNumbers(ev.text)).value();
        shape = h.start(S.shape + S.log).str(ev.level).value();
        break;
      default:
        throw new Error(`normaliser: ${ev.kind} events are read from columns`);
    }
    this.key = key;
    this.shape = shape;
    this.len = len;
  }

  /** The stream of scheme `scheme`'s requests or replies. */
  private schemeStream(scheme: string, kind: 'schemeReq' | 'schemeReply'): S {
    const streams = kind === 'schemeReq' ? this.schemeReqs : this.schemeReplies;
    let s = streams.get(scheme);
    if (s === undefined) {
      s = this.resolve({ id: `${scheme}: ${kind}`, source: `${scheme}:`, kind, structural: true });
      streams.set(scheme, s);
    }
    return s;
  }

  /** A scheme request's key and shape: its operation (hashed name) and arguments. */
  private schemeReqKey(op: number, a: number, b: number): void {
    const h = this.h;
    const parts = h.parts;
    parts[0] = op;
    parts[1] = a;
    parts[2] = b;
    this.key = h.start(S.schemeReq).nums(3).value();
    this.shape = h.start(S.shape + S.schemeReq).num(op).value();
  }

  private kernelStream(kind: 'proc' | 'log', structural: boolean): S {
    const c = kind === 'proc' ? 0 : 1;
    let s = this.kernel[c];
    if (s === undefined) {
      s = this.resolve({ id: `kernel ${kind}`, source: 'kernel', kind, structural });
      this.kernel[c] = s;
    }
    return s;
  }
}

/** The event to format: DMA data and air frames restored to their real length (bytes past the kept prefix read as zero). */
export function displayEvent(it: Item): SeqEvent {
  const ev = it.ev;
  if ((ev.kind !== 'dma' && ev.kind !== 'air' && ev.kind !== 'eth') || ev.data.length === it.len) return ev;
  const data = new Uint8Array(it.len);
  data.set(ev.data.subarray(0, Math.min(ev.data.length, it.len)));
  return { ...ev, data };
}
