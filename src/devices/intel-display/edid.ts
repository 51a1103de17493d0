/**
 * EDID generation (VESA E-EDID 1.4 base block, CEA-861 extension) for the
 * simulated monitors, and a decoder that reads such bytes back (tests, the
 * trace decoder, tools).
 *
 * Layout (VESA E-EDID 1.4; Linux include/drm/drm_edid.h `struct edid`,
 * `struct detailed_timing`):
 *   0-7 header 00 FF FF FF FF FF FF 00; 8-9 manufacturer (big-endian, three
 *   5-bit letters, 'A' = 1); 10-11 product (LE); 12-15 serial (LE); 16 week;
 *   17 year - 1990; 18-19 version 1.4; 20 video input (bit 7 digital, 6:4 bit
 *   depth, 3:0 interface); 21-22 size in cm; 23 gamma; 24 features; 25-34
 *   chromaticity; 35-37 established timings; 38-53 standard timings; 54-125
 *   four 18-byte descriptors; 126 extension count; 127 checksum.
 *
 * What this generator puts where (docs/DISPLAYS.md):
 * - descriptor 1: the preferred mode (a detailed timing descriptor, DTD);
 * - one mode:  2 range limits (0xFD), 3 product name (0xFC), 4 dummy (0x10);
 * - two modes: 2 the second mode (DTD), 3 range limits, 4 product name;
 * - established and standard timings are left empty (00 / 01 01), so the
 *   modes a driver reads are exactly the fixture's;
 * - modes 3..8 go as DTDs into a CEA-861 extension block (revision 3).
 *   An HDMI monitor always has that block, with an HDMI vendor-specific data
 *   block (OUI 00-0C-03, physical address 1.0.0.0), which is how drivers
 *   (Linux drm_detect_hdmi_monitor) tell HDMI from DVI.
 * Every block's last byte makes the block sum to 0 mod 256.
 */

export const EDID_BLOCK = 128;
export const EDID_HEADER: readonly number[] = [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00];

/** Descriptor tags of display descriptors (pixel clock 0). */
export const EDID_TAG_NAME = 0xfc;
export const EDID_TAG_RANGE = 0xfd;
export const EDID_TAG_TEXT = 0xfe;
export const EDID_TAG_SERIAL = 0xff;

/** CEA-861 extension tag and the HDMI IEEE OUI (00-0C-03). */
export const CEA_EXT_TAG = 0x02;
export const HDMI_OUI = 0x000c03;

/** Most DTDs that fit in one CEA extension block (after the HDMI VSDB): (127 - 4 - 6) / 18. */
export const CEA_MAX_DTDS = 6;
/** Most modes an EDID of this generator carries: 2 in the base block + 6 in the CEA block. */
export const EDID_MAX_MODES = 2 + CEA_MAX_DTDS;

/** Field limits of a detailed timing descriptor. */
export const DTD_LIMITS = {
  /** Pixel clock in 10 kHz units, 16 bits: 10 kHz .. 655.35 MHz. */
  maxPixelClockKHz: 655_350,
  /** hactive, hblank, vactive, vblank: 12 bits. */
  maxActiveOrBlank: 4095,
  /** Horizontal sync offset and width: 10 bits. */
  maxHSync: 1023,
  /** Vertical sync offset and width: 6 bits. */
  maxVSync: 63,
  /** Image size in mm: 12 bits. */
  maxSizeMm: 4095,
} as const;

/** One video timing (the same shape as monitors.ts DisplayMode, without `preferred`). */
export interface EdidTiming {
  pixelClockKHz: number;
  hActive: number; hSyncStart: number; hSyncEnd: number; hTotal: number;
  vActive: number; vSyncStart: number; vSyncEnd: number; vTotal: number;
  hSyncPositive: boolean; vSyncPositive: boolean;
}

export type EdidConnector = 'hdmi' | 'dp' | 'dvi';

