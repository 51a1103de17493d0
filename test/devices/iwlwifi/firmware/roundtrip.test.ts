/**
 * buildFirmware -> parseFirmware round trip, the exact byte layout, and the
 * committed fixtures (regenerated in memory and compared byte for byte).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  API, CAPA, HEADER_SIZE, TLV, TLV_UCODE_MAGIC, UCODE_TYPE, buildFirmware, emptyImage, encodeVer, decodeVer,
  parseFirmware, phyRxChains, phyTxChains, verifyLoadedImage, verifySectionPayload, type FirmwareImage,
} from '../../../../src/devices/iwlwifi/firmware/index.js';
import { VARIANTS, fileName, layouts, makeFirmwareFixtures, makeImage } from '../../../../scripts/make-firmware.js';

const FIXTURES = fileURLToPath(new URL('../../../../fixtures/firmware/', import.meta.url));

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const dv = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** An image that uses every field and every section form. */
function richImage(): FirmwareImage {
  const img = emptyImage('round trip: every field', { major: 27, minor: 3, api: 27, serial: 200 }, 0xdeadbeef);
  img.flags = 0x80000001;
  img.sections.init = [
    { dest: 0x00000000, data: bytes(1, 2, 3, 4, 5) },
    { dest: 0x00800000, data: bytes(6, 7, 8), form: 'secure' },
    { dest: 0x00800000, data: bytes(9, 10, 11, 12, 13, 14, 15), form: 'legacy' },
  ];
  img.sections.runtime = [
    { dest: 0x00000000, data: new Uint8Array(0) },
    { dest: 0x00000000, data: bytes(0xaa), form: 'legacy' },
    { dest: 0x00456000, data: bytes(0xbb, 0xcc), form: 'secure' },
    { dest: 0xffffcccc, data: bytes(0xdd, 0xee, 0xff, 0x00) },
  ];
  img.sections.wowlan = [
    { dest: 0x00040000, data: bytes(0x11, 0x22) },
    { dest: 0x00000000, data: bytes(0x33), form: 'legacy' },
    { dest: 0x00800000, data: bytes(0x44), form: 'legacy' },
    { dest: 0x00801000, data: bytes(0x55), form: 'secure' },
  ];
  img.capabilities = new Set([0, CAPA.UMAC_SCAN, 31, 32, 64, 127]);
  img.apiFlags = new Set([API.FRAGMENTED_SCAN, API.WIFI_MCC_UPDATE, API.NEW_RX_STATS, 96]);
  img.phySku = 0x00330016;
  img.numCpus = 2;
  img.nScanChannels = 0xffffffff;
  img.paging = 0x1000;
  img.defCalib = [
    { ucodeType: UCODE_TYPE.INIT, flowTrigger: 0x0003ffff, eventTrigger: 0x00001234 },
    { ucodeType: UCODE_TYPE.REGULAR, flowTrigger: 0, eventTrigger: 0xffffffff },
    { ucodeType: UCODE_TYPE.WOWLAN, flowTrigger: 1, eventTrigger: 2 },
    { ucodeType: UCODE_TYPE.REGULAR_USNIFFER, flowTrigger: 3, eventTrigger: 4 },
  ];
  img.fwVersion = { major: 27, minor: 0xabcdef01, localComp: 9 };
  img.cmdVersions = [
    { cmd: 0x01, group: 0x01, version: 99, notifVersion: 3 },
    { cmd: 0x0d, group: 0x01, version: 1, notifVersion: 0 },
    { cmd: 0xff, group: 0xff, version: 0xff, notifVersion: 0xff },
  ];
  return img;
}

