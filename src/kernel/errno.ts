/** Error numbers returned (negated) by syscalls, as in Redox's syscall crate (Linux values). */
export const ENOENT = 2;
export const EIO = 5;
export const EBADF = 9;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EFAULT = 14;
export const EBUSY = 16;
export const EEXIST = 17;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOSPC = 28;
export const ENOTTY = 25;
export const ESPIPE = 29;
export const ENOSYS = 38;
export const EMSGSIZE = 90;
export const EOPNOTSUPP = 95;
export const ENETDOWN = 100;
export const ENOTCONN = 107;
export const ETIMEDOUT = 110;
export const ECONNREFUSED = 111;
export const EALREADY = 114;
export const ERFKILL = 132;

const NAMES: Record<number, string> = {
  [ENOENT]: 'ENOENT', [EIO]: 'EIO', [EBADF]: 'EBADF', [EAGAIN]: 'EAGAIN', [ENOMEM]: 'ENOMEM',
  [EACCES]: 'EACCES', [EFAULT]: 'EFAULT', [EBUSY]: 'EBUSY', [EEXIST]: 'EEXIST', [ENODEV]: 'ENODEV',
  [EINVAL]: 'EINVAL', [ENOSPC]: 'ENOSPC', [ENOTTY]: 'ENOTTY', [ESPIPE]: 'ESPIPE', [ENOSYS]: 'ENOSYS', [ETIMEDOUT]: 'ETIMEDOUT', [EMSGSIZE]: 'EMSGSIZE',
  [EOPNOTSUPP]: 'EOPNOTSUPP', [ENETDOWN]: 'ENETDOWN', [ECONNREFUSED]: 'ECONNREFUSED', [ERFKILL]: 'ERFKILL', [ENOTCONN]: 'ENOTCONN', [EALREADY]: 'EALREADY',
};

export function errnoName(e: number): string {
  return NAMES[Math.abs(e)] ?? `errno ${Math.abs(e)}`;
}

/** Thrown by convenience wrappers (e.g. `sys.openOrThrow`) when a syscall fails. */
export class SyscallError extends Error {
  constructor(readonly errno: number, what: string) {
    super(`${what}: ${errnoName(errno)}`);
  }
}
