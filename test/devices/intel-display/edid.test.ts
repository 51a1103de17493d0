import { describe, expect, it } from 'vitest';
import {
  CEA_EXT_TAG, EDID_BLOCK, EDID_HEADER, blockChecksumOk, buildEdid, decodeEdid, decodeManufacturer, encodeManufacturer,
  type EdidFields, type EdidTiming,
} from '../../../src/devices/intel-display/edid.js';
import { STANDARD_MODES } from '../../../src/devices/intel-display/monitors.js';

const mode = (name: string): EdidTiming => {
  const m = STANDARD_MODES[name];
  if (!m) throw new Error(name);
  return m;
};

const fhd: EdidFields = {
  manufacturer: 'SIM', product: 0x1234, serial: 10001, week: 12, year: 2020, name: 'SIM FHD24',
  widthMm: 527, heightMm: 296, connector: 'hdmi',
  modes: [mode('1920x1080@60'), mode('1280x720@60'), mode('1024x768@60')],
};

const hex = (b: Uint8Array, from: number, to: number) => Array.from(b.subarray(from, to), (x) => x.toString(16).padStart(2, '0')).join(' ');

describe('EDID base block', () => {
  const e = buildEdid(fhd);

  it('has the header, version 1.4 and a checksum that makes each block sum to 0', () => {
    expect(Array.from(e.subarray(0, 8))).toEqual(EDID_HEADER);
    expect(e[18]).toBe(1);
    expect(e[19]).toBe(4);
    expect(e.length).toBe(256);
    let sum = 0;
    for (let i = 0; i < 128; i++) sum += e[i]!;
    expect(sum % 256).toBe(0);
    expect(blockChecksumOk(e, 0)).toBe(true);
    expect(blockChecksumOk(e, 128)).toBe(true);
    expect(e[126]).toBe(1);
  });

  it('encodes the manufacturer as three 5-bit letters, big-endian ("SIM" = 0x4d2d)', () => {
    // S=19, I=9, M=13: 10011 01001 01101 = 0x4d2d
    expect(encodeManufacturer('SIM')).toBe(0x4d2d);
    expect(e[8]).toBe(0x4d);
    expect(e[9]).toBe(0x2d);
    expect(decodeManufacturer(0x4d2d)).toBe('SIM');
    // Known id from real monitors: "DEL" = 0x10ac.
    expect(encodeManufacturer('DEL')).toBe(0x10ac);
  });

  it('stores product (LE16), serial (LE32), week, year - 1990, digital input, size in cm', () => {
    expect(e[10]).toBe(0x34);
    expect(e[11]).toBe(0x12);
    expect(hex(e, 12, 16)).toBe('11 27 00 00'); // 10001 = 0x2711
    expect(e[16]).toBe(12);
    expect(e[17]).toBe(30);
    expect(e[20]).toBe(0xa2); // digital, 8 bpc, HDMI-a
    expect(e[21]).toBe(53);
    expect(e[22]).toBe(30);
    expect(hex(e, 38, 54)).toBe(Array(16).fill('01').join(' ')); // no standard timings
    expect(hex(e, 35, 38)).toBe('00 00 00'); // no established timings
  });

  it('encodes 1920x1080@60 (148.5 MHz) as the first DTD with the well-known bytes', () => {
    // 02 3a 80 18 71 38 2d 40 58 2c 45 00 is the 1080p60 DTD of countless real EDIDs
    // (14850 x 10 kHz; 1920/280 blank; 1080/45; hso 88 hsw 44; vso 4 vsw 5).
    expect(hex(e, 54, 66)).toBe('02 3a 80 18 71 38 2d 40 58 2c 45 00');
    // 527 x 296 mm = 0x20f x 0x128; no borders; digital separate, +h +v.
    expect(hex(e, 66, 72)).toBe('0f 28 21 00 00 1e');
  });

  it('puts the second mode in descriptor 2, range limits in 3, the name in 4', () => {
    expect(e[72]! | (e[73]! << 8)).toBe(7425); // 74.25 MHz
    expect(hex(e, 90, 95)).toBe('00 00 00 fd 00');
    // 60 Hz modes only (1024x768 is 60.004 Hz): 59..62 Hz; 45..67.5 kHz lines: 44..69; 148.5 MHz -> 150 (15 x 10 MHz).
    expect(Array.from(e.subarray(95, 100))).toEqual([59, 62, 44, 69, 15]);
    expect(hex(e, 108, 113)).toBe('00 00 00 fc 00');
    expect(String.fromCharCode(...e.subarray(113, 126))).toBe('SIM FHD24\n   ');
  });

  it('has a CEA-861 extension with an HDMI VSDB and the third mode as a DTD', () => {
    const x = e.subarray(128);
    expect(x[0]).toBe(CEA_EXT_TAG);
    expect(x[1]).toBe(3);
    expect(x[2]).toBe(10); // DTDs start after the 6-byte VSDB
    expect(hex(x, 4, 10)).toBe('65 03 0c 00 10 00');
    expect(x[10]! | (x[11]! << 8)).toBe(6500); // 1024x768: 65 MHz
  });

  it('decodes back to the fields it was built from', () => {
    const d = decodeEdid(e);
    expect(d.headerOk).toBe(true);
    expect(d.manufacturer).toBe('SIM');
    expect(d.product).toBe(0x1234);
    expect(d.serial).toBe(10001);
    expect(d.week).toBe(12);
    expect(d.year).toBe(2020);
    expect(d.name).toBe('SIM FHD24');
    expect(d.hdmi).toBe(true);
    expect(d.extensions).toBe(1);
    expect(d.checksumsOk).toEqual([true, true]);
    expect(d.dtds).toHaveLength(3);
    d.dtds.forEach((t, i) => {
      const { widthMm, heightMm, interlaced, digitalSeparate, ...timing } = t;
      expect(timing).toEqual(fhd.modes[i]);
      expect([widthMm, heightMm, interlaced, digitalSeparate]).toEqual([527, 296, false, true]);
    });
  });
});

