import { describe, expect, it } from 'vitest';
import { cycles, formatTime, ms, ns, parseDuration, periodFromHz, us } from '../../src/sim/time.js';

describe('time', () => {
  it('converts units exactly to picoseconds', () => {
    expect(ns(1)).toBe(1_000);
    expect(us(2.5)).toBe(2_500_000);
    expect(ms(1)).toBe(1_000_000_000);
    expect(cycles(3, 333)).toBe(999);
  });
  it('rounds frequency to the nearest ps period', () => {
    expect(periodFromHz(3e9)).toBe(333);
    expect(periodFromHz(1e6)).toBe(1_000_000);
    expect(() => periodFromHz(0)).toThrow();
  });
  it('parses and formats durations', () => {
    expect(parseDuration('150us')).toBe(150_000_000);
    expect(parseDuration('2ms')).toBe(2e9);
    expect(parseDuration('1.5s')).toBe(1.5e12);
    expect(parseDuration('42')).toBe(42);
    expect(parseDuration('soon')).toBeUndefined();
    expect(formatTime(1_500_000)).toBe('1.500 us');
  });
});
