/**
 * Every way parseFirmware refuses a file: the error class, field, byte
 * offset and message.
 */
import { describe, expect, it } from 'vitest';
import { InputError } from '../../../../src/sim/errors.js';
import {
  FirmwareFormatError, MAX_SECTIONS_PER_IMAGE, TLV, encodeTlvFile, le32s, parseFirmware, type RawTlv,
} from '../../../../src/devices/iwlwifi/firmware/index.js';
import { FILE, file, header, minimalTlvs, sec, tlvOffset } from './helpers.js';

function refuse(bytes: Uint8Array, opts: { apiMin?: number; apiMax?: number } = {}): FirmwareFormatError {
  try {
    parseFirmware(bytes, { fileName: FILE, ...opts });
  } catch (e) {
    expect(e).toBeInstanceOf(FirmwareFormatError);
    return e as FirmwareFormatError;
  }
  throw new Error('parseFirmware accepted the file');
}

function expectError(e: FirmwareFormatError, offset: number, field: string, problem: RegExp | string): void {
  expect(e.fileName).toBe(FILE);
  expect(e.offset).toBe(offset);
  expect(e.field).toBe(field);
  if (typeof problem === 'string') expect(e.problem).toBe(problem);
  else expect(e.problem).toMatch(problem);
  expect(e.message).toBe(`${FILE}: ${field}: ${e.problem} (at byte offset ${offset})`);
}

