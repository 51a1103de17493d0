/**
 * A qtest client, written here from the NVMe 1.4 and PCI specs (it shares
 * nothing with src/devices/nvme or src/drivers/nvme), drives the NVMe model
 * through `simrun serve --qtest unix:<path>` over a real unix socket, the
 * way a QEMU qtest does: the test listens, simrun connects.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DISK, ROOT } from '../../e2e/helpers.js';

// ---- PCI (PCI Local Bus 3.0, 6.1) --------------------------------------------
const PCI_VENDOR = 0x00, PCI_COMMAND = 0x04, PCI_CLASS = 0x08, PCI_CAP_PTR = 0x34, PCI_BAR0 = 0x10, PCI_BAR1 = 0x14;
const CMD_MEM = 1 << 1, CMD_MASTER = 1 << 2;
const CAP_ID_MSIX = 0x11;
// ---- NVMe 1.4 (section 3.1 registers, 4.2/4.6 queue entries, 5 admin, 6 NVM commands) ----
const REG_CAP = 0x00, REG_VS = 0x08, REG_CC = 0x14, REG_CSTS = 0x1c, REG_AQA = 0x24, REG_ASQ = 0x28, REG_ACQ = 0x30;
const CC_EN = 1, CC_IOSQES_64 = 6 << 16, CC_IOCQES_16 = 4 << 20;
const CSTS_RDY = 1;
const ADMIN_CREATE_SQ = 0x01, ADMIN_CREATE_CQ = 0x05, ADMIN_IDENTIFY = 0x06;
const NVM_READ = 0x02;
const SCT_GENERIC = 0, SCT_COMMAND_SPECIFIC = 1;
const SC_SUCCESS = 0x00, SC_INVALID_OPCODE = 0x01, SC_LBA_OUT_OF_RANGE = 0x80;
const SC_INVALID_QUEUE_ID = 0x01; // command specific, Create I/O CQ/SQ
// Guest RAM layout of this test.
const BAR0 = 0xc0000000;
const ASQ = 0x100000, ACQ = 0x101000, IDENT = 0x200000, IOCQ = 0x300000, IOSQ = 0x301000, DATA = 0x400000;
const QSIZE = 16;
const BDF_DEV = 4; // 00:04.0
const MSIX_VECTOR = 0x41;

const dir = mkdtempSync(join(tmpdir(), 'simrun-qtest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class QtestClient {
  private buf = '';
  private lines: string[] = [];
  private wake: (() => void) | undefined;
  private closed = false;
  /** Every IRQ line received, in order. */
  readonly irqs: string[] = [];

  constructor(private readonly sock: net.Socket) {
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) { this.lines.push(this.buf.slice(0, nl)); this.buf = this.buf.slice(nl + 1); }
      this.wake?.();
    });
    sock.on('close', () => { this.closed = true; this.wake?.(); });
  }

  private async line(): Promise<string> {
    while (this.lines.length === 0) {
      if (this.closed) throw new Error('server closed the connection');
      await new Promise<void>((r) => { this.wake = r; });
    }
    return this.lines.shift()!;
  }

  /** Sends one command; returns its reply, keeping the IRQ lines that came before it. */
  async cmd(text: string): Promise<string> {
    this.sock.write(`${text}\n`);
    for (;;) {
      const l = await this.line();
      if (l.startsWith('IRQ ')) { this.irqs.push(l); continue; }
      return l;
    }
  }

  async ok(text: string): Promise<string> {
    const r = await this.cmd(text);
    if (!r.startsWith('OK')) throw new Error(`${text}: ${r}`);
    return r;
  }

  async readl(addr: number): Promise<number> { return Number(BigInt((await this.ok(`readl 0x${addr.toString(16)}`)).slice(3))); }
  async readq(addr: number): Promise<bigint> { return BigInt((await this.ok(`readq 0x${addr.toString(16)}`)).slice(3)); }
  async writel(addr: number, v: number): Promise<void> { await this.ok(`writel 0x${addr.toString(16)} 0x${(v >>> 0).toString(16)}`); }
  async writeq(addr: number, v: number): Promise<void> { await this.ok(`writeq 0x${addr.toString(16)} 0x${v.toString(16)}`); }
  async mem(addr: number, len: number): Promise<Buffer> { return Buffer.from((await this.ok(`b64read 0x${addr.toString(16)} ${len}`)).slice(3), 'base64'); }
  async put(addr: number, data: Uint8Array): Promise<void> { await this.ok(`b64write 0x${addr.toString(16)} ${data.length} ${Buffer.from(data).toString('base64')}`); }

  private async selectCfg(reg: number): Promise<void> { await this.ok(`outl 0xcf8 0x${((0x80000000 | (BDF_DEV << 11) | (reg & 0xfc)) >>> 0).toString(16)}`); }
  async cfgRead(reg: number, size: 1 | 2 | 4): Promise<number> {
    await this.selectCfg(reg);
    const op = size === 1 ? 'inb' : size === 2 ? 'inw' : 'inl';
    return Number(BigInt((await this.ok(`${op} 0x${(0xcfc + (reg & 3)).toString(16)}`)).slice(3)));
  }
  async cfgWrite(reg: number, size: 1 | 2 | 4, v: number): Promise<void> {
    await this.selectCfg(reg);
    const op = size === 1 ? 'outb' : size === 2 ? 'outw' : 'outl';
    await this.ok(`${op} 0x${(0xcfc + (reg & 3)).toString(16)} 0x${(v >>> 0).toString(16)}`);
  }
}

