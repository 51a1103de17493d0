/**
 * Test harness for the iwlwifi PCIe transport: a real EventQueue, PhysMem,
 * DmaPort and MemoryTracer, a fake attachPci whose PciInterrupts records MSI
 * messages and INTx levels, a fake FirmwareCpu that records calls, and a
 * tiny "driver" (register helpers, PRPH/SRAM access, RX ring and TX queue
 * set-up, firmware chunk loading).
 */
import { EventQueue } from '../../../../src/sim/event-queue.js';
import { PhysMem } from '../../../../src/sim/memory.js';
import { DmaPort } from '../../../../src/sim/dma.js';
import { Rng } from '../../../../src/sim/rng.js';
import { us, type Duration } from '../../../../src/sim/time.js';
import { MemoryTracer, type TraceEvent } from '../../../../src/sim/tracer.js';
import type { DeviceContext } from '../../../../src/devices/device.js';
import type { PciFunctionSpec } from '../../../../src/devices/pci/api.js';
import type { MmioHandler } from '../../../../src/sim/memory.js';
import type { FirmwareCpu } from '../../../../src/devices/iwlwifi/fw-cpu-api.js';
import {
  CMD_FIFO, CMD_QUEUE, CSR, FH, FH_RX_CONFIG_4K, FH_TX_BUF_STS_SRVC, FH_TX_CONFIG_NORMAL, FH_TX_CONFIG_SRVC_KICK,
  GP_CNTRL, HBUS, ICT, PRPH_ADDR_MASK, PRPH_DWORD_ACCESS, SCD, SCD_QUEUE_STTS, TFD, fhTfdRingBaseReg,
} from '../../../../src/devices/iwlwifi/regs.js';
import { IwlTransport, NO_FAULTS, type TransportFaults } from '../../../../src/devices/iwlwifi/transport/index.js';
import { FakeIrq } from '../../fake-irq.js';
export { FakeIrq };

export interface FwCall {
  kind: 'release' | 'halt' | 'command' | 'rfKill';
  queue?: number;
  index?: number;
  bytes?: Uint8Array;
  asserted?: boolean;
}

export class FakeFirmware implements FirmwareCpu {
  readonly calls: FwCall[] = [];
  running = false;
  onRelease: (() => void) | null = null;
  onCommand: ((queue: number, index: number, bytes: Uint8Array) => void) | null = null;
  release(): void {
    this.calls.push({ kind: 'release' });
    this.running = true;
    this.onRelease?.();
  }
  halt(): void {
    this.calls.push({ kind: 'halt' });
    this.running = false;
  }
  command(queue: number, index: number, bytes: Uint8Array, len: number): void {
    const copy = bytes.slice(0, len);
    this.calls.push({ kind: 'command', queue, index, bytes: copy });
    this.onCommand?.(queue, index, copy);
  }
  rfKill(asserted: boolean): void {
    this.calls.push({ kind: 'rfKill', asserted });
  }
  stateHash(): number {
    return this.calls.length;
  }
  stats(): Record<string, number> {
    return { calls: this.calls.length };
  }
  of(kind: FwCall['kind']): FwCall[] {
    return this.calls.filter((c) => c.kind === kind);
  }
}

export interface HarnessOptions {
  faults?: Partial<TransportFaults>;
  mode?: 'msix' | 'msi' | 'intx';
  ramBytes?: number;
  /** Seeded hostile timing (DeviceContext.hostileTiming) and the seed of the device's RNG (default 1). */
  hostileTiming?: boolean;
  seed?: number;
}

const ALLOC_BASE = 0x10_0000;

export class Harness {
  readonly queue = new EventQueue();
  readonly mem: PhysMem;
  readonly tracer = new MemoryTracer();
  readonly gate = { busMaster: true };
  readonly irq: FakeIrq;
  readonly dma: DmaPort;
  readonly dev: IwlTransport;
  readonly fw = new FakeFirmware();
  spec!: PciFunctionSpec;
  readonly bar: MmioHandler;
  private nextAlloc = ALLOC_BASE;

  // RX ring set up by setupRx().
  rbdRing = 0;
  rbStts = 0;
  readonly rbs: number[] = [];
  ict = 0;

  constructor(opts: HarnessOptions = {}) {
    this.mem = new PhysMem(opts.ramBytes ?? 16 << 20);
    this.irq = new FakeIrq(this.gate, () => this.queue.now, this.tracer);
    this.irq.mode = opts.mode ?? 'msi';
    this.dma = new DmaPort(0, 'iwlwifi0', this.mem, this.queue, this.tracer, this.gate);
    const ctx: DeviceContext = {
      id: 'iwlwifi0',
      index: 0,
      queue: this.queue,
      tracer: this.tracer,
      rng: new Rng(opts.seed ?? 1).fork('iwlwifi0'),
      baseDir: '.',
      hostileTiming: opts.hostileTiming,
      attachPci: (spec) => {
        this.spec = spec;
        return { irq: this.irq, dma: this.dma };
      },
    };
    this.dev = new IwlTransport(ctx, { ...NO_FAULTS, ...opts.faults });
    this.dev.attachFirmware(this.fw);
    this.bar = this.spec.bars[0]!.handler;
  }

