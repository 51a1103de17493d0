import type { Co } from '../sim/scheduler.js';
import type { Sys } from '../kernel/sys.js';
import { EAGAIN } from '../kernel/errno.js';

/**
 * Polls a non-blocking `network.<if>:` fd until `match` accepts a received
 * frame (true), the read fails (its negated errno), or `timeoutMs` passes
 * (false). Frames `match` refuses are skipped.
 */
export function* awaitFrame(sys: Sys, fd: number, buf: Uint8Array, match: (frame: Uint8Array) => boolean, timeoutMs: number, pollUs: number): Co<boolean | number> {
  const deadline = sys.now + timeoutMs * 1e9;
  for (;;) {
    const n = yield* sys.read(fd, buf);
    if (n > 0) {
      if (match(buf.subarray(0, n))) return true;
      continue;
    }
    if (n < 0 && n !== -EAGAIN) return n;
    if (sys.now >= deadline) return false;
    yield* sys.sleep(pollUs * 1e6);
  }
}
