/**
 * NVMe behaviour facts for verdicts (docs/VERDICTS.md): one fact per
 * command, completed. A command is its submission entry as decoded (without
 * the command id and buffer addresses: those are allocation), the shape of
 * its PRPs (offset into the first page; PRP2 absent, a page or a list of n
 * entries), a hash of the data it moved and its completion status.
 *
 * Admin commands are one ordered stream (the admin queue is serialised by
 * the driver). I/O commands are a multiset over all I/O queues: which queue
 * and in what order concurrent clients' commands went is timing. Doorbells
 * and the interrupt mask registers are volatile (how many entries a doorbell
 * covers, or how often a handler masks, is batching).
 */
import type { DeviceBehaviour, FactSink } from '../../trace/decoder.js';
import type { SeqEvent } from '../../trace/reader.js';
import { Hasher } from '../../trace/diff/hash.js';
import { decodeSqe } from './decode.js';
import { statusName } from './status.js';

const PAGE = 4096;

interface Pending {
  admin: boolean;
  text: string;
  hash: Hasher;
  bytes: number;
  pages: number[];
  /** The page of its PRP list, or -1. */
  listPage: number;
}

/** Volatile NVMe registers: SQ tail / CQ head doorbells (NVMe 1.4 3.1.24-25) and INTMS/INTMC (3.1.3-4). */
export function isVolatileNvmeRegister(name: string): boolean {
  return /^(SQ|CQ)\d+(TDBL|HDBL)/.test(name) || name === 'INTMS' || name === 'INTMC';
}

const u32 = (d: Uint8Array, o: number): number => (d[o]! | (d[o + 1]! << 8) | (d[o + 2]! << 16) | (d[o + 3]! << 24)) >>> 0;
const u64 = (d: Uint8Array, o: number): number => u32(d, o + 4) * 0x1_0000_0000 + u32(d, o);

export class NvmeBehaviour implements DeviceBehaviour {
  /** Submission queue ring base page -> queue id (admin queue: 0). */
  private readonly sqOfPage = new Map<number, number>();
  private readonly sqSize = new Map<number, { base: number; bytes: number }>();
  /** "sqid:cid" -> the command in flight. */
  private readonly pending = new Map<string, Pending>();
  /** Buffer page -> "sqid:cid" of the command that owns it. */
  private readonly owner = new Map<number, string>();
  /** PRP list page -> "sqid:cid". */
  private readonly listOwner = new Map<number, string>();
  private asqLo = 0;
  private asqHi = 0;

  add(ev: SeqEvent, out: FactSink): boolean {
    if (ev.kind === 'mmio' && ev.write && ev.bar === 0) {
      // ASQ (0x28, 8 bytes): the admin queue's base, to tell which queue an entry came from.
      if (ev.offset === 0x28 && ev.size === 8) this.setQueue(0, ev.value, 64 * 4096);
      else if (ev.offset === 0x28) { this.asqLo = ev.value >>> 0; this.setQueue(0, this.asqHi * 0x1_0000_0000 + this.asqLo, 64 * 4096); }
      else if (ev.offset === 0x2c) { this.asqHi = ev.value >>> 0; this.setQueue(0, this.asqHi * 0x1_0000_0000 + this.asqLo, 64 * 4096); }
      return false;
    }
    if (ev.kind !== 'dma') return false;
    switch (ev.tag) {
      case 'nvme.asqe':
      case 'nvme.sqe':
        this.submission(ev.tag === 'nvme.asqe', ev.addr, ev.data);
        return true;
      case 'nvme.prp': {
        const key = this.listOwner.get(Math.floor(ev.addr / PAGE));
        const p = key === undefined ? undefined : this.pending.get(key);
        if (p === undefined || key === undefined) return false;
        const n = ev.data.length >>> 3;
        for (let i = 0; i < n; i++) this.own(key, p, u64(ev.data, i * 8));
        return true;
      }
      case 'data': {
        const key = this.owner.get(Math.floor(ev.addr / PAGE));
        const p = key === undefined ? undefined : this.pending.get(key);
        if (p === undefined) return false;
        p.hash.bytes(ev.data, 0, ev.data.length);
        p.bytes += ev.data.length;
        return true;
      }
      case 'nvme.acqe':
      case 'nvme.cqe':
        return this.completion(ev.data, out);
      default:
        return false;
    }
  }