  // ---- registers
  r32(off: number): number {
    return this.bar.read(off, 4);
  }
  w32(off: number, v: number): void {
    this.bar.write(off, 4, v >>> 0);
  }
  w8(off: number, v: number): void {
    this.bar.write(off, 1, v & 0xff);
  }
  set(off: number, bits: number): void {
    this.w32(off, this.r32(off) | bits);
  }
  clear(off: number, bits: number): void {
    this.w32(off, this.r32(off) & ~bits);
  }

  // ---- time
  get now(): number {
    return this.queue.now;
  }
  /** Posts one RX packet and lets the RB close (the close is an event at the same instant): one packet per RB. */
  post(cmd: number, group: number, seq: number, payload: Uint8Array, len: number): boolean {
    const r = this.dev.postRx(cmd, group, seq, payload, len);
    this.queue.runUntil(this.queue.now);
    return r;
  }

  run(d: Duration): void {
    this.queue.runUntil(this.queue.now + d);
  }
  runUs(n: number): void {
    this.run(us(n));
  }
  settle(max = 100_000): void {
    for (let i = 0; i < max && this.queue.step(); i++);
  }

  // ---- memory
  alloc(bytes: number, align = 4096): number {
    const base = Math.ceil(this.nextAlloc / align) * align;
    this.nextAlloc = base + Math.max(bytes, 1);
    if (this.nextAlloc > this.mem.ramBytes) throw new Error('test RAM exhausted');
    this.mem.markDma(base, Math.max(bytes, 1), true);
    return base;
  }
  write(addr: number, data: Uint8Array): void {
    this.mem.ram.set(data, addr);
  }
  readMem(addr: number, len: number): Uint8Array {
    return this.mem.ram.slice(addr, addr + len);
  }
  ram32(addr: number): number {
    return this.mem.ramView.getUint32(addr, true);
  }
  setRam32(addr: number, v: number): void {
    this.mem.ramView.setUint32(addr, v >>> 0, true);
  }

  // ---- trace
  guestErrs(prefix = ''): Array<Extract<TraceEvent, { kind: 'guestErr' }>> {
    return this.tracer.events.filter((e): e is Extract<TraceEvent, { kind: 'guestErr' }> =>
      e.kind === 'guestErr' && e.code.startsWith(prefix));
  }
  milestones(name?: string): Array<Extract<TraceEvent, { kind: 'milestone' }>> {
    return this.tracer.events.filter((e): e is Extract<TraceEvent, { kind: 'milestone' }> =>
      e.kind === 'milestone' && (name === undefined || e.name === name));
  }
  dmaEvents(tag?: string): Array<Extract<TraceEvent, { kind: 'dma' }>> {
    return this.tracer.events.filter((e): e is Extract<TraceEvent, { kind: 'dma' }> => e.kind === 'dma' && (tag === undefined || e.tag === tag));
  }

  // ---- mini driver
  /** MAC_ACCESS_REQ, as iwl_trans_grab_nic_access. */
  /** NIC access as a driver takes it: MAC_ACCESS_REQ, then poll (1 us steps, 15 ms) for CLOCK_READY with GOING_TO_SLEEP clear. Returns the us waited. */
  grabNic(): number {
    this.set(CSR.GP_CNTRL, GP_CNTRL.MAC_ACCESS_REQ);
    for (let t = 0; t < 15000; t++) {
      if ((this.r32(CSR.GP_CNTRL) & (GP_CNTRL.MAC_CLOCK_READY | GP_CNTRL.GOING_TO_SLEEP)) === GP_CNTRL.MAC_CLOCK_READY) return t;
      this.runUs(1);
    }
    throw new Error('NIC access timeout');
  }
  releaseNic(): void {
    this.clear(CSR.GP_CNTRL, GP_CNTRL.MAC_ACCESS_REQ);
  }
  /** APM init: INIT_DONE and wait for the clock. */
  apmInit(): void {
    this.set(CSR.GP_CNTRL, GP_CNTRL.INIT_DONE);
    this.runUs(25);
    if ((this.r32(CSR.GP_CNTRL) & GP_CNTRL.MAC_CLOCK_READY) === 0) throw new Error('no MAC clock');
  }
  prphWrite(addr: number, v: number): void {
    this.w32(HBUS.TARG_PRPH_WADDR, (addr & PRPH_ADDR_MASK) | PRPH_DWORD_ACCESS);
    this.w32(HBUS.TARG_PRPH_WDAT, v);
  }
  prphRead(addr: number): number {
    this.w32(HBUS.TARG_PRPH_RADDR, (addr & PRPH_ADDR_MASK) | PRPH_DWORD_ACCESS);
    return this.r32(HBUS.TARG_PRPH_RDAT);
  }
  sramWrite(addr: number, words: number[]): void {
    this.w32(HBUS.TARG_MEM_WADDR, addr);
    for (const w of words) this.w32(HBUS.TARG_MEM_WDAT, w);
  }
  sramRead(addr: number, n: number): number[] {
    this.w32(HBUS.TARG_MEM_RADDR, addr);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(this.r32(HBUS.TARG_MEM_RDAT));
    return out;
  }

