import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { cleanupCopies, editFile, projectCopy, ROOT, simrunIn } from '../e2e/helpers.js';
import { nvmeFactory } from '../../src/devices/nvme/index.js';
import { deviceDecoders } from '../../src/devices/decoders.js';
import { runReplayHardware } from '../../src/machine/replay/run.js';
import { runReplayDevices } from '../../src/machine/replay/devices.js';
import { RingTracer } from '../../src/machine/replay/ring-tracer.js';
import { StreamCheck } from '../../src/machine/replay/stream-check.js';
import { openTrace } from '../../src/trace/reader.js';
import { compareStreams } from '../../src/trace/compare/compare.js';
import { CHUNK_HEADER_SIZE } from '../../src/trace/format.js';
import { Rec } from '../../src/sim/tracer.js';
import { rawRecords } from '../trace/helpers.js';

// Every golden trace, both ways: TypeScript, C and Rust drivers; NVMe, Wi-Fi, AHCI (whose model records a
// milestone at power-on, before the first access) and virtio (memory the driver changes between two device reads).
const GOLDENS = readdirSync(join(ROOT, 'traces')).filter((f) => f.endsWith('.simtrace')).map((f) => f.replace(/\.simtrace$/, '')).sort();
const golden = (n: string) => join(ROOT, 'traces', `${n}.simtrace`);
/**
 * Goldens whose replay as hardware is TIMING-ONLY rather than exact: every
 * event the same, but a client's clock 0.3 µs off after the first INTx of
 * ahcid (the recorded interrupt reached the client's core at another point
 * of its timeline). Not understood yet; kept visible here.
 */
const NOT_EXACT: Record<string, string> = { 'ahci-intx': 'INTx timing of a client 0.3 µs off' };
const tmp = mkdtempSync(join(tmpdir(), 'simrun-replay-'));
afterAll(() => { rmSync(tmp, { recursive: true, force: true }); cleanupCopies(); });
const quiet = { decoders: deviceDecoders(), out: () => {} };


describe.each(GOLDENS)('golden trace %s', (name) => {
  it('replays as hardware with no device model constructed, reproducing the recording exactly', () => {
    const create = vi.spyOn(nvmeFactory, 'create');
    const rec = join(tmp, `${name}.replayed.simtrace`);
    const r = runReplayHardware({ trace: golden(name), record: rec, ...quiet });
    expect(create).not.toHaveBeenCalled();
    create.mockRestore();
    expect(r.machine.devices).toHaveLength(0);
    expect(r.compare.divergences).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.hardware.matched).toBeGreaterThan(200);
    expect(r.result.failures).toEqual([]); // the workload's reads were verified against the image, with trace data
    const same = compareStreams(openTrace(golden(name)).events(), openTrace(rec).events());
    if (NOT_EXACT[name] !== undefined) {
      // Known: the same events, one process's clock shifted (see NOT_EXACT).
      expect(same.divergences.map((d) => d.kind)).toEqual(['timing']);
    } else {
      expect(same.count).toBe(0);
    }
    // Disk-image bytes stay references in the replay's own trace, as in the recording (so an
    // unchanged driver writes the recording's bytes again and needs no judging).
    const refs = (f: string): number => rawRecords(readFileSync(f)).filter((x) => x[0] === Rec.DmaImage).length;
    expect(refs(rec)).toBe(refs(golden(name)));
  });

  it('replays unrecorded in one run, its events checked against the recording as they come (a run that differs is replayed again and judged)', () => {
    const r = runReplayHardware({ trace: golden(name), ...quiet });
    expect(r.exitCode).toBe(0);
    expect(r.compare.divergences).toEqual([]);
    if (NOT_EXACT[name] !== undefined) {
      expect(r.verdict.verdict).toBe('TIMING-ONLY');
      expect(r.hardware.tracer).toBeInstanceOf(RingTracer);
    } else {
      expect(r.verdict.verdict).toBe('IDENTICAL');
      expect(r.hardware.tracer).toBeInstanceOf(StreamCheck);
    }
  });

  it('drives the current device models as the recorded driver (--devices) with every response matching', () => {
    const r = runReplayDevices({ trace: golden(name), ...quiet });
    expect(r.compare.divergences.map((d) => d.kind)).toEqual([]);
    expect(r.exitCode).toBe(0);
    expect(r.compare.expectedEvents).toBeGreaterThan(200); // the shortest golden (display-fault-edid-nak) has 221 device-side events
  });
});

