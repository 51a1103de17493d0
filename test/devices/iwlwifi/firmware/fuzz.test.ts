/**
 * parseFirmware on damaged files: whatever the bytes, it returns an image
 * or throws FirmwareFormatError, nothing else; an accepted image obeys the
 * parser's rules and re-encodes to an equal image.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API, CAPA, FirmwareFormatError, MAX_CAPA_BITS, MAX_SECTIONS_PER_IMAGE, TLV, UCODE_TYPE, buildFirmware, emptyImage,
  encodeTlvFile, le32s, makeSimfSections, encodeVer, parseFirmware, type FirmwareImage,
} from '../../../../src/devices/iwlwifi/firmware/index.js';
import { header } from './helpers.js';

/** A small valid image touching every TLV type the parser interprets. */
function baseImage(): Uint8Array {
  const version = { major: 27, minor: 1, api: 27, serial: 9 };
  const ver = encodeVer(version);
  const img = emptyImage('fuzz base', version, 77);
  img.flags = 0x03000006;
  img.sections.init = makeSimfSections('init', ver, 77, [{ dest: 0, size: 96 }, { dest: 0x800000, size: 40 }]);
  img.sections.runtime = makeSimfSections('runtime', ver, 77, [{ dest: 0, size: 128 }, { dest: 0x40000, size: 37 }]);
  img.sections.wowlan = [{ dest: 0x800000, data: new Uint8Array([1, 2, 3]), form: 'legacy' }, { dest: 0x1000, data: new Uint8Array(6), form: 'secure' }];
  img.capabilities = new Set([CAPA.UMAC_SCAN, CAPA.LAR_SUPPORT, 70]);
  img.apiFlags = new Set([API.FRAGMENTED_SCAN, 100]);
  img.phySku = 0x00330016;
  img.numCpus = 1;
  img.nScanChannels = 40;
  img.paging = 0;
  img.defCalib = [{ ucodeType: UCODE_TYPE.INIT, flowTrigger: 1, eventTrigger: 2 }];
  img.fwVersion = { major: 27, minor: 1, localComp: 0 };
  img.cmdVersions = [{ cmd: 1, group: 1, version: 99, notifVersion: 3 }];
  const built = buildFirmware(img);
  // Append an unknown TLV so the mutations also meet one.
  const tail = encodeTlvFile(header(), [{ type: 77, data: new Uint8Array(5) }]).subarray(88);
  const out = new Uint8Array(built.length + tail.length);
  out.set(built);
  out.set(tail, built.length);
  return out;
}

const BASE = baseImage();
const INTERESTING = [0, 1, 2, 3, 4, 5, 7, 8, 12, 19, 20, 21, 30, 63, 64, 65, 0x7fffffff, 0x80000000, 0xfffffff8, 0xfffffffc, 0xffffffff, BASE.length, BASE.length - 88];

type Mutation =
  | { k: 'flip'; at: number; bit: number }
  | { k: 'byte'; at: number; value: number }
  | { k: 'word'; at: number; value: number }
  | { k: 'truncate'; at: number }
  | { k: 'extend'; bytes: Uint8Array }
  | { k: 'splice'; from: number; len: number; to: number }
  | { k: 'delete'; at: number; len: number };

const pos = fc.oneof(fc.nat({ max: 300 }), fc.nat({ max: BASE.length + 16 }));
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ k: fc.constant('flip' as const), at: pos, bit: fc.nat({ max: 7 }) }),
  fc.record({ k: fc.constant('byte' as const), at: pos, value: fc.nat({ max: 255 }) }),
  fc.record({ k: fc.constant('word' as const), at: pos.map((p) => p & ~3), value: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat()) }),
  fc.record({ k: fc.constant('truncate' as const), at: fc.nat({ max: BASE.length }) }),
  fc.record({ k: fc.constant('extend' as const), bytes: fc.uint8Array({ maxLength: 24 }) }),
  fc.record({ k: fc.constant('splice' as const), from: pos, len: fc.nat({ max: 64 }), to: pos }),
  fc.record({ k: fc.constant('delete' as const), at: pos, len: fc.nat({ max: 16 }) }),
);

