/**
 * The namespace's backing store: a disk image file read once at
 * construction. Writes go to an in-memory copy-on-write overlay of 64 KiB
 * chunks, so the image file is never modified — unless `writeThrough`, in
 * which case every write is also written to the file at once (synchronous,
 * positioned writes: the file's contents never depend on I/O timing).
 *
 * Reads and writes copy into/out of caller buffers with Buffer#copy (no
 * view objects); the controller moves data through a preallocated bounce
 * buffer, so the hot path allocates nothing (an overlay chunk is allocated
 * once, on the first write to it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeviceConfigError } from './device.js';
import { hostFileBytes } from '../sim/host-files.js';

const CHUNK_SHIFT = 16;
const CHUNK = 1 << CHUNK_SHIFT;

export class Disk {
  /** Namespace bytes: whole blocks of the image. */
  readonly sizeBytes: number;
  readonly blocks: number;
  /** Size of the image as read (may exceed sizeBytes by a partial block). */
  readonly imageBytes: number;
  private readonly base: Buffer;
  private readonly chunks: (Buffer | undefined)[];
  private dirty = 0;

  /**
   * `base` is the original image contents (not modified); `fd` an open
   * read-write descriptor of the image when writing through.
   */
  constructor(base: Uint8Array, readonly blockSize: number, private fd: number | null = null) {
    this.base = Buffer.from(base.buffer, base.byteOffset, base.length);
    this.imageBytes = base.length;
    this.blocks = Math.floor(base.length / blockSize);
    this.sizeBytes = this.blocks * blockSize;
    this.chunks = new Array<Buffer | undefined>(Math.ceil(this.sizeBytes / CHUNK)).fill(undefined);
  }

  /**
   * Reads the image file (or takes the contents an earlier machine of this process read, when the
   * file has not changed since: host-files.ts); throws the fs error when it is missing or unreadable.
   */
  static open(path: string, blockSize: number, writeThrough: boolean): Disk {
    const base = hostFileBytes(path);
    const fd = writeThrough ? fs.openSync(path, 'r+') : null;
    return new Disk(base, blockSize, fd);
  }

  get writeThrough(): boolean {
    return this.fd !== null;
  }

  /** Number of 64 KiB overlay chunks holding writes. */
  get dirtyChunks(): number {
    return this.dirty;
  }

  /** Copies [byteOff, byteOff+len) of the current contents into dst[dstOff..]. */
  read(dst: Uint8Array, dstOff: number, byteOff: number, len: number): void {
    while (len > 0) {
      const ci = byteOff >>> CHUNK_SHIFT;
      const inChunk = byteOff & (CHUNK - 1);
      const n = Math.min(len, CHUNK - inChunk);
      const chunk = this.chunks[ci];
      if (chunk !== undefined) chunk.copy(dst, dstOff, inChunk, inChunk + n);
      else this.base.copy(dst, dstOff, byteOff, byteOff + n);
      dstOff += n;
      byteOff += n;
      len -= n;
    }
  }

  /**
   * The current contents of [byteOff, byteOff+len) as one contiguous range
   * of a store buffer, or false when the range spans an overlay chunk and
   * other storage (the caller then copies with `read`). On success the bytes
   * are `spanBuf[spanOff .. spanOff+len)`: read them at once, the next call
   * or a write may change what they refer to. Lets the controller DMA
   * straight from its storage instead of through a bounce buffer.
   */
  span(byteOff: number, len: number): boolean {
    const first = byteOff >>> CHUNK_SHIFT;
    const chunk = this.chunks[first];
    if (chunk === undefined) {
      const last = (byteOff + len - 1) >>> CHUNK_SHIFT;
      for (let ci = first + 1; ci <= last; ci++) if (this.chunks[ci] !== undefined) return false;
      this.spanBuf = this.base;
      this.spanOff = byteOff;
      this.spanIsImage = true;
      return true;
    }
    const inChunk = byteOff & (CHUNK - 1);
    if (inChunk + len > CHUNK) return false;
    this.spanBuf = chunk;
    this.spanOff = inChunk;
    this.spanIsImage = false;
    return true;
  }

  /** Set by a successful `span`. */
  spanBuf: Buffer = Buffer.alloc(0);
  spanOff = 0;
  /**
   * Set by a successful `span`: the bytes are the image file's own (no write touched them), at
   * `spanOff` of the file, so a trace can reference them (`fixture`) instead of storing them.
   */
  spanIsImage = false;
  /**
   * The image as the trace header names it (a fixture path), when its content is fixed for the
   * run: unset with writeThrough (the file changes under the trace). Set by the machine.
   */
  fixture: string | undefined = undefined;

  /** Copies src[srcOff..srcOff+len) to [byteOff, ...) of the overlay (and the file when writing through). */
  write(src: Uint8Array, srcOff: number, byteOff: number, len: number): void {
    if (this.fd !== null) fs.writeSync(this.fd, src, srcOff, len, byteOff);
    while (len > 0) {
      const ci = byteOff >>> CHUNK_SHIFT;
      const inChunk = byteOff & (CHUNK - 1);
      const n = Math.min(len, CHUNK - inChunk);
      let chunk = this.chunks[ci];
      if (chunk === undefined) {
        const start = ci * CHUNK;
        chunk = Buffer.alloc(CHUNK);
        this.base.copy(chunk, 0, start, Math.min(start + CHUNK, this.sizeBytes));
        this.chunks[ci] = chunk;
        this.dirty++;
      }
      copyBytes(src, srcOff, chunk, inChunk, n);
      srcOff += n;
      byteOff += n;
      len -= n;
    }
  }

  /** Test/inspection helper: the current contents of `count` blocks from `lba` (allocates). */
  readBlock(lba: number, count = 1): Uint8Array {
    if (lba < 0 || count < 0 || lba + count > this.blocks) {
      throw new RangeError(`blocks ${lba}+${count} outside the ${this.blocks}-block disk`);
    }
    const out = new Uint8Array(count * this.blockSize);
    this.read(out, 0, lba * this.blockSize, out.length);
    return out;
  }

  /** Test/inspection helper: true if the disk holds `data` starting at block `lba`. */
  verify(lba: number, data: Uint8Array): boolean {
    if (lba < 0 || lba * this.blockSize + data.length > this.sizeBytes) return false;
    const cur = new Uint8Array(data.length);
    this.read(cur, 0, lba * this.blockSize, data.length);
    for (let i = 0; i < data.length; i++) if (cur[i] !== data[i]) return false;
    return true;
  }

  /** Closes the write-through descriptor (the in-memory contents stay usable). */
  close(): void {
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }
}