export interface EdidFields {
  /** Three letters A-Z (PNP id). */
  manufacturer: string;
  /** 0..65535. */
  product: number;
  /** 0..2^32-1. */
  serial: number;
  /** Week of manufacture 1..54, or 0 (unspecified). */
  week: number;
  /** Year of manufacture 1990..2245. */
  year: number;
  /** Product name, up to 13 printable ASCII characters (descriptor 0xFC). */
  name: string;
  widthMm: number;
  heightMm: number;
  connector: EdidConnector;
  /** Preferred mode first; at most EDID_MAX_MODES. */
  modes: readonly EdidTiming[];
}

/** Video input byte (EDID 1.4, digital): bit 7, 8 bits per colour (6:4 = 010), interface (3:0). */
export function inputByte(connector: EdidConnector): number {
  const iface = connector === 'dvi' ? 0x1 : connector === 'hdmi' ? 0x2 : 0x5;
  return 0x80 | (0x2 << 4) | iface;
}

/** PNP manufacturer id: three 5-bit letters ('A' = 1), big-endian in bytes 8-9. */
export function encodeManufacturer(id: string): number {
  let v = 0;
  for (let i = 0; i < 3; i++) v = (v << 5) | ((id.charCodeAt(i) - 64) & 0x1f);
  return v;
}

export function decodeManufacturer(v: number): string {
  return String.fromCharCode(64 + ((v >> 10) & 0x1f), 64 + ((v >> 5) & 0x1f), 64 + (v & 0x1f));
}

/** Sets the last byte of the block at `off` so its 128 bytes sum to 0 mod 256. */
export function setChecksum(edid: Uint8Array, off: number): void {
  let sum = 0;
  for (let i = 0; i < EDID_BLOCK - 1; i++) sum += edid[off + i]!;
  edid[off + EDID_BLOCK - 1] = (256 - (sum & 0xff)) & 0xff;
}

export function blockChecksumOk(edid: Uint8Array, off: number): boolean {
  let sum = 0;
  for (let i = 0; i < EDID_BLOCK; i++) sum += edid[off + i]!;
  return (sum & 0xff) === 0;
}

/** Writes an 18-byte detailed timing descriptor at `off`. The caller has checked DTD_LIMITS. */
export function writeDtd(out: Uint8Array, off: number, t: EdidTiming, widthMm: number, heightMm: number): void {
  const clk = Math.round(t.pixelClockKHz / 10);
  const hblank = t.hTotal - t.hActive;
  const vblank = t.vTotal - t.vActive;
  const hso = t.hSyncStart - t.hActive;
  const hsw = t.hSyncEnd - t.hSyncStart;
  const vso = t.vSyncStart - t.vActive;
  const vsw = t.vSyncEnd - t.vSyncStart;
  out[off] = clk & 0xff;
  out[off + 1] = (clk >> 8) & 0xff;
  out[off + 2] = t.hActive & 0xff;
  out[off + 3] = hblank & 0xff;
  out[off + 4] = ((t.hActive >> 8) & 0xf) << 4 | ((hblank >> 8) & 0xf);
  out[off + 5] = t.vActive & 0xff;
  out[off + 6] = vblank & 0xff;
  out[off + 7] = ((t.vActive >> 8) & 0xf) << 4 | ((vblank >> 8) & 0xf);
  out[off + 8] = hso & 0xff;
  out[off + 9] = hsw & 0xff;
  out[off + 10] = (vso & 0xf) << 4 | (vsw & 0xf);
  out[off + 11] = ((hso >> 8) & 3) << 6 | ((hsw >> 8) & 3) << 4 | ((vso >> 4) & 3) << 2 | ((vsw >> 4) & 3);
  out[off + 12] = widthMm & 0xff;
  out[off + 13] = heightMm & 0xff;
  out[off + 14] = ((widthMm >> 8) & 0xf) << 4 | ((heightMm >> 8) & 0xf);
  out[off + 15] = 0; // no borders
  out[off + 16] = 0;
  // Non-interlaced, no stereo, digital separate sync (4:3 = 11), sync polarities.
  out[off + 17] = 0x18 | (t.vSyncPositive ? 0x04 : 0) | (t.hSyncPositive ? 0x02 : 0);
}

