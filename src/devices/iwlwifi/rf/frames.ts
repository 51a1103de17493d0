/**
 * IEEE 802.11 frames as they travel on the simulated air: building and
 * parsing the management frames a station and an access point exchange
 * (beacon, probe request/response, open-system authentication, association,
 * deauthentication, disassociation), data frames with an LLC/SNAP header, and
 * the information elements in them. Frames carry no FCS.
 *
 * Addresses are passed as 6-byte arrays; parsed frames give them as lower-case
 * "aa:bb:cc:dd:ee:ff" strings (`formatMac`) and keep the byte offsets so a
 * caller can compare bytes instead. Multi-byte fixed fields are little-endian
 * (802.11), payloads after the LLC/SNAP header big-endian (network order).
 */

// ---- frame control -------------------------------------------------------

export const FTYPE_MGMT = 0;
export const FTYPE_CTRL = 1;
export const FTYPE_DATA = 2;

/** Management frame subtypes. */
export const MGMT = {
  ASSOC_REQ: 0,
  ASSOC_RESP: 1,
  REASSOC_REQ: 2,
  REASSOC_RESP: 3,
  PROBE_REQ: 4,
  PROBE_RESP: 5,
  BEACON: 8,
  DISASSOC: 10,
  AUTH: 11,
  DEAUTH: 12,
  ACTION: 13,
} as const;

/** Data frame subtypes. */
export const DATA = { DATA: 0, NULL: 4, QOS_DATA: 8, QOS_NULL: 12 } as const;

/** Frame control flag bits (second octet). */
export const FC_TO_DS = 0x01;
export const FC_FROM_DS = 0x02;
export const FC_MORE_FRAG = 0x04;
export const FC_RETRY = 0x08;
export const FC_PROTECTED = 0x40;

/** Capability information bits. */
export const CAP_ESS = 0x0001;
export const CAP_PRIVACY = 0x0010;
export const CAP_SHORT_PREAMBLE = 0x0020;
export const CAP_SHORT_SLOT = 0x0400;

/** Information element ids. */
export const IE = {
  SSID: 0,
  RATES: 1,
  DS_PARAMS: 3,
  TIM: 5,
  RSN: 48,
  EXT_RATES: 50,
} as const;

/** Status codes used by the simulated APs (802.11-2020 table 9-80). */
export const STATUS = {
  SUCCESS: 0,
  UNSPECIFIED: 1,
  UNSUPPORTED_AUTH_ALG: 13,
  AUTH_SEQ_OUT_OF_ORDER: 14,
  BASIC_RATES_UNSUPPORTED: 18,
  INVALID_IE: 40,
  INVALID_AKMP: 43,
} as const;

/** Reason codes used by the simulated APs (802.11-2020 table 9-49). */
export const REASON = {
  UNSPECIFIED: 1,
  LEAVING: 3,
  INACTIVITY: 4,
  CLASS2_FROM_NONAUTH: 6,
  CLASS3_FROM_NONASSOC: 7,
  DISASSOC_LEAVING: 8,
} as const;

/** Authentication algorithm numbers. */
export const AUTH_OPEN = 0;
export const AUTH_SAE = 3;

/** Length of the three-address header (no QoS control, no addr4). */
export const HDR_LEN = 24;

export const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

// ---- addresses -----------------------------------------------------------

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** "aa:bb:cc:dd:ee:ff" of the 6 bytes at `off`. */
export function formatMac(b: Uint8Array, off = 0): string {
  return `${HEX[b[off]!]}:${HEX[b[off + 1]!]}:${HEX[b[off + 2]!]}:${HEX[b[off + 3]!]}:${HEX[b[off + 4]!]}:${HEX[b[off + 5]!]}`;
}

/** Parses "aa:bb:cc:dd:ee:ff" (either case); undefined if malformed. */
export function parseMac(text: string): Uint8Array | undefined {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text)) return undefined;
  return new Uint8Array(text.split(':').map((h) => parseInt(h, 16)));
}

