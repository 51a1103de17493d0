import { describe, expect, it } from 'vitest';
import {
  FIRST_TB_SIZE, MAX_CMD_COPY, align64, fillHostCmd, ictCollect, ictRawToInt, planHostCmd, tfdAddTb, tfdNumTbs,
  tfdReset, tfdTb, walkRb, writeCmdHeader,
} from '../../../../src/drivers/iwlwifi/pcie/layout.js';
import { planChunks } from '../../../../src/drivers/iwlwifi/pcie/fw-load.js';
import { ICT, INT, RX_END_MARKER, TFD, ictEntry } from '../../../../src/devices/iwlwifi/regs.js';
import { CMD, GROUP, seqOf } from '../../../../src/devices/iwlwifi/fw-api.js';
import { CPU1_CPU2_SEPARATOR_SECTION, PAGING_SEPARATOR_SECTION } from '../../../../src/devices/iwlwifi/firmware/index.js';

const bytes = (n: number, v = 0xab) => new Uint8Array(n).fill(v);
const dvOf = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

describe('TFD layout', () => {
  it('appends TBs with 36-bit addresses and 12-bit lengths, up to 20', () => {
    const mem = new Uint8Array(TFD.SIZE * 2);
    const dv = dvOf(mem);
    tfdReset(dv, TFD.SIZE);
    expect(tfdAddTb(dv, TFD.SIZE, 0x3_1234_5678, 20)).toBe(0);
    expect(tfdAddTb(dv, TFD.SIZE, 0x1000, 0xfff)).toBe(1);
    expect(tfdNumTbs(dv, TFD.SIZE)).toBe(2);
    expect(mem[TFD.SIZE + 3]).toBe(2);
    // TB0: le32 low address, le16 (len << 4 | addr[35:32]).
    expect(dv.getUint32(TFD.SIZE + 4, true)).toBe(0x12345678);
    expect(dv.getUint16(TFD.SIZE + 8, true)).toBe((20 << 4) | 3);
    expect(tfdTb(dv, TFD.SIZE, 0)).toEqual({ addr: 0x3_1234_5678, len: 20 });
    expect(tfdTb(dv, TFD.SIZE, 1)).toEqual({ addr: 0x1000, len: 0xfff });
    expect(tfdAddTb(dv, TFD.SIZE, 0, 0x1000)).toBe(-1); // length does not fit
    for (let i = 2; i < TFD.MAX_TBS; i++) expect(tfdAddTb(dv, TFD.SIZE, i * 16, 4)).toBe(i);
    expect(tfdAddTb(dv, TFD.SIZE, 0, 4)).toBe(-1); // full
    tfdReset(dv, TFD.SIZE);
    expect(tfdNumTbs(dv, TFD.SIZE)).toBe(0);
    expect(mem.subarray(0, TFD.SIZE).every((b) => b === 0)).toBe(true); // neighbour untouched
  });
});

describe('host command header and layout', () => {
  it('writes narrow headers for group 0 and wide ones otherwise', () => {
    const b = new Uint8Array(16);
    const dv = dvOf(b);
    expect(writeCmdHeader(dv, 0, CMD.NVM_ACCESS, 0, seqOf(0, 0x85), 8)).toBe(4);
    expect([...b.subarray(0, 4)]).toEqual([0x88, 0, 0x85, 0x00]);
    b.fill(0xee);
    expect(writeCmdHeader(dv, 0, CMD.SCAN_REQ_UMAC, GROUP.LONG, seqOf(0, 3), 0x1234)).toBe(8);
    expect([...b.subarray(0, 8)]).toEqual([0x0d, 1, 3, 0, 0x34, 0x12, 0, 0]);
    expect(b[8]).toBe(0xee);
  });

  it('copies small commands: TB0 = 20 bytes, TB1 = the rest', () => {
    const p = planHostCmd(0, [bytes(8), bytes(100)]);
    expect(p).toMatchObject({ hdrLen: 4, payloadLen: 108, copy: 112, copied: [8, 100], mapped: [], tbs: 2 });
    const tiny = planHostCmd(0, [bytes(4)]);
    expect(tiny.copy).toBe(8);
    expect(tiny.tbs).toBe(1);
  });

  it('copies up to 324 bytes and maps what follows as its own TBs', () => {
    const p = planHostCmd(0, [bytes(300), bytes(2048), bytes(10)]);
    expect(p.copy).toBe(304);
    expect(p.copied).toEqual([300, 0, 0]);
    expect(p.mapped).toEqual([{ frag: 1, start: 0 }, { frag: 2, start: 0 }]);
    expect(p.tbs).toBe(4);
    // Exactly at the limit is still copied.
    expect(planHostCmd(0, [bytes(MAX_CMD_COPY - 4)]).mapped).toEqual([]);
    expect(planHostCmd(GROUP.LONG, [bytes(MAX_CMD_COPY - 7)]).mapped).toEqual([{ frag: 0, start: 12 }]);
  });

  it('tops TB0 up to 20 bytes from a large first fragment', () => {
    const p = planHostCmd(0, [bytes(4096)]);
    expect(p.copy).toBe(FIRST_TB_SIZE);
    expect(p.copied).toEqual([16]);
    expect(p.mapped).toEqual([{ frag: 0, start: 16 }]);
    expect(p.tbs).toBe(2);
  });

  it('fills the command buffer with header and copied prefixes', () => {
    const data = [Uint8Array.of(1, 2, 3), Uint8Array.from({ length: 400 }, (_, i) => i & 0xff)];
    const p = planHostCmd(0, data);
    const buf = new Uint8Array(400);
    fillHostCmd(buf, dvOf(buf), 10, 0x9b, 0, seqOf(0, 7), data, p);
    expect([...buf.subarray(10, 17)]).toEqual([0x9b, 0, 7, 0, 1, 2, 3]);
    expect([...buf.subarray(17, 30)]).toEqual(Array.from({ length: 13 }, (_, i) => i)); // TB0 topped up to 20
    expect(p.copy).toBe(20);
    expect(buf[30]).toBe(0);
  });
});