/** A 64-byte submission queue entry (NVMe 1.4, 4.2). */
function sqe(opcode: number, cid: number, f: { nsid?: number; prp1?: number; cdw10?: number; cdw11?: number; cdw12?: number } = {}): Uint8Array {
  const b = Buffer.alloc(64);
  b.writeUInt32LE((opcode | (cid << 16)) >>> 0, 0);
  b.writeUInt32LE(f.nsid ?? 0, 4);
  b.writeBigUInt64LE(BigInt(f.prp1 ?? 0), 24);
  b.writeUInt32LE((f.cdw10 ?? 0) >>> 0, 40);
  b.writeUInt32LE((f.cdw11 ?? 0) >>> 0, 44);
  b.writeUInt32LE((f.cdw12 ?? 0) >>> 0, 48);
  return b;
}

interface Cqe { dw0: number; sqhd: number; sqid: number; cid: number; phase: number; sc: number; sct: number }
function parseCqe(b: Buffer): Cqe {
  const st = b.readUInt16LE(14);
  return { dw0: b.readUInt32LE(0), sqhd: b.readUInt16LE(8), sqid: b.readUInt16LE(10), cid: b.readUInt16LE(12), phase: st & 1, sc: (st >> 1) & 0xff, sct: (st >> 9) & 7 };
}

/** One queue pair as the host sees it: tail, head and phase, doorbells from CAP.DSTRD. */
class QueuePair {
  tail = 0;
  head = 0;
  phase = 1;
  constructor(readonly c: QtestClient, readonly qid: number, readonly sq: number, readonly cq: number, readonly dstrd: number) {}

  async submit(entry: Uint8Array): Promise<Cqe> {
    await this.c.put(this.sq + this.tail * 64, entry);
    this.tail = (this.tail + 1) % QSIZE;
    await this.c.writel(BAR0 + 0x1000 + (2 * this.qid) * (4 << this.dstrd), this.tail);
    // Let simulated time run to the device's next steps until the completion's phase tag flips.
    for (let i = 0; i < 200; i++) {
      const e = parseCqe(await this.c.mem(this.cq + this.head * 16, 16));
      if (e.phase === this.phase) {
        this.head = (this.head + 1) % QSIZE;
        if (this.head === 0) this.phase ^= 1;
        return e;
      }
      const r = await this.c.cmd('clock_step');
      if (!r.startsWith('OK')) throw new Error(`no completion and no device event pending (${r})`);
    }
    throw new Error('no completion after 200 clock steps');
  }

  async ackCompletions(): Promise<void> {
    await this.c.writel(BAR0 + 0x1000 + (2 * this.qid + 1) * (4 << this.dstrd), this.head);
  }
}

