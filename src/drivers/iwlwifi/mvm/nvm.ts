/**
 * NVM reading and parsing (Linux mvm/nvm.c, iwl-nvm-parse.c).
 */
import type { Co } from '../../../sim/scheduler.js';
import { EINVAL, EIO, ENOENT } from '../../../kernel/errno.js';
import {
  CMD, NVM_ACCESS, NVM_ACCESS_RESP, NVM_CHANNELS, NVM_CHANNEL_ACTIVE, NVM_CHANNEL_RADAR, NVM_CHANNEL_VALID, NVM_CHUNK_SIZE, NVM_HW,
  NVM_OP_READ, NVM_SECTION, NVM_SKU, NVM_SW, nvmRfCfgRxAnt, nvmRfCfgTxAnt,
} from '../fw/api.js';
import { isValidUnicastMac, macToString } from '../mac80211/ieee80211.js';
import { MvmCore, Payload, le16, hex, NVM_MAX_SECTION, type NvmData } from './core.js';

export abstract class MvmNvm extends MvmCore {
  // ---- NVM (mvm/nvm.c) -------------------------------------------------------------------
  /** Reads one section in NVM_CHUNK_SIZE chunks until a short read; -ENOENT if the firmware has no such section. */
  protected *readNvmSection(type: number): Co<Uint8Array | number> {
    const chunks: Uint8Array[] = [];
    let offset = 0;
    for (;;) {
      const p = new Payload(NVM_ACCESS.SIZE)
        .u8(NVM_ACCESS.OP, NVM_OP_READ).u8(NVM_ACCESS.TARGET, 0)
        .u16(NVM_ACCESS.TYPE, type).u16(NVM_ACCESS.OFFSET, offset).u16(NVM_ACCESS.LENGTH, NVM_CHUNK_SIZE);
      const r = yield* this.cmd(CMD.NVM_ACCESS, p.b, { raw: true });
      if (typeof r === 'number') return r;
      const d = r.payload;
      if (d.length < NVM_ACCESS_RESP.HDR) {
        this.err(`NVM_ACCESS response of ${d.length} bytes, shorter than its ${NVM_ACCESS_RESP.HDR}-byte header`);
        return -EIO;
      }
      const status = le16(d, NVM_ACCESS_RESP.STATUS);
      const len = le16(d, NVM_ACCESS_RESP.LENGTH);
      const off = le16(d, NVM_ACCESS_RESP.OFFSET);
      if (status !== 0) {
        if (offset === 0) return -ENOENT;
        this.err(`NVM section ${type}: read at offset ${offset} failed with status ${status}`);
        return -EIO;
      }
      if (off !== offset || len > NVM_CHUNK_SIZE || d.length < NVM_ACCESS_RESP.DATA + len) {
        this.err(`NVM section ${type}: bad response (offset ${off}, length ${len}, ${d.length - NVM_ACCESS_RESP.DATA} data bytes) to a read at ${offset}`);
        return -EIO;
      }
      chunks.push(d.slice(NVM_ACCESS_RESP.DATA, NVM_ACCESS_RESP.DATA + len));
      offset += len;
      if (len < NVM_CHUNK_SIZE) break;
      if (offset >= NVM_MAX_SECTION) {
        this.err(`NVM section ${type}: longer than ${NVM_MAX_SECTION} bytes`);
        return -EIO;
      }
    }
    const out = new Uint8Array(offset);
    let o = 0;
    for (const c of chunks) { out.set(c, o); o += c.length; }
    return out;
  }