/** Group (broadcast or multicast) address: bit 0 of the first octet. */
export function isGroupAddr(b: Uint8Array, off = 0): boolean {
  return (b[off]! & 1) === 1;
}

export function macEquals(a: Uint8Array, aOff: number, b: Uint8Array, bOff = 0): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

// ---- rates ---------------------------------------------------------------

/** Rate octets (500 kb/s units, bit 7 = basic rate). */
export const RATES_2GHZ = [0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24] as const; // 1b 2b 5.5b 11b 6 9 12 18
export const EXT_RATES_2GHZ = [0x30, 0x48, 0x60, 0x6c] as const; // 24 36 48 54
export const RATES_5GHZ = [0x8c, 0x12, 0x98, 0x24, 0xb0, 0x48, 0x60, 0x6c] as const; // 6b 9 12b 18 24b 36 48 54

export function is5GHz(channel: number): boolean {
  return channel > 14;
}

/** Time on air of a frame of `len` bytes (no FCS; 4 are added) at `rate500k`, in us (rounded up). */
export function airtimeUs(len: number, rate500k: number): number {
  const bits = 8 * (len + 4);
  if (rate500k === 2 || rate500k === 4 || rate500k === 11 || rate500k === 22) {
    // DSSS/CCK, long preamble + PLCP header.
    return 192 + Math.ceil((bits * 2) / rate500k);
  }
  // OFDM: 20 us preamble + SIGNAL, 4 us symbols of 16 service + data + 6 tail bits.
  const bitsPerSymbol = rate500k * 2; // rate500k * 0.5 Mb/s * 4 us
  return 20 + 4 * Math.ceil((16 + bits + 6) / bitsPerSymbol);
}

// ---- information elements ------------------------------------------------

export interface Ie {
  id: number;
  /** Offset of the element's data in the frame (after id and length). */
  off: number;
  len: number;
}

/**
 * Splits `buf[off..end)` into elements. Returns undefined if an element runs
 * past the end (a malformed frame).
 */
export function parseIes(buf: Uint8Array, off: number, end = buf.length): Ie[] | undefined {
  const out: Ie[] = [];
  let p = off;
  while (p < end) {
    if (p + 2 > end) return undefined;
    const id = buf[p]!;
    const len = buf[p + 1]!;
    if (p + 2 + len > end) return undefined;
    out.push({ id, off: p + 2, len });
    p += 2 + len;
  }
  return out;
}

export function findIe(ies: readonly Ie[], id: number): Ie | undefined {
  for (const e of ies) if (e.id === id) return e;
  return undefined;
}

export function ieBytes(buf: Uint8Array, ie: Ie): Uint8Array {
  return buf.subarray(ie.off, ie.off + ie.len);
}

const utf8 = new TextEncoder();
const utf8dec = new TextDecoder('utf-8', { fatal: false });

export function ssidBytes(ssid: string): Uint8Array {
  return utf8.encode(ssid);
}

export function decodeSsid(b: Uint8Array): string {
  return utf8dec.decode(b);
}

/** RSN AKM suite types (OUI 00-0f-ac). */
export const AKM_PSK = 2;
export const AKM_SAE = 8;
/** Cipher suite type CCMP-128. */
export const CIPHER_CCMP = 4;

/** RSN element data (without id/length): version 1, CCMP group and pairwise, one AKM, capabilities. */
export function rsnIeData(akm: number): Uint8Array {
  const mfp = akm === AKM_SAE ? 0x00c0 : 0x0000; // SAE requires MFP (capable + required)
  return new Uint8Array([
    1, 0, // version
    0x00, 0x0f, 0xac, CIPHER_CCMP, // group cipher
    1, 0, 0x00, 0x0f, 0xac, CIPHER_CCMP, // pairwise count + list
    1, 0, 0x00, 0x0f, 0xac, akm, // AKM count + list
    mfp & 0xff, mfp >> 8, // RSN capabilities
  ]);
}