describe('RX buffer walking', () => {
  function rb(pkts: { cmd: number; payload: number }[], end = true): Uint8Array {
    const b = new Uint8Array(4096);
    const dv = dvOf(b);
    let off = 0;
    for (const p of pkts) {
      dv.setUint32(off, 4 + p.payload, true);
      b[off + 4] = p.cmd;
      off = align64(off + 8 + p.payload);
    }
    if (end) dv.setUint32(off, RX_END_MARKER, true);
    return b;
  }

  it('visits packets at 64-byte aligned offsets until the end marker', () => {
    const b = rb([{ cmd: 1, payload: 68 }, { cmd: 0xc0, payload: 68 }, { cmd: 0xc1, payload: 0 }]);
    const seen: [number, number][] = [];
    expect(walkRb(dvOf(b), 0, 4096, (off, len) => seen.push([off, len]))).toBe(3);
    expect(seen).toEqual([[0, 72], [128, 72], [256, 4]]);
  });

  it('stops at a zero length and reports a packet running past the buffer', () => {
    expect(walkRb(dvOf(rb([{ cmd: 1, payload: 4 }], false)), 0, 4096, () => {})).toBe(1);
    const b = new Uint8Array(4096);
    dvOf(b).setUint32(0, 5000, true);
    const bad: number[] = [];
    expect(walkRb(dvOf(b), 0, 4096, () => {}, (off) => bad.push(off))).toBe(0);
    expect(bad).toEqual([0]);
  });

  it('ignores the RX queue bits of len_n_flags', () => {
    const b = new Uint8Array(4096);
    const dv = dvOf(b);
    dv.setUint32(0, (3 << 16) | 8, true);
    dv.setUint32(64, RX_END_MARKER, true);
    const lens: number[] = [];
    walkRb(dv, 0, 4096, (_o, l) => lens.push(l));
    expect(lens).toEqual([8]);
  });
});

describe('ICT decoding', () => {
  it('ORs entries from the index until a zero entry, zeroing them, wrapping at 1024', () => {
    const tbl = new Uint8Array(ICT.SIZE);
    const dv = dvOf(tbl);
    dv.setUint32(1022 * 4, ictEntry(INT.FH_TX), true);
    dv.setUint32(1023 * 4, ictEntry(INT.RF_KILL), true);
    dv.setUint32(0, ictEntry(INT.ALIVE), true);
    const st = { index: 1022 };
    const raw = ictCollect(dv, 0, st);
    expect(st.index).toBe(1);
    expect(ictRawToInt(raw)).toBe((INT.FH_TX | INT.RF_KILL | INT.ALIVE) >>> 0);
    expect(tbl.every((b) => b === 0)).toBe(true);
    expect(ictCollect(dv, 0, st)).toBe(0); // spurious: nothing there
    expect(st.index).toBe(1);
  });

  it('applies the RX workaround (bits 18/19 mean RX) and ignores all-ones', () => {
    expect(ictRawToInt(ictEntry(INT.FH_RX))).toBe(INT.FH_RX >>> 0);
    expect(ictRawToInt(0x40000)).toBe(INT.FH_RX >>> 0);
    expect(ictRawToInt(0x80000 | 0x80)).toBe((INT.FH_RX | INT.RF_KILL) >>> 0);
    expect(ictRawToInt(0xffffffff)).toBe(0);
  });
});

describe('firmware chunking', () => {
  it('splits sections into chunks of at most 0x20000 bytes and marks the extended range', () => {
    const sections = [
      { dest: 0x00000, data: bytes(0x20000 * 2 + 16) },
      { dest: 0x40000, data: bytes(0x30000) },
      { dest: 0x800000, data: bytes(64) },
    ];
    const c = planChunks(sections);
    expect(c.map((x) => [x.section, x.dest, x.offset, x.len, x.extended])).toEqual([
      [0, 0x00000, 0, 0x20000, false],
      [0, 0x20000, 0x20000, 0x20000, false],
      [0, 0x40000, 0x40000, 16, true],
      [1, 0x40000, 0, 0x20000, true],
      [1, 0x60000, 0x20000, 0x10000, false],
      [2, 0x800000, 0, 64, false],
    ]);
  });

  it('skips the CPU separator and stops at the paging separator', () => {
    const c = planChunks([
      { dest: 0x1000, data: bytes(8) },
      { dest: CPU1_CPU2_SEPARATOR_SECTION, data: bytes(0) },
      { dest: 0x57ff0, data: bytes(8) },
      { dest: PAGING_SEPARATOR_SECTION, data: bytes(0) },
      { dest: 0x2000, data: bytes(8) },
    ]);
    expect(c.map((x) => [x.dest, x.extended])).toEqual([[0x1000, false], [0x57ff0, true]]);
  });
});
