import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { deviceDecoders } from '../../../src/devices/decoders.js';
import { TraceRecorder } from '../../../src/trace/recorder.js';
import type { Tracer } from '../../../src/sim/tracer.js';
import { runDiff, type DiffOptions, type DiffRunResult } from '../../../src/trace/diff/index.js';
import { makeHeader, tmpDir } from '../helpers.js';

const decoders = deviceDecoders();

function build(f: (t: Tracer) => void): Buffer {
  const rec = TraceRecorder.toBuffer(makeHeader());
  f(rec);
  return rec.close().buffer!;
}

function diff(a: Uint8Array | string, b: Uint8Array | string, extra: Partial<DiffOptions> = {}): DiffRunResult & { lines: string[]; errs: string[] } {
  const lines: string[] = [];
  const errs: string[] = [];
  const r = runDiff({ a, b, decoders, color: false, out: (l) => lines.push(l), err: (l) => errs.push(l), ...extra });
  return { ...r, lines, errs };
}

/** A 64-byte NVMe submission entry. */
function sqe(opc: number, cid: number, f: { nsid?: number; prp1?: number; prp2?: number; dw10?: number; dw11?: number; dw12?: number } = {}): Uint8Array {
  const b = new Uint8Array(64);
  const v = new DataView(b.buffer);
  b[0] = opc;
  v.setUint16(2, cid, true);
  v.setUint32(4, f.nsid ?? 0, true);
  v.setBigUint64(24, BigInt(f.prp1 ?? 0), true);
  v.setBigUint64(32, BigInt(f.prp2 ?? 0), true);
  v.setUint32(40, f.dw10 ?? 0, true);
  v.setUint32(44, f.dw11 ?? 0, true);
  v.setUint32(48, f.dw12 ?? 0, true);
  return b;
}

/** A 16-byte completion entry. */
function cqe(cid: number, sqid: number, sqhd: number): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(8, sqhd, true);
  v.setUint16(10, sqid, true);
  v.setUint16(12, cid, true);
  v.setUint16(14, 1, true); // phase
  return b;
}

const page = (seed: number): Uint8Array => Uint8Array.from({ length: 4096 }, (_, i) => (i * 31 + seed) & 0xff);

interface Layout {
  asq: number; acq: number; sq: number; cq: number; data: number; identify: number; qsize?: number; cc?: number;
  /** Where the data of I/O i really goes (default: where its command said). */
  dataAt?: (i: number, prp1: number) => number;
}
const A: Layout = { asq: 0x100000, acq: 0x101000, identify: 0x102000, sq: 0x142000, cq: 0x143000, data: 0x165000 };

