import { describe, expect, it } from 'vitest';
import { grown } from '../../src/sim/grown.js';

describe('grown', () => {
  it('copies the elements into a longer array of the same type, zeros after', () => {
    const a = new Int32Array([5, -6, 7]);
    const b = grown(a, 6);
    expect(b).toBeInstanceOf(Int32Array);
    expect(Array.from(b)).toEqual([5, -6, 7, 0, 0, 0]);
    expect(b.buffer).not.toBe(a.buffer);
    const f = grown(new Float64Array([0.5, 2 ** 60]), 3);
    expect(f).toBeInstanceOf(Float64Array);
    expect(Array.from(f)).toEqual([0.5, 2 ** 60, 0]);
    expect(grown(new Uint8Array([255]), 2)).toEqual(new Uint8Array([255, 0]));
  });
});
