import type { PciInterrupts } from '../../src/devices/pci/api.js';
import type { Tracer } from '../../src/sim/tracer.js';

/**
 * The PCI function's interrupt side for device-model tests: records MSI /
 * MSI-X messages (with their times) and INTx levels; with a tracer, messages
 * also go into the trace so tests can order them against DMA.
 */
export class FakeIrq implements PciInterrupts {
  mode: 'msix' | 'msi' | 'intx' = 'msix';
  readonly messages: number[] = [];
  /** Simulated time of each message, parallel to `messages`. */
  readonly messageTimes: number[] = [];
  readonly intxCalls: boolean[] = [];
  level = false;
  constructor(private readonly gate: { busMaster: boolean }, private readonly now: () => number, private readonly tracer?: Tracer) {}
  get busMaster(): boolean {
    return this.gate.busMaster;
  }
  sendMessage(vector: number): void {
    if (this.mode === 'intx') return;
    this.messages.push(vector);
    this.messageTimes.push(this.now());
    this.tracer?.msi(this.now(), 0, 0xfee00000, vector, 0, vector);
  }
  setIntx(level: boolean): void {
    this.intxCalls.push(level);
    this.level = level;
  }
}
