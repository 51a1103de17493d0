/** The typed arrays that tables and buffers grow (by replacing them with a larger copy). */
export type GrowableArray = Uint8Array | Uint16Array | Int32Array | Uint32Array | Float64Array;

/** A new array of `a`'s type with `length` elements: `a`'s elements first, zeros after. */
export function grown<T extends GrowableArray>(a: T, length: number): T {
  const b = new (a.constructor as new (length: number) => T)(length);
  (b as Uint8Array).set(a as ArrayLike<number>);
  return b;
}
