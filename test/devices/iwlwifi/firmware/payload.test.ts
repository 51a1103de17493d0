/**
 * simrun's SIMF section payloads: every damaged byte is found, and the
 * firmware CPU's check of a loaded image catches missing, misplaced, stale
 * and mixed sections.
 */
import { describe, expect, it } from 'vitest';
import {
  BOOT_DEST, SIMF, SIMF_HEADER_SIZE, crc32, encodeVer, makeSimfSections, readSimfHeader, verifyLoadedImage,
  verifySectionPayload, type Section, type SectionLayout,
} from '../../../../src/devices/iwlwifi/firmware/index.js';
import { crc32Portable } from '../../../../src/devices/iwlwifi/firmware/crc32.js';

const VER = encodeVer({ major: 29, minor: 0, api: 29, serial: 5 });
const LAYOUT: SectionLayout[] = [
  { dest: BOOT_DEST, size: 0x200 },
  { dest: 0x00800000, size: 0x103 }, // not a multiple of 4
  { dest: 0x00040000, size: SIMF_HEADER_SIZE }, // empty payload
];

/** SRAM as a map from destination to a mutable copy of each section. */
function load(...images: Section[][]): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  for (const img of images) for (const s of img) m.set(s.dest, new Uint8Array(s.data));
  return m;
}
function reader(m: Map<number, Uint8Array>) {
  return (addr: number, len: number): Uint8Array | null => {
    for (const [dest, data] of m) if (addr >= dest && addr + len <= dest + data.length) return data.subarray(addr - dest, addr - dest + len);
    return null;
  };
}

describe('iwlwifi firmware: CRC-32', () => {
  it('matches the standard check value and the portable table version', () => {
    const check = new TextEncoder().encode('123456789');
    expect(crc32(check)).toBe(0xcbf43926);
    expect(crc32Portable(check)).toBe(0xcbf43926);
    const data = new Uint8Array(1000).map((_, i) => (i * 37 + 11) & 0xff);
    expect(crc32Portable(data)).toBe(crc32(data));
    expect(crc32(data.subarray(500), crc32(data.subarray(0, 500)))).toBe(crc32(data));
    expect(crc32Portable(data.subarray(500), crc32Portable(data.subarray(0, 500)))).toBe(crc32(data));
  });
});

describe('iwlwifi firmware: SIMF section payloads', () => {
  const secs = makeSimfSections('runtime', VER, 4242, LAYOUT);

  it('writes the documented header and a directory in the boot section', () => {
    const s0 = secs[0]!.data;
    const v = new DataView(s0.buffer, s0.byteOffset, s0.byteLength);
    expect(String.fromCharCode(...s0.subarray(0, 4))).toBe('SIMF');
    expect([s0[SIMF.VERSION], s0[SIMF.KIND], s0[SIMF.INDEX], s0[SIMF.COUNT]]).toEqual([1, 2, 0, 3]);
    expect(v.getUint32(SIMF.DEST, true)).toBe(BOOT_DEST);
    expect(v.getUint32(SIMF.PAYLOAD_LEN, true)).toBe(0x200 - 32);
    expect(v.getUint32(SIMF.PAYLOAD_CRC, true)).toBe(crc32(s0.subarray(32)));
    expect(v.getUint32(SIMF.VER, true)).toBe(VER);
    expect(v.getUint32(SIMF.BUILD, true)).toBe(4242);
    expect(v.getUint32(SIMF.HEADER_CRC, true)).toBe(crc32(s0.subarray(0, 28)));
    expect([0, 1, 2].map((i) => [v.getUint32(32 + 8 * i, true), v.getUint32(36 + 8 * i, true)])).toEqual(LAYOUT.map((l) => [l.dest, l.size]));
    expect(readSimfHeader(secs[1]!.data)).toEqual({
      kind: 'runtime', index: 1, count: 3, dest: 0x00800000, payloadLength: 0x103 - 32, payloadCrc: crc32(secs[1]!.data.subarray(32)), ver: VER, build: 4242,
    });
    secs.forEach((s) => expect(verifySectionPayload(s.data)).toBeNull());
  });

  it('is deterministic and differs between images, kinds and sections', () => {
    expect(makeSimfSections('runtime', VER, 4242, LAYOUT)).toEqual(secs);
    const init = makeSimfSections('init', VER, 4242, LAYOUT);
    const other = makeSimfSections('runtime', VER + 1, 4242, LAYOUT);
    expect(init[1]!.data.subarray(32)).not.toEqual(secs[1]!.data.subarray(32));
    expect(other[1]!.data.subarray(32)).not.toEqual(secs[1]!.data.subarray(32));
  });

  it('detects every single flipped byte of every section', () => {
    for (const s of secs) {
      for (let i = 0; i < s.data.length; i++) {
        const bad = new Uint8Array(s.data);
        bad[i]! ^= 0x01 << (i % 8);
        const p = verifySectionPayload(bad);
        expect(p, `byte ${i} of section at 0x${s.dest.toString(16)}`).not.toBeNull();
      }
    }
  });

  it('names the problem', () => {
    const s = new Uint8Array(secs[1]!.data);
    s[100]! ^= 0xff;
    expect(verifySectionPayload(s)).toMatchObject({ offset: SIMF.PAYLOAD_CRC, field: 'payloadCrc', message: expect.stringMatching(/^payload CRC-32 is 0x[0-9a-f]{8}, the header says 0x/) });
    const h = new Uint8Array(secs[1]!.data);
    h[0] = 0x58;
    expect(verifySectionPayload(h)).toMatchObject({ offset: 0, field: 'magic' });
    const hdrFlip = new Uint8Array(secs[1]!.data);
    hdrFlip[SIMF.DEST]! ^= 0x10;
    expect(verifySectionPayload(hdrFlip)).toMatchObject({ offset: SIMF.HEADER_CRC, field: 'headerCrc' });
    expect(verifySectionPayload(secs[1]!.data.subarray(0, 40))).toMatchObject({ offset: 40, field: 'payloadLength' });
    const longer = new Uint8Array(secs[1]!.data.length + 4);
    longer.set(secs[1]!.data);
    expect(verifySectionPayload(longer)).toMatchObject({ offset: secs[1]!.data.length, field: 'payloadLength', message: '4 bytes follow the 259-byte section' });
    expect(verifySectionPayload(new Uint8Array(5))).toMatchObject({ offset: 5, field: 'header' });
    expect(verifySectionPayload(secs[1]!.data, { dest: 0x00800004 })).toMatchObject({ field: 'dest', message: 'dest is 0x00800000, expected 0x00800004' });
    expect(verifySectionPayload(secs[1]!.data, { kind: 'init' })).toMatchObject({ field: 'kind', message: 'kind is runtime, expected init' });
    expect(verifySectionPayload(secs[1]!.data, { kind: 'runtime', index: 1, count: 3, dest: 0x00800000, ver: VER, build: 4242 })).toBeNull();
  });

  it('refuses layouts it cannot describe', () => {
    expect(() => makeSimfSections('init', VER, 0, [])).toThrow(RangeError);
    expect(() => makeSimfSections('init', VER, 0, [{ dest: 0x100, size: 64 }])).toThrow(/section 0 must be at/);
    expect(() => makeSimfSections('init', VER, 0, [{ dest: 0, size: 39 }])).toThrow(/cannot hold/);
    expect(() => makeSimfSections('init', VER, 0, [{ dest: 0, size: 96 }, { dest: 0x800000, size: 8 }])).toThrow(/size 8/);
  });
});