  protected *readNvm(): Co<number> {
    const sections = new Map<number, Uint8Array>();
    const names: Record<number, string> = { [NVM_SECTION.HW]: 'HW', [NVM_SECTION.SW]: 'SW', [NVM_SECTION.CALIBRATION]: 'CALIBRATION', [NVM_SECTION.PRODUCTION]: 'PRODUCTION' };
    for (const type of [NVM_SECTION.HW, NVM_SECTION.SW, NVM_SECTION.CALIBRATION, NVM_SECTION.PRODUCTION]) {
      const r = yield* this.readNvmSection(type);
      if (r === -ENOENT) { this.dbg(`NVM section ${names[type]} (${type}) not present`); continue; }
      if (typeof r === 'number') return r;
      this.dbg(`NVM section ${names[type]} (${type}): ${r.length} bytes`);
      sections.set(type, r);
    }
    const nvm = parseNvm(sections.get(NVM_SECTION.HW), sections.get(NVM_SECTION.SW));
    if (typeof nvm === 'string') {
      this.err(`NVM: ${nvm}`);
      return -EINVAL;
    }
    this.nvm = nvm;
    const n24 = nvm.channels.filter((c) => c.channel <= 14).length;
    this.info(`NVM version ${hex(nvm.version)}, SKU ${hex(nvm.sku)}, MAC ${macToString(nvm.mac)}, `
      + `${nvm.channels.length} channels (${n24} at 2.4 GHz, ${nvm.channels.length - n24} at 5 GHz)`);
    return 0;
  }
}

/** iwl_set_hw_address (7000 family): the HW section keeps the address as le16 words, so each byte pair comes swapped. */
export function nvmHwAddr(hw: Uint8Array): Uint8Array {
  const a = NVM_HW.HW_ADDR;
  return Uint8Array.of(hw[a + 1] ?? 0, hw[a] ?? 0, hw[a + 3] ?? 0, hw[a + 2] ?? 0, hw[a + 5] ?? 0, hw[a + 4] ?? 0);
}

/** Parses the HW and SW NVM sections (MAC, radio config, SKU, channel flags; iwl_parse_nvm_data); an error string when unusable. */
export function parseNvm(hw: Uint8Array | undefined, sw: Uint8Array | undefined): NvmData | string {
  if (hw === undefined) return 'HW section missing';
  if (sw === undefined) return 'SW section missing';
  if (hw.length < NVM_HW.HW_ADDR + 6) return `HW section is ${hw.length} bytes, too short for the MAC address at ${hex(NVM_HW.HW_ADDR)}`;
  const need = NVM_SW.CHANNELS + 2 * NVM_CHANNELS.length;
  if (sw.length < need) return `SW section is ${sw.length} bytes, too short for the channel list (${need} bytes)`;
  const mac = nvmHwAddr(hw);
  if (!isValidUnicastMac(mac)) return `invalid MAC address ${macToString(mac)} in the HW section`;
  const sku = le16(sw, NVM_SW.SKU);
  if ((sku & (NVM_SKU.BAND_24 | NVM_SKU.BAND_52)) === 0) return `SKU ${hex(sku)} enables no band`;
  const radioCfg = le16(sw, NVM_SW.RADIO_CFG);
  const channels: NvmData['channels'] = [];
  NVM_CHANNELS.forEach((channel, i) => {
    const flags = le16(sw, NVM_SW.CHANNELS + 2 * i);
    if ((flags & NVM_CHANNEL_VALID) === 0) return;
    const band24 = channel <= 14;
    if (band24 && (sku & NVM_SKU.BAND_24) === 0) return;
    if (!band24 && (sku & NVM_SKU.BAND_52) === 0) return;
    // As Linux: no ACTIVE flag = no initiating radiation (passive scan only); radar channels are passive too.
    channels.push({ channel, active: (flags & NVM_CHANNEL_ACTIVE) !== 0 && (flags & NVM_CHANNEL_RADAR) === 0 });
  });
  if (channels.length === 0) return `no valid channel (SKU ${hex(sku)})`;
  return {
    mac, version: le16(sw, NVM_SW.VERSION), radioCfg, sku, nHwAddrs: le16(sw, NVM_SW.N_HW_ADDRS),
    validTxAnt: nvmRfCfgTxAnt(radioCfg), validRxAnt: nvmRfCfgRxAnt(radioCfg), channels,
  };
}
