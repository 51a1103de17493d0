/**
 * BAR decode: keeps each BAR's window in PhysMem in step with the BAR
 * registers and the Command register's decode enables (PCI 3.0 6.2.2,
 * 6.2.5.1). A BAR decodes when its space is enabled and it holds an address,
 * not the all-ones sizing pattern. Window objects are made once and moved,
 * so remapping allocates nothing.
 */
import type { MmioHandler, MmioWindow, PhysMem, PortRange } from '../../sim/memory.js';
import type { ConfigSpace } from './config-space.js';
import type { PciGuestErrorCode } from './guest-errors.js';
import type { BarInfo } from './layout.js';
import { CFG_COMMAND, CMD_IO, CMD_MEMORY } from './regs.js';

/** Not decoding (space disabled or sizing pattern). */
const NONE = -1;
/** Decoding an address this machine cannot reach (above 2^53, or an I/O port above 0xFFFF). */
const UNREACHABLE = -2;

const TWO32 = 2 ** 32;
const IO_SPACE = 0x10000;

/** Records a guest error (codes: ./guest-errors.ts). */
export type BarReport = (code: PciGuestErrorCode, message: string) => void;

interface Slot {
  info: BarInfo;
  io: boolean;
  window: MmioWindow | null;
  ports: PortRange | null;
  mapped: boolean;
  /** The base last asked for (NONE, UNREACHABLE or an address). */
  wanted: number;
}

export class BarDecoder {
  private readonly slots: Slot[];

  constructor(
    private readonly name: string,
    private readonly space: ConfigSpace,
    bars: readonly BarInfo[],
    handlers: ReadonlyArray<MmioHandler>,
    private readonly mem: PhysMem,
    dev: number,
    private readonly report: BarReport,
  ) {
    this.slots = bars.map((info, i) => {
      const handler = handlers[i]!;
      const io = info.spec.kind === 'io';
      return {
        info,
        io,
        window: io ? null : { base: 0, size: info.spec.size, handler, dev, bar: info.spec.index, traced: true },
        ports: io ? { base: 0, size: info.spec.size, handler, dev, traced: true } : null,
        mapped: false,
        wanted: NONE,
      };
    });
  }

  /** The address a BAR's registers hold (ignoring decode enables), or undefined if not implemented. */
  address(index: number): number | undefined {
    const s = this.slots.find((x) => x.info.spec.index === index);
    return s === undefined ? undefined : this.registerAddress(s.info);
  }

  /** Base of the window the BAR currently decodes, or -1. */
  mappedBase(index: number): number {
    for (const s of this.slots) {
      if (s.info.spec.index === index && s.mapped) return s.io ? s.ports!.base : s.window!.base;
    }
    return -1;
  }

  /**
   * Re-evaluates every BAR after a BAR or Command write. Moves are done as
   * unmap-all-then-map so BARs of this function can swap places; a BAR whose
   * window overlaps something is left undecoded (with a guest error the
   * first time that address is asked for) and retried silently on the next
   * update.
   */
  update(): void {
    const cmd = this.space.get16(CFG_COMMAND);
    const slots = this.slots;
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      const want = this.wantedBase(s, cmd);
      if (want !== s.wanted && s.mapped) this.unmap(s);
    }
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i]!;
      const want = this.wantedBase(s, cmd);
      if (want === s.wanted) {
        if (want >= 0 && !s.mapped) this.map(s, want, false);
        continue;
      }
      s.wanted = want;
      if (want >= 0) this.map(s, want, true);
      else if (want === UNREACHABLE) {
        this.report('pci.bar-unreachable', `${this.name}: BAR${s.info.spec.index} holds an address this machine cannot reach `
          + `(0x${this.registerAddress(s.info).toString(16)}); it does not decode`);
      }
    }
  }

  /** Unmaps every window (reset). */
  unmapAll(): void {
    for (const s of this.slots) {
      if (s.mapped) this.unmap(s);
      s.wanted = NONE;
    }
  }

  private registerAddress(info: BarInfo): number {
    const lo = this.space.get32(info.reg);
    if (info.spec.kind === 'io') return (lo & 0xfffffffc) >>> 0;
    const low = (lo & 0xfffffff0) >>> 0;
    return info.spec.kind === 'mem64' ? this.space.get32(info.reg + 4) * TWO32 + low : low;
  }

  private wantedBase(s: Slot, cmd: number): number {
    const info = s.info;
    if ((cmd & (s.io ? CMD_IO : CMD_MEMORY)) === 0) return NONE;
    const lo = this.space.get32(info.reg);
    const lowSizing = info.lowWmask !== 0 && ((lo & info.lowWmask) >>> 0) === info.lowWmask;
    if (info.spec.kind === 'mem64') {
      const hi = this.space.get32(info.reg + 4);
      if (lowSizing || ((hi & info.highWmask) >>> 0) === info.highWmask) return NONE;
    } else if (lowSizing) {
      return NONE;
    }
    const addr = this.registerAddress(info);
    const limit = s.io ? IO_SPACE : Number.MAX_SAFE_INTEGER;
    if (addr + info.spec.size > limit) return UNREACHABLE;
    return addr;
  }

  private map(s: Slot, base: number, reportFailure: boolean): void {
    try {
      if (s.io) {
        s.ports!.base = base;
        this.mem.mapPorts(s.ports!);
      } else {
        s.window!.base = base;
        this.mem.mapMmio(s.window!);
      }
      s.mapped = true;
    } catch (e) {
      if (reportFailure) {
        const what = e instanceof Error ? e.message : String(e);
        this.report('pci.bar-overlap', `${this.name}: BAR${s.info.spec.index} at 0x${base.toString(16)} `
          + `(+0x${s.info.spec.size.toString(16)}) does not decode: ${what}`);
      }
    }
  }

  private unmap(s: Slot): void {
    if (s.io) this.mem.unmapPorts(s.ports!);
    else this.mem.unmapMmio(s.window!);
    s.mapped = false;
  }
}