export interface RsnInfo {
  version: number;
  groupCipher: number;
  pairwise: number[];
  /** AKM suite types with the 00-0f-ac OUI; other OUIs as -1. */
  akms: number[];
}

/** Parses RSN element data; undefined if truncated or version != 1. */
export function parseRsn(d: Uint8Array): RsnInfo | undefined {
  if (d.length < 2) return undefined;
  const version = d[0]! | (d[1]! << 8);
  if (version !== 1) return undefined;
  const suite = (o: number) => (d[o] === 0x00 && d[o + 1] === 0x0f && d[o + 2] === 0xac ? d[o + 3]! : -1);
  // Absent trailing fields take the standard defaults: CCMP group and pairwise, 802.1X AKM (1).
  if (d.length < 6) return { version, groupCipher: CIPHER_CCMP, pairwise: [CIPHER_CCMP], akms: [1] };
  const groupCipher = suite(2);
  let p = 6;
  const list = (): number[] | undefined => {
    if (p + 2 > d.length) return undefined;
    const n = d[p]! | (d[p + 1]! << 8);
    p += 2;
    if (p + 4 * n > d.length) return undefined;
    const out: number[] = [];
    for (let i = 0; i < n; i++, p += 4) out.push(suite(p));
    return out;
  };
  if (p >= d.length) return { version, groupCipher, pairwise: [CIPHER_CCMP], akms: [1] };
  const pairwise = list();
  if (pairwise === undefined) return undefined;
  if (p >= d.length) return { version, groupCipher, pairwise, akms: [1] };
  const akms = list();
  if (akms === undefined) return undefined;
  return { version, groupCipher, pairwise, akms };
}

// ---- writer --------------------------------------------------------------

/** Appends to a shared scratch buffer (grown on demand); `done()` copies out the bytes written. */
class Writer {
  private static scratch = new Uint8Array(4096);
  private p = 0;
  private b = Writer.scratch;
  private room(n: number): void {
    if (this.p + n <= this.b.length) return;
    const bigger = new Uint8Array(Math.max(this.b.length * 2, this.p + n));
    bigger.set(this.b.subarray(0, this.p));
    this.b = Writer.scratch = bigger;
  }
  u8(v: number): this { this.room(1); this.b[this.p++] = v; return this; }
  le16(v: number): this { this.room(2); this.b[this.p++] = v; this.b[this.p++] = v >>> 8; return this; }
  be16(v: number): this { this.room(2); this.b[this.p++] = v >>> 8; this.b[this.p++] = v; return this; }
  bytes(v: ArrayLike<number>): this { this.room(v.length); this.b.set(v, this.p); this.p += v.length; return this; }
  ie(id: number, data: ArrayLike<number>): this {
    if (data.length > 255) throw new RangeError(`element ${id} longer than 255 bytes`);
    return this.u8(id).u8(data.length).bytes(data);
  }
  /** Timestamp as 8 little-endian bytes (exact for values below 2^53). */
  le64(v: number): this {
    const lo = v % 4294967296;
    const hi = Math.floor(v / 4294967296);
    this.le16(lo & 0xffff).le16(lo >>> 16).le16(hi & 0xffff).le16(hi >>> 16);
    return this;
  }
  done(): Uint8Array { return this.b.slice(0, this.p); }
}

function header(w: Writer, type: number, subtype: number, flags: number,
  a1: Uint8Array, a2: Uint8Array, a3: Uint8Array, seq: number): void {
  w.u8((subtype << 4) | (type << 2)).u8(flags).le16(0) // duration: filled by the PHY, 0 here
    .bytes(a1).bytes(a2).bytes(a3).le16((seq & 0xfff) << 4);
}

/** Writes a 64-bit little-endian TSF value into `frame` at `off` (beacon/probe response timestamp = offset 24). */
export function writeTimestamp(frame: Uint8Array, off: number, tsfUs: number): void {
  let lo = tsfUs % 4294967296;
  let hi = Math.floor(tsfUs / 4294967296);
  for (let i = 0; i < 4; i++, lo >>>= 8) frame[off + i] = lo & 0xff;
  for (let i = 4; i < 8; i++, hi >>>= 8) frame[off + i] = hi & 0xff;
}

