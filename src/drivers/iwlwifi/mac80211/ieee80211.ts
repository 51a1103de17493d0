/**
 * The 802.11 subset the station needs (what mac80211's mlme.c, scan.c and
 * rx.c/tx.c do with frames): management frame build and parse (open system
 * authentication, association, deauthentication, beacons and probe
 * responses) and the 802.3 <-> 802.11 data frame conversion with LLC/SNAP.
 *
 * Every parser takes untrusted bytes and returns null (or a partial result)
 * instead of throwing: frames come from the air.
 */

// ---- frame control ------------------------------------------------------------------
export const FTYPE_MGMT = 0;
export const FTYPE_CTL = 1;
export const FTYPE_DATA = 2;

export const STYPE = {
  ASSOC_REQ: 0x0, ASSOC_RESP: 0x1, REASSOC_REQ: 0x2, REASSOC_RESP: 0x3, PROBE_REQ: 0x4, PROBE_RESP: 0x5,
  BEACON: 0x8, DISASSOC: 0xa, AUTH: 0xb, DEAUTH: 0xc, ACTION: 0xd,
} as const;
/** Data subtypes: bit 2 = no data (null), bit 3 = QoS. */
export const STYPE_DATA = 0x0;
export const STYPE_QOS_DATA = 0x8;

/** Flags in the second frame-control byte. */
export const FCTL_TODS = 1 << 0;
export const FCTL_FROMDS = 1 << 1;
export const FCTL_PROTECTED = 1 << 6;
export const FCTL_ORDER = 1 << 7;

export const HDR_LEN_3ADDR = 24;
export const WLAN_CAPABILITY_ESS = 1 << 0;
export const WLAN_CAPABILITY_PRIVACY = 1 << 4;
export const WLAN_AUTH_OPEN = 0;
export const WLAN_STATUS_SUCCESS = 0;
export const WLAN_REASON_DEAUTH_LEAVING = 3;

export const EID = { SSID: 0, SUPP_RATES: 1, DS_PARAMS: 3, RSN: 48, EXT_SUPP_RATES: 50, VENDOR: 221 } as const;

export const ETH_ALEN = 6;
export const ETH_HLEN = 14;
export const ETH_P_AARP = 0x80f3;
export const ETH_P_IPX = 0x8137;
/** RFC 1042 SNAP header and the 802.1H bridge-tunnel one. */
export const RFC1042_HEADER: readonly number[] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00];
export const BRIDGE_TUNNEL_HEADER: readonly number[] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0xf8];

export type Mac = Uint8Array;

export const BROADCAST: Mac = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

export function macToString(m: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 6; i++) s += (i === 0 ? '' : ':') + (m[i] ?? 0).toString(16).padStart(2, '0');
  return s;
}