describe('replay catches changes', () => {
  it('a changed driver diverges under trace-as-hardware, naming the register', () => {
    const dir = projectCopy();
    editFile(dir, 'src/drivers/nvme/driver.ts', 'const adminDepth = Math.min(32, mqes);', 'const adminDepth = Math.min(16, mqes);');
    const r = simrunIn(dir, 'replay', golden('nvme-msix'));
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/MMIO write to nvme0 AQA \(BAR0\+0x24\): expected 0x001f001f, got 0x000f000f/);
    expect(r.out).toMatch(/driver log before the divergence/);
  });

  it('a changed device model diverges under --devices but not under trace-as-hardware', () => {
    const dir = projectCopy();
    editFile(dir, 'src/devices/nvme/regs.ts', 'export const NVME_VERSION = 0x00010400;', 'export const NVME_VERSION = 0x00010300;');
    const dev = simrunIn(dir, 'replay', '--devices', golden('nvme-msix'), '--json');
    expect(dev.code).toBe(1);
    const j = JSON.parse(dev.out);
    expect(j.divergences[0].what).toBe('MMIO read of nvme0 VS (BAR0+0x8): expected 0x00010400, got 0x00010300');
    const hw = simrunIn(dir, 'replay', golden('nvme-msix'));
    expect(hw.code).toBe(0);
  });
});

describe('replay: bad input is exit code 2 with a clear message', () => {
  const bytes = () => Buffer.from(readFileSync(golden('nvme-msix')));
  const write = (name: string, b: Buffer) => { const p = join(tmp, name); writeFileSync(p, b); return p; };

  it('a trace of another format version', () => {
    const b = bytes();
    b.writeUInt32LE(9, 8);
    const r = simrunIn(ROOT, 'replay', write('v9.simtrace', b));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/v9\.simtrace: trace format version 9 is not supported by this simrun \(supports 1, 2, 3, 4, 5, 6, 7\)/);
  });

  it('a trace whose scenario does not match', () => {
    const r = simrunIn(ROOT, 'replay', golden('nvme-msix'), '--scenario', 'nvme-intx');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/header\.scenario: the trace was recorded from scenario "nvme-msix".*does not match .*nvme-intx\.json/);
  });

  it('a trace truncated mid-chunk', () => {
    const b = bytes();
    const idx = openTrace(b).index!;
    const r = simrunIn(ROOT, 'replay', write('cut.simtrace', b.subarray(0, idx[5]!.offset + 40)));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cut\.simtrace: byte \d+: the trace is damaged .*replay needs an intact trace/);
  });

  it('a corrupted payload blob', () => {
    const b = bytes();
    const t = openTrace(b);
    // The chunk holding the first 4 KiB data payload.
    const first = [...t.events()].find((e) => e.kind === 'dma' && e.data.length === 4096)!;
    const chunk = t.index!.filter((c) => c.firstSeq <= first.seq).pop()!;
    b[chunk.offset + CHUNK_HEADER_SIZE + 50]! ^= 0x5a;
    const r = simrunIn(ROOT, 'replay', '--devices', write('blob.simtrace', b));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(new RegExp(`blob\\.simtrace: byte ${chunk.offset}: the trace is damaged`));
  });

  it('a trace that does not exist', () => {
    const r = simrunIn(ROOT, 'replay', join(tmp, 'none.simtrace'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/none\.simtrace: trace file not found/);
  });
});
