import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { barOf, parseMmiotrace } from '../../../src/trace/import/mmiotrace.js';
import { InputError } from '../../../src/sim/errors.js';
import { ROOT } from '../../e2e/helpers.js';

const FIXTURE = join(ROOT, 'fixtures/mmiotrace/nvme-enable.mmiotrace');
const HEAD = [
  'VERSION 20070824',
  'PCIDEV 0020 1b360010 b febf0004 0 0 0 0 0 0 4000 0 0 0 0 0 0 nvme',
  'MAP 1.000000 1 0xfebf0000 0xffffb4f5c0a40000 0x2000 0x0 0',
];

/** The error of parsing `lines` (after the header above unless `bare`). */
function error(lines: string[], bare = false): InputError {
  try {
    parseMmiotrace([...(bare ? [] : HEAD), ...lines].join('\n'), 'bad.mmiotrace');
  } catch (e) {
    expect(e).toBeInstanceOf(InputError);
    return e as InputError;
  }
  throw new Error('parsed without error');
}

describe('mmiotrace parser', () => {
  it('reads the hand-written NVMe enable capture: PCIDEV resources, MAPs, R/W with widths and values, MARK text', () => {
    const log = parseMmiotrace(readFileSync(FIXTURE, 'utf8'), FIXTURE);
    expect(log.version).toBe('20070824');
    expect(log.pcidevs.map((p) => p.bdf)).toEqual(['00:00.0', '00:02.0', '00:04.0']);
    const nvme = log.pcidevs[2]!;
    expect(nvme).toMatchObject({ vendorId: 0x1b36, deviceId: 0x0010, irq: 11, driver: 'nvme', line: 4 });
    expect(nvme.resources[0]).toEqual({ start: 0xfebf0000, flags: 4, size: 0x4000 });
    expect(log.pcidevs[1]!.resources[0]).toEqual({ start: 0xfd000000, flags: 8, size: 0x1000000 });
    expect(log.pcidevs[0]!.driver).toBe('');
    const rw = log.records.filter((r) => r.kind === 'rw');
    expect(rw).toHaveLength(29);
    expect(rw[0]).toMatchObject({ write: false, width: 4, timeUs: 35_412_031, id: 1, phys: 0xfebf0000, value: 0x140103ffn, line: 7 });
    expect(rw.find((r) => r.kind === 'rw' && r.width === 2)).toMatchObject({ phys: 0xfebf4500, value: 0xb0c5n });
    expect(log.records.filter((r) => r.kind === 'mark').map((r) => r.kind === 'mark' && r.text)).toEqual(['modprobe nvme', 'nvme controller ready', 'capture stopped']);
    expect(log.records.filter((r) => r.kind === 'unmap')).toHaveLength(1);
  });

  it('places a mapping in the BAR that holds it, and never in an I/O BAR or the ROM', () => {
    const log = parseMmiotrace(readFileSync(FIXTURE, 'utf8'), FIXTURE);
    const nvme = log.pcidevs[2]!, vga = log.pcidevs[1]!;
    expect(barOf(nvme, 0xfebf2000, 0x110)).toBe(0);
    expect(barOf(nvme, 0xfebf3f00, 0x200)).toBe(-1); // runs past the BAR's end
    expect(barOf(vga, 0xfebf4000, 0x1000)).toBe(2);
    const io = parseMmiotrace(['VERSION 20070824', 'PCIDEV 0018 80861234 0 c001 0 0 0 0 0 0 20 0 0 0 0 0 0 '].join('\n'), 'io');
    expect(io.pcidevs[0]!.resources[0]).toEqual({ start: 0xc000, flags: 1, size: 0x20 });
    expect(barOf(io.pcidevs[0]!, 0xc000, 4)).toBe(-1);
  });

  it('accepts a PCIDEV line whose trailing space was stripped, UNMAP -1 and LSPCI lines, and reports lost events', () => {
    const log = parseMmiotrace([
      'VERSION 20070824', 'PCIDEV 0020 1b360010 b febf0004 0 0 0 0 0 0 4000 0 0 0 0 0 0', 'LSPCI 00:04.0 Non-Volatile memory controller',
      'UNMAP 1.000000 -1 0x0 0', 'MARK 0.000000 Lost 12 events.', '',
    ].join('\r\n'), 'x');
    expect(log.pcidevs[0]!.driver).toBe('');
    expect(log.lspci).toEqual(['00:04.0 Non-Volatile memory controller']);
    expect(log.notes.join('\n')).toMatch(/line 4: UNMAP of a mapping the kernel did not know[\s\S]*line 5: the kernel lost events here \(Lost 12 events\.\)/);
  });

  // Each kind of mistake: the file, the line number and what is wrong.
  const cases: [string, string[], RegExp, boolean?][] = [
    ['no VERSION first', ['MAP 1.000000 1 0x0 0x0 0x10 0x0 0'], /bad\.mmiotrace: line 1: expected "VERSION 20070824"/, true],
    ['another format version', ['VERSION 20060101'], /line 1: unsupported mmiotrace format version "20060101"/, true],
    ['an unknown record kind', ['FOO 1.000000 bar'], /line 4: unknown mmiotrace record "FOO"/],
    ['the kernel\'s "rw what?"', ['rw what?'], /line 4: unknown mmiotrace record "rw"/],
    ['a PCIDEV with too few fields', ['VERSION 20070824', 'PCIDEV 0020 1b360010 b febf0004'], /line 2: PCIDEV takes 17 fields .* got 4/, true],
    ['a PCIDEV field that is not hex', ['VERSION 20070824', 'PCIDEV 0020 1b36001g b febf0004 0 0 0 0 0 0 4000 0 0 0 0 0 0 '], /line 2: PCIDEV field 2 \(vendor and device id\): "1b36001g"/, true],
    ['a PCIDEV after the first record', ['PCIDEV 0028 1b360010 b febf8004 0 0 0 0 0 0 4000 0 0 0 0 0 0 '], /line 4: PCIDEV lines belong to the header/],
    ['a MAP with a missing field', ['MAP 1.000000 2 0xfebf0000 0xffff 0x2000 0x0'], /line 4: MAP takes 7 space-separated fields .* got 6/],
    ['a map id mapped twice', ['MAP 1.000000 1 0xfebf0000 0xffff 0x2000 0x0 0'], /line 4: map id 1 is mapped already \(line 3\)/],
    ['a bad timestamp', ['R 4 1.5 1 0xfebf0000 0x1 0x0 0'], /line 4: timestamp "1.5" is not <seconds>\.<6 digits/],
    ['a width of 3', ['R 3 1.000001 1 0xfebf0000 0x1 0x0 0'], /line 4: R: width 3 is not 1, 2, 4 or 8/],
    ['a value wider than the access', ['W 1 1.000001 1 0xfebf0000 0x100 0x0 0'], /line 4: W: value 0x100 does not fit in 1 byte/],
    ['a value without 0x', ['R 4 1.000001 1 0xfebf0000 1f 0x0 0'], /line 4: value: "1f" is not a hex number with 0x/],
    ['an access through an unknown map id', ['R 4 1.000001 7 0xfebf0000 0x1 0x0 0'], /line 4: R through map id 7, which is not mapped/],
    ['an access outside its mapping', ['R 4 1.000001 1 0xfebf1ffe 0x1 0x0 0'], /line 4: R at 0xfebf1ffe \(4 bytes\) is outside map id 1/],
    ['an access after UNMAP', ['UNMAP 1.000002 1 0x0 0', 'W 4 1.000003 1 0xfebf0000 0x1 0x0 0'], /line 5: W through map id 1, which is not mapped/],
    ['an UNMAP of an unmapped id', ['UNMAP 1.000002 4 0x0 0'], /line 4: UNMAP of map id 4, which is not mapped/],
    ['a malformed UNKNOWN', ['UNKNOWN 1.000002 1 0xfebf0000 8b04 0x0 0'], /line 4: UNKNOWN: the instruction bytes "8b04"/],
    ['a pid that is not decimal', ['R 4 1.000001 1 0xfebf0000 0x1 0x0 x'], /line 4: pid: "x" is not a decimal integer/],
    ['a second VERSION', ['VERSION 20070824'], /line 4: a second VERSION line/],
  ];
  for (const [what, lines, re, bare] of cases) {
    it(`rejects ${what} with the file and line`, () => {
      expect(error(lines, bare).message).toMatch(re);
    });
  }

  it('rejects an empty file', () => {
    expect(() => parseMmiotrace('', 'empty.mmiotrace')).toThrow(/empty\.mmiotrace: empty/);
  });
});
