import { describe, expect, it } from 'vitest';
import { TraceRecorder } from '../../src/trace/recorder.js';
import { formatEvent, runInspect, type InspectOptions } from '../../src/trace/inspect.js';
import { openTrace } from '../../src/trace/reader.js';
import { CHUNK_HEADER_SIZE } from '../../src/trace/format.js';
import type { DeviceDecoder } from '../../src/trace/decoder.js';
import { emitAllKinds, makeHeader } from './helpers.js';

const nvme: DeviceDecoder = {
  type: 'nvme',
  regName: (_bar, off) => ({ 0x14: 'CC', 0x1c: 'CSTS' } as Record<number, string>)[off],
  regFields: (_bar, off, v) => (off === 0x14 ? `EN=${v & 1} IOSQES=${(v >>> 16) & 0xf}` : undefined),
  decodeDma: (tag, d) => (tag === 'nvme.sqe' ? `opc=${d[0]} len=${d.length}` : undefined),
};
const decoders = new Map([['nvme', nvme]]);

function trace(chunkBytes?: number, n = 10): Buffer {
  const rec = TraceRecorder.toBuffer(makeHeader(), chunkBytes ? { chunkBytes } : {});
  for (let i = 0; i < n; i++) emitAllKinds(rec, 1_000_000 + i * 1_000_000);
  return rec.close().buffer!;
}
const buf = trace();

function run(opts: Partial<InspectOptions>, src: Uint8Array = buf): { lines: string[]; errs: string[]; exitCode: number; shown: number } {
  const lines: string[] = [];
  const errs: string[] = [];
  const r = runInspect({ path: src, decoders, out: (l) => lines.push(l), err: (l) => errs.push(l), ...opts });
  return { lines, errs, exitCode: r.exitCode, shown: r.shown };
}

