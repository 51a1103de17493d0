import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { importMmiotrace } from '../../src/machine/import-mmiotrace.js';
import { loadScenario } from '../../src/machine/scenario.js';
import { runReplayHardware } from '../../src/machine/replay/run.js';
import { deviceDecoders } from '../../src/devices/decoders.js';
import { runExportMmiotrace } from '../../src/trace/export/mmiotrace.js';
import { parseMmiotrace } from '../../src/trace/import/mmiotrace.js';
import { openTrace } from '../../src/trace/reader.js';
import type { TraceEvent } from '../../src/sim/tracer.js';
import { ROOT } from '../e2e/helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'simrun-mmiotrace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIXTURE = join(ROOT, 'fixtures/mmiotrace/nvme-enable.mmiotrace');
const GOLDEN = join(ROOT, 'traces/nvme-msix.simtrace');
const scenario = loadScenario(join(ROOT, 'fixtures/scenarios/nvme-msix.json'));

function events(path: string): TraceEvent[] {
  return [...openTrace(path).events()];
}
const mmioOf = (evs: TraceEvent[], dev: number) => evs.flatMap((e) => (e.kind === 'mmio' && e.dev === dev ? [[e.write, e.bar, e.offset, e.size, e.value]] : []));

describe('import --mmiotrace', () => {
  const out = join(dir, 'nvme-enable.simtrace');
  const r = importMmiotrace({ file: FIXTURE, out, scenario });

  it('turns the capture\'s accesses of the matched device into MMIO records of its BAR, in order, with the scenario\'s header', () => {
    expect(r.device).toEqual({ index: 0, id: 'nvme0', type: 'nvme', bdf: '00:04.0' });
    expect(r.pcidev.bdf).toBe('00:04.0');
    expect(r.maps).toEqual([{ id: 1, bar: 0, offset: 0, len: 0x2000, line: 6 }, { id: 2, bar: 0, offset: 0x2000, len: 0x110, line: 17 }]);
    const h = openTrace(out).header;
    expect(h.scenario.name).toBe('nvme-msix');
    expect(h.scenario.hash).toBe(scenario.hash);
    expect(h.devices).toEqual([{ index: 0, id: 'nvme0', type: 'nvme', bdf: '00:04.0' }]);
    expect(h.createdBy).toBe('simrun import --mmiotrace nvme-enable.mmiotrace');
    const log = parseMmiotrace(readFileSync(FIXTURE, 'utf8'), FIXTURE);
    const want = log.records.flatMap((x) => (x.kind === 'rw' && x.id !== 3 ? [[x.write, 0, x.phys - 0xfebf0000, x.width, Number(x.value)]] : []));
    expect(want).toHaveLength(27);
    expect(mmioOf(events(out), 0)).toEqual(want);
    expect(r.reads + r.writes).toBe(27);
  });

  it('leaves out the other device\'s mapping with a note naming it', () => {
    expect(r.notes).toContain('line 36: map id 3 (0xfebf4000, 0x1000 bytes) is BAR2 of 00:02.0 1234:1111 (bochs-drm): 2 accesses through it left out');
  });

  it('takes config space from a simulated run, placed after the matching captured access; times from the capture', () => {
    const evs = events(out);
    const firstMmio = evs.findIndex((e) => e.kind === 'mmio');
    expect(evs.slice(0, firstMmio).filter((e) => e.kind === 'cfg').length).toBeGreaterThan(40); // firmware, pcid, the driver's enable
    // MSI-X setup in config space comes after the ACQ.hi write and before the table writes, as the driver makes it.
    const acqHi = evs.findIndex((e) => e.kind === 'mmio' && e.offset === 0x34);
    const table = evs.findIndex((e) => e.kind === 'mmio' && e.offset === 0x2000);
    expect(evs.slice(acqHi + 1, table).every((e) => e.kind === 'cfg')).toBe(true);
    expect(table - acqHi - 1).toBe(8);
    // No DMA, interrupts or milestones of the device: the capture is the device.
    expect(evs.some((e) => e.kind === 'dma' || e.kind === 'msi' || e.kind === 'intx' || e.kind === 'milestone')).toBe(false);
    const mm = evs.filter((e) => e.kind === 'mmio');
    // CSTS read 35.412591 s, CC write 35.412090 s: 501 us apart.
    expect(mm[22]!.offset).toBe(0x14);
    expect(mm[23]!.time - mm[22]!.time).toBe(1_000_000);
    expect(mm[24]!.time - mm[22]!.time).toBe(501_000_000);
    const marks = evs.filter((e) => e.kind === 'log' && e.pid === 0).map((e) => e.kind === 'log' && e.text);
    expect(marks).toEqual(['mmiotrace MARK: modprobe nvme', 'mmiotrace MARK: nvme controller ready', 'mmiotrace MARK: capture stopped']);
    for (let i = 1; i < evs.length; i++) expect(evs[i]!.time).toBeGreaterThanOrEqual(evs[i - 1]!.time);
  });

  it('writes the same bytes every time', () => {
    const again = join(dir, 'again.simtrace');
    importMmiotrace({ file: FIXTURE, out: again, scenario });
    expect(readFileSync(again).equals(readFileSync(out))).toBe(true);
  });

  it('replays as hardware against the scenario\'s driver through the whole capture, and says what the capture cannot hold', () => {
    const lines: string[] = [];
    const o = runReplayHardware({ trace: out, decoders: deviceDecoders(), out: (t) => lines.push(t) });
    expect(o.hardware.count).toBe(0);
    expect(o.hardware.matched).toBe(27 + r.simulatedConfig - 0); // every recorded access
    expect(o.hardware.injected).toBe(0);
    const text = lines.join('\n');
    expect(text).toContain('no divergence');
    expect(text).toMatch(/admin command timed out/);
    expect(text).toContain('note: this trace was imported from an mmiotrace capture');
    expect(text).toContain('no DMA and no interrupts');
    expect(o.exitCode).toBe(1);
  });

  it('round trip: export --mmiotrace of the golden, imported back, has the golden\'s MMIO accesses, values, widths and order', () => {
    const log = join(dir, 'golden.mmiotrace');
    const notes: string[] = [];
    const e = runExportMmiotrace({ trace: GOLDEN, out: log, err: (l) => notes.push(l) });
    expect(e.exitCode).toBe(0);
    const text = readFileSync(log, 'utf8');
    expect(text.split('\n').slice(0, 2)).toEqual(['VERSION 20070824', 'PCIDEV 0020 1b360010 10 c0000004 0 0 0 0 0 0 4000 0 0 0 0 0 0 ']);
    expect(text).toContain('\nMAP 0.000074 1 0xc0000000 0xffffc90000000000 0x4000 0x0 0\nR 4 0.000074 1 0xc0000000 0x140103ff 0x0 0\n');
    const back = join(dir, 'golden-back.simtrace');
    const i = importMmiotrace({ file: log, out: back, scenario });
    const golden = mmioOf(events(GOLDEN), 0);
    expect(golden.length).toBeGreaterThan(2000);
    expect(i.reads + i.writes).toBe(golden.length);
    expect(mmioOf(events(back), 0)).toEqual(golden);
  });

  it('finds a device with other PCI ids (real hardware) only when --device names it', () => {
    const real = join(dir, 'samsung.mmiotrace');
    writeFileSync(real, readFileSync(FIXTURE, 'utf8').replace('1b360010', '144da808'));
    expect(() => importMmiotrace({ file: real, out: join(dir, 'x.simtrace'), scenario })).toThrow(/no PCIDEV line has the PCI ids of a device of scenario nvme-msix \(devices: nvme0 \(nvme 1b36:0010\); PCIDEV lines: .*00:04\.0 144d:a808 \(nvme\)\); name the device with --device <id>/);
    expect(() => importMmiotrace({ file: real, out: join(dir, 'x.simtrace'), scenario, device: 'nvme9' })).toThrow(/no device "nvme9" in scenario nvme-msix/);
    const r2 = importMmiotrace({ file: real, out: join(dir, 'samsung.simtrace'), scenario, device: 'nvme0' });
    expect(r2.pcidev.bdf).toBe('00:04.0');
    expect(r2.reads + r2.writes).toBe(27);
    // Elsewhere than the scenario's 00:04.0, beside another device the capture reaches: which one is not known.
    const moved = join(dir, 'moved.mmiotrace');
    writeFileSync(moved, readFileSync(real, 'utf8').replace('PCIDEV 0020 144da808', 'PCIDEV 0028 144da808'));
    expect(() => importMmiotrace({ file: moved, out: join(dir, 'x.simtrace'), scenario, device: 'nvme0' })).toThrow(/2 PCIDEV lines could be nvme0 \(00:02\.0 1234:1111 \(bochs-drm\), 00:05\.0 144d:a808 \(nvme\)\)/);
  });

  it('imports an 8-byte access above 2^53 as two 4-byte halves, with a note; an UNKNOWN access as a warning in its place', () => {
    const f = join(dir, 'wide.mmiotrace');
    writeFileSync(f, [
      'VERSION 20070824', 'PCIDEV 0020 1b360010 b febf0004 0 0 0 0 0 0 4000 0 0 0 0 0 0 nvme',
      'MAP 1.000000 1 0xfebf0000 0xffffb4f5c0a40000 0x2000 0x0 0',
      'R 8 1.000001 1 0xfebf0000 0x1040030140103ff 0x0 0',
      'R 8 1.000002 1 0xfebf0000 0x30140103ff 0x0 0',
      'UNKNOWN 1.000003 1 0xfebf001c 8b,04,25 0x0 0',
      'R 4 1.000004 1 0xfebf001c 0x0 0x0 0', '',
    ].join('\n'));
    const w = importMmiotrace({ file: f, out: join(dir, 'wide.simtrace'), scenario });
    const evs = events(join(dir, 'wide.simtrace'));
    expect(mmioOf(evs, 0)).toEqual([[false, 0, 0, 4, 0x140103ff], [false, 0, 4, 4, 0x01040030], [false, 0, 0, 8, 0x30140103ff], [false, 0, 0x1c, 4, 0]]);
    expect(w.notes.join('\n')).toMatch(/line 4: the 8-byte read at bar0\+0x0 holds 0x1040030140103ff, above 2\^53: imported as two 4-byte accesses/);
    expect(w.notes.join('\n')).toMatch(/line 6: UNKNOWN access to bar0\+0x1c \(instruction bytes 8b,04,25\): left out/);
    expect(evs.some((e) => e.kind === 'log' && e.level === 'warn' && e.text.includes('mmiotrace line 6: UNKNOWN access at bar0+0x1c'))).toBe(true);
  });

  it('refuses a capture that never reaches the device, and one without PCIDEV lines', () => {
    const f = join(dir, 'none.mmiotrace');
    writeFileSync(f, 'VERSION 20070824\nPCIDEV 0020 1b360010 b febf0004 0 0 0 0 0 0 4000 0 0 0 0 0 0 nvme\nMAP 1.000000 1 0xfd000000 0xffff 0x1000 0x0 0\nR 4 1.000001 1 0xfd000000 0x0 0x0 0\n');
    expect(() => importMmiotrace({ file: f, out: join(dir, 'none.simtrace'), scenario })).toThrow(/none\.mmiotrace: no R or W line reaches a BAR of 00:04\.0 1b36:0010 \(nvme\)/);
    writeFileSync(f, 'VERSION 20070824\nMAP 1.000000 1 0xfd000000 0xffff 0x1000 0x0 0\n');
    expect(() => importMmiotrace({ file: f, out: join(dir, 'none.simtrace'), scenario })).toThrow(/no PCIDEV line/);
  });
});