function apply(b: Uint8Array, m: Mutation): Uint8Array {
  switch (m.k) {
    case 'flip': { const c = new Uint8Array(b); if (m.at < c.length) c[m.at]! ^= 1 << m.bit; return c; }
    case 'byte': { const c = new Uint8Array(b); if (m.at < c.length) c[m.at] = m.value; return c; }
    case 'word': {
      const c = new Uint8Array(b);
      if (m.at + 4 <= c.length) new DataView(c.buffer).setUint32(m.at, m.value >>> 0, true);
      return c;
    }
    case 'truncate': return b.slice(0, Math.min(m.at, b.length));
    case 'extend': { const c = new Uint8Array(b.length + m.bytes.length); c.set(b); c.set(m.bytes, b.length); return c; }
    case 'splice': {
      const piece = b.slice(Math.min(m.from, b.length), Math.min(m.from + m.len, b.length));
      const to = Math.min(m.to, b.length);
      const c = new Uint8Array(b.length + piece.length);
      c.set(b.subarray(0, to)); c.set(piece, to); c.set(b.subarray(to), to + piece.length);
      return c;
    }
    case 'delete': {
      const at = Math.min(m.at, b.length);
      const end = Math.min(at + m.len, b.length);
      const c = new Uint8Array(b.length - (end - at));
      c.set(b.subarray(0, at)); c.set(b.subarray(end), at);
      return c;
    }
  }
}

/** Parses; returns the image, or null for a FirmwareFormatError; anything else fails the test. */
function tryParse(b: Uint8Array): FirmwareImage | null {
  try {
    return parseFirmware(b, { fileName: 'fuzz.ucode', apiMin: 22, apiMax: 29 });
  } catch (e) {
    if (!(e instanceof FirmwareFormatError)) throw new Error(`parseFirmware threw ${String(e)}`, { cause: e });
    expect(e.fileName).toBe('fuzz.ucode');
    expect(Number.isInteger(e.offset) && e.offset >= 0 && e.offset <= b.length).toBe(true);
    expect(e.message.startsWith('fuzz.ucode: ')).toBe(true);
    return null;
  }
}

function checkAccepted(img: FirmwareImage): void {
  expect(img.version.api).toBeGreaterThanOrEqual(22);
  expect(img.version.api).toBeLessThanOrEqual(29);
  expect(img.sections.init.length).toBeGreaterThan(0);
  expect(img.sections.runtime.length).toBeGreaterThan(0);
  for (const list of Object.values(img.sections)) expect(list.length).toBeLessThanOrEqual(MAX_SECTIONS_PER_IMAGE);
  for (const b of [...img.capabilities, ...img.apiFlags]) expect(b).toBeLessThan(MAX_CAPA_BITS);
  // Re-encoding an accepted image gives the same image (unknown TLVs are not written).
  const again = parseFirmware(buildFirmware(img), { fileName: 'again.ucode' });
  expect({ ...again, unknown: [] }).toStrictEqual({ ...img, unknown: [] });
}

describe('iwlwifi firmware: parse fuzz', () => {
  it('the unmutated base image parses', () => {
    const img = tryParse(BASE);
    expect(img).not.toBeNull();
    expect(img!.unknown).toEqual([{ type: 77, offset: BASE.length - 16, length: 5 }]);
    checkAccepted(img!);
  });

  it('mutated, truncated and extended images: an image or a FirmwareFormatError, nothing else', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), (ms) => {
        const b = ms.reduce(apply, BASE);
        const img = tryParse(b);
        if (img === null) refused++;
        else { accepted++; checkAccepted(img); }
      }),
      { seed: 0x1f1e5eed, numRuns: 2000 },
    );
    // Both outcomes are exercised.
    expect(accepted).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  });

  it('random bytes after a valid header', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer({ min: 20, max: 31 }), (body, api) => {
        const h = encodeTlvFile(header(api), []);
        const b = new Uint8Array(h.length + body.length);
        b.set(h); b.set(body, h.length);
        const img = tryParse(b);
        if (img !== null) checkAccepted(img);
      }),
      { seed: 0x7265d, numRuns: 1000 },
    );
  });

  it('random TLV sequences of known types with random lengths', () => {
    const types = [...Object.values(TLV), 0, 6, 28, 99, 0xffffffff];
    const tlv = fc.record({ type: fc.constantFrom(...types), data: fc.uint8Array({ maxLength: 20 }), pad: fc.boolean() });
    fc.assert(
      fc.property(fc.array(tlv, { maxLength: 12 }), (tlvs) => {
        const img = tryParse(encodeTlvFile(header(), [{ type: TLV.SEC_RT, data: le32s(0, 1) }, { type: TLV.SEC_INIT, data: le32s(0) }, ...tlvs]));
        if (img !== null) checkAccepted(img);
      }),
      { seed: 22, numRuns: 1000 },
    );
  });
});
