/**
 * Small 802.11 helpers for `air` trace records (802.11 frames on the air, no
 * FCS): frame type/subtype names, channel frequencies, SSID and addresses.
 * Used by `simrun inspect`, comparison reports, diff and the pcap exporter.
 * Pure functions over bytes; nothing here may throw on a short or odd frame.
 */

/** Frame Control byte 0: bits 2-3 type, bits 4-7 subtype. */
export function frameType(data: Uint8Array): number {
  return data.length > 0 ? (data[0]! >>> 2) & 3 : -1;
}
export function frameSubtype(data: Uint8Array): number {
  return data.length > 0 ? data[0]! >>> 4 : -1;
}
/** (type << 4) | subtype, as Wireshark's wlan.fc.type_subtype; -1 for an empty frame. */
export function typeSubtype(data: Uint8Array): number {
  return data.length > 0 ? (frameType(data) << 4) | frameSubtype(data) : -1;
}

const MGMT = [
  'assoc-req', 'assoc-resp', 'reassoc-req', 'reassoc-resp', 'probe-req', 'probe-resp', 'timing-advert', 'mgmt-7',
  'beacon', 'atim', 'disassoc', 'auth', 'deauth', 'action', 'action-noack', 'mgmt-15',
];
const CTRL: Record<number, string> = {
  2: 'trigger', 4: 'bf-report-poll', 5: 'ndp-announce', 6: 'ctrl-frame-ext', 7: 'ctrl-wrapper', 8: 'block-ack-req', 9: 'block-ack',
  10: 'ps-poll', 11: 'rts', 12: 'cts', 13: 'ack', 14: 'cf-end', 15: 'cf-end-ack',
};
const DATA: Record<number, string> = { 0: 'data', 4: 'null', 8: 'qos-data', 12: 'qos-null' };

/** "beacon", "auth", "qos-data", "ack", ... ("ctrl-3", "data-5" for the rare ones; "empty" for no bytes). */
export function frameName(data: Uint8Array): string {
  if (data.length === 0) return 'empty';
  const t = frameType(data);
  const s = frameSubtype(data);
  if (t === 0) return MGMT[s]!;
  if (t === 1) return CTRL[s] ?? `ctrl-${s}`;
  if (t === 2) return DATA[s] ?? `data-${s}`;
  return `ext-${s}`;
}

/**
 * Centre frequency in MHz of a channel number: 2.4 GHz band 2407 + 5*ch
 * (channel 14: 2484), 5 GHz band 5000 + 5*ch (channels above 14); 0 for
 * channel 0 or a negative one.
 */
export function channelFreq(channel: number): number {
  if (!(channel > 0)) return 0;
  if (channel === 14) return 2484;
  if (channel < 14) return 2407 + 5 * channel;
  return 5000 + 5 * channel;
}

/** True for channels of the 2.4 GHz band (1..14). */
export function is2GHz(channel: number): boolean {
  return channel >= 1 && channel <= 14;
}

/** Rate in 500 kb/s units as text: 2 -> "1", 11 -> "5.5", 108 -> "54". */
export function rateMbps(rate: number): string {
  return String(rate / 2);
}

/** A MAC address at `o` as "aa:bb:cc:dd:ee:ff", or undefined if the frame is too short. */
export function macAt(data: Uint8Array, o: number): string | undefined {
  if (o + 6 > data.length) return undefined;
  let s = '';
  for (let i = 0; i < 6; i++) s += (i > 0 ? ':' : '') + data[o + i]!.toString(16).padStart(2, '0');
  return s;
}

/** Transmitter/source address (Address 2) of frames that carry one (management, data, RTS, PS-Poll, BlockAck...). */
export function transmitter(data: Uint8Array): string | undefined {
  const t = frameType(data);
  const s = frameSubtype(data);
  if (t === 1 && (s === 12 || s === 13)) return undefined; // CTS, ACK: Address 1 only
  return macAt(data, 10);
}

/** Offset of the information elements of a management frame, or undefined (not management, or none). */
function ieOffset(data: Uint8Array): number | undefined {
  if (frameType(data) !== 0) return undefined;
  switch (frameSubtype(data)) {
    case 0: return 24 + 4; // assoc req: capability, listen interval
    case 1: case 3: return 24 + 6; // assoc/reassoc resp: capability, status, AID
    case 2: return 24 + 10; // reassoc req: + current AP address
    case 4: return 24; // probe req
    case 5: case 8: return 24 + 12; // probe resp, beacon: timestamp, interval, capability
    default: return undefined;
  }
}

/** The SSID element of a beacon, probe or (re)association request, as raw bytes; undefined if absent. */
export function ssidOf(data: Uint8Array): Uint8Array | undefined {
  let o = ieOffset(data);
  if (o === undefined) return undefined;
  while (o + 2 <= data.length) {
    const id = data[o]!;
    const len = data[o + 1]!;
    if (o + 2 + len > data.length) return undefined;
    if (id === 0) return data.subarray(o + 2, o + 2 + len);
    o += 2 + len;
  }
  return undefined;
}

/** An SSID as text: JSON-quoted if printable ASCII, else hex ("<hidden>" when empty). */
export function ssidText(ssid: Uint8Array): string {
  if (ssid.length === 0) return '<hidden>';
  let s = '';
  for (const b of ssid) {
    if (b < 0x20 || b > 0x7e) return Array.from(ssid, (x) => x.toString(16).padStart(2, '0')).join('');
    s += String.fromCharCode(b);
  }
  return JSON.stringify(s);
}

/** One-line summary of a frame: "beacon from 02:00:00:00:01:00 ssid \"simnet\"". */
export function describeFrame(data: Uint8Array): string {
  let out = frameName(data);
  const ta = transmitter(data);
  if (ta !== undefined) out += ` from ${ta}`;
  else {
    const ra = macAt(data, 4);
    if (ra !== undefined) out += ` to ${ra}`;
  }
  const ssid = ssidOf(data);
  if (ssid !== undefined) out += ` ssid ${ssidText(ssid)}`;
  return out;
}
