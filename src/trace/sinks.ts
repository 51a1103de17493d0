/**
 * Where a trace's bytes go: a file (written as they come, so a crash keeps
 * what was written) or memory (`TraceRecorder.toBuffer`).
 */
import * as fs from 'node:fs';

export interface Sink {
  /** Writes a, then b. `b` is handed over: the caller does not reuse it (a memory sink keeps it as is). */
  write(a: Uint8Array, b?: Uint8Array): void;
  /** Overwrites the first bytes written (the preamble and header) with `head`, of the same length. */
  rewriteHead(head: Uint8Array): void;
  close(): void;
}

/** Appends `parts` to file descriptor `fd` (finishing short writes part by part). */
export function writeAll(fd: number, parts: Uint8Array[]): void {
  let skip = fs.writevSync(fd, parts);
  for (const p of parts) {
    if (skip >= p.length) { skip -= p.length; continue; }
    let off = skip;
    skip = 0;
    while (off < p.length) off += fs.writeSync(fd, p, off, p.length - off);
  }
}

export class FileSink implements Sink {
  constructor(readonly fd: number) {}
  write(a: Uint8Array, b?: Uint8Array): void {
    writeAll(this.fd, b ? [a, b] : [a]);
  }
  rewriteHead(head: Uint8Array): void {
    // A positional write: the file offset of later writes is unchanged.
    let off = 0;
    while (off < head.length) off += fs.writeSync(this.fd, head, off, head.length - off, off);
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

export class MemorySink implements Sink {
  readonly parts: Buffer[] = [];
  write(a: Uint8Array, b?: Uint8Array): void {
    this.parts.push(Buffer.from(a));
    if (b) this.parts.push(Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length));
  }
  rewriteHead(head: Uint8Array): void {
    this.parts[0] = Buffer.from(head);
  }
  close(): void {}
}