function writeNameDescriptor(out: Uint8Array, off: number, name: string): void {
  out[off + 3] = EDID_TAG_NAME;
  for (let i = 0; i < 13; i++) {
    out[off + 5 + i] = i < name.length ? name.charCodeAt(i) & 0x7f : i === name.length ? 0x0a : 0x20;
  }
}

/** Vertical and horizontal rates of a timing: Hz and kHz (not rounded). */
export function refreshHz(t: EdidTiming): number {
  return (t.pixelClockKHz * 1000) / (t.hTotal * t.vTotal);
}

function writeRangeDescriptor(out: Uint8Array, off: number, modes: readonly EdidTiming[]): void {
  let vMin = Infinity, vMax = 0, hMin = Infinity, hMax = 0, clkMax = 0;
  for (const m of modes) {
    const v = refreshHz(m);
    const h = m.pixelClockKHz / m.hTotal;
    vMin = Math.min(vMin, v); vMax = Math.max(vMax, v);
    hMin = Math.min(hMin, h); hMax = Math.max(hMax, h);
    clkMax = Math.max(clkMax, m.pixelClockKHz);
  }
  const clamp = (x: number) => Math.max(1, Math.min(255, x));
  out[off + 3] = EDID_TAG_RANGE;
  out[off + 4] = 0; // no rate offsets
  out[off + 5] = clamp(Math.floor(vMin) - 1);
  out[off + 6] = clamp(Math.ceil(vMax) + 1);
  out[off + 7] = clamp(Math.floor(hMin) - 1);
  out[off + 8] = clamp(Math.ceil(hMax) + 1);
  out[off + 9] = clamp(Math.ceil(clkMax / 10_000)); // 10 MHz units
  out[off + 10] = 0x01; // range limits only, no timing formula
  out[off + 11] = 0x0a;
  for (let i = 12; i < 18; i++) out[off + i] = 0x20;
}

/** sRGB primaries and D65 white as 10-bit fractions (bytes 25-34). */
const CHROMA: readonly number[] = [0.64, 0.33, 0.3, 0.6, 0.15, 0.06, 0.3127, 0.329].map((x) => Math.round(x * 1024));

/**
 * Builds the EDID (base block, plus a CEA-861 extension for HDMI or more
 * than two modes). Input must already be valid (monitors.ts validates it);
 * this function does not check.
 */