  /** RX ring of 256 RBDs of 4 KiB, status area; write pointer `wptr` (default 248) at 0x1BC8. */
  setupRx(wptr = 248): void {
    this.rbdRing = this.alloc(256 * 4, 256);
    this.rbStts = this.alloc(16, 16);
    this.rbs.length = 0;
    for (let i = 0; i < 256; i++) {
      const rb = this.alloc(4096, 4096);
      this.rbs.push(rb);
      this.setRam32(this.rbdRing + 4 * i, rb / 256);
    }
    this.w32(FH.MEM_RCSR_CHNL0_CONFIG, 0);
    this.w32(FH.RSCSR_CHNL0_WPTR, 0);
    this.w32(FH.MEM_RCSR_CHNL0_RBDCB_WPTR, 0);
    this.w32(FH.RSCSR_CHNL0_RBDCB_BASE, this.rbdRing / 256);
    this.w32(FH.RSCSR_CHNL0_STTS_WPTR, this.rbStts / 16);
    this.w32(FH.MEM_RCSR_CHNL0_CONFIG, FH_RX_CONFIG_4K);
    this.w32(FH.RSCSR_CHNL0_WPTR, wptr);
  }

  enableIct(): number {
    this.ict = this.alloc(ICT.SIZE, 4096);
    this.w32(CSR.DRAM_INT_TBL, (this.ict / 4096) | ICT.ENABLE | ICT.RESET_WRITE_PTR | ICT.WRAP_CHECK);
    return this.ict;
  }

  /** Loads one chunk through the service channel (A9 step 4) and runs until it is done. */
  loadChunk(dest: number, data: Uint8Array, run = true): number {
    const src = this.alloc(data.length, 16);
    this.write(src, data);
    this.w32(FH.TCSR_CHNL_TX_CONFIG + 0x20 * 9, 0);
    this.w32(FH.SRVC_CHNL_SRAM_ADDR, dest);
    this.w32(FH.TFDIB_CTRL0 + 8 * 9, src % 0x1_0000_0000);
    this.w32(FH.TFDIB_CTRL1 + 8 * 9, (Math.floor(src / 0x1_0000_0000) << 28) | data.length);
    this.w32(FH.TCSR_CHNL_TX_BUF_STS + 0x20 * 9, FH_TX_BUF_STS_SRVC);
    this.w32(FH.TCSR_CHNL_TX_CONFIG + 0x20 * 9, FH_TX_CONFIG_SRVC_KICK);
    if (run) this.runUs(200);
    return src;
  }

  /** TX ring of 256 TFDs for queue q; returns its base. */
  setupTxRing(q: number): number {
    const base = this.alloc(256 * TFD.SIZE, 256);
    this.w32(fhTfdRingBaseReg(q), base / 256);
    return base;
  }

  /** fw_alive-style activation of queue q on `fifo` (needs NIC access). */
  activateQueue(q: number = CMD_QUEUE, fifo: number = CMD_FIFO, ssn = 0): void {
    this.grabNic();
    this.w32(HBUS.TARG_WRPTR, (ssn & 0xff) | (q << 8));
    this.prphWrite(q < 20 ? SCD.QUEUE_RDPTR + 4 * q : SCD.BASE + 0x2b4 + 4 * q, ssn);
    this.prphWrite(q < 20 ? SCD.QUEUE_STATUS_BITS + 4 * q : SCD.BASE + 0x334 + 4 * q,
      SCD_QUEUE_STTS.ACTIVE | (fifo << SCD_QUEUE_STTS.FIFO_SHIFT) | SCD_QUEUE_STTS.WSL | SCD_QUEUE_STTS.REG_MSK);
    this.prphWrite(SCD.TXFACT, 0xff);
    for (let ch = 0; ch < 8; ch++) this.w32(FH.TCSR_CHNL_TX_CONFIG + 0x20 * ch, FH_TX_CONFIG_NORMAL);
    this.releaseNic();
  }

  /** Writes TFD `index` of the ring at `ring` with the given TBs (each copied to fresh DMA memory). */
  writeTfd(ring: number, index: number, tbs: Uint8Array[], numTbs = tbs.length): void {
    const a = ring + index * TFD.SIZE;
    this.mem.ram.fill(0, a, a + TFD.SIZE);
    this.mem.ram[a + TFD.NUM_TBS_OFFSET] = numTbs;
    tbs.forEach((tb, i) => {
      const buf = this.alloc(tb.length, 64);
      this.write(buf, tb);
      const o = a + TFD.TBS_OFFSET + i * TFD.TB_SIZE;
      this.setRam32(o, buf % 0x1_0000_0000);
      this.mem.ramView.setUint16(o + 4, (tb.length << 4) | Math.floor(buf / 0x1_0000_0000), true);
    });
  }
}
