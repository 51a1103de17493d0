import { describe, expect, it } from 'vitest';
import { findViolations, FORBIDDEN } from '../scripts/check-determinism.js';

describe('determinism lint', () => {
  it('finds no wall clock, Math.random or timers in src/ outside src/cli', () => {
    expect(findViolations(process.cwd())).toEqual([]);
  });
  it('would catch the forbidden calls', () => {
    for (const s of ['Math.random()', 'Date.now()', 'setTimeout(f, 1)', 'performance.now()', 'new Date()', 'setImmediate(f)']) {
      expect(FORBIDDEN.test(s)).toBe(true);
    }
  });
});