/** Rewrites the sequence number of a frame (fragment 0). */
export function writeSeq(frame: Uint8Array, seq: number): void {
  const v = (seq & 0xfff) << 4;
  frame[22] = v & 0xff;
  frame[23] = v >>> 8;
}

function rateIes(w: Writer, channel: number): void {
  if (is5GHz(channel)) {
    w.ie(IE.RATES, RATES_5GHZ);
  } else {
    w.ie(IE.RATES, RATES_2GHZ);
  }
  w.ie(IE.DS_PARAMS, [channel]);
}

// ---- management frame builders -------------------------------------------

export interface BssDesc {
  bssid: Uint8Array;
  /** SSID bytes to put in the SSID element (empty for a hidden AP's beacon). */
  ssid: Uint8Array;
  channel: number;
  beaconIntervalTu: number;
  capability: number;
  /** RSN element data, or undefined for an open BSS. */
  rsn: Uint8Array | undefined;
}

function bssBody(w: Writer, bss: BssDesc, tsfUs: number, beacon: boolean): void {
  w.le64(tsfUs).le16(bss.beaconIntervalTu).le16(bss.capability);
  w.ie(IE.SSID, bss.ssid);
  rateIes(w, bss.channel);
  if (beacon) w.ie(IE.TIM, [0, 1, 0, 0]); // DTIM count 0, period 1, no buffered traffic
  if (!is5GHz(bss.channel)) w.ie(IE.EXT_RATES, EXT_RATES_2GHZ);
  if (bss.rsn !== undefined) w.ie(IE.RSN, bss.rsn);
}

/** Beacon: broadcast, timestamp = TSF in us. */
export function buildBeacon(bss: BssDesc, tsfUs: number, seq: number): Uint8Array {
  const w = new Writer();
  header(w, FTYPE_MGMT, MGMT.BEACON, 0, BROADCAST, bss.bssid, bss.bssid, seq);
  bssBody(w, bss, tsfUs, true);
  return w.done();
}

/** Probe response to station `da`. */
export function buildProbeResponse(da: Uint8Array, bss: BssDesc, tsfUs: number, seq: number): Uint8Array {
  const w = new Writer();
  header(w, FTYPE_MGMT, MGMT.PROBE_RESP, 0, da, bss.bssid, bss.bssid, seq);
  bssBody(w, bss, tsfUs, false);
  return w.done();
}

/**
 * Probe request from `sa`: wildcard SSID if `ssid` is null, otherwise directed.
 * Broadcast DA and BSSID unless `bssid` is given; supported rates for the band
 * of `channel`, and a DS parameter set on 2.4 GHz.
 */
export function buildProbeRequest(sa: Uint8Array, ssid: string | null, channel: number, seq = 0,
  bssid: Uint8Array = BROADCAST): Uint8Array {
  const w = new Writer();
  header(w, FTYPE_MGMT, MGMT.PROBE_REQ, 0, bssid, sa, bssid, seq);
  w.ie(IE.SSID, ssid === null ? [] : ssidBytes(ssid));
  if (is5GHz(channel)) {
    w.ie(IE.RATES, RATES_5GHZ);
  } else {
    w.ie(IE.RATES, RATES_2GHZ);
    w.ie(IE.EXT_RATES, EXT_RATES_2GHZ);
    w.ie(IE.DS_PARAMS, [channel]);
  }
  return w.done();
}

/** Authentication frame. `da`/`sa`: receiver/transmitter, addr3 = `bssid`. */
export function buildAuth(da: Uint8Array, sa: Uint8Array, bssid: Uint8Array,
  algorithm: number, transaction: number, status: number, seq = 0): Uint8Array {
  const w = new Writer();
  header(w, FTYPE_MGMT, MGMT.AUTH, 0, da, sa, bssid, seq);
  w.le16(algorithm).le16(transaction).le16(status);
  return w.done();
}

