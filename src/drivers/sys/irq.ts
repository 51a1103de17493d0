import type { Co } from '../../sim/scheduler.js';
import type { Sys } from '../../kernel/sys.js';

/**
 * An open `irq:` handle. `wait` blocks until the interrupt fires (returns
 * how many arrived since the last wait); `ack` ends a legacy interrupt so
 * the line can fire again.
 */
export class IrqHandle {
  private readonly scratch = new Uint8Array(8);

  private constructor(
    private readonly sys: Sys,
    readonly fd: number,
    readonly kind: 'legacy' | 'msi',
    /** For MSI: the message to program into the device. */
    readonly msiAddress: number,
    readonly msiData: number,
  ) {}

  static *msi(sys: Sys): Co<IrqHandle> {
    const v = yield* sys.allocMsi();
    return new IrqHandle(sys, v.fd, 'msi', v.address, v.data);
  }

  static *legacy(sys: Sys, gsi: number): Co<IrqHandle> {
    const fd = yield* sys.openOrThrow(`irq:${gsi}`);
    return new IrqHandle(sys, fd, 'legacy', 0, 0);
  }

  /** Waits on behalf of `sys` (the calling task's Sys; defaults to the opener's). */
  wait(sys: Sys = this.sys): Co<number> {
    return sys.waitIrq(this.fd, this.scratch);
  }

  *ack(sys: Sys = this.sys): Co<void> {
    if (this.kind === 'legacy') yield* sys.ackIrq(this.fd, this.scratch);
  }

  *close(): Co<void> {
    yield* this.sys.close(this.fd);
  }
}