export function buildEdid(f: EdidFields): Uint8Array {
  const modes = f.modes;
  const baseDtds = Math.min(2, modes.length);
  const extDtds = modes.length - baseDtds;
  const hasExt = f.connector === 'hdmi' || extDtds > 0;
  const edid = new Uint8Array(EDID_BLOCK * (hasExt ? 2 : 1));

  for (let i = 0; i < 8; i++) edid[i] = EDID_HEADER[i]!;
  const mfg = encodeManufacturer(f.manufacturer);
  edid[8] = (mfg >> 8) & 0xff;
  edid[9] = mfg & 0xff;
  edid[10] = f.product & 0xff;
  edid[11] = (f.product >> 8) & 0xff;
  edid[12] = f.serial & 0xff;
  edid[13] = (f.serial >>> 8) & 0xff;
  edid[14] = (f.serial >>> 16) & 0xff;
  edid[15] = (f.serial >>> 24) & 0xff;
  edid[16] = f.week;
  edid[17] = f.year - 1990;
  edid[18] = 1;
  edid[19] = 4;
  edid[20] = inputByte(f.connector);
  edid[21] = Math.max(1, Math.min(255, Math.round(f.widthMm / 10)));
  edid[22] = Math.max(1, Math.min(255, Math.round(f.heightMm / 10)));
  edid[23] = 120; // gamma 2.2: (2.2 * 100) - 100
  // Features: sRGB default colour space (bit 2), preferred timing is native (bit 1); RGB 4:4:4.
  edid[24] = 0x06;
  const c = CHROMA;
  edid[25] = (c[0]! & 3) << 6 | (c[1]! & 3) << 4 | (c[2]! & 3) << 2 | (c[3]! & 3);
  edid[26] = (c[4]! & 3) << 6 | (c[5]! & 3) << 4 | (c[6]! & 3) << 2 | (c[7]! & 3);
  for (let i = 0; i < 8; i++) edid[27 + i] = (c[i]! >> 2) & 0xff;
  // 35-37 established timings: none. 38-53 standard timings: unused (01 01).
  for (let i = 38; i < 54; i++) edid[i] = 0x01;

  let slot = 54;
  for (let i = 0; i < baseDtds; i++, slot += 18) writeDtd(edid, slot, modes[i]!, f.widthMm, f.heightMm);
  writeRangeDescriptor(edid, slot, modes);
  slot += 18;
  writeNameDescriptor(edid, slot, f.name);
  slot += 18;
  // A fourth slot left over (one mode only): a dummy descriptor (tag 0x10), all zero but the tag.
  if (slot < 126) edid[slot + 3] = 0x10;
  edid[126] = hasExt ? 1 : 0;
  setChecksum(edid, 0);

  if (hasExt) {
    const o = EDID_BLOCK;
    edid[o] = CEA_EXT_TAG;
    edid[o + 1] = 3;
    let p = o + 4;
    if (f.connector === 'hdmi') {
      // Vendor-specific data block (tag 3), 5 payload bytes: OUI LSB first, physical address 1.0.0.0.
      edid[p++] = (3 << 5) | 5;
      edid[p++] = HDMI_OUI & 0xff;
      edid[p++] = (HDMI_OUI >> 8) & 0xff;
      edid[p++] = (HDMI_OUI >> 16) & 0xff;
      edid[p++] = 0x10;
      edid[p++] = 0x00;
    }
    edid[o + 2] = p - o; // offset of the first DTD
    edid[o + 3] = 0; // no underscan/audio/YCbCr claims, 0 native DTDs
    for (let i = baseDtds; i < modes.length; i++, p += 18) writeDtd(edid, p, modes[i]!, f.widthMm, f.heightMm);
    setChecksum(edid, o);
  }
  return edid;
}

// ---- Decoding (tests, trace decoder, tools) ----

export interface DecodedDtd extends EdidTiming {
  widthMm: number;
  heightMm: number;
  interlaced: boolean;
  /** Flags byte bits 4:3 = 11 (digital separate sync). */
  digitalSeparate: boolean;
}

export interface DecodedEdid {
  headerOk: boolean;
  manufacturer: string;
  product: number;
  serial: number;
  week: number;
  year: number;
  version: number;
  revision: number;
  input: number;
  widthCm: number;
  heightCm: number;
  name: string | null;
  range: { vMinHz: number; vMaxHz: number; hMinKHz: number; hMaxKHz: number; maxPixelClockMHz: number } | null;
  /** DTDs in order: base block first, then the CEA extension's. */
  dtds: DecodedDtd[];
  extensions: number;
  checksumsOk: boolean[];
  /** A CEA extension with an HDMI vendor-specific data block. */
  hdmi: boolean;
}

