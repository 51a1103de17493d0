/**
 * PCI power management helpers (PCI PM 1.2; PCIe 3.0 5.3.1): the BAR gate
 * that stops memory and I/O decode outside D0, and the transition delays.
 * The state machine itself lives in `PciFunction` (./function.ts).
 */
import type { MmioHandler } from '../../sim/memory.js';
import { ms, us, type Duration } from '../../sim/time.js';
import { PM_D2, PM_D3HOT } from './regs.js';

/** What the BAR gate asks the function. */
export interface PmGate {
  /** Fast path: false while the function is in D0 and past any recovery time. */
  readonly pmWatched: boolean;
  /**
   * Slow path for one BAR access while watched: true if the access is refused
   * (read returns all-ones, write dropped), after recording the guest error.
   */
  pmRefuseBarAccess(bar: number, io: boolean, write: boolean, offset: number, size: number, value: number): boolean;
}

const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

/**
 * Wraps a BAR's register block: outside D0 (and during a transition's
 * recovery time) the function claims no memory or I/O request, so a read
 * returns all-ones, as an unclaimed access does, and a write is dropped
 * (PCI PM 1.2 5.3; PCIe 3.0 5.3.1.4.1: only configuration requests and
 * messages are handled in D3hot). One field test per access in D0.
 */
export class PmBarHandler implements MmioHandler {
  constructor(
    private readonly inner: MmioHandler,
    private readonly gate: PmGate,
    private readonly bar: number,
    private readonly io: boolean,
  ) {}

  read(offset: number, size: number): number {
    if (this.gate.pmWatched && this.gate.pmRefuseBarAccess(this.bar, this.io, false, offset, size, 0)) return ALL_ONES[size] ?? 0xffffffff;
    return this.inner.read(offset, size);
  }

  write(offset: number, size: number, value: number): void {
    if (this.gate.pmWatched && this.gate.pmRefuseBarAccess(this.bar, this.io, true, offset, size, value)) return;
    this.inner.write(offset, size, value);
  }
}

/** 10 ms: into or out of D3hot (PCI PM 1.2 5.6.1, table 5-6). */
export const D3HOT_DELAY: Duration = ms(10);
/** 200 us: into or out of D2. */
export const D2_DELAY: Duration = us(200);

/**
 * Minimum time software must wait after writing PowerState before the next
 * access to the function (PCI PM 1.2 table 5-6): 10 ms for a change to or
 * from D3hot, 200 us to or from D2, none between D0 and D1.
 */
export function pmDelay(from: number, to: number): Duration {
  if (from === PM_D3HOT || to === PM_D3HOT) return D3HOT_DELAY;
  if (from === PM_D2 || to === PM_D2) return D2_DELAY;
  return 0 as Duration;
}

/** "D0", "D1", "D2", "D3hot". */
export function pmStateName(state: number): string {
  return state === PM_D3HOT ? 'D3hot' : `D${state}`;
}

/**
 * Whether PowerState may go from `from` to `to` (PCI PM 1.2 5.4, figure
 * 5-2): D3hot only returns to D0, D2 does not go to D1.
 */
export function pmTransitionAllowed(from: number, to: number): boolean {
  if (from === to) return true;
  if (from === PM_D3HOT) return to === 0;
  if (from === PM_D2) return to === 0 || to === PM_D3HOT;
  return true;
}
