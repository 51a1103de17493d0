import type { Co } from '../sim/scheduler.js';
import type { Sys } from '../kernel/sys.js';
import { O_RDWR } from '../kernel/types.js';

/** Opens `path`, reads up to 4 KiB of text, closes it. The text, or a negated errno. */
export function* readText(sys: Sys, path: string): Co<string | number> {
  const fd = yield* sys.open(path);
  if (fd < 0) return fd;
  const buf = new Uint8Array(4096);
  const n = yield* sys.read(fd, buf);
  yield* sys.close(fd);
  return n < 0 ? n : new TextDecoder().decode(buf.subarray(0, n));
}

/** Opens `path` read-write, writes `text`, closes it. The write's result (bytes or a negated errno). */
export function* writeText(sys: Sys, path: string, text: string): Co<number> {
  const fd = yield* sys.open(path, O_RDWR);
  if (fd < 0) return fd;
  const r = yield* sys.write(fd, new TextEncoder().encode(text));
  yield* sys.close(fd);
  return r;
}
