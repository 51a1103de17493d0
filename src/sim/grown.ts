/** The typed arrays that tables and buffers grow (by replacing them with a larger copy). */
export type GrowableArray = Uint8Array | Uint16Array | Int32Array | Uint32Array | Float64Array;

/**
 * A new array of `a`'s type with `length` elements: `a`'s elements first,
 * zeros after. An array over shared memory grows into shared memory (a
 * thread that is handed the new array sees the same bytes).
 */
export function grown<T extends GrowableArray>(a: T, length: number): T {
  const ctor = a.constructor as { new (length: number): T; new (buffer: SharedArrayBuffer): T; BYTES_PER_ELEMENT: number };
  const b = a.buffer instanceof SharedArrayBuffer ? new ctor(new SharedArrayBuffer(length * ctor.BYTES_PER_ELEMENT)) : new ctor(length);
  (b as Uint8Array).set(a as ArrayLike<number>);
  return b;
}