describe('iwlwifi firmware: parse errors', () => {
  it('is an InputError (the CLI exits 2) naming file, field and offset', () => {
    const e = refuse(new Uint8Array(10));
    expect(e).toBeInstanceOf(InputError);
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('FirmwareFormatError');
    expect(e.file).toBe(FILE);
  });

  it('file shorter than the header', () => {
    expectError(refuse(new Uint8Array(40)), 40, 'header', 'file is 40 bytes, shorter than the 88-byte TLV ucode header');
    expectError(refuse(new Uint8Array(0)), 0, 'header', /file is 0 bytes/);
    expectError(refuse(file().subarray(0, 87)), 87, 'header', /87 bytes/);
  });

  it('non-zero first word', () => {
    expectError(refuse(file(minimalTlvs(), header(29, { zero: 0x1d000201 }))), 0, 'header.zero',
      /^first word is 0x1D000201, expected 0 .*v1\/v2/);
  });

  it('bad magic', () => {
    expectError(refuse(file(minimalTlvs(), header(29, { magic: 0x0a4c5748 }))), 4, 'header.magic',
      'magic is 0x0A4C5748, expected 0x0A4C5749 ("IWL\\n")');
  });

  it('API outside the device range', () => {
    expectError(refuse(file(minimalTlvs(), header(31))), 72, 'header.ver', 'API 31 is outside the range 22-29 supported by the 7265D');
    expectError(refuse(file(minimalTlvs(), header(21))), 72, 'header.ver', 'API 21 is outside the range 22-29 supported by the 7265D');
    expectError(refuse(file(minimalTlvs(), header(22)), { apiMin: 23, apiMax: 25 }), 72, 'header.ver',
      'API 22 is outside the range 23-25 supported by the 7265D');
    for (const api of [22, 29]) expect(parseFirmware(file(minimalTlvs(), header(api)), { fileName: FILE }).version.api).toBe(api);
  });

  it('truncated TLV header (1-7 trailing bytes)', () => {
    const ok = file();
    for (const extra of [1, 4, 7]) {
      const f = new Uint8Array(ok.length + extra);
      f.set(ok);
      expectError(refuse(f), ok.length, 'tlv[2]', `${extra} trailing byte(s) are too short for a TLV header (8 bytes)`);
    }
  });

  it('TLV length running past the end of the file', () => {
    const tlvs = [...minimalTlvs(), { type: TLV.PHY_SKU, data: le32s(0), length: 5 }];
    expectError(refuse(file(tlvs)), tlvOffset(tlvs, 2) + 4, 'tlv[2].length', 'PHY_SKU (23) TLV length 5 runs past the end of the file (4 bytes left)');
    const huge = [{ type: TLV.SEC_RT, data: le32s(0), length: 0xffffffff }, ...minimalTlvs()];
    expectError(refuse(file(huge)), 92, 'tlv[0].length', /SEC_RT \(19\) TLV length 4294967295 runs past the end/);
  });

  it('missing padding after the last TLV', () => {
    const tlvs: RawTlv[] = [...minimalTlvs(), { type: 99, data: new Uint8Array(5), pad: false }];
    const at = tlvOffset(tlvs, 2);
    expectError(refuse(file(tlvs)), at + 8 + 5, 'tlv[2].padding',
      'type 99 TLV of length 5 is not padded to a 4-byte boundary: the file ends 0 byte(s) into its 3 padding bytes');
  });

  it('section TLV shorter than its destination word', () => {
    for (const type of [TLV.SEC_RT, TLV.SEC_INIT, TLV.SEC_WOWLAN, TLV.SECURE_SEC_RT, TLV.SECURE_SEC_INIT, TLV.SECURE_SEC_WOWLAN]) {
      const tlvs = [...minimalTlvs(), { type, data: new Uint8Array(2) }];
      expectError(refuse(file(tlvs)), tlvOffset(tlvs, 2) + 4, 'tlv[2].length', /TLV length 2 is shorter than its 4-byte SRAM destination$/);
    }
    // A legacy section has no destination word: an empty one is fine.
    const legacy = parseFirmware(file([...minimalTlvs(), { type: TLV.INST, data: new Uint8Array(0) }]), { fileName: FILE });
    expect(legacy.sections.runtime.filter((x) => x.form === 'legacy').map((x) => x.data.length)).toEqual([0]);
  });

  it('records unknown TLV types (and BOOT) instead of refusing them', () => {
    const tlvs: RawTlv[] = [
      { type: 99, data: new Uint8Array(3) }, ...minimalTlvs(), { type: TLV.BOOT, data: new Uint8Array(8) }, { type: 0x1000005, data: new Uint8Array(0) },
    ];
    const img = parseFirmware(file(tlvs), { fileName: FILE });
    expect(img.unknown).toEqual([
      { type: 99, offset: 88, length: 3 },
      { type: TLV.BOOT, offset: tlvOffset(tlvs, 3), length: 8 },
      { type: 0x1000005, offset: tlvOffset(tlvs, 4), length: 0 },
    ]);
    expect(img.sections.runtime).toHaveLength(1);
  });

  it('no INIT or no runtime section', () => {
    const noInit = file([sec(TLV.SEC_RT, 0)]);
    expectError(refuse(noInit), noInit.length, 'sections.init', /^no INIT image/);
    const noRt = file([sec(TLV.SEC_INIT, 0), sec(TLV.SEC_WOWLAN, 0)]);
    expectError(refuse(noRt), noRt.length, 'sections.runtime', /^no runtime image/);
    expectError(refuse(file([])), 88, 'sections.init', /^no INIT image/);
  });

  it('more than 64 sections in one image', () => {
    const tlvs = [sec(TLV.SEC_INIT, 0)];
    for (let i = 0; i <= MAX_SECTIONS_PER_IMAGE; i++) tlvs.push(sec(TLV.SEC_RT, i * 0x100));
    expectError(refuse(file(tlvs)), tlvOffset(tlvs, MAX_SECTIONS_PER_IMAGE + 1), `tlv[${MAX_SECTIONS_PER_IMAGE + 1}]`,
      'more than 64 sections in the runtime image');
    tlvs.pop();
    expect(parseFirmware(file(tlvs), { fileName: FILE }).sections.runtime).toHaveLength(MAX_SECTIONS_PER_IMAGE);
  });

  it('capability / API-flag TLV of the wrong length or with an index beyond 3', () => {
    for (const [type, name] of [[TLV.ENABLED_CAPABILITIES, 'ENABLED_CAPABILITIES (30)'], [TLV.API_CHANGES_SET, 'API_CHANGES_SET (29)']] as const) {
      const short = [...minimalTlvs(), { type, data: le32s(0) }];
      expectError(refuse(file(short)), tlvOffset(short, 2) + 4, 'tlv[2].length', `${name} TLV length 4, expected 8 (le32 index, le32 bit mask)`);
      const long = [...minimalTlvs(), { type, data: le32s(0, 1, 2) }];
      expectError(refuse(file(long)), tlvOffset(long, 2) + 4, 'tlv[2].length', /length 12, expected 8/);
      const far = [...minimalTlvs(), { type, data: le32s(4, 1) }];
      expectError(refuse(file(far)), tlvOffset(far, 2) + 8, 'tlv[2].index', `${name} index 4 is beyond the 128 bits the driver knows (index 0-3)`);
      const ok = [...minimalTlvs(), { type, data: le32s(3, 0x80000001) }, { type, data: le32s(3, 2) }];
      const img = parseFirmware(file(ok), { fileName: FILE });
      expect([...(type === TLV.API_CHANGES_SET ? img.apiFlags : img.capabilities)].sort((a, b) => a - b)).toEqual([96, 97, 127]);
    }
  });

  it('fixed-size TLVs of the wrong length', () => {
    const cases: [number, Uint8Array, RegExp][] = [
      [TLV.PHY_SKU, le32s(1, 2), /PHY_SKU \(23\) TLV length 8, expected 4/],
      [TLV.N_SCAN_CHANNELS, new Uint8Array(2), /N_SCAN_CHANNELS \(31\) TLV length 2, expected 4/],
      [TLV.NUM_OF_CPU, new Uint8Array(0), /NUM_OF_CPU \(27\) TLV length 0, expected 4/],
      [TLV.PAGING, new Uint8Array(5), /PAGING \(32\) TLV length 5, expected 4/],
      [TLV.FW_VERSION, le32s(1, 2), /FW_VERSION \(36\) TLV length 8, expected 12/],
      [TLV.DEF_CALIB, le32s(1), /DEF_CALIB \(22\) TLV length 4, expected 12/],
      [TLV.FLAGS, new Uint8Array(6), /FLAGS \(18\) TLV length 6, expected a non-zero multiple of 4/],
      [TLV.FLAGS, new Uint8Array(0), /FLAGS \(18\) TLV length 0/],
      [TLV.CMD_VERSIONS, new Uint8Array(6), /CMD_VERSIONS \(48\) TLV length 6, expected a multiple of 4/],
    ];
    for (const [type, data, msg] of cases) {
      const tlvs = [...minimalTlvs(), { type, data }];
      expectError(refuse(file(tlvs)), tlvOffset(tlvs, 2) + 4, 'tlv[2].length', msg);
    }
  });

  it('bad values: NUM_OF_CPU, DEF_CALIB ucode type', () => {
    const cpus = [...minimalTlvs(), { type: TLV.NUM_OF_CPU, data: le32s(3) }];
    expectError(refuse(file(cpus)), tlvOffset(cpus, 2) + 8, 'tlv[2].value', 'NUM_OF_CPU is 3; the driver supports 1 or 2 CPUs');
    const zero = [...minimalTlvs(), { type: TLV.NUM_OF_CPU, data: le32s(0) }];
    expectError(refuse(file(zero)), tlvOffset(zero, 2) + 8, 'tlv[2].value', /NUM_OF_CPU is 0/);
    const calib = [...minimalTlvs(), { type: TLV.DEF_CALIB, data: le32s(4, 0, 0) }];
    expectError(refuse(file(calib)), tlvOffset(calib, 2) + 8, 'tlv[2].ucodeType', /^DEF_CALIB for ucode type 4; known types are 0-3/);
  });

  it('a single-valued TLV twice, or DEF_CALIB twice for one image', () => {
    const sku = [...minimalTlvs(), { type: TLV.PHY_SKU, data: le32s(1) }, { type: TLV.PHY_SKU, data: le32s(2) }];
    expectError(refuse(file(sku)), tlvOffset(sku, 3), 'tlv[3]', `a second PHY_SKU (23) TLV (the first is at byte offset ${tlvOffset(sku, 2)})`);
    const calib = [...minimalTlvs(), { type: TLV.DEF_CALIB, data: le32s(1, 0, 0) }, { type: TLV.DEF_CALIB, data: le32s(0, 0, 0) },
      { type: TLV.DEF_CALIB, data: le32s(1, 5, 5) }];
    expectError(refuse(file(calib)), tlvOffset(calib, 4), 'tlv[4]', /a second DEF_CALIB TLV for ucode type 1 \(the first is at byte offset \d+\)/);
  });

  it('reports the first problem in file order', () => {
    const tlvs: RawTlv[] = [{ type: TLV.PHY_SKU, data: new Uint8Array(2) }, { type: TLV.ENABLED_CAPABILITIES, data: le32s(9, 0) }];
    expectError(refuse(encodeTlvFile(header(), tlvs)), 92, 'tlv[0].length', /PHY_SKU/);
  });
});
