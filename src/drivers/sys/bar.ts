import { EINVAL, SyscallError } from '../../kernel/errno.js';
import type { PciFunctionHandle } from '../../kernel/pcid.js';
import type { Mmio, Sys } from '../../kernel/sys.js';

/** Maps memory BAR `index` of a function uncached (memory:physical@uc). */
export function mapBar(sys: Sys, pci: PciFunctionHandle, index: number, maxLen = 0): Mmio {
  const b = pci.bar(index);
  if (b === undefined || b.kind === 'io' || b.addr === 0) {
    throw new SyscallError(EINVAL, `${pci.info.bdf}: BAR${index} is not an assigned memory BAR`);
  }
  return sys.physmap(b.addr, maxLen > 0 ? Math.min(maxLen, b.size) : b.size);
}
