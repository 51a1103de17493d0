import type { Co } from '../sim/scheduler.js';
import type { TaskCtx } from './types.js';

/**
 * A pcid-like PCI service. `enumeratePci` is what pcid does at start: scan
 * bus 0 through ECAM config cycles, size BARs (write all ones, read back,
 * restore), walk capabilities. A driver gets a `PciFunctionHandle` from the
 * spawner (Redox passes a pcid channel); each call on it is a round trip to
 * pcid plus the config cycle, both charged to the driver's core, and every
 * config cycle is traced by the host bridge.
 */
export interface PciBarInfo {
  index: number;
  kind: 'mem32' | 'mem64' | 'io';
  addr: number;
  size: number;
  prefetchable: boolean;
}

export interface PciCapInfo {
  id: number;
  offset: number;
}

export interface PciFunctionInfo {
  bus: number;
  device: number;
  fn: number;
  bdf: string;
  vendorId: number;
  deviceId: number;
  revision: number;
  classCode: number;
  subsystemVendorId: number;
  subsystemId: number;
  irqLine: number;
  irqPin: number;
  bars: PciBarInfo[];
  caps: PciCapInfo[];
}

export const CAP_PM = 0x01;
export const CAP_MSI = 0x05;
export const CAP_PCIE = 0x10;
export const CAP_MSIX = 0x11;

export const CMD_IO = 1 << 0;
export const CMD_MEM = 1 << 1;
export const CMD_BUS_MASTER = 1 << 2;
export const CMD_INTX_DISABLE = 1 << 10;

export function formatBdf(bus: number, device: number, fn: number): string {
  const h = (n: number) => n.toString(16).padStart(2, '0');
  return `${h(bus)}:${h(device)}.${fn}`;
}

/** Config-cycle access through the ECAM window from a given core. */
export class ConfigPort {
  constructor(private readonly ctx: TaskCtx, private readonly ecamBase: number) {}
  private addr(bus: number, dev: number, fn: number, off: number): number {
    return this.ecamBase + ((bus << 20) | (dev << 15) | (fn << 12) | off);
  }
  read(bus: number, dev: number, fn: number, off: number, size: number): number {
    return this.ctx.core.mmioRead(this.addr(bus, dev, fn, off), size);
  }
  write(bus: number, dev: number, fn: number, off: number, size: number, value: number): void {
    this.ctx.core.mmioWrite(this.addr(bus, dev, fn, off), size, value);
  }
}

/** pcid's scan of bus 0 (runs in the pcid process). */
export function enumeratePci(port: ConfigPort): PciFunctionInfo[] {
  const found: PciFunctionInfo[] = [];
  for (let dev = 0; dev < 32; dev++) {
    for (let fn = 0; fn < 8; fn++) {
      const id = port.read(0, dev, fn, 0x00, 4);
      if ((id & 0xffff) === 0xffff) {
        if (fn === 0) break;
        continue;
      }
      const headerType = port.read(0, dev, fn, 0x0e, 1);
      found.push(describe(port, 0, dev, fn, id));
      if (fn === 0 && (headerType & 0x80) === 0) break;
    }
  }
  return found;
}

function describe(port: ConfigPort, bus: number, dev: number, fn: number, id: number): PciFunctionInfo {
  const rd = (off: number, size: number) => port.read(bus, dev, fn, off, size);
  const classRev = rd(0x08, 4);
  const headerType = rd(0x0e, 1) & 0x7f;
  const bars: PciBarInfo[] = [];
  if (headerType === 0) {
    // Sizing needs decode off while the BAR holds all ones (PCI 3.0 6.2.5.1).
    const cmd = rd(0x04, 2);
    port.write(bus, dev, fn, 0x04, 2, cmd & ~(CMD_IO | CMD_MEM));
    for (let i = 0; i < 6; i++) {
      const off = 0x10 + 4 * i;
      const orig = rd(off, 4);
      port.write(bus, dev, fn, off, 4, 0xffffffff);
      const mask = rd(off, 4);
      port.write(bus, dev, fn, off, 4, orig);
      if (mask === 0) continue;
      if (orig & 1) {
        const size = (~(mask & 0xfffffffc) + 1) & 0xffff;
        bars.push({ index: i, kind: 'io', addr: orig & 0xfffffffc, size, prefetchable: false });
        continue;
      }
      const is64 = ((orig >>> 1) & 3) === 2;
      let size = (~(mask & 0xfffffff0) >>> 0) + 1;
      let addr = (orig & 0xfffffff0) >>> 0;
      if (is64) {
        const hiOff = off + 4;
        const origHi = rd(hiOff, 4);
        port.write(bus, dev, fn, hiOff, 4, 0xffffffff);
        const maskHi = rd(hiOff, 4);
        port.write(bus, dev, fn, hiOff, 4, origHi);
        addr += origHi * 2 ** 32;
        if ((mask & 0xfffffff0) === 0) size = ((~maskHi >>> 0) + 1) * 2 ** 32;
        i++;
      }
      bars.push({ index: is64 ? i - 1 : i, kind: is64 ? 'mem64' : 'mem32', addr, size, prefetchable: (orig & 8) !== 0 });
    }
    port.write(bus, dev, fn, 0x04, 2, cmd);
  }
  const caps: PciCapInfo[] = [];
  if (rd(0x06, 2) & (1 << 4)) {
    let ptr = rd(0x34, 1) & 0xfc;
    for (let guard = 0; ptr !== 0 && guard < 48; guard++) {
      const hdr = rd(ptr, 2);
      caps.push({ id: hdr & 0xff, offset: ptr });
      ptr = (hdr >>> 8) & 0xfc;
    }
  }
  return {
    bus, device: dev, fn, bdf: formatBdf(bus, dev, fn),
    vendorId: id & 0xffff, deviceId: id >>> 16,
    revision: classRev & 0xff, classCode: classRev >>> 8,
    subsystemVendorId: rd(0x2c, 2), subsystemId: rd(0x2e, 2),
    irqLine: rd(0x3c, 1), irqPin: rd(0x3d, 1), bars, caps,
  };
}

