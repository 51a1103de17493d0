/** Small hand-built TLV files for the firmware tests. */
import {
  TLV, encodeTlvFile, encodeVer, le32s, type RawHeader, type RawTlv,
} from '../../../../src/devices/iwlwifi/firmware/index.js';

export const FILE = 'iwlwifi-7265D-test.ucode';

export function header(api = 29, extra: Partial<RawHeader> = {}): RawHeader {
  return { description: 'test image', ver: encodeVer({ major: api, minor: 0, api, serial: 1 }), build: 7, ...extra };
}

/** A section TLV: le32 destination + data. */
export function sec(type: number, dest: number, data: Uint8Array = new Uint8Array([1, 2, 3, 4])): RawTlv {
  const d = new Uint8Array(4 + data.length);
  d.set(le32s(dest), 0);
  d.set(data, 4);
  return { type, data: d };
}

/** The smallest valid file body: one INIT and one runtime section. */
export function minimalTlvs(): RawTlv[] {
  return [sec(TLV.SEC_RT, 0), sec(TLV.SEC_INIT, 0)];
}

export function file(tlvs: RawTlv[] = minimalTlvs(), hdr: RawHeader = header()): Uint8Array {
  return encodeTlvFile(hdr, tlvs);
}

/** Offset of TLV number `i` in a file laid out by encodeTlvFile with padding. */
export function tlvOffset(tlvs: RawTlv[], i: number): number {
  let at = 88;
  for (let k = 0; k < i; k++) at += 8 + ((tlvs[k]!.data.length + 3) & ~3);
  return at;
}