function listen(path: string): Promise<{ server: net.Server; conn: Promise<net.Socket> }> {
  return new Promise((ok) => {
    const server = net.createServer();
    const conn = new Promise<net.Socket>((got) => server.once('connection', got));
    server.listen(path, () => ok({ server, conn }));
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((ok) => child.once('exit', (code) => ok(code)));
}

describe('qtest client drives the NVMe model through simrun serve --qtest', () => {
  it('probes config space, assigns BAR0, enables the controller, identifies, creates I/O queues, reads the image and gets the spec\'s errors, with INTx and MSI-X seen as IRQ lines', async () => {
    const sock = join(dir, 'qtest.sock');
    const { server, conn } = await listen(sock);
    const child = spawn(process.execPath, [join(ROOT, 'bin/simrun.js'), 'serve', '--qtest', `unix:${sock}`,
      '--device', `nvme,serial=qtest-serial-7,drive=${DISK}`], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = exitOf(child);
    const c = new QtestClient(await conn);
    server.close();
    try {
      // What libqtest sends first.
      expect(await c.cmd('endianness')).toBe('OK little');
      expect(await c.cmd('irq_intercept_in ioapic')).toBe('OK');

      // Config space: identity, class, BAR0 sizing; no firmware ran.
      expect(await c.cfgRead(PCI_VENDOR, 4)).toBe(0x00101b36);
      expect((await c.cfgRead(PCI_CLASS, 4)) >>> 8).toBe(0x010802);
      expect(await c.cfgRead(PCI_COMMAND, 2)).toBe(0);
      expect(await c.cfgRead(PCI_BAR0, 4)).toBe(0x4); // 64-bit memory BAR, unassigned
      await c.cfgWrite(PCI_BAR0, 4, 0xffffffff);
      const mask = await c.cfgRead(PCI_BAR0, 4);
      expect(((~(mask & ~0xf)) >>> 0) + 1).toBe(0x4000);
      await c.cfgWrite(PCI_BAR0, 4, BAR0);
      await c.cfgWrite(PCI_BAR1, 4, 0);
      await c.cfgWrite(PCI_COMMAND, 2, CMD_MEM | CMD_MASTER);
      // Find MSI-X in the capability list.
      let cap = (await c.cfgRead(PCI_CAP_PTR, 1)) & 0xfc;
      let msix = 0;
      while (cap !== 0) {
        const hdr = await c.cfgRead(cap, 2);
        if ((hdr & 0xff) === CAP_ID_MSIX) msix = cap;
        cap = (hdr >> 8) & 0xfc;
      }
      expect(msix).not.toBe(0);
      const table = await c.cfgRead(msix + 4, 4);
      expect(table & 7).toBe(0); // in BAR0

      // Controller registers.
      const capReg = await c.readq(BAR0 + REG_CAP);
      const mqes = Number(capReg & 0xffffn);
      const dstrd = Number((capReg >> 32n) & 0xfn);
      expect(mqes + 1).toBeGreaterThanOrEqual(QSIZE);
      expect((await c.readl(BAR0 + REG_VS)) >>> 16).toBe(1); // NVMe 1.x
      expect((await c.readl(BAR0 + REG_CSTS)) & CSTS_RDY).toBe(0);

      // Enable: admin queues in guest RAM, CC.EN, wait for CSTS.RDY on the qtest clock.
      await c.writel(BAR0 + REG_AQA, ((QSIZE - 1) << 16) | (QSIZE - 1));
      await c.writeq(BAR0 + REG_ASQ, ASQ);
      await c.writeq(BAR0 + REG_ACQ, ACQ);
      await c.writel(BAR0 + REG_CC, CC_IOCQES_16 | CC_IOSQES_64 | CC_EN);
      for (let i = 0; i < 100 && ((await c.readl(BAR0 + REG_CSTS)) & CSTS_RDY) === 0; i++) await c.ok('clock_step');
      expect((await c.readl(BAR0 + REG_CSTS)) & 3).toBe(CSTS_RDY);

      const admin = new QueuePair(c, 0, ASQ, ACQ, dstrd);
      // Identify Controller (CNS 1): INTx (MSI-X not enabled yet) raises the q35 IOAPIC input of 00:04.0 INTA#.
      const irqBefore = c.irqs.length;
      let e = await admin.submit(sqe(ADMIN_IDENTIFY, 1, { prp1: IDENT, cdw10: 1 }));
      expect([e.cid, e.sct, e.sc, e.sqid]).toEqual([1, SCT_GENERIC, SC_SUCCESS, 0]);
      expect(c.irqs.slice(irqBefore)).toEqual(['IRQ raise 20']);
      const id = await c.mem(IDENT, 4096);
      expect(id.readUInt16LE(0)).toBe(0x1b36); // VID
      expect(id.subarray(4, 24).toString('latin1')).toBe('qtest-serial-7'.padEnd(20, ' ')); // SN
      await admin.ackCompletions();
      expect(c.irqs.slice(irqBefore)).toEqual(['IRQ raise 20', 'IRQ lower 20']);

      // MSI-X: table entry 1 -> the local APIC window, vector 0x41; enable in Message Control.
      const tbl = BAR0 + (table & ~7);
      await c.writel(tbl + 16, 0xfee00000);
      await c.writel(tbl + 20, 0);
      await c.writel(tbl + 24, MSIX_VECTOR);
      await c.writel(tbl + 28, 0);
      const mc = await c.cfgRead(msix + 2, 2);
      await c.cfgWrite(msix + 2, 2, mc | 0x8000);

      // A bad queue id: Create I/O CQ with QID 0 is Invalid Queue Identifier (command specific).
      e = await admin.submit(sqe(ADMIN_CREATE_CQ, 2, { prp1: IOCQ, cdw10: ((QSIZE - 1) << 16) | 0, cdw11: (1 << 16) | 3 }));
      expect([e.cid, e.sct, e.sc]).toEqual([2, SCT_COMMAND_SPECIFIC, SC_INVALID_QUEUE_ID]);
      // Create I/O CQ 1 (vector 1, interrupts on) and SQ 1 on it.
      e = await admin.submit(sqe(ADMIN_CREATE_CQ, 3, { prp1: IOCQ, cdw10: ((QSIZE - 1) << 16) | 1, cdw11: (1 << 16) | 3 }));
      expect([e.cid, e.sct, e.sc]).toEqual([3, SCT_GENERIC, SC_SUCCESS]);
      e = await admin.submit(sqe(ADMIN_CREATE_SQ, 4, { prp1: IOSQ, cdw10: ((QSIZE - 1) << 16) | 1, cdw11: (1 << 16) | 1 }));
      expect([e.cid, e.sct, e.sc]).toEqual([4, SCT_GENERIC, SC_SUCCESS]);
      await admin.ackCompletions();

      // Read LBAs 0..7 (4 KiB): the bytes of the image, and an MSI-X message on vector 0x41.
      const io = new QueuePair(c, 1, IOSQ, IOCQ, dstrd);
      const before = c.irqs.length;
      e = await io.submit(sqe(NVM_READ, 10, { nsid: 1, prp1: DATA, cdw10: 0, cdw11: 0, cdw12: 7 }));
      expect([e.cid, e.sct, e.sc, e.sqid]).toEqual([10, SCT_GENERIC, SC_SUCCESS, 1]);
      expect(c.irqs.slice(before)).toEqual([`IRQ raise ${MSIX_VECTOR}`, `IRQ lower ${MSIX_VECTOR}`]);
      const image = readFileSync(DISK);
      expect((await c.mem(DATA, 4096)).equals(image.subarray(0, 4096))).toBe(true);
      // An invalid opcode and an LBA past the namespace get the generic statuses.
      e = await io.submit(sqe(0x7f, 11, { nsid: 1 }));
      expect([e.cid, e.sct, e.sc]).toEqual([11, SCT_GENERIC, SC_INVALID_OPCODE]);
      const blocks = image.length / 512;
      e = await io.submit(sqe(NVM_READ, 12, { nsid: 1, prp1: DATA, cdw10: blocks, cdw11: 0, cdw12: 0 }));
      expect([e.cid, e.sct, e.sc]).toEqual([12, SCT_GENERIC, SC_LBA_OUT_OF_RANGE]);
      await io.ackCompletions();
    } finally {
      (await conn).end();
    }
    expect(await exited).toBe(0);
    expect(stderr).toBe('');
  }, 120_000);
});
