import type { MmioHandler, MmioWindow, PhysMem } from '../../sim/memory.js';
import type { Bdf } from '../../devices/pci/bdf.js';
import type { PciBusFunction } from '../../devices/pci/host-bridge.js';

/** What a stand-in function asks of the replay engine. */
export interface AccessSink {
  /** A driver-side access; returns the value for reads. */
  access(dev: number, kind: 'cfg' | 'mmio', write: boolean, bar: number, offset: number, size: number, value: number): number;
}

interface BarState {
  /** Read-back mask after an all-ones write (0 = unknown). */
  mask: number;
  low: number;
  high: number;
  is64: boolean;
  io: boolean;
  sizing: boolean;
  window: MmioWindow | undefined;
}

/**
 * A PCI function whose config space and BARs are the recorded trace: what
 * the host bridge needs of a function (bdf, name, dev, configRead,
 * configWrite). It follows BAR sizing and programming as they replay, so the
 * BAR windows appear where the recorded firmware put them; accesses go to the
 * replay engine to be matched and answered.
 */
export class PciStandIn implements PciBusFunction {
  private readonly bars: BarState[] = [];
  private command = 0;
  private readonly handlers: MmioHandler[] = [];

  constructor(readonly bdf: Bdf, readonly name: string, readonly dev: number, private readonly sink: AccessSink, private readonly mem: PhysMem) {
    for (let i = 0; i < 6; i++) {
      this.bars.push({ mask: 0, low: 0, high: 0, is64: false, io: false, sizing: false, window: undefined });
      const bar = i;
      this.handlers.push({
        read: (off, size) => sink.access(dev, 'mmio', false, bar, off, size, 0),
        write: (off, size, v) => { sink.access(dev, 'mmio', true, bar, off, size, v); },
      });
    }
  }

  configRead(offset: number, size: number): number {
    const v = this.sink.access(this.dev, 'cfg', false, -1, offset, size, 0);
    const i = (offset - 0x10) >> 2;
    if (size === 4 && offset >= 0x10 && offset < 0x28 && (offset & 3) === 0) {
      const b = this.bars[i]!;
      if (b.sizing) {
        b.sizing = false;
        if (b.mask === 0 && v !== 0) {
          b.mask = v >>> 0;
          b.io = (v & 1) === 1;
          b.is64 = !b.io && ((v >>> 1) & 3) === 2;
        }
      }
    }
    return v;
  }

  /** Header Type comes from the trace like every config read: nothing to set. */
  setMultiFunction(): void {}

  configWrite(offset: number, size: number, value: number): void {
    this.sink.access(this.dev, 'cfg', true, -1, offset, size, value);
    if (offset === 0x04 && size >= 2) this.command = value & 0xffff;
    else if (size === 4 && offset >= 0x10 && offset < 0x28 && (offset & 3) === 0) {
      const i = (offset - 0x10) >> 2;
      const b = this.bars[i]!;
      const prev = i > 0 ? this.bars[i - 1]! : undefined;
      if (prev !== undefined && prev.is64) prev.high = value >>> 0; // upper half of a 64-bit BAR
      else {
        b.low = value >>> 0;
        b.sizing = value >>> 0 === 0xffffffff;
      }
    } else return;
    this.remap();
  }

  private remap(): void {
    for (let i = 0; i < 6; i++) {
      const b = this.bars[i]!;
      if (b.mask === 0 || b.io) continue;
      const size = (~(b.mask & 0xfffffff0) >>> 0) + 1;
      const addr = (b.is64 ? b.high * 2 ** 32 : 0) + ((b.low & 0xfffffff0) >>> 0);
      const want = (this.command & 2) !== 0 && b.low !== 0xffffffff && addr !== 0;
      if (b.window !== undefined && (!want || b.window.base !== addr)) {
        this.mem.unmapMmio(b.window);
        b.window = undefined;
      }
      if (want && b.window === undefined) {
        const w: MmioWindow = { base: addr, size, handler: this.handlers[i]!, dev: this.dev, bar: i, traced: true };
        try { this.mem.mapMmio(w); b.window = w; } catch { /* an overlap was a guest error in the recording too */ }
      }
    }
  }
}
