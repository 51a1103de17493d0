/**
 * pcap encoding of 802.11 frames (`air` trace records): pure functions from
 * frames to bytes, no I/O.
 *
 * File: classic libpcap format, little-endian, link type 127
 * (LINKTYPE_IEEE802_11_RADIOTAP). Timestamps are the simulated time from the
 * trace's time 0, shown as 1970-01-01T00:00:00Z + time. By default they have
 * nanosecond resolution (magic 0xa1b23c4d, read by libpcap >= 1.5, Wireshark
 * and tshark, scapy): simulated time is in picoseconds and two frames a SIFS
 * apart should not share a timestamp. `resolution: 'us'` writes the original
 * microsecond format (magic 0xa1b2c3d4) for older tools.
 *
 *   global header (24 bytes): u32 magic | u16 2 | u16 4 | i32 thiszone 0 |
 *                             u32 sigfigs 0 | u32 snaplen 65535 | u32 network 127
 *   per packet: u32 ts_sec | u32 ts_usec or ts_nsec | u32 incl_len | u32 orig_len |
 *               radiotap header | 802.11 frame (without FCS)
 *
 * Radiotap header (https://www.radiotap.org; little-endian, each field
 * aligned to its natural size from the start of the radiotap header):
 *
 *   u8 version 0 | u8 pad 0 | u16 length | u32 present, then the fields in bit order:
 *   bit 0 TSFT           u64, 8-aligned: simulated time in microseconds (the MAC timestamp)
 *   bit 1 FLAGS          u8: 0 (no FCS at the end of the frame)
 *   bit 2 RATE           u8: 500 kb/s units (left out when the record's rate is 0: unknown)
 *   bit 3 CHANNEL        u16 frequency MHz + u16 flags, 2-aligned (left out for channel 0)
 *   bit 5 DBM_ANTSIGNAL  s8: the record's signal in dBm (for a sent frame, the level it
 *                        was sent at as the record gives it)
 *
 * Ethernet frames (`eth` trace records) go to a file of link type 1
 * (LINKTYPE_ETHERNET): the same global header with network 1, and each
 * packet is the record header followed by the frame as recorded
 * (destination MAC first, no preamble, no FCS, not padded).
 *
 * Channel flags: 2.4 GHz 0x0080 (| CCK 0x0020 at 1, 2, 5.5 and 11 Mb/s, | OFDM
 * 0x0040 at the OFDM rates); 5 GHz 0x0100 | OFDM 0x0040. With TSFT, FLAGS,
 * RATE, CHANNEL and DBM_ANTSIGNAL the header is 23 bytes: TSFT at 8, FLAGS 16,
 * RATE 17, CHANNEL 18..21, DBM_ANTSIGNAL 22.
 */
import { channelFreq, is2GHz } from '../air.js';

export const LINKTYPE_IEEE802_11_RADIOTAP = 127;
export const LINKTYPE_ETHERNET = 1;
/** Classic pcap magic, microsecond timestamps. */
export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
/** pcap magic for nanosecond timestamps. */
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAP_GLOBAL_HEADER_SIZE = 24;
export const PCAP_RECORD_HEADER_SIZE = 16;
/** Largest packet a reader must accept (radiotap + an 802.11 frame of at most 11,454 bytes fit well below). */
export const PCAP_SNAPLEN = 65535;

/** Radiotap present-word bits used here. */
export const RT = { TSFT: 0, FLAGS: 1, RATE: 2, CHANNEL: 3, DBM_ANTSIGNAL: 5 } as const;
/** Radiotap channel flags. */
export const CHAN = { CCK: 0x0020, OFDM: 0x0040, GHZ2: 0x0080, GHZ5: 0x0100 } as const;

/** Rates (500 kb/s units) that are CCK/DSSS in the 2.4 GHz band: 1, 2, 5.5, 11 Mb/s. */
const CCK_RATES = new Set([2, 4, 11, 22]);
/** OFDM rates (500 kb/s units): 6, 9, 12, 18, 24, 36, 48, 54 Mb/s. */
const OFDM_RATES = new Set([12, 18, 24, 36, 48, 72, 96, 108]);

export type TsResolution = 'ns' | 'us';

export interface PcapOptions {
  /** Timestamp resolution (default 'ns'). */
  resolution?: TsResolution;
  /** Include the radiotap TSFT field (default true). */
  tsft?: boolean;
  /** Link type of the global header (default 127, 802.11 + radiotap; 1 for Ethernet). */
  linkType?: number;
}

/** What a packet is made of: an `air` trace event has these fields. */
export interface AirFrame {
  /** Simulated time, ps. */
  time: number;
  channel: number;
  /** dBm. */
  signal: number;
  /** 500 kb/s units; 0 unknown. */
  rate: number;
  /** The 802.11 frame without FCS. */
  data: Uint8Array;
}

/** Radiotap channel flags for a channel number and a rate (500 kb/s units). */
export function channelFlags(channel: number, rate: number): number {
  if (!is2GHz(channel)) return CHAN.GHZ5 | CHAN.OFDM;
  if (CCK_RATES.has(rate)) return CHAN.GHZ2 | CHAN.CCK;
  if (OFDM_RATES.has(rate)) return CHAN.GHZ2 | CHAN.OFDM;
  return CHAN.GHZ2;
}

function u16(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
}
function u32(b: Uint8Array, o: number, v: number): void {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
}
/** An unsigned integer below 2^53 as a little-endian u64. */
function u64(b: Uint8Array, o: number, v: number): void {
  const hi = Math.floor(v / 4294967296);
  u32(b, o, v - hi * 4294967296);
  u32(b, o + 4, hi);
}

