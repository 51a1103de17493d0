/**
 * The simulated adapter's NVM as the 7000 family stores it (fw-api NVM_*
 * layouts, Linux iwl-nvm-parse.c): HW section with the MAC address in
 * byte-swapped 16-bit words at word 0x15, SW section with version, radio
 * config, SKU and number of MAC addresses in words 0-3 and the per-channel
 * flags from word 0x20, and CALIBRATION / PRODUCTION sections of
 * deterministic filler derived from the MAC.
 *
 * Channel policy (simrun's, roughly a world regulatory domain): 2.4 GHz 1-13
 * valid, 1-11 active scan allowed, 12-13 passive only, 14 invalid; 5 GHz
 * valid when the SKU has BAND_52, 36-48 and 149-165 active, 52-144 (DFS)
 * passive only. A band missing from the SKU has no valid channels.
 */
import { fnvWord, FNV_OFFSET } from '../../../sim/hash.js';
import {
  NVM_CHANNELS, NVM_CHANNEL_20MHZ, NVM_CHANNEL_ACTIVE, NVM_CHANNEL_IBSS, NVM_CHANNEL_RADAR, NVM_CHANNEL_VALID, NVM_HW, NVM_SECTION,
  NVM_SKU, NVM_SW,
} from '../fw-api.js';
import { wr16 } from './packets.js';

export const NVM_VERSION = 0x0e1f;
/** Radio config word (NVM_RF_CFG): dash 2, step 0, type 1, pnum 0, TX antennas A+B (11:8), RX antennas A+B (15:12). */
export const NVM_RADIO_CFG = 0x3312;
export const NVM_SIZES = { HW: NVM_HW.SIZE, SW: 0x100, CALIBRATION: 0x2c0, PRODUCTION: 0x180 } as const;

export type Nvm = ReadonlyMap<number, Uint8Array>;

/** Flag word of a channel in the SW section. */
export function channelFlags(channel: number, sku: number): number {
  const band24 = channel <= 14;
  if (band24 ? (sku & NVM_SKU.BAND_24) === 0 : (sku & NVM_SKU.BAND_52) === 0) return 0;
  if (channel === 14) return 0;
  const active = band24 ? channel <= 11 : channel <= 48 || channel >= 149;
  const dfs = !band24 && channel >= 52 && channel <= 144;
  return NVM_CHANNEL_VALID | NVM_CHANNEL_20MHZ | (active ? NVM_CHANNEL_ACTIVE | NVM_CHANNEL_IBSS : 0) | (dfs ? NVM_CHANNEL_RADAR : 0);
}

/** Writes a MAC address the way the 7000 family's HW section holds it: each 16-bit word byte-swapped ("214365"). */
export function storeHwAddr(section: Uint8Array, offset: number, mac: Uint8Array): void {
  for (let i = 0; i < 6; i += 2) {
    section[offset + i] = mac[i + 1] ?? 0;
    section[offset + i + 1] = mac[i] ?? 0;
  }
}

function filler(size: number, seed: number): Uint8Array {
  const b = new Uint8Array(size);
  let h = seed;
  for (let i = 0; i < size; i += 4) {
    h = fnvWord(h, i);
    for (let k = 0; k < 4 && i + k < size; k++) b[i + k] = (h >>> (8 * k)) & 0xff;
  }
  return b;
}

export function buildNvm(mac: Uint8Array, sku: number): Nvm {
  let seed = FNV_OFFSET;
  for (let i = 0; i < 6; i++) seed = fnvWord(seed, mac[i] ?? 0);
  const hw = new Uint8Array(NVM_SIZES.HW);
  storeHwAddr(hw, NVM_HW.HW_ADDR, mac);
  const sw = new Uint8Array(NVM_SIZES.SW);
  wr16(sw, NVM_SW.VERSION, NVM_VERSION);
  wr16(sw, NVM_SW.RADIO_CFG, NVM_RADIO_CFG);
  wr16(sw, NVM_SW.SKU, sku);
  wr16(sw, NVM_SW.N_HW_ADDRS, 1);
  NVM_CHANNELS.forEach((ch, i) => wr16(sw, NVM_SW.CHANNELS + 2 * i, channelFlags(ch, sku)));
  return new Map<number, Uint8Array>([
    [NVM_SECTION.HW, hw],
    [NVM_SECTION.SW, sw],
    [NVM_SECTION.CALIBRATION, filler(NVM_SIZES.CALIBRATION, fnvWord(seed, NVM_SECTION.CALIBRATION))],
    [NVM_SECTION.PRODUCTION, filler(NVM_SIZES.PRODUCTION, fnvWord(seed, NVM_SECTION.PRODUCTION))],
  ]);
}

/** Reads [offset, offset + length) of a section, truncated at its end; null = no such section. */
export function nvmRead(nvm: Nvm, type: number, offset: number, length: number): Uint8Array | null {
  const s = nvm.get(type);
  if (s === undefined) return null;
  const from = Math.min(offset, s.length);
  return s.slice(from, Math.min(s.length, from + length));
}

/** The flags of `channel` as stored in the SW section (0 = not in the list / invalid). */
export function nvmChannelFlags(nvm: Nvm, channel: number): number {
  const sw = nvm.get(NVM_SECTION.SW);
  const i = NVM_CHANNELS.indexOf(channel);
  if (sw === undefined || i < 0) return 0;
  return (sw[NVM_SW.CHANNELS + 2 * i] ?? 0) | ((sw[NVM_SW.CHANNELS + 2 * i + 1] ?? 0) << 8);
}