export interface AssocRequestOptions {
  ssid: string;
  channel: number;
  capability?: number;
  listenInterval?: number;
  /** RSN element data to include (a station offering WPA2/WPA3). */
  rsn?: Uint8Array;
  /** Reassociation request: adds the current AP address. */
  currentAp?: Uint8Array;
  /** Leave out the supported rates elements. */
  noRates?: boolean;
}

/** (Re)association request from station `sa` to `bssid`. */
export function buildAssocRequest(sa: Uint8Array, bssid: Uint8Array, o: AssocRequestOptions, seq = 0): Uint8Array {
  const w = new Writer();
  const re = o.currentAp !== undefined;
  header(w, FTYPE_MGMT, re ? MGMT.REASSOC_REQ : MGMT.ASSOC_REQ, 0, bssid, sa, bssid, seq);
  w.le16(o.capability ?? CAP_ESS).le16(o.listenInterval ?? 10);
  if (o.currentAp !== undefined) w.bytes(o.currentAp);
  w.ie(IE.SSID, ssidBytes(o.ssid));
  if (o.noRates !== true) {
    if (is5GHz(o.channel)) {
      w.ie(IE.RATES, RATES_5GHZ);
    } else {
      w.ie(IE.RATES, RATES_2GHZ);
      w.ie(IE.EXT_RATES, EXT_RATES_2GHZ);
    }
  }
  if (o.rsn !== undefined) w.ie(IE.RSN, o.rsn);
  return w.done();
}

/** (Re)association response from `bssid` to station `da`; AID is sent with bits 14-15 set. */
export function buildAssocResponse(da: Uint8Array, bssid: Uint8Array, channel: number, capability: number,
  status: number, aid: number, seq = 0, reassoc = false): Uint8Array {
  const w = new Writer();
  header(w, FTYPE_MGMT, reassoc ? MGMT.REASSOC_RESP : MGMT.ASSOC_RESP, 0, da, bssid, bssid, seq);
  w.le16(capability).le16(status).le16(aid === 0 ? 0 : aid | 0xc000);
  if (is5GHz(channel)) {
    w.ie(IE.RATES, RATES_5GHZ);
  } else {
    w.ie(IE.RATES, RATES_2GHZ);
    w.ie(IE.EXT_RATES, EXT_RATES_2GHZ);
  }
  return w.done();
}

/** Deauthentication (or, with `disassoc`, disassociation) with a reason code. */
export function buildDeauth(da: Uint8Array, sa: Uint8Array, bssid: Uint8Array, reason: number, seq = 0,
  disassoc = false): Uint8Array {
  const w = new Writer();
  header(w, FTYPE_MGMT, disassoc ? MGMT.DISASSOC : MGMT.DEAUTH, 0, da, sa, bssid, seq);
  w.le16(reason);
  return w.done();
}

export function buildDisassoc(da: Uint8Array, sa: Uint8Array, bssid: Uint8Array, reason: number, seq = 0): Uint8Array {
  return buildDeauth(da, sa, bssid, reason, seq, true);
}

// ---- data frames ---------------------------------------------------------

export const LLC_SNAP = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00] as const;

export interface DataFrameOptions {
  toDs: boolean;
  fromDs: boolean;
  addr1: Uint8Array;
  addr2: Uint8Array;
  addr3: Uint8Array;
  seq: number;
  ethertype: number;
  payload: Uint8Array;
}

/** Non-QoS data frame: header, LLC/SNAP with `ethertype`, payload. */
export function buildDataFrame(o: DataFrameOptions): Uint8Array {
  const w = new Writer();
  header(w, FTYPE_DATA, DATA.DATA, (o.toDs ? FC_TO_DS : 0) | (o.fromDs ? FC_FROM_DS : 0),
    o.addr1, o.addr2, o.addr3, o.seq);
  w.bytes(LLC_SNAP).be16(o.ethertype).bytes(o.payload);
  return w.done();
}