export function macEqual(a: Uint8Array, aOff: number, b: Uint8Array, bOff = 0): boolean {
  for (let i = 0; i < 6; i++) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

export function isMulticast(a: Uint8Array, off = 0): boolean {
  return ((a[off] ?? 0) & 1) !== 0;
}

export function isValidUnicastMac(m: Uint8Array): boolean {
  return m.length === 6 && !isMulticast(m) && m.some((b) => b !== 0);
}

const rd16 = (b: Uint8Array, o: number): number => (b[o] ?? 0) | ((b[o + 1] ?? 0) << 8);
const wr16 = (b: Uint8Array, o: number, v: number): void => { b[o] = v & 0xff; b[o + 1] = (v >>> 8) & 0xff; };

// ---- header -------------------------------------------------------------------------
export interface Hdr80211 {
  ftype: number;
  stype: number;
  /** Second frame-control byte (ToDS, FromDS, ..., Protected, Order). */
  flags: number;
  addr1: Mac;
  addr2: Mac;
  addr3: Mac;
  seqCtl: number;
  /** Header length: 24, +2 for QoS data, +4 with HT control. */
  hdrLen: number;
}

/** Parses the 3-address header of `f`; null if too short or a 4-address (WDS) frame. */
export function parseHdr(f: Uint8Array): Hdr80211 | null {
  if (f.length < HDR_LEN_3ADDR) return null;
  const fc0 = f[0]!;
  const flags = f[1]!;
  if ((fc0 & 3) !== 0) return null; // protocol version must be 0
  const ftype = (fc0 >>> 2) & 3;
  const stype = (fc0 >>> 4) & 0xf;
  if (ftype === FTYPE_CTL) return null;
  if ((flags & (FCTL_TODS | FCTL_FROMDS)) === (FCTL_TODS | FCTL_FROMDS)) return null;
  let hdrLen = HDR_LEN_3ADDR;
  if (ftype === FTYPE_DATA && (stype & STYPE_QOS_DATA) !== 0) {
    hdrLen += 2;
    if ((flags & FCTL_ORDER) !== 0) hdrLen += 4;
  }
  if (f.length < hdrLen) return null;
  return {
    ftype, stype, flags,
    addr1: f.subarray(4, 10), addr2: f.subarray(10, 16), addr3: f.subarray(16, 22),
    seqCtl: rd16(f, 22), hdrLen,
  };
}

function writeHdr(f: Uint8Array, ftype: number, stype: number, flags: number, a1: Mac, a2: Mac, a3: Mac, seq: number): void {
  f[0] = (ftype << 2) | (stype << 4);
  f[1] = flags;
  wr16(f, 2, 0); // duration: filled by the firmware
  f.set(a1.subarray(0, 6), 4);
  f.set(a2.subarray(0, 6), 10);
  f.set(a3.subarray(0, 6), 16);
  wr16(f, 22, (seq & 0xfff) << 4);
}

// ---- information elements ---------------------------------------------------------------
export interface Ie { id: number; data: Uint8Array }

/** Walks the IEs in `b`; stops at the first truncated one. */
export function parseIes(b: Uint8Array): Ie[] {
  const out: Ie[] = [];
  let o = 0;
  while (o + 2 <= b.length) {
    const id = b[o]!;
    const len = b[o + 1]!;
    if (o + 2 + len > b.length) break;
    out.push({ id, data: b.subarray(o + 2, o + 2 + len) });
    o += 2 + len;
  }
  return out;
}

function ie(id: number, data: Uint8Array | readonly number[]): number[] {
  return [id, data.length, ...data];
}

const utf8 = new TextEncoder();
const utf8dec = new TextDecoder('utf-8', { fatal: false });

export function ssidBytes(ssid: string): Uint8Array {
  return utf8.encode(ssid);
}

/** An SSID as text: empty for hidden (empty or all-zero) SSIDs. */
export function ssidText(b: Uint8Array): string {
  if (b.length === 0 || b.every((x) => x === 0)) return '';
  return utf8dec.decode(b);
}

/** Supported rates (500 kb/s units, basic rates flagged with bit 7) and extended rates. */
export function ratesFor(channel: number): { rates: number[]; ext: number[] } {
  if (channel <= 14) return { rates: [0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24], ext: [0x30, 0x48, 0x60, 0x6c] };
  return { rates: [0x8c, 0x12, 0x98, 0x24, 0xb0, 0x48, 0x60, 0x6c], ext: [] };
}

// ---- management frames ----------------------------------------------------------------------
/** Authentication, open system, transaction `seq` (1 from the station). */
export function buildAuth(da: Mac, sa: Mac, bssid: Mac, seqNum: number, transSeq = 1, status = 0): Uint8Array {
  const f = new Uint8Array(HDR_LEN_3ADDR + 6);
  writeHdr(f, FTYPE_MGMT, STYPE.AUTH, 0, da, sa, bssid, seqNum);
  wr16(f, 24, WLAN_AUTH_OPEN);
  wr16(f, 26, transSeq);
  wr16(f, 28, status);
  return f;
}

export function buildAssocReq(bssid: Mac, sa: Mac, seqNum: number, ssid: string, channel: number, listenInterval = 10): Uint8Array {
  const { rates, ext } = ratesFor(channel);
  const ies = [...ie(EID.SSID, ssidBytes(ssid).subarray(0, 32)), ...ie(EID.SUPP_RATES, rates)];
  if (ext.length > 0) ies.push(...ie(EID.EXT_SUPP_RATES, ext));
  const f = new Uint8Array(HDR_LEN_3ADDR + 4 + ies.length);
  writeHdr(f, FTYPE_MGMT, STYPE.ASSOC_REQ, 0, bssid, sa, bssid, seqNum);
  wr16(f, 24, WLAN_CAPABILITY_ESS);
  wr16(f, 26, listenInterval);
  f.set(ies, 28);
  return f;
}

/** Deauthentication (or disassociation with `disassoc`) with a reason code. */
export function buildDeauth(da: Mac, sa: Mac, bssid: Mac, seqNum: number, reason: number, disassoc = false): Uint8Array {
  const f = new Uint8Array(HDR_LEN_3ADDR + 2);
  writeHdr(f, FTYPE_MGMT, disassoc ? STYPE.DISASSOC : STYPE.DEAUTH, 0, da, sa, bssid, seqNum);
  wr16(f, 24, reason);
  return f;
}

export interface AuthFrame { alg: number; transSeq: number; status: number }
export function parseAuth(f: Uint8Array, h: Hdr80211): AuthFrame | null {
  if (h.ftype !== FTYPE_MGMT || h.stype !== STYPE.AUTH || f.length < HDR_LEN_3ADDR + 6) return null;
  return { alg: rd16(f, 24), transSeq: rd16(f, 26), status: rd16(f, 28) };
}

export interface AssocResp { capability: number; status: number; aid: number }
export function parseAssocResp(f: Uint8Array, h: Hdr80211): AssocResp | null {
  if (h.ftype !== FTYPE_MGMT || (h.stype !== STYPE.ASSOC_RESP && h.stype !== STYPE.REASSOC_RESP)) return null;
  if (f.length < HDR_LEN_3ADDR + 6) return null;
  return { capability: rd16(f, 24), status: rd16(f, 26), aid: rd16(f, 28) & 0x3fff };
}

/** Reason code of a deauthentication / disassociation frame. */
export function parseReason(f: Uint8Array, h: Hdr80211): number | null {
  if (h.ftype !== FTYPE_MGMT || (h.stype !== STYPE.DEAUTH && h.stype !== STYPE.DISASSOC)) return null;
  if (f.length < HDR_LEN_3ADDR + 2) return null;
  return rd16(f, 24);
}

export type Security = 'open' | 'wep' | 'wpa2-psk' | 'wpa3-sae' | 'wpa2-eap';

export interface BeaconInfo {
  bssid: Mac;
  /** '' for a hidden network. */
  ssid: string;
  hidden: boolean;
  /** From the DS parameter set; null when the frame has none. */
  channel: number | null;
  capability: number;
  beaconInt: number;
  security: Security;
}

const OUI_IEEE = [0x00, 0x0f, 0xac];
const AKM_8021X = 1;
const AKM_PSK = 2;
const AKM_SAE = 8;

/** Security from the privacy bit and the RSN IE's AKM suites (cfg80211 style). */
function securityOf(capability: number, rsn: Uint8Array | undefined): Security {
  if ((capability & WLAN_CAPABILITY_PRIVACY) === 0 && rsn === undefined) return 'open';
  if (rsn === undefined) return 'wep';
  // RSN: le16 version, group cipher (4), le16 pairwise count, suites, le16 AKM count, suites.
  let o = 2 + 4;
  if (rsn.length < o + 2) return 'wpa2-psk';
  const npair = rd16(rsn, o);
  o += 2 + 4 * npair;
  if (rsn.length < o + 2) return 'wpa2-psk';
  const nakm = rd16(rsn, o);
  o += 2;
  const akms: number[] = [];
  for (let i = 0; i < nakm && o + 4 <= rsn.length; i++, o += 4) {
    if (rsn[o] === OUI_IEEE[0] && rsn[o + 1] === OUI_IEEE[1] && rsn[o + 2] === OUI_IEEE[2]) akms.push(rsn[o + 3]!);
  }
  if (akms.includes(AKM_PSK)) return 'wpa2-psk';
  if (akms.includes(AKM_SAE)) return 'wpa3-sae';
  if (akms.includes(AKM_8021X)) return 'wpa2-eap';
  return 'wpa2-psk';
}

/** Parses a beacon or probe response; null if it is neither or is truncated. */
export function parseBeacon(f: Uint8Array, h: Hdr80211): BeaconInfo | null {
  if (h.ftype !== FTYPE_MGMT || (h.stype !== STYPE.BEACON && h.stype !== STYPE.PROBE_RESP)) return null;
  const fixed = HDR_LEN_3ADDR + 12;
  if (f.length < fixed) return null;
  const beaconInt = rd16(f, HDR_LEN_3ADDR + 8);
  const capability = rd16(f, HDR_LEN_3ADDR + 10);
  let ssidIe: Uint8Array | undefined;
  let channel: number | null = null;
  let rsn: Uint8Array | undefined;
  for (const e of parseIes(f.subarray(fixed))) {
    if (e.id === EID.SSID && ssidIe === undefined) ssidIe = e.data.subarray(0, 32);
    else if (e.id === EID.DS_PARAMS && e.data.length >= 1 && channel === null) channel = e.data[0]!;
    else if (e.id === EID.RSN && rsn === undefined) rsn = e.data;
  }
  const ssid = ssidText(ssidIe ?? new Uint8Array(0));
  return {
    bssid: new Uint8Array(h.addr3), ssid, hidden: ssid === '', channel, capability, beaconInt,
    security: securityOf(capability, rsn),
  };
}

// ---- data frames: 802.3 <-> 802.11 ------------------------------------------------------------
/**
 * Ethernet frame (dst, src, ethertype, payload) -> 802.11 data frame to the
 * AP: ToDS, addr1 = BSSID, addr2 = own MAC (the frame's source must be ours),
 * addr3 = destination, then LLC/SNAP and the ethertype (ieee80211_subif_start_xmit).
 * Returns null for a frame shorter than the Ethernet header.
 */
export function ethToWlan(eth: Uint8Array, own: Mac, bssid: Mac, seqNum: number): Uint8Array | null {
  if (eth.length < ETH_HLEN) return null;
  const ethertype = (eth[12]! << 8) | eth[13]!;
  const payload = eth.subarray(ETH_HLEN);
  const f = new Uint8Array(HDR_LEN_3ADDR + 8 + payload.length);
  writeHdr(f, FTYPE_DATA, STYPE_DATA, FCTL_TODS, bssid, own, eth.subarray(0, 6), seqNum);
  const snap = ethertype === ETH_P_AARP || ethertype === ETH_P_IPX ? BRIDGE_TUNNEL_HEADER : RFC1042_HEADER;
  f.set(snap, HDR_LEN_3ADDR);
  f[HDR_LEN_3ADDR + 6] = ethertype >>> 8;
  f[HDR_LEN_3ADDR + 7] = ethertype & 0xff;
  f.set(payload, HDR_LEN_3ADDR + 8);
  return f;
}

/**
 * 802.11 data frame from the AP (FromDS) -> Ethernet frame: dst = addr1,
 * src = addr3, ethertype from the SNAP header (ieee80211_data_to_8023).
 * Null for frames without LLC/SNAP, null-data frames and protected frames.
 */
export function wlanToEth(f: Uint8Array, h: Hdr80211): Uint8Array | null {
  if (h.ftype !== FTYPE_DATA || (h.stype & 0x4) !== 0) return null;
  if ((h.flags & FCTL_PROTECTED) !== 0) return null;
  if ((h.flags & (FCTL_TODS | FCTL_FROMDS)) !== FCTL_FROMDS) return null;
  const body = f.subarray(h.hdrLen);
  if (body.length < 8) return null;
  const isSnap = RFC1042_HEADER.every((b, i) => body[i] === b) || BRIDGE_TUNNEL_HEADER.every((b, i) => body[i] === b);
  if (!isSnap) return null;
  const payload = body.subarray(8);
  const eth = new Uint8Array(ETH_HLEN + payload.length);
  eth.set(h.addr1, 0);
  eth.set(h.addr3, 6);
  eth[12] = body[6]!;
  eth[13] = body[7]!;
  eth.set(payload, ETH_HLEN);
  return eth;
}
