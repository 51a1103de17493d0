import { readFileSync } from 'node:fs';

/**
 * This process's own peak resident set, in MiB.
 *
 * On Linux it is VmHWM from /proc/self/status: the high-water mark of the
 * process's current memory image. `process.resourceUsage().maxRSS` is not
 * that: getrusage keeps ru_maxrss across execve, and libuv starts a child
 * with fork, so a bench child's maxRSS is never below what the bench's own
 * process held when it spawned it (about 275 MiB late in a run), whatever
 * the child itself used. Elsewhere maxRSS is all there is.
 */
export function peakRssMiB(): number {
  let status: string | undefined;
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    status = undefined;
  }
  const kb = status === undefined ? undefined : /^VmHWM:\s*(\d+)\s*kB/m.exec(status)?.[1];
  return Math.round((kb !== undefined ? Number(kb) : process.resourceUsage().maxRSS) / 1024);
}