  end(out: FactSink): void {
    for (const p of this.pending.values()) out.fact(p.admin ? 'admin commands' : 'I/O commands', p.admin ? 'seq' : 'multiset', `${p.text} → never completed`);
  }

  private setQueue(qid: number, base: number, bytes: number): void {
    const old = this.sqSize.get(qid);
    if (old !== undefined) for (let a = old.base; a < old.base + old.bytes; a += PAGE) this.sqOfPage.delete(Math.floor(a / PAGE));
    this.sqSize.set(qid, { base, bytes });
    for (let a = base; a < base + bytes; a += PAGE) this.sqOfPage.set(Math.floor(a / PAGE), qid);
  }

  private own(key: string, p: Pending, addr: number): void {
    if (addr === 0) return;
    const page = Math.floor(addr / PAGE);
    this.owner.set(page, key);
    p.pages.push(page);
  }

  private submission(admin: boolean, addr: number, d: Uint8Array): void {
    const sqid = admin ? 0 : this.sqOfPage.get(Math.floor(addr / PAGE)) ?? -1;
    const cid = d.length >= 4 ? d[2]! | (d[3]! << 8) : 0;
    const decoded = decodeSqe(admin, d) ?? `opcode=0x${(d[0] ?? 0).toString(16)} len=${d.length}`;
    const tokens = decoded.split(' ').filter((t) => !/^(cid|prp1|prp2|base)=/.test(t));
    const key = `${sqid}:${cid}`;
    const p: Pending = { admin, text: '', hash: new Hasher().start(0xda7a), bytes: 0, pages: [], listPage: -1 };
    if (d.length >= 40) {
      const prp1 = u64(d, 24);
      const prp2 = u64(d, 32);
      const opc = d[0]!;
      if (admin && opc === 0x01 && d.length >= 48) {
        // CREATE_IO_SQ: PRP1 is the ring (physically contiguous with PC=1), of QSIZE+1 64-byte entries.
        const dw10 = u32(d, 40);
        this.setQueue(dw10 & 0xffff, prp1, ((dw10 >>> 16) + 1) * 64);
        tokens.push(`base+0x${(prp1 % PAGE).toString(16)}`);
      } else if (admin && opc === 0x05) {
        tokens.push(`base+0x${(prp1 % PAGE).toString(16)}`);
      } else if (prp1 !== 0 || prp2 !== 0) {
        tokens.push(`prp1+0x${(prp1 % PAGE).toString(16)}`);
        this.own(key, p, prp1);
        // PRP2 is a list when the transfer spans more than two pages (NVMe 1.4 4.3); the list read tells.
        tokens.push(prp2 === 0 ? 'prp2=none' : 'prp2=set');
        if (prp2 !== 0) {
          this.own(key, p, prp2);
          p.listPage = Math.floor(prp2 / PAGE);
          this.listOwner.set(p.listPage, key);
        }
      }
    }
    p.text = tokens.join(' ');
    const old = this.pending.get(key);
    if (old !== undefined) this.release(old);
    this.pending.set(key, p);
  }

  private release(p: Pending): void {
    for (const pg of p.pages) this.owner.delete(pg);
  }

  private completion(d: Uint8Array, out: FactSink): boolean {
    if (d.length < 16) return false;
    const sqid = u32(d, 8) >>> 16;
    const dw3 = u32(d, 12);
    const cid = dw3 & 0xffff;
    const status = (dw3 >>> 17) & 0x7ff;
    const dnr = (dw3 >>> 31) !== 0;
    const key = `${sqid}:${cid}`;
    const p = this.pending.get(key);
    if (p === undefined) {
      out.fact('completions without a command', 'multiset', `sqid=${sqid} ${statusName(status)}`);
      return true;
    }
    this.pending.delete(key);
    this.release(p);
    if (p.listPage >= 0 && this.listOwner.get(p.listPage) === key) this.listOwner.delete(p.listPage);
    const data = p.bytes === 0 ? '' : ` bytes=${p.bytes} data=${p.hash.value().toString(16)}`;
    // Admin completions carry results in DW0 (e.g. queues allocated); I/O DW0 is command specific.
    const dw0 = u32(d, 0);
    const result = p.admin && dw0 !== 0 ? ` dw0=0x${dw0.toString(16)}` : '';
    out.fact(p.admin ? 'admin commands' : 'I/O commands', p.admin ? 'seq' : 'multiset',
      `${p.text}${data} → ${statusName(status)}${dnr ? ' DNR' : ''}${result}`);
    return true;
  }
}