/** The 24-byte pcap global header. */
export function pcapGlobalHeader(opts: PcapOptions = {}): Uint8Array {
  const b = new Uint8Array(PCAP_GLOBAL_HEADER_SIZE);
  u32(b, 0, (opts.resolution ?? 'ns') === 'us' ? PCAP_MAGIC_USEC : PCAP_MAGIC_NSEC);
  u16(b, 4, 2); // version 2.4
  u16(b, 6, 4);
  u32(b, 8, 0); // thiszone: UTC
  u32(b, 12, 0); // sigfigs
  u32(b, 16, PCAP_SNAPLEN);
  u32(b, 20, opts.linkType ?? LINKTYPE_IEEE802_11_RADIOTAP);
  return b;
}

const align = (o: number, n: number): number => (o + n - 1) & ~(n - 1);

/** The radiotap header for a frame (see the layout at the top of this file). */
export function radiotapHeader(f: Omit<AirFrame, 'data'>, opts: PcapOptions = {}): Uint8Array {
  const withTsft = opts.tsft ?? true;
  const rate = Number.isInteger(f.rate) && f.rate > 0 && f.rate <= 255 ? f.rate : 0;
  const freq = channelFreq(f.channel);
  const signal = Math.max(-128, Math.min(127, Math.round(Number.isFinite(f.signal) ? f.signal : 0)));
  let present = (1 << RT.FLAGS) | (1 << RT.DBM_ANTSIGNAL);
  if (withTsft) present |= 1 << RT.TSFT;
  if (rate > 0) present |= 1 << RT.RATE;
  if (freq > 0) present |= 1 << RT.CHANNEL;
  // Lay the fields out in bit order, each aligned to its size.
  let o = 8;
  const at: Partial<Record<keyof typeof RT, number>> = {};
  const place = (name: keyof typeof RT, size: number, alignment: number): void => {
    if ((present & (1 << RT[name])) === 0) return;
    o = align(o, alignment);
    at[name] = o;
    o += size;
  };
  place('TSFT', 8, 8);
  place('FLAGS', 1, 1);
  place('RATE', 1, 1);
  place('CHANNEL', 4, 2);
  place('DBM_ANTSIGNAL', 1, 1);
  const b = new Uint8Array(o); // zero: version 0, pad 0, alignment padding
  u16(b, 2, o);
  u32(b, 4, present >>> 0);
  if (at.TSFT !== undefined) u64(b, at.TSFT, Math.floor(Math.max(0, f.time) / 1e6));
  if (at.FLAGS !== undefined) b[at.FLAGS] = 0; // no FCS
  if (at.RATE !== undefined) b[at.RATE] = rate;
  if (at.CHANNEL !== undefined) {
    u16(b, at.CHANNEL, freq);
    u16(b, at.CHANNEL + 2, channelFlags(f.channel, rate));
  }
  if (at.DBM_ANTSIGNAL !== undefined) b[at.DBM_ANTSIGNAL] = signal & 0xff;
  return b;
}

/** Seconds and sub-second units (ns or us) of a simulated time in ps, truncated. */
export function pcapTimestamp(timePs: number, resolution: TsResolution = 'ns'): { sec: number; frac: number } {
  const t = Math.max(0, timePs);
  const sec = Math.floor(t / 1e12);
  const rem = t - sec * 1e12;
  return { sec, frac: Math.floor(rem / (resolution === 'us' ? 1e6 : 1e3)) };
}

/** One pcap packet record: record header, radiotap header, frame. */
export function pcapPacket(f: AirFrame, opts: PcapOptions = {}): Uint8Array {
  const rt = radiotapHeader(f, opts);
  const n = rt.length + f.data.length;
  const b = new Uint8Array(PCAP_RECORD_HEADER_SIZE + n);
  const ts = pcapTimestamp(f.time, opts.resolution ?? 'ns');
  u32(b, 0, ts.sec >>> 0);
  u32(b, 4, ts.frac);
  u32(b, 8, n);
  u32(b, 12, n);
  b.set(rt, PCAP_RECORD_HEADER_SIZE);
  b.set(f.data, PCAP_RECORD_HEADER_SIZE + rt.length);
  return b;
}

/** One pcap packet of an Ethernet frame (link type 1): record header, frame. */
export function pcapEthernetPacket(f: { time: number; data: Uint8Array }, opts: PcapOptions = {}): Uint8Array {
  const n = f.data.length;
  const b = new Uint8Array(PCAP_RECORD_HEADER_SIZE + n);
  const ts = pcapTimestamp(f.time, opts.resolution ?? 'ns');
  u32(b, 0, ts.sec >>> 0);
  u32(b, 4, ts.frac);
  u32(b, 8, n);
  u32(b, 12, n);
  b.set(f.data, PCAP_RECORD_HEADER_SIZE);
  return b;
}

/** A whole Ethernet pcap file (link type 1) in memory (tests, small exports). */
export function pcapEthernetFile(frames: Iterable<{ time: number; data: Uint8Array }>, opts: PcapOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [pcapGlobalHeader({ ...opts, linkType: LINKTYPE_ETHERNET })];
  for (const f of frames) parts.push(pcapEthernetPacket(f, opts));
  return Buffer.concat(parts);
}

/** A whole pcap file in memory (tests, small exports). */
export function pcapFile(frames: Iterable<AirFrame>, opts: PcapOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [pcapGlobalHeader(opts)];
  let total = PCAP_GLOBAL_HEADER_SIZE;
  for (const f of frames) {
    const p = pcapPacket(f, opts);
    parts.push(p);
    total += p.length;
  }
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