/** A station's frame to the distribution system: ToDS, addr1 = BSSID, addr2 = station, addr3 = destination. */
export function buildToDsData(bssid: Uint8Array, sta: Uint8Array, dest: Uint8Array, ethertype: number,
  payload: Uint8Array, seq = 0): Uint8Array {
  return buildDataFrame({ toDs: true, fromDs: false, addr1: bssid, addr2: sta, addr3: dest, seq, ethertype, payload });
}

/** An AP's frame to a station: FromDS, addr1 = station, addr2 = BSSID, addr3 = source. */
export function buildFromDsData(sta: Uint8Array, bssid: Uint8Array, src: Uint8Array, ethertype: number,
  payload: Uint8Array, seq = 0): Uint8Array {
  return buildDataFrame({ toDs: false, fromDs: true, addr1: sta, addr2: bssid, addr3: src, seq, ethertype, payload });
}

// ---- parsing -------------------------------------------------------------

export interface FrameHeader {
  type: number;
  subtype: number;
  /** The flags octet (FC_TO_DS, FC_FROM_DS, FC_PROTECTED, ...). */
  flags: number;
  toDs: boolean;
  fromDs: boolean;
  protected: boolean;
  addr1: string;
  addr2: string;
  addr3: string;
  seq: number;
  frag: number;
  /** Header length: 24, +6 with addr4 (ToDS and FromDS), +2 for QoS data. */
  hdrLen: number;
}

/** Parses the MAC header of a management or data frame; undefined if too short or a control frame. */
export function parseHeader(f: Uint8Array): FrameHeader | undefined {
  if (f.length < HDR_LEN) return undefined;
  const fc0 = f[0]!;
  const flags = f[1]!;
  if ((fc0 & 3) !== 0) return undefined; // protocol version 0 only
  const type = (fc0 >> 2) & 3;
  const subtype = fc0 >> 4;
  if (type !== FTYPE_MGMT && type !== FTYPE_DATA) return undefined;
  const toDs = (flags & FC_TO_DS) !== 0;
  const fromDs = (flags & FC_FROM_DS) !== 0;
  let hdrLen = HDR_LEN;
  if (type === FTYPE_DATA) {
    if (toDs && fromDs) hdrLen += 6;
    if ((subtype & 8) !== 0) hdrLen += 2;
  }
  if (f.length < hdrLen) return undefined;
  const sc = f[22]! | (f[23]! << 8);
  return {
    type, subtype, flags, toDs, fromDs,
    protected: (flags & FC_PROTECTED) !== 0,
    addr1: formatMac(f, 4), addr2: formatMac(f, 10), addr3: formatMac(f, 16),
    seq: sc >> 4, frag: sc & 0xf, hdrLen,
  };
}

export interface MgmtFrame extends FrameHeader {
  /** Frame body (after the header). */
  body: Uint8Array;
  /** Offset in the frame where the elements start (after the fixed fields of this subtype). */
  iesOff: number;
  /** The elements; empty for subtypes without elements; undefined if malformed. */
  ies: Ie[] | undefined;
  /** Fixed fields, by subtype: */
  timestamp?: number;
  beaconIntervalTu?: number;
  capability?: number;
  listenInterval?: number;
  status?: number;
  aid?: number;
  authAlgorithm?: number;
  authTransaction?: number;
  reason?: number;
}

const FIXED_LEN: Record<number, number> = {
  [MGMT.ASSOC_REQ]: 4, [MGMT.ASSOC_RESP]: 6, [MGMT.REASSOC_REQ]: 10, [MGMT.REASSOC_RESP]: 6,
  [MGMT.PROBE_REQ]: 0, [MGMT.PROBE_RESP]: 12, [MGMT.BEACON]: 12, [MGMT.DISASSOC]: 2,
  [MGMT.AUTH]: 6, [MGMT.DEAUTH]: 2,
};

