/**
 * Contents and SHA-256 of host files that machines read whole (disk images,
 * fixture files named in a trace header), shared by every machine built in
 * one process. A run reads its disk image once and hashes it once for the
 * trace header; a second run in the same process (bench loops, `check
 * --all`, test suites, bisect) reuses both instead of reading and hashing
 * 8 MiB again.
 *
 * An entry is valid while the file's identity and change stamps are the
 * same: device, inode, size, and mtime and ctime in nanoseconds (any write
 * moves ctime). The bytes handed out are shared: callers must not modify
 * them (Disk keeps its writes in an overlay). What is kept is bounded
 * (least recently used entries go first), so a long process does not pin
 * every image it ever opened.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';

/** Files above this size are read each time, never kept. */
const KEEP_MAX_FILE = 64 * 1024 * 1024;
/** Total bytes kept. */
const KEEP_MAX_TOTAL = 160 * 1024 * 1024;

interface Entry {
  stamp: string;
  bytes: Buffer;
  hash: string | undefined;
}

/** Insertion order is recency order: a hit moves its entry to the end. */
const entries = new Map<string, Entry>();
let keptBytes = 0;

/** The file's identity and change stamps; undefined when it is missing or not a regular file (then it is read as it is, never kept). */
function stampOf(path: string): string | undefined {
  const s = statSync(path, { bigint: true, throwIfNoEntry: false });
  return s?.isFile() === true ? `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}` : undefined;
}

function entryOf(file: string): Entry {
  const path = resolve(file);
  const stamp = stampOf(path);
  if (stamp === undefined) return { stamp: '', bytes: readFileSync(path), hash: undefined };
  const e = entries.get(path);
  if (e !== undefined) {
    entries.delete(path);
    if (e.stamp === stamp) {
      entries.set(path, e);
      return e;
    }
    keptBytes -= e.bytes.length;
  }
  const fresh: Entry = { stamp, bytes: readFileSync(path), hash: undefined };
  // The file changed while it was read: keep nothing (the next call reads it again).
  if (fresh.bytes.length > KEEP_MAX_FILE || stampOf(path) !== stamp) return fresh;
  entries.set(path, fresh);
  keptBytes += fresh.bytes.length;
  for (const [k, old] of entries) {
    if (keptBytes <= KEEP_MAX_TOTAL || old === fresh) break;
    entries.delete(k);
    keptBytes -= old.bytes.length;
  }
  return fresh;
}

/** The file's bytes (shared: do not modify). Throws the fs error when it is missing or unreadable. */
export function hostFileBytes(file: string): Buffer {
  return entryOf(file).bytes;
}

/** SHA-256 of the file's bytes, hex. Throws the fs error when it is missing or unreadable. */
export function hostFileSha256(file: string): string {
  const e = entryOf(file);
  e.hash ??= createHash('sha256').update(e.bytes).digest('hex');
  return e.hash;
}

/** Forgets every kept file (tests). */
export function forgetHostFiles(): void {
  entries.clear();
  keptBytes = 0;
}

/** Files and bytes kept now (tests). */
export function hostFilesKept(): { files: number; bytes: number } {
  return { files: entries.size, bytes: keptBytes };
}