/** An NVMe bring-up and a few I/Os; every address comes from `l`. */
function nvmeRun(t: Tracer, l: Layout, ios = 6): void {
  let time = 1_000_000;
  const step = (d = 1_000): number => (time += d);
  t.cfg(true, step(), -1, 0, 0x04, 2, 0x0006);
  t.mmio(false, step(), 0, 0, 0, 0x00, 4, 0x140103ff);
  t.mmio(true, step(), 0, 0, 0, 0x24, 4, 0x001f001f);
  t.mmio(true, step(), 0, 0, 0, 0x28, 4, l.asq);
  t.mmio(true, step(), 0, 0, 0, 0x30, 4, l.acq);
  t.mmio(true, step(), 0, 0, 0, 0x14, 4, l.cc ?? 0x00460001);
  t.milestone(step(), 0, 'ready', 32, 32);
  t.mmio(false, step(), 0, 0, 0, 0x1c, 4, 1);
  const admin = (i: number, cmd: Uint8Array): void => {
    t.mmio(true, step(), 0, 0, 0, 0x1000, 4, i + 1);
    t.dma(false, step(), 0, l.asq + i * 64, cmd, 0, 64, 'nvme.asqe');
    if (cmd[0] === 0x06) t.dma(true, step(), 0, l.identify, page(1), 0, 4096, 'data');
    if (cmd[0] === 0x05) t.milestone(step(), 0, 'cq.create', 1, l.qsize ?? 64);
    if (cmd[0] === 0x01) t.milestone(step(), 0, 'sq.create', 1, l.qsize ?? 64);
    t.dma(true, step(), 0, l.acq + i * 16, cqe(cmd[2]!, 0, i + 1), 0, 16, 'nvme.acqe');
    t.msi(step(), 0, 0xfee01000, 0x40, 1, 0x40);
    t.mmio(true, step(), 0, 0, 0, 0x1004, 4, i + 1);
  };
  const size = ((l.qsize ?? 64) - 1) << 16;
  admin(0, sqe(0x06, 0, { prp1: l.identify, dw10: 1 }));
  admin(1, sqe(0x05, 0, { prp1: l.cq, dw10: size | 1, dw11: (1 << 16) | 3 }));
  admin(2, sqe(0x01, 0, { prp1: l.sq, dw10: size | 1, dw11: (1 << 16) | 1 }));
  t.log(step(), 6, 'info', 'nvme 00:04.0: 1 I/O queue pair(s) of 64 entries');
  for (let i = 0; i < ios; i++) {
    const cid = i & 1;
    t.schemeReq(step(), 2, 'disk.nvme', 'read', i, i * 0x1000, 0x1000);
    t.mmio(true, step(), 0, 0, 0, 0x1008, 4, i + 1);
    const prp1 = l.data + (i & 1) * 0x1000;
    t.dma(false, step(), 0, l.sq + i * 64, sqe(0x02, cid, { nsid: 1, prp1, dw12: 7 }), 0, 64, 'nvme.sqe');
    t.dma(true, step(20_000), 0, l.dataAt ? l.dataAt(i, prp1) : prp1, page(10 + i), 0, 4096, 'data');
    t.dma(true, step(), 0, l.cq + i * 16, cqe(cid, 1, i + 1), 0, 16, 'nvme.cqe');
    t.msi(step(), 0, 0xfee01000, 0x41, 1, 0x41);
    t.mmio(true, step(), 0, 0, 0, 0x100c, 4, i + 1);
    t.schemeReply(step(), 2, 'disk.nvme', i, 0x1000);
  }
}