/**
 * Parses a management frame with its fixed fields and elements. Undefined if
 * not a management frame or the fixed fields are truncated; `ies` is
 * undefined if the element list is malformed. Elements are given as offsets
 * into `f` (use `ieBytes(f, ie)`).
 */
export function parseMgmt(f: Uint8Array): MgmtFrame | undefined {
  const h = parseHeader(f);
  if (h === undefined || h.type !== FTYPE_MGMT) return undefined;
  const b = HDR_LEN;
  const fixed = FIXED_LEN[h.subtype];
  const body = f.subarray(b);
  if (fixed === undefined) return { ...h, body, iesOff: f.length, ies: [] };
  if (f.length < b + fixed) return undefined;
  const le16 = (o: number) => f[b + o]! | (f[b + o + 1]! << 8);
  const m: MgmtFrame = { ...h, body, iesOff: b + fixed, ies: undefined };
  switch (h.subtype) {
    case MGMT.BEACON:
    case MGMT.PROBE_RESP:
      m.timestamp = le16(0) + le16(2) * 0x10000 + (le16(4) + le16(6) * 0x10000) * 4294967296;
      m.beaconIntervalTu = le16(8);
      m.capability = le16(10);
      break;
    case MGMT.ASSOC_REQ:
    case MGMT.REASSOC_REQ:
      m.capability = le16(0);
      m.listenInterval = le16(2);
      break;
    case MGMT.ASSOC_RESP:
    case MGMT.REASSOC_RESP:
      m.capability = le16(0);
      m.status = le16(2);
      m.aid = le16(4) & 0x3fff;
      break;
    case MGMT.AUTH:
      m.authAlgorithm = le16(0);
      m.authTransaction = le16(2);
      m.status = le16(4);
      break;
    case MGMT.DEAUTH:
    case MGMT.DISASSOC:
      m.reason = le16(0);
      break;
    default:
      break;
  }
  const hasIes = h.subtype !== MGMT.AUTH && h.subtype !== MGMT.DEAUTH && h.subtype !== MGMT.DISASSOC;
  m.ies = hasIes ? parseIes(f, m.iesOff) : [];
  return m;
}

/** The SSID element of a parsed management frame, decoded; undefined if absent. */
export function mgmtSsid(f: Uint8Array, m: MgmtFrame): string | undefined {
  const e = m.ies === undefined ? undefined : findIe(m.ies, IE.SSID);
  return e === undefined ? undefined : decodeSsid(ieBytes(f, e));
}

/** The channel in a DS parameter set element; undefined if absent. */
export function mgmtChannel(f: Uint8Array, m: MgmtFrame): number | undefined {
  const e = m.ies === undefined ? undefined : findIe(m.ies, IE.DS_PARAMS);
  return e === undefined || e.len < 1 ? undefined : f[e.off];
}

/** All rate octets (supported + extended), bit 7 = basic. */
export function mgmtRates(f: Uint8Array, m: MgmtFrame): number[] {
  const out: number[] = [];
  for (const e of m.ies ?? []) {
    if (e.id === IE.RATES || e.id === IE.EXT_RATES) out.push(...ieBytes(f, e));
  }
  return out;
}

export interface DataFrame extends FrameHeader {
  /** Ethertype from the LLC/SNAP header; undefined if the body has no LLC/SNAP header. */
  ethertype: number | undefined;
  /** The payload after LLC/SNAP (or the whole body if there is none). */
  payload: Uint8Array;
}

/** Parses a data frame and its LLC/SNAP header; undefined if not a data frame or truncated. */
export function parseData(f: Uint8Array): DataFrame | undefined {
  const h = parseHeader(f);
  if (h === undefined || h.type !== FTYPE_DATA) return undefined;
  const body = f.subarray(h.hdrLen);
  let snap = body.length >= 8;
  for (let i = 0; snap && i < 6; i++) if (body[i] !== LLC_SNAP[i]) snap = false;
  if (!snap) return { ...h, ethertype: undefined, payload: body };
  return { ...h, ethertype: (body[6]! << 8) | body[7]!, payload: body.subarray(8) };
}