describe('iwlwifi firmware: verifyLoadedImage (the firmware CPU at release)', () => {
  const init = makeSimfSections('init', VER, 1, [{ dest: 0, size: 0x300 }, { dest: 0x00800000, size: 0x100 }]);
  const rt = makeSimfSections('runtime', VER, 1, LAYOUT);

  it('accepts a fully loaded image and says which one it is', () => {
    expect(verifyLoadedImage(reader(load(init)))).toEqual({
      ok: true, kind: 'init', version: { major: 29, minor: 0, api: 29, serial: 5 }, ver: VER, build: 1,
      sections: [{ dest: 0, size: 0x300 }, { dest: 0x00800000, size: 0x100 }], capa: [0, 0, 0, 0], api: [0, 0, 0, 0], quirks: 0,
    });
    // The runtime image loaded over the INIT image.
    expect(verifyLoadedImage(reader(load(init, rt)))).toMatchObject({ ok: true, kind: 'runtime' });
  });

  it('carries the capability words of the boot section to the firmware CPU, and without capabilities the bytes are unchanged', () => {
    const layout = [{ dest: 0, size: 0x300 }, { dest: 0x00800000, size: 0x100 }];
    const capable = makeSimfSections('init', VER, 1, layout, [2, 33, 96, 127]);
    expect(verifyLoadedImage(reader(load(capable)))).toMatchObject({ ok: true, capa: [0x4, 0x2, 0, 0x80000001], quirks: 0x80000001 });
    expect(makeSimfSections('init', VER, 1, layout, [])).toEqual(init);
    // API flags travel in the four words after the capability words.
    const newer = makeSimfSections('init', VER, 1, layout, [2], [8, 30, 32]);
    expect(verifyLoadedImage(reader(load(newer)))).toMatchObject({ ok: true, capa: [0x4, 0, 0, 0], api: [0x40000100, 0x1, 0, 0] });
    expect(capable[0]!.data).not.toEqual(init[0]!.data);
  });

  it('finds an empty SRAM, a missing section and a damaged byte', () => {
    expect(verifyLoadedImage(() => null)).toMatchObject({ ok: false, addr: 0, section: 0, message: 'no SRAM at the boot address' });
    expect(verifyLoadedImage(() => new Uint8Array(32))).toMatchObject({ ok: false, addr: 0, message: expect.stringMatching(/^boot section: magic/) });
    const m = load(rt);
    m.delete(0x00040000);
    expect(verifyLoadedImage(reader(m))).toMatchObject({ ok: false, section: 2, addr: 0x00040000, message: expect.stringMatching(/not in SRAM/) });
    const d = load(rt);
    d.get(0x00800000)![0x80]! ^= 4;
    expect(verifyLoadedImage(reader(d))).toMatchObject({ ok: false, section: 1, addr: 0x00800000 + SIMF.PAYLOAD_CRC });
    const b = load(rt);
    b.get(0)![0x1f0]! ^= 4;
    expect(verifyLoadedImage(reader(b))).toMatchObject({ ok: false, section: 0, addr: SIMF.PAYLOAD_CRC });
  });

  it('finds a partial runtime load over the INIT image (a stale INIT section)', () => {
    // Only the runtime boot section was loaded; 0x800000 still holds INIT's section 1.
    const m = load(init);
    m.set(0, new Uint8Array(rt[0]!.data));
    m.set(0x00040000, new Uint8Array(rt[2]!.data));
    const r = verifyLoadedImage(reader(m));
    expect(r).toMatchObject({ ok: false, section: 1, addr: 0x00800000 });
  });

  it('finds a section loaded at the wrong address', () => {
    const m = load(rt);
    const moved = m.get(0x00040000)!;
    m.delete(0x00040000);
    m.set(0x00050000, moved);
    m.set(0x00040000, new Uint8Array(rt[1]!.data.subarray(0, SIMF_HEADER_SIZE)));
    expect(verifyLoadedImage(reader(m))).toMatchObject({ ok: false, section: 2 });
  });
});
