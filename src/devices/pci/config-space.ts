/**
 * The bytes of one function's configuration space, with a write mask and a
 * write-1-to-clear mask per byte (the QEMU `wmask`/`w1cmask` scheme): a guest
 * write changes only writable bits and clears W1C bits written as 1; every
 * other bit is read-only to the guest. The device side changes any bit
 * through the `put*` methods. The power-on image is kept for `restore()`.
 *
 * Nothing here allocates after construction.
 */
export class ConfigSpace {
  readonly bytes: Uint8Array;
  readonly wmask: Uint8Array;
  readonly w1c: Uint8Array;
  private readonly view: DataView;
  private readonly initial: Uint8Array;

  constructor(readonly size: number) {
    this.bytes = new Uint8Array(size);
    this.wmask = new Uint8Array(size);
    this.w1c = new Uint8Array(size);
    this.initial = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
  }

  get8(offset: number): number {
    return this.bytes[offset]!;
  }

  get16(offset: number): number {
    return this.view.getUint16(offset, true);
  }

  get32(offset: number): number {
    return this.view.getUint32(offset, true);
  }

  /** Little-endian read of `size` bytes (1, 2 or 4) at any offset inside the space. */
  read(offset: number, size: number): number {
    switch (size) {
      case 1: return this.bytes[offset]!;
      case 2: return this.view.getUint16(offset, true);
      default: return this.view.getUint32(offset, true);
    }
  }

  put8(offset: number, value: number): void {
    this.bytes[offset] = value;
  }

  put16(offset: number, value: number): void {
    this.view.setUint16(offset, value & 0xffff, true);
  }

  put32(offset: number, value: number): void {
    this.view.setUint32(offset, value >>> 0, true);
  }

  /** Sets the guest-writable bits of a register of `size` bytes. */
  setWritable(offset: number, size: number, mask: number): void {
    for (let i = 0; i < size; i++) this.wmask[offset + i] = (mask >>> (8 * i)) & 0xff;
  }

  /** Sets the write-1-to-clear bits of a register of `size` bytes. */
  setW1c(offset: number, size: number, mask: number): void {
    for (let i = 0; i < size; i++) this.w1c[offset + i] = (mask >>> (8 * i)) & 0xff;
  }

  /** A guest write of `size` bytes: writable bits take the value, W1C bits written as 1 clear. */
  guestWrite(offset: number, size: number, value: number): void {
    const bytes = this.bytes;
    for (let i = 0; i < size; i++) {
      const o = offset + i;
      const b = (value >>> (8 * i)) & 0xff;
      const wm = this.wmask[o]!;
      bytes[o] = ((bytes[o]! & ~wm) | (b & wm)) & ~(b & this.w1c[o]!);
    }
  }

  /** Records the current bytes as the power-on image. */
  snapshot(): void {
    this.initial.set(this.bytes);
  }

  /** Back to the power-on image. */
  restore(): void {
    this.bytes.set(this.initial);
  }

  /** Changes a power-on value as well as the current one (for read-only identity bits). */
  putInitial8(offset: number, value: number): void {
    this.initial[offset] = value;
    this.bytes[offset] = value;
  }
}