describe('EDID variants', () => {
  it('a DVI monitor with one mode is a single 128-byte block (640x480 at 25.2 MHz = d8 09)', () => {
    const e = buildEdid({ ...fhd, connector: 'dvi', name: 'SIM VGA15', modes: [mode('640x480@60')] });
    expect(e.length).toBe(EDID_BLOCK);
    expect(e[126]).toBe(0);
    expect(e[20]).toBe(0xa1);
    expect(hex(e, 54, 56)).toBe('d8 09');
    expect(e[54 + 17]).toBe(0x18); // -h -v
    expect(blockChecksumOk(e, 0)).toBe(true);
    const d = decodeEdid(e);
    expect(d.dtds).toHaveLength(1);
    expect(d.hdmi).toBe(false);
    expect(d.name).toBe('SIM VGA15');
    expect(d.range).not.toBeNull();
    expect(e[108 + 3]).toBe(0x10); // dummy descriptor in the unused slot
  });

  it('a DP monitor has input interface 5 (DisplayPort)', () => {
    expect(buildEdid({ ...fhd, connector: 'dp' })[20]).toBe(0xa5);
  });

  it('every standard mode survives the DTD round trip', () => {
    for (const [name, m] of Object.entries(STANDARD_MODES)) {
      const d = decodeEdid(buildEdid({ ...fhd, connector: 'dvi', modes: [m] }));
      const { widthMm: _w, heightMm: _h, interlaced: _i, digitalSeparate: _d, ...timing } = d.dtds[0]!;
      expect(timing, name).toEqual(m);
    }
  });

  it('eight modes: two in the base block, six in a CEA block without VSDB for DVI', () => {
    const modes = Object.values(STANDARD_MODES).slice(0, 8);
    const e = buildEdid({ ...fhd, connector: 'dvi', modes });
    expect(e.length).toBe(256);
    expect(e[128 + 2]).toBe(4);
    const d = decodeEdid(e);
    expect(d.hdmi).toBe(false);
    expect(d.dtds.map((t) => t.pixelClockKHz)).toEqual(modes.map((m) => m.pixelClockKHz));
    expect(d.checksumsOk).toEqual([true, true]);
  });

  it('a corrupted byte breaks the checksum the decoder reports', () => {
    const e = buildEdid(fhd);
    e[60]! ^= 1;
    expect(decodeEdid(e).checksumsOk).toEqual([false, true]);
  });
});
