/** Hand-built 802.11 frames (no FCS) for the air-record and pcap tests. */

export const AP = [0x02, 0x00, 0x00, 0x00, 0x01, 0x00];
export const STA = [0x02, 0x00, 0x00, 0x00, 0x02, 0x00];
const BCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

function hdr(fc0: number, a1: number[], a2: number[], a3: number[], seq: number): number[] {
  return [fc0, 0x00, 0x00, 0x00, ...a1, ...a2, ...a3, (seq << 4) & 0xff, (seq >> 4) & 0xff];
}
const ie = (id: number, body: number[]): number[] => [id, body.length, ...body];
const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));
const RATES = ie(1, [0x82, 0x84, 0x8b, 0x96, 0x0c, 0x12, 0x18, 0x24]);

/** Beacon (type/subtype 0x08) with an SSID, supported rates and DS parameter set. */
export function beacon(ssid: string, channel: number, seq = 0, tsf = 0): Uint8Array {
  const ts = Array.from({ length: 8 }, (_, i) => Math.floor(tsf / 2 ** (8 * i)) & 0xff);
  return Uint8Array.from([
    ...hdr(0x80, BCAST, AP, AP, seq), ...ts, 0x64, 0x00, 0x01, 0x04,
    ...ie(0, ascii(ssid)), ...RATES, ...ie(3, [channel]),
  ]);
}

/** Open System authentication (0x0b), transaction `n`. */
export function auth(fromSta: boolean, n: number, seq = 1): Uint8Array {
  return Uint8Array.from([...hdr(0xb0, fromSta ? AP : STA, fromSta ? STA : AP, AP, seq), 0x00, 0x00, n, 0x00, 0x00, 0x00]);
}

/** Association request (0x00) with an SSID. */
export function assocReq(ssid: string, seq = 2): Uint8Array {
  return Uint8Array.from([...hdr(0x00, AP, STA, AP, seq), 0x01, 0x04, 0x0a, 0x00, ...ie(0, ascii(ssid)), ...RATES]);
}

/** Association response (0x01), status success, AID 1. */
export function assocResp(seq = 3): Uint8Array {
  return Uint8Array.from([...hdr(0x10, STA, AP, AP, seq), 0x01, 0x04, 0x00, 0x00, 0x01, 0xc0, ...RATES]);
}

/** ACK (0x1d): 10 bytes, stored inline in a trace. */
export function ack(to: number[]): Uint8Array {
  return Uint8Array.from([0xd4, 0x00, 0x00, 0x00, ...to]);
}