export function decodeDtd(b: Uint8Array, off: number): DecodedDtd {
  const clk = b[off]! | (b[off + 1]! << 8);
  const hActive = b[off + 2]! | ((b[off + 4]! >> 4) << 8);
  const hBlank = b[off + 3]! | ((b[off + 4]! & 0xf) << 8);
  const vActive = b[off + 5]! | ((b[off + 7]! >> 4) << 8);
  const vBlank = b[off + 6]! | ((b[off + 7]! & 0xf) << 8);
  const hi = b[off + 11]!;
  const hso = b[off + 8]! | (((hi >> 6) & 3) << 8);
  const hsw = b[off + 9]! | (((hi >> 4) & 3) << 8);
  const vso = (b[off + 10]! >> 4) | (((hi >> 2) & 3) << 4);
  const vsw = (b[off + 10]! & 0xf) | ((hi & 3) << 4);
  const flags = b[off + 17]!;
  return {
    pixelClockKHz: clk * 10,
    hActive, hSyncStart: hActive + hso, hSyncEnd: hActive + hso + hsw, hTotal: hActive + hBlank,
    vActive, vSyncStart: vActive + vso, vSyncEnd: vActive + vso + vsw, vTotal: vActive + vBlank,
    hSyncPositive: (flags & 0x02) !== 0,
    vSyncPositive: (flags & 0x04) !== 0,
    widthMm: b[off + 12]! | ((b[off + 14]! >> 4) << 8),
    heightMm: b[off + 13]! | ((b[off + 14]! & 0xf) << 8),
    interlaced: (flags & 0x80) !== 0,
    digitalSeparate: (flags & 0x18) === 0x18,
  };
}

/** Parses an EDID of one or more blocks (no validation beyond what it reports). */
export function decodeEdid(b: Uint8Array): DecodedEdid {
  const at = (i: number) => b[i] ?? 0;
  const out: DecodedEdid = {
    headerOk: EDID_HEADER.every((v, i) => at(i) === v),
    manufacturer: decodeManufacturer((at(8) << 8) | at(9)),
    product: at(10) | (at(11) << 8),
    serial: (at(12) | (at(13) << 8) | (at(14) << 16) | (at(15) << 24)) >>> 0,
    week: at(16),
    year: at(17) + 1990,
    version: at(18),
    revision: at(19),
    input: at(20),
    widthCm: at(21),
    heightCm: at(22),
    name: null,
    range: null,
    dtds: [],
    extensions: at(126),
    checksumsOk: [],
    hdmi: false,
  };
  for (let off = 0; off + EDID_BLOCK <= b.length; off += EDID_BLOCK) out.checksumsOk.push(blockChecksumOk(b, off));
  for (let d = 54; d < 126; d += 18) {
    if ((at(d) | at(d + 1)) !== 0) {
      out.dtds.push(decodeDtd(b, d));
      continue;
    }
    const tag = at(d + 3);
    if (tag === EDID_TAG_NAME) {
      let s = '';
      for (let i = 5; i < 18 && at(d + i) !== 0x0a; i++) s += String.fromCharCode(at(d + i));
      out.name = s;
    } else if (tag === EDID_TAG_RANGE) {
      out.range = { vMinHz: at(d + 5), vMaxHz: at(d + 6), hMinKHz: at(d + 7), hMaxKHz: at(d + 8), maxPixelClockMHz: at(d + 9) * 10 };
    }
  }
  for (let o = EDID_BLOCK; o + EDID_BLOCK <= b.length; o += EDID_BLOCK) {
    if (at(o) !== CEA_EXT_TAG) continue;
    const dtdStart = at(o + 2);
    if (dtdStart < 4) continue;
    for (let p = o + 4; p < o + dtdStart;) {
      const tag = at(p) >> 5;
      const len = at(p) & 0x1f;
      if (tag === 3 && len >= 3 && (at(p + 1) | (at(p + 2) << 8) | (at(p + 3) << 16)) === HDMI_OUI) out.hdmi = true;
      p += 1 + len;
    }
    for (let p = o + dtdStart; p + 18 <= o + 127 && (at(p) | at(p + 1)) !== 0; p += 18) out.dtds.push(decodeDtd(b, p));
  }
  return out;
}