/** Copies n bytes between Uint8Arrays without creating a view (Buffer#copy on a Buffer source). */
function copyBytes(src: Uint8Array, srcOff: number, dst: Buffer, dstOff: number, n: number): void {
  if (Buffer.isBuffer(src)) {
    src.copy(dst, dstOff, srcOff, srcOff + n);
    return;
  }
  for (let i = 0; i < n; i++) dst[dstOff + i] = src[srcOff + i]!;
}

/**
 * Opens the disk image a device prop names (relative to `baseDir`) with
 * `blockSize`-byte blocks. A missing or unreadable file, or one that is not a
 * non-zero multiple of the block size, is a DeviceConfigError on `field`;
 * `sizeRule` names the block size in that message ("lbaSize (512)").
 * `fixtureName` (DeviceContext.fixtureName) marks the disk with the image's
 * trace fixture name unless it is written through.
 */
export function openDiskImage(
  baseDir: string, field: string, image: string, blockSize: number, writeThrough: boolean, sizeRule: string,
  fixtureName?: (file: string) => string,
): Disk {
  const file = path.resolve(baseDir, image);
  let disk: Disk;
  try {
    disk = Disk.open(file, blockSize, writeThrough);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    throw new DeviceConfigError(field, `cannot ${writeThrough ? 'open for writing' : 'read'} disk image ${JSON.stringify(image)} (${file}): ${why}`);
  }
  if (disk.blocks === 0 || disk.imageBytes !== disk.sizeBytes) {
    disk.close();
    throw new DeviceConfigError(field, `disk image ${JSON.stringify(image)} (${file}) is ${disk.imageBytes} bytes: it must be a non-zero multiple of ${sizeRule}`);
  }
  // Written through, the file changes during the run: a trace could not reference its bytes.
  if (!writeThrough && fixtureName !== undefined) disk.fixture = fixtureName(image);
  return disk;
}