describe('inspect', () => {
  it('formats one line per event with seq, time, device, kind and decoded content', () => {
    const t = openTrace(buf);
    const lines = [...t.events({ toSeq: 17 })].map((e) => formatEvent(e, t.header, decoders));
    expect(lines).toHaveLength(18);
    expect(lines[0]).toMatch(/^\s+0\s+1\.000 us\s+nvme0\s+mmio\.r\s+bar0\+0x001c CSTS -> 0x00000001 \(4B cpu0\)$/);
    expect(lines[1]).toContain('bar0+0x0014 CC <- 0x00460001 [EN=1 IOSQES=6] (4B cpu1)');
    expect(lines[2]).toMatch(/wifi0\s+pio\.r\s+port 0x0cfc -> 0x8086/);
    expect(lines[5]).toContain('cfg 0x004 COMMAND <- 0x0006');
    expect(lines[6]).toContain('nvme.sqe 64 B from 0x000012345000: opc=');
    expect(lines[7]).toMatch(/dma\.w\s+data 4096 B to 0x000023456000: data=[0-9a-f ]+ \(\+4080 B\)/);
    expect(lines[10]).toContain('cpu1 vector 33 (0x21) addr 0xfee00000 data 0x4021');
    expect(lines[11]).toMatch(/pid7\s+schemeReq\s+disk\.nvme: read req#3/);
    expect(lines[14]).toContain('[warn] nvmed: queue 1 full');
    expect(lines[15]).toContain('nvme.sq.badDoorbell: SQ1 tail 70 beyond size 64');
    expect(lines[16]).toContain('spawn nvmed (pci 00:04.0)');
  });

  it('survives a decoder that throws', () => {
    const bad: DeviceDecoder = { type: 'nvme', regName: () => { throw new Error('boom'); } };
    const r = run({ decoders: new Map([['nvme', bad]]), limit: 1 });
    expect(r.lines[0]).toContain('bar0+0x001c ? ->');
  });

  it('prints everything with exit code 0 on a clean trace', () => {
    const r = run({});
    expect(r.exitCode).toBe(0);
    expect(r.shown).toBe(180);
    expect(r.lines).toHaveLength(180);
  });

  it('filters by kind (scheme covers requests and replies; lists allowed)', () => {
    expect(run({ kind: 'msi' }).shown).toBe(10);
    expect(run({ kind: 'scheme' }).shown).toBe(20);
    expect(run({ kind: ['dma', 'guestErr'] }).shown).toBe(50);
    expect(run({ kind: 'mmio,pio' }).shown).toBe(40);
    const bad = run({ kind: 'bogus' });
    expect(bad.exitCode).toBe(2);
    expect(bad.errs[0]).toMatch(/unknown event kind 'bogus'/);
  });

  it('filters by device id or type', () => {
    const byId = run({ device: 'wifi0' });
    expect(byId.shown).toBe(30);
    expect(byId.lines.every((l) => l.includes('wifi0'))).toBe(true);
    expect(run({ device: 'iwlwifi' }).shown).toBe(30);
    expect(run({ device: 'nvme0', kind: 'dma' }).shown).toBe(40);
    const bad = run({ device: 'sata0' });
    expect(bad.exitCode).toBe(2);
    expect(bad.errs[0]).toMatch(/no device 'sata0'.*nvme0 \(nvme\)/);
  });

  it('filters by time and sequence ranges (inclusive) and stops at the limit', () => {
    const t = run({ fromTime: 3_000_000, toTime: 3_000_018 });
    expect(t.shown).toBe(18);
    expect(t.lines[0]).toMatch(/^\s+36\s/);
    const s = run({ fromSeq: 100, toSeq: 109 });
    expect(s.lines.map((l) => Number(l.trim().split(/\s+/)[0]))).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108, 109]);
    expect(run({ limit: 5 }).lines).toHaveLength(5);
    expect(run({ limit: 5, kind: 'log', fromSeq: 50 }).lines.every((l) => l.includes('[warn]'))).toBe(true);
  });

  it('prints JSON lines with DMA data as hex', () => {
    const r = run({ json: true, kind: 'dma', limit: 3 });
    const objs = r.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs[0]).toMatchObject({ seq: 6, kind: 'dma', write: false, dev: 0, device: 'nvme0', addr: 0x12345000, tag: 'nvme.sqe', length: 64 });
    expect(objs[0]!.data).toMatch(/^[0-9a-f]{128}$/);
    expect(objs[2]).toMatchObject({ tag: 'nvme.cqe', length: 16 });
  });

  it('reports damage at the end with byte offsets and exit code 2 (bad input), after the intact events', () => {
    const big = trace(512, 50);
    const idx = openTrace(big).index!;
    const victim = idx[4]!;
    const bad = Buffer.from(big);
    bad[victim.offset + CHUNK_HEADER_SIZE + 5]! ^= 0x20;
    const r = run({}, bad);
    expect(r.exitCode).toBe(2);
    expect(r.shown).toBe(900 - victim.count);
    const last = r.lines[r.lines.length - 1]!;
    expect(last).toMatch(new RegExp(`^damage at byte ${victim.offset} \\(0x${victim.offset.toString(16)}\\), \\d+ bytes: chunk at byte ${victim.offset}`));
    const j = run({ json: true }, bad);
    expect(JSON.parse(j.lines[j.lines.length - 1]!)).toMatchObject({ damage: { offset: victim.offset } });
  });

  it('exits 2 when the trace cannot be read at all', () => {
    const r = run({}, Buffer.from('hello, world, this is not a trace'));
    expect(r.exitCode).toBe(2);
    expect(r.errs[0]).toMatch(/^error: <buffer>: not a simrun trace: bad magic/);
    const v = Buffer.from(buf);
    v.writeUInt32LE(9, 8);
    expect(run({}, v).errs[0]).toContain('trace format version 9 is not supported by this simrun (supports 1, 2, 3, 4, 5, 6, 7)');
    expect(run({ path: '/nonexistent/x.trace' }).exitCode).toBe(2);
  });
});