describe('simrun diff: structure', () => {
  it('reports identical traces as identical (exit 0, no divergences, everything same)', () => {
    const a = build((t) => nvmeRun(t, A));
    const b = build((t) => nvmeRun(t, A));
    const r = diff(a, b);
    expect(r.exitCode).toBe(0);
    expect(r.result.identical).toBe(true);
    expect(r.result.divergences).toEqual([]);
    expect(r.result.totals).toMatchObject({ changed: 0, inserted: 0, removed: 0, divergences: 0 });
    for (const s of r.result.streams) {
      expect(s.same).toBe(s.a);
      expect(s.a).toBe(s.b);
    }
    expect(r.result.streams.map((s) => s.stream)).toEqual(expect.arrayContaining([
      'nvme0 mmio', 'nvme0 cfg', 'nvme0 dma:nvme.asqe', 'nvme0 dma:nvme.sqe', 'nvme0 dma:data', 'nvme0 msi', 'nvme0 milestone',
      'disk.nvme: schemeReq', 'disk.nvme: schemeReply', 'kernel log',
    ]));
    expect(r.lines.join('\n')).toContain('structure: IDENTICAL');
  });

  it('treats traces that differ only in buffer addresses as equal (DMA, PRP fields and ASQ/ACQ renamed)', () => {
    const B: Layout = { asq: 0x500000, acq: 0x7f3000, identify: 0x222000, sq: 0x9a0000, cq: 0x9b1000, data: 0x3000000 };
    const a = build((t) => nvmeRun(t, A));
    const b = build((t) => nvmeRun(t, B));
    const r = diff(a, b);
    expect(r.result.totals).toMatchObject({ changed: 0, inserted: 0, removed: 0 });
    expect(r.exitCode).toBe(0);
  });

  it('still sees a transfer to a different buffer than the command named', () => {
    const a = build((t) => nvmeRun(t, A));
    // b: the data of I/O 4 lands in a page no command pointed at.
    const b = build((t) => nvmeRun(t, { ...A, dataAt: (i, prp1) => (i === 4 ? 0x7770000 : prp1) }));
    const r = diff(a, b);
    expect(r.exitCode).toBe(1);
    const data = r.result.streams.find((s) => s.stream === 'nvme0 dma:data')!;
    expect(data.changed).toBe(1);
    expect(r.result.divergences[0]!.what).toBe('data: address nvme.sqe.ptr#0+0x0 → data#0+0x0');
  });

  it('reports a swap of two MMIO writes at the right place', () => {
    const mk = (swap: boolean) => build((t) => {
      t.mmio(false, 1000, 0, 0, 0, 0x00, 4, 0x140103ff);
      if (swap) {
        t.mmio(true, 2000, 0, 0, 0, 0x30, 4, 0x101000);
        t.mmio(true, 3000, 0, 0, 0, 0x24, 4, 0x001f001f);
      } else {
        t.mmio(true, 2000, 0, 0, 0, 0x24, 4, 0x001f001f);
        t.mmio(true, 3000, 0, 0, 0, 0x30, 4, 0x101000);
      }
      t.mmio(true, 4000, 0, 0, 0, 0x14, 4, 0x00460001);
      t.mmio(false, 5000, 0, 0, 0, 0x1c, 4, 1);
    });
    const r = diff(mk(false), mk(true));
    expect(r.exitCode).toBe(1);
    const mmio = r.result.streams.find((s) => s.stream === 'nvme0 mmio')!;
    expect(mmio).toMatchObject({ a: 5, b: 5, same: 4, changed: 0, inserted: 1, removed: 1 });
    expect(r.result.divergences).toHaveLength(1);
    const d = r.result.divergences[0]!;
    const divergent = d.rows.filter((x) => x.op !== 'same');
    // One of the two writes is matched; the other shows as removed at its place in a and inserted at its place in b.
    const removed = divergent.find((x) => x.op === 'removed')!;
    const inserted = divergent.find((x) => x.op === 'inserted')!;
    expect(removed.a!.text).toMatch(/bar0\+0x00(24 AQA|30 ACQ) <-/);
    const reg = /0x00(24|30)/.exec(removed.a!.text)![1];
    expect(inserted.b!.text).toContain(`bar0+0x00${reg}`);
    // a: AQA(seq 1) ACQ(seq 2); b: ACQ(seq 1) AQA(seq 2).
    if (reg === '24') expect([removed.a!.seq, inserted.b!.seq]).toEqual([1, 2]);
    else expect([removed.a!.seq, inserted.b!.seq]).toEqual([2, 1]);
    expect(d.aSeq).toBe(Math.min(removed.a!.seq, 2));
    const text = r.lines.join('\n');
    expect(text).toMatch(/^ {4}- +\d+ .*bar0\+0x00(24|30)/m);
    expect(text).toMatch(/^ {4}\+ +\d+ .*bar0\+0x00(24|30)/m);
  });

  it('reports a changed register value as "changed", naming the register and field', () => {
    const a = build((t) => nvmeRun(t, A));
    const b = build((t) => nvmeRun(t, { ...A, cc: 0x00470001 }));
    const r = diff(a, b);
    expect(r.exitCode).toBe(1);
    expect(r.result.totals).toMatchObject({ changed: 1, inserted: 0, removed: 0, divergences: 1 });
    const d = r.result.divergences[0]!;
    expect(d.stream).toBe('nvme0 mmio');
    expect(d.what).toBe('bar0+0x0014 CC: 0x00460001 → 0x00470001, IOSQES 6 → 7');
    expect(d.aSeq).toBe(5);
    expect(d.bSeq).toBe(5);
    expect(r.lines.join('\n')).toContain('IOSQES 6 → 7');
  });

  it('names the admin command and field of a queue-size change (Create I/O SQ CDW10 size)', () => {
    const a = build((t) => nvmeRun(t, A));
    const b = build((t) => nvmeRun(t, { ...A, qsize: 32 }));
    const r = diff(a, b);
    expect(r.exitCode).toBe(1);
    const whats = r.result.divergences.map((d) => `${d.stream}: ${d.what}`);
    expect(whats).toContain('nvme0 dma:nvme.asqe: CREATE_IO_CQ: size 64 → 32');
    expect(whats).toContain('nvme0 milestone: cq.create: b 0x40 → 0x20');
    const asqe = r.result.divergences.find((d) => d.stream === 'nvme0 dma:nvme.asqe')!;
    expect(asqe.changed).toBe(2);
    expect(asqe.rows.map((x) => x.detail).filter(Boolean)).toEqual(['CREATE_IO_CQ: size 64 → 32', 'CREATE_IO_SQ: size 64 → 32']);
  });

  it('reports events present in one trace only as inserted/removed with context rows', () => {
    const a = build((t) => nvmeRun(t, A, 6));
    const b = build((t) => nvmeRun(t, A, 8));
    const r = diff(a, b, { context: 2 });
    const sqe = r.result.streams.find((s) => s.stream === 'nvme0 dma:nvme.sqe')!;
    expect(sqe).toMatchObject({ a: 6, b: 8, same: 6, inserted: 2, removed: 0 });
    const d = r.result.divergences.find((x) => x.stream === 'nvme0 dma:nvme.sqe')!;
    expect(d.rows.map((x) => x.op)).toEqual(['same', 'same', 'inserted', 'inserted']);
    expect(d.what).toMatch(/^only in b: nvme\.sqe 64 B from 0x000000142180: READ cid=0/);
  });

  it('keeps log lines as context: a changed log line is counted but is not a divergence', () => {
    const a = build((t) => { t.mmio(false, 10, 0, 0, 0, 0, 4, 1); t.log(20, 6, 'info', 'probe took 12 us'); t.log(30, 6, 'info', 'hello'); });
    const b = build((t) => { t.mmio(false, 10, 0, 0, 0, 0, 4, 1); t.log(20, 6, 'info', 'probe took 13 us'); t.log(30, 6, 'info', 'bye'); });
    const r = diff(a, b);
    expect(r.exitCode).toBe(0);
    const log = r.result.streams.find((s) => s.stream === 'kernel log')!;
    expect(log).toMatchObject({ structural: false, same: 1, changed: 1 }); // numbers are masked in log keys
  });

  it('sees a scheme request with another operation or argument, and a reply with another result, scheme by scheme', () => {
    const run = (t: Tracer, op: string, off: number, result: number): void => {
      for (let i = 0; i < 8; i++) {
        const at = 1000 + i * 100;
        t.schemeReq(at, 2, 'disk.nvme', i === 3 ? op : 'read', i, i === 5 ? off : i * 0x1000, 0x1000);
        t.schemeReq(at + 10, 3, 'time', 'read', 100 + i, 0, 8);
        t.schemeReply(at + 50, 2, 'disk.nvme', i, i === 6 ? result : 0x1000);
        t.schemeReply(at + 60, 3, 'time', 100 + i, 8);
      }
    };
    const a = build((t) => run(t, 'read', 0x5000, 0x1000));
    expect(diff(a, build((t) => run(t, 'read', 0x5000, 0x1000))).exitCode).toBe(0);
    const r = diff(a, build((t) => run(t, 'write', 0x9000, -5)));
    expect(r.exitCode).toBe(1);
    const stream = (name: string) => r.result.streams.find((s) => s.stream === name);
    // Another operation is another request (its shape names the operation); another argument is the same one changed.
    expect(stream('disk.nvme: schemeReq')).toMatchObject({ a: 8, b: 8, same: 6, changed: 1, inserted: 1, removed: 1 });
    // A reply's key is its result (request ids are a run's own counter, not compared).
    expect(stream('disk.nvme: schemeReply')).toMatchObject({ same: 7, changed: 0, inserted: 1, removed: 1 });
    for (const name of ['time: schemeReq', 'time: schemeReply']) expect(stream(name)).toMatchObject({ same: 8, changed: 0, inserted: 0, removed: 0 });
    // Rows are rebuilt from the diff's columns with their scheme and operation.
    const text = r.lines.join('\n');
    expect(text).toContain('schemeReq   disk.nvme: write req#3 a=0x3000 b=0x1000');
    expect(text).toContain('schemeReq   disk.nvme: read req#3 a=0x3000 b=0x1000');
    expect(text).toContain('disk.nvme: read: a 0x5000 → 0x9000');
    expect(text).toContain('only in b: disk.nvme: reply req#6 result=-5');
  });

  it('filters by device and kind', () => {
    const a = build((t) => nvmeRun(t, A));
    const b = build((t) => nvmeRun(t, { ...A, cc: 0x00470001 }));
    const r = diff(a, b, { kind: 'dma' });
    expect(r.exitCode).toBe(0);
    expect(r.result.streams.every((s) => s.kind.startsWith('dma'))).toBe(true);
    const d = diff(a, b, { device: 'nvme0' });
    expect(d.exitCode).toBe(1);
    expect(d.result.streams.every((s) => s.source === 'nvme0')).toBe(true);
    const bad = diff(a, b, { device: 'nope0' });
    expect(bad.exitCode).toBe(2);
    expect(bad.errs.join('\n')).toMatch(/no device 'nope0'/);
  });

  it('exits 2 for a trace that cannot be read, naming the problem', () => {
    const a = build((t) => nvmeRun(t, A));
    const junk = Uint8Array.from({ length: 100 }, (_, i) => i);
    const r = diff(a, junk);
    expect(r.exitCode).toBe(2);
    expect(r.errs.join('\n')).toMatch(/bad magic/);
    const m = diff(a, '/nonexistent/x.simtrace');
    expect(m.exitCode).toBe(2);
    expect(m.errs.join('\n')).toMatch(/cannot open trace/);
  });

  it('exits 2 for a damaged trace but still diffs its intact part', () => {
    const a = build((t) => { for (let i = 0; i < 20; i++) nvmeRun(t, A); });
    const cut = a.subarray(0, a.length - 200);
    const r = diff(a, cut);
    expect(r.exitCode).toBe(2);
    expect(r.result.b!.damage.length).toBeGreaterThan(0);
    expect(r.result.streams.length).toBeGreaterThan(0);
    expect(r.lines.join('\n')).toMatch(/damage \(exit code 2\)/);
  });

  it('prints one JSON object with --json', () => {
    const a = build((t) => nvmeRun(t, A));
    const b = build((t) => nvmeRun(t, { ...A, qsize: 32 }));
    const r = diff(a, b, { json: true });
    expect(r.lines).toHaveLength(1);
    const o = JSON.parse(r.lines[0]!) as typeof r.result;
    expect(o.exitCode).toBe(1);
    expect(o.streams.length).toBeGreaterThan(5);
    expect(o.divergences[0]!.rows.length).toBeGreaterThan(0);
    expect(o.timing.some((x) => x.phase === 'queue creation')).toBe(true);
  });

  it('writes one self-contained HTML file: no network, both timelines side by side, divergences highlighted', () => {
    const { dir, cleanup } = tmpDir();
    try {
      const a = build((t) => nvmeRun(t, A));
      const b = build((t) => nvmeRun(t, { ...A, qsize: 32 }));
      const file = path.join(dir, 'report.html');
      const r = diff(a, b, { html: file });
      expect(r.htmlPath).toBe(file);
      expect(r.lines.at(-1)).toBe(`html report: ${file}`);
      const html = fs.readFileSync(file, 'utf8');
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).not.toMatch(/https?:/i);
      expect(html).not.toMatch(/<link\b|\bsrc=|@import|url\(/i);
      expect(html).toContain('<style>');
      expect(html).toContain('<script>');
      expect(html).toContain('class="sbs"');
      expect(html).toMatch(/<tr class="changed">.*CREATE_IO_CQ.*<mark>size=64<\/mark>.*<mark>size=32<\/mark>/);
      expect(html).toContain('Summary per device and kind');
      expect(html).toContain('<svg');
      expect(html.trimEnd().endsWith('</html>')).toBe(true);
    } finally {
      cleanup();
    }
  });

  it('caps the rows rendered in HTML', () => {
    const { dir, cleanup } = tmpDir();
    try {
      const a = build((t) => { for (let i = 0; i < 50; i++) nvmeRun(t, A); });
      const b = build((t) => { for (let i = 0; i < 50; i++) nvmeRun(t, { ...A, cc: 0x00470001, qsize: 16 }); });
      const file = path.join(dir, 'r.html');
      diff(a, b, { html: file, htmlRows: 100 });
      const html = fs.readFileSync(file, 'utf8');
      const rows = html.match(/<tr class="(same|changed|inserted|removed)">/g) ?? [];
      expect(rows.length).toBeLessThanOrEqual(100);
      expect(html).toMatch(/more divergences? not rendered/);
    } finally {
      cleanup();
    }
  });
});
