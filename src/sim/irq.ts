import type { EventQueue } from './event-queue.js';
import type { Tracer } from './tracer.js';

/** Receives a delivered interrupt: the kernel model's interrupt entry. */
export type VectorSink = (core: number, vector: number, source: number) => void;

export const IOAPIC_PINS = 24;
/** MSI address window: 0xFEExxxxx, destination APIC ID in bits 19:12 (Intel SDM vol. 3, 11.11.1). */
export const MSI_ADDR_BASE = 0xfee00000;

interface Pin {
  /** Number of sources currently driving the (active-high, wired-OR) line. */
  asserted: number;
  masked: boolean;
  /** Remote IRR: delivered and not yet acknowledged by EOI (level-triggered). */
  inService: boolean;
  core: number;
  vector: number;
  routed: boolean;
}

/**
 * The interrupt fabric: INTx lines through an IOAPIC-like router (level
 * triggered: a line delivers once, then stays in service until EOI; if still
 * asserted at EOI it delivers again), and MSI/MSI-X messages decoded to a
 * destination core and vector.
 */
export class IrqFabric {
  private readonly pins: Pin[] = [];
  private sink: VectorSink = () => {};
  cores = 1;
  delivered = 0;

  constructor(private readonly queue: EventQueue, private readonly tracer: Tracer) {
    for (let i = 0; i < IOAPIC_PINS; i++) {
      this.pins.push({ asserted: 0, masked: true, inService: false, core: 0, vector: 0, routed: false });
    }
  }

  setSink(sink: VectorSink): void {
    this.sink = sink;
  }

  /** Programs a redirection entry (the kernel does this when a driver opens irq:N). */
  route(gsi: number, core: number, vector: number): void {
    const p = this.pin(gsi);
    p.core = core;
    p.vector = vector;
    p.routed = true;
    p.masked = false;
    this.maybeDeliver(gsi, p);
  }

  mask(gsi: number, masked: boolean): void {
    const p = this.pin(gsi);
    p.masked = masked;
    if (!masked) this.maybeDeliver(gsi, p);
  }

  /** End of interrupt for a level-triggered pin. */
  eoi(gsi: number): void {
    const p = this.pin(gsi);
    p.inService = false;
    this.maybeDeliver(gsi, p);
  }

  isAsserted(gsi: number): boolean {
    return this.pin(gsi).asserted > 0;
  }

  /** A source raises (+1) or lowers (-1) its contribution to a line. */
  changeLine(dev: number, gsi: number, delta: 1 | -1): void {
    const p = this.pin(gsi);
    const before = p.asserted;
    p.asserted = Math.max(0, before + delta);
    this.tracer.intx(this.queue.now, dev, gsi, delta > 0 ? 1 : 0);
    if (before === 0 && p.asserted > 0) this.maybeDeliver(gsi, p);
  }

  /**
   * An MSI write from device `dev`. Returns false (and records a guest error)
   * when the address is outside the interrupt window or names no core.
   */
  msi(dev: number, addr: number, data: number): boolean {
    const vector = data & 0xff;
    const core = (addr >>> 12) & 0xff;
    if ((addr & 0xfff00000) >>> 0 !== MSI_ADDR_BASE || core >= this.cores || vector < 16) {
      this.tracer.guestErr(this.queue.now, dev, 'msi.bad-message',
        `MSI address 0x${addr.toString(16)} data 0x${data.toString(16)} does not name a core and vector`);
      return false;
    }
    this.tracer.msi(this.queue.now, dev, addr, data, core, vector);
    this.delivered++;
    this.sink(core, vector, dev);
    return true;
  }

  private pin(gsi: number): Pin {
    const p = this.pins[gsi];
    if (p === undefined) throw new RangeError(`no IOAPIC pin ${gsi}`);
    return p;
  }

  private maybeDeliver(gsi: number, p: Pin): void {
    if (p.asserted === 0 || p.masked || p.inService || !p.routed) return;
    p.inService = true;
    this.delivered++;
    this.sink(p.core, p.vector, -1 - gsi);
  }
}

/** Conventional PCI INTx swizzle onto IOAPIC pins 16..19 (PCI-to-PCI Bridge spec, 9.1). */
export function intxGsi(device: number, pin: number): number {
  // pin: 1 = INTA# .. 4 = INTD#
  return 16 + ((device + pin - 1) % 4);
}