describe('iwlwifi firmware: build -> parse round trip', () => {
  it('keeps every field of an image that uses every TLV and section form', () => {
    const img = richImage();
    const out = parseFirmware(buildFirmware(img), { fileName: 'rich.ucode' });
    expect(out).toStrictEqual(img);
  });

  it('keeps an image with no optional TLVs (null / empty fields)', () => {
    const img = emptyImage('', { major: 22, minor: 0, api: 22, serial: 0 });
    img.sections.init = [{ dest: 0, data: bytes(1) }];
    img.sections.runtime = [{ dest: 0, data: bytes(2) }];
    expect(parseFirmware(buildFirmware(img), { fileName: 'min.ucode' })).toStrictEqual(img);
  });

  it('keeps a 64-character description with no NUL terminator', () => {
    const img = richImage();
    img.description = 'x'.repeat(64);
    expect(parseFirmware(buildFirmware(img), { fileName: 'd.ucode' }).description).toBe(img.description);
  });

  it('is deterministic and re-encodes parsed images to the same bytes', () => {
    const a = buildFirmware(richImage());
    expect(buildFirmware(richImage())).toEqual(a);
    expect(buildFirmware(parseFirmware(a, { fileName: 'a' }))).toEqual(a);
  });

  it('lays out the header and TLVs exactly as the iwlwifi file format says', () => {
    const img = emptyImage('IWL test', { major: 0x1d, minor: 0x02, api: 0x1d, serial: 0x07 }, 0x01020304);
    img.flags = 0x11223344;
    img.capabilities = new Set([CAPA.UMAC_SCAN, 65]);
    img.sections.runtime = [{ dest: 0x00800000, data: bytes(0xa1, 0xa2, 0xa3, 0xa4, 0xa5) }];
    img.sections.init = [{ dest: 0x00000000, data: bytes(0xb1) }];
    img.phySku = 0x00330016;
    const f = buildFirmware(img);
    const v = dv(f);
    expect(v.getUint32(0, true)).toBe(0);
    expect(v.getUint32(4, true)).toBe(TLV_UCODE_MAGIC);
    expect(Array.from(f.subarray(4, 8))).toEqual([0x49, 0x57, 0x4c, 0x0a]); // "IWL\n"
    expect(String.fromCharCode(...f.subarray(8, 16))).toBe('IWL test');
    expect(f.subarray(16, 72).every((b) => b === 0)).toBe(true);
    expect(v.getUint32(72, true)).toBe(0x1d021d07);
    expect(v.getUint32(76, true)).toBe(0x01020304);
    expect(f.subarray(80, 88).every((b) => b === 0)).toBe(true);
    // FLAGS
    let at = HEADER_SIZE;
    expect([v.getUint32(at, true), v.getUint32(at + 4, true), v.getUint32(at + 8, true)]).toEqual([TLV.FLAGS, 4, 0x11223344]);
    at += 12;
    // ENABLED_CAPABILITIES index 0 (bit 2), then index 2 (bit 65 = 2 * 32 + 1)
    expect([v.getUint32(at, true), v.getUint32(at + 4, true), v.getUint32(at + 8, true), v.getUint32(at + 12, true)])
      .toEqual([TLV.ENABLED_CAPABILITIES, 8, 0, 1 << 2]);
    at += 16;
    expect([v.getUint32(at, true), v.getUint32(at + 4, true), v.getUint32(at + 8, true), v.getUint32(at + 12, true)])
      .toEqual([TLV.ENABLED_CAPABILITIES, 8, 2, 1 << 1]);
    at += 16;
    // SEC_RT: length 4 + 5 = 9, data padded to 12
    expect([v.getUint32(at, true), v.getUint32(at + 4, true), v.getUint32(at + 8, true)]).toEqual([TLV.SEC_RT, 9, 0x00800000]);
    expect(Array.from(f.subarray(at + 12, at + 20))).toEqual([0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0, 0, 0]);
    at += 20;
    expect([v.getUint32(at, true), v.getUint32(at + 4, true), v.getUint32(at + 8, true)]).toEqual([TLV.SEC_INIT, 5, 0]);
    expect(Array.from(f.subarray(at + 12, at + 16))).toEqual([0xb1, 0, 0, 0]);
    at += 16;
    expect([v.getUint32(at, true), v.getUint32(at + 4, true), v.getUint32(at + 8, true)]).toEqual([TLV.PHY_SKU, 4, 0x00330016]);
    expect(f.length).toBe(at + 12);
  });

  it('packs and unpacks the version word (major 31:24, minor 23:16, API 15:8, serial 7:0)', () => {
    expect(encodeVer({ major: 1, minor: 2, api: 3, serial: 4 })).toBe(0x01020304);
    expect(decodeVer(0xff1d1e05)).toEqual({ major: 0xff, minor: 0x1d, api: 0x1e, serial: 5 });
  });

  it('refuses images it cannot represent', () => {
    const legacyAtOddPlace = richImage();
    legacyAtOddPlace.sections.runtime.push({ dest: 0x1234, data: bytes(1), form: 'legacy' });
    expect(() => buildFirmware(legacyAtOddPlace)).toThrow(RangeError);
    const longText = richImage();
    longText.description = 'y'.repeat(65);
    expect(() => buildFirmware(longText)).toThrow(/at most 64/);
    const bigSerial = richImage();
    bigSerial.version.serial = 256;
    expect(() => buildFirmware(bigSerial)).toThrow(/version.serial/);
    const negative = richImage();
    negative.phySku = -1;
    expect(() => buildFirmware(negative)).toThrow(/phySku/);
  });

  it('decodes PHY_SKU antenna chains', () => {
    expect(phyTxChains(0x00330016)).toBe(3);
    expect(phyRxChains(0x00230016)).toBe(2);
  });
});