/** A driver's channel to pcid for one function. */
export class PciFunctionHandle {
  private readonly port: ConfigPort;
  constructor(readonly info: PciFunctionInfo, private readonly ctx: TaskCtx, ecamBase: number) {
    this.port = new ConfigPort(ctx, ecamBase);
  }

  /** The pcid round trip that precedes each request. */
  private *roundTrip(): Co<void> {
    yield* this.ctx.kernel.enter(this.ctx);
    this.ctx.core.advance(2 * this.ctx.core.costs.schemeHopPs);
  }

  *readConfig(off: number, size: 1 | 2 | 4 = 4): Co<number> {
    yield* this.roundTrip();
    return this.port.read(this.info.bus, this.info.device, this.info.fn, off, size);
  }

  *writeConfig(off: number, size: 1 | 2 | 4, value: number): Co<void> {
    yield* this.roundTrip();
    this.port.write(this.info.bus, this.info.device, this.info.fn, off, size, value);
  }

  private *updateCommand(set: number, clear: number): Co<void> {
    const cmd = yield* this.readConfig(0x04, 2);
    yield* this.writeConfig(0x04, 2, (cmd & ~clear) | set);
  }

  /** Enables memory and I/O decode for the BARs this function has. */
  *enableDevice(): Co<void> {
    let set = 0;
    for (const b of this.info.bars) set |= b.kind === 'io' ? CMD_IO : CMD_MEM;
    yield* this.updateCommand(set, 0);
  }

  *setBusMaster(on: boolean): Co<void> {
    yield* this.updateCommand(on ? CMD_BUS_MASTER : 0, on ? 0 : CMD_BUS_MASTER);
  }

  *setIntxDisable(on: boolean): Co<void> {
    yield* this.updateCommand(on ? CMD_INTX_DISABLE : 0, on ? 0 : CMD_INTX_DISABLE);
  }

  findCap(id: number): number | undefined {
    return this.info.caps.find((c) => c.id === id)?.offset;
  }

  bar(index: number): PciBarInfo | undefined {
    return this.info.bars.find((b) => b.index === index);
  }

  /** MSI-X capability facts: table size and where the table lives. */
  *msixInfo(): Co<{ tableSize: number; tableBar: number; tableOffset: number; pbaBar: number; pbaOffset: number } | undefined> {
    const cap = this.findCap(CAP_MSIX);
    if (cap === undefined) return undefined;
    const ctl = yield* this.readConfig(cap + 2, 2);
    const table = yield* this.readConfig(cap + 4, 4);
    const pba = yield* this.readConfig(cap + 8, 4);
    return {
      tableSize: (ctl & 0x7ff) + 1,
      tableBar: table & 7, tableOffset: (table & ~7) >>> 0,
      pbaBar: pba & 7, pbaOffset: (pba & ~7) >>> 0,
    };
  }

  /** Sets MSI-X Enable and Function Mask (PCIe base spec 7.7.2.2). */
  *setMsix(enable: boolean, functionMask: boolean): Co<void> {
    const cap = this.findCap(CAP_MSIX);
    if (cap === undefined) return;
    const ctl = yield* this.readConfig(cap + 2, 2);
    const v = (ctl & 0x3fff) | (enable ? 0x8000 : 0) | (functionMask ? 0x4000 : 0);
    yield* this.writeConfig(cap + 2, 2, v);
  }

  /** Programs and enables single-message MSI (PCI 3.0 6.8.1). */
  *enableMsi(address: number, data: number): Co<boolean> {
    const cap = this.findCap(CAP_MSI);
    if (cap === undefined) return false;
    const ctl = yield* this.readConfig(cap + 2, 2);
    const is64 = (ctl & 0x80) !== 0;
    yield* this.writeConfig(cap + 4, 4, address);
    if (is64) {
      yield* this.writeConfig(cap + 8, 4, 0);
      yield* this.writeConfig(cap + 12, 2, data);
    } else {
      yield* this.writeConfig(cap + 8, 2, data);
    }
    yield* this.writeConfig(cap + 2, 2, (ctl & ~0x70) | 1);
    return true;
  }
}
