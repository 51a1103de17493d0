import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import type { TraceHeaderInput } from '../../src/trace/format.js';
import { Rec, type Tracer } from '../../src/sim/tracer.js';
import { Unpackr } from 'msgpackr';
import { uncompressSync } from 'lz4-napi';
import { openTrace } from '../../src/trace/reader.js';
import { COLUMN_FORMAT_VERSION } from '../../src/trace/format.js';
import { ColumnBlock, FIELD_PAYLOAD, FIELD_TEXT, FIELD_WORDS, decodeColumns, fieldCodes } from '../../src/trace/columns.js';

export function makeHeader(extra: Partial<TraceHeaderInput> = {}): TraceHeaderInput {
  return {
    tool: { name: 'simrun', version: '0.1.0-test' },
    scenario: { name: 'nvme-basic', path: 'fixtures/scenarios/nvme-basic.json', hash: 'sha256:abcd' },
    seed: 42,
    machine: { cores: 2, ram: '256M', devices: [{ type: 'nvme', id: 'nvme0' }] },
    fixtures: [{ path: 'fixtures/disk.img', hash: 'sha256:1234' }],
    devices: [
      { index: 0, id: 'nvme0', type: 'nvme', bdf: '00:04.0' },
      { index: 1, id: 'wifi0', type: 'iwlwifi', bdf: '00:05.0' },
    ],
    ...extra,
  };
}

// A collector tests can call, so memory samples measure what is retained, not garbage.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Retained JS heap plus ArrayBuffer memory (DMA payloads live in the latter), after a full collection. */
export function retainedBytes(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** A fresh temporary directory, removed by the returned cleanup. */
export function tmpDir(): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simrun-trace-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Emits one event of every kind (both directions where there are two). */
export function emitAllKinds(t: Tracer, base = 1000): void {
  const ram = new Uint8Array(8192);
  for (let i = 0; i < ram.length; i++) ram[i] = (i * 7 + 3) & 0xff;
  t.mmio(false, base + 1, 0, 0, 0, 0x1c, 4, 0x1);
  t.mmio(true, base + 2, 1, 0, 0, 0x14, 4, 0x00460001);
  t.pio(false, base + 3, 0, 1, 0xcfc, 2, 0x8086);
  t.pio(true, base + 4, 0, 1, 0xcf8, 4, 0x80000000);
  t.cfg(false, base + 5, 0, 0, 0x00, 4, 0x09538086);
  t.cfg(true, base + 6, 0, 0, 0x04, 2, 0x0006);
  t.dma(false, base + 7, 0, 0x12345000, ram, 64, 64, 'nvme.sqe');
  t.dma(true, base + 8, 0, 0x23456000, ram, 1000, 4096, 'data');
  t.dma(true, base + 9, 0, 0x34567000, ram, 3, 16, 'nvme.cqe');
  t.intx(base + 10, 1, 11, 1);
  t.msi(base + 11, 0, 0xfee00000, 0x4021, 1, 0x21);
  t.schemeReq(base + 12, 7, 'disk.nvme', 'read', 3, 0x1000, 512);
  t.schemeReply(base + 13, 7, 'disk.nvme', 3, 512);
  t.milestone(base + 14, 0, 'ready', 1, 0);
  t.log(base + 15, 7, 'warn', 'nvmed: queue 1 full');
  t.guestErr(base + 16, 0, 'nvme.sq.badDoorbell', 'SQ1 tail 70 beyond size 64');
  t.proc(base + 17, 7, 'spawn', 'nvmed', 'pci 00:04.0');
  t.dma(false, base + 18, 0, 0x12345040, ram, 3, 0, 'empty');
}

/**
 * The records of a trace as the recorder wrote them, chunk by chunk, in the
 * msgpack record shape of formats 1 to 6 ([kind, dt, fields...]; [Str, id,
 * text]; [Blob, id, bytes, epochStart]). A column chunk (format 7) is decoded
 * with its definitions first, as the reader applies them; a payload field is
 * a blob id or the inline bytes.
 */
export function rawRecords(buf: Uint8Array): unknown[][] {
  const t = openTrace(buf);
  const out: unknown[][] = [];
  const block = new ColumnBlock();
  for (const e of t.index!) {
    const len = buf[e.offset]! | (buf[e.offset + 1]! << 8) | (buf[e.offset + 2]! << 16) | (buf[e.offset + 3]! << 24);
    const raw = uncompressSync(Buffer.from(buf.subarray(e.offset + 32, e.offset + 32 + len)));
    if (t.header.formatVersion < COLUMN_FORMAT_VERSION) {
      out.push(...(new Unpackr({ useRecords: false }).unpackMultiple(raw) as unknown[][]));
      continue;
    }
    const valid: boolean[] = [];
    for (let k = 0; k < 32; k++) valid[k] = k !== Rec.Str && k !== Rec.Blob;
    const bad = decodeColumns(new Uint8Array(raw.buffer, raw.byteOffset, raw.length), e.count, valid, block);
    if (bad !== undefined) throw new Error(`chunk at ${e.offset}: ${bad}`);
    for (const d of block.defs) out.push(d.blob ? [Rec.Blob, d.id, d.data, d.epochStart] : [Rec.Str, d.id, d.text]);
    let prev = 0;
    for (let i = 0; i < block.n; i++) {
      const k = block.kind[i]!;
      const r: unknown[] = [k, block.time[i]! - prev];
      prev = block.time[i]!;
      const codes = fieldCodes(k)!;
      for (let j = 0; j < codes.length; j++) {
        const v = block.f[j]![i]!;
        // Inline payloads and free text as their values (what the msgpack records held).
        if ((codes[j] === FIELD_PAYLOAD || codes[j] === FIELD_WORDS) && v < 0) r.push(block.bytes.slice(-(v + 1), -(v + 1) + block.aux[i]!));
        else if (codes[j] === FIELD_TEXT) r.push(block.strs[v]);
        else r.push(v);
      }
      out.push(r);
    }
  }
  return out;
}