describe('iwlwifi firmware: fixtures/firmware', () => {
  const generated = makeFirmwareFixtures();

  it('holds exactly the files make-firmware produces, byte for byte', () => {
    const onDisk = (readdirSync(FIXTURES, { recursive: true }) as string[])
      .map((n) => n.split('\\').join('/')).filter((n) => statSync(FIXTURES + n).isFile()).sort();
    expect(onDisk).toEqual(generated.map((f) => f.name).sort());
    for (const f of generated) {
      const disk = new Uint8Array(readFileSync(FIXTURES + f.name));
      expect(disk.length, f.name).toBe(f.bytes.length);
      expect(Buffer.compare(disk, f.bytes), `${f.name} differs: run npx tsx scripts/make-firmware.ts`).toBe(0);
    }
  });

  it('make-firmware is deterministic', () => {
    const again = makeFirmwareFixtures();
    expect(again.map((f) => Buffer.from(f.bytes).toString('base64'))).toEqual(generated.map((f) => Buffer.from(f.bytes).toString('base64')));
  });

  it.each(VARIANTS.map((v) => [fileName(v.api), v] as const))('%s parses, is small, and loads in a checked SRAM', (name, v) => {
    const raw = new Uint8Array(readFileSync(FIXTURES + name));
    expect(raw.length).toBeLessThan(300 * 1024);
    const img = parseFirmware(raw, { fileName: name, apiMin: 22, apiMax: 29 });
    expect(img).toStrictEqual(makeImage(v));
    expect(img.version).toEqual({ major: v.api, minor: 0, api: v.api, serial: v.serial });
    expect(img.capabilities.has(CAPA.UMAC_SCAN)).toBe(true);
    expect(img.nScanChannels).toBe(v.nScanChannels);
    expect(img.phySku).not.toBeNull();
    expect(img.fwVersion).not.toBeNull();
    expect(img.unknown).toEqual([]);
    expect(img.sections.runtime.some((s) => s.data.length > 0x20000)).toBe(true);
    expect(img.sections.runtime.some((s) => s.dest >= 0x40000 && s.dest + s.data.length - 1 <= 0x57fff)).toBe(true);
    const l = layouts(v);
    for (const kind of ['init', 'runtime', 'wowlan'] as const) {
      const secs = img.sections[kind];
      expect(secs.map((s) => ({ dest: s.dest, size: s.data.length }))).toEqual(l[kind]);
      secs.forEach((s, index) => {
        expect(verifySectionPayload(s.data, { kind, index, count: secs.length, dest: s.dest, ver: encodeVer(img.version), build: img.build })).toBeNull();
      });
      if (secs.length === 0) continue;
      const check = verifyLoadedImage(sramOf(secs));
      expect(check).toMatchObject({ ok: true, kind, version: img.version, build: img.build });
    }
  });

  it('versions increase with the API number', () => {
    const serials = VARIANTS.map((v) => encodeVer(makeImage(v).version));
    expect([...serials].sort((a, b) => a - b)).toEqual(serials);
    expect(VARIANTS.map((v) => v.api)).toEqual([22, 24, 26, 27, 29]);
  });
});

/** A sparse SRAM holding these sections, as a reader. */
function sramOf(secs: readonly { dest: number; data: Uint8Array }[]) {
  return (addr: number, len: number): Uint8Array | null => {
    for (const s of secs) {
      if (addr >= s.dest && addr + len <= s.dest + s.data.length) return s.data.subarray(addr - s.dest, addr - s.dest + len);
    }
    return null;
  };
}
