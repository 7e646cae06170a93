import { describe, expect, it } from 'vitest';
import { niceAxis, niceStep, tickLabel } from './scatter-scale';

describe('scatter-scale', () => {
  it('rounds steps to 1, 2 or 5 times a power of ten', () => {
    expect(niceStep(10, 5)).toBe(2);
    expect(niceStep(1, 5)).toBeCloseTo(0.2, 12);
    expect(niceStep(37, 5)).toBe(10);
    expect(niceStep(0.013, 5)).toBeCloseTo(0.002, 12);
  });

  it('covers the values with a domain on multiples of the step', () => {
    const a = niceAxis([3.7, 4.21, 2.05]);
    expect(a.min).toBeLessThanOrEqual(2.05);
    expect(a.max).toBeGreaterThanOrEqual(4.21);
    expect(a.ticks[0]).toBeCloseTo(a.min, 12);
    expect(a.ticks.at(-1)).toBeCloseTo(a.max, 12);
    expect(a.ticks).toEqual([2, 2.5, 3, 3.5, 4, 4.5]);
  });

  it('spreads a single value and an empty list', () => {
    const one = niceAxis([38.15]);
    expect(one.min).toBeLessThan(38.15);
    expect(one.max).toBeGreaterThan(38.15);
    expect(niceAxis([])).toMatchObject({ min: 0, max: 1 });
    expect(niceAxis([0]).min).toBeLessThan(0);
  });

  it('prints ticks without float noise', () => {
    expect(tickLabel(0.1 + 0.2)).toBe('0.3');
    expect(tickLabel(4.2)).toBe('4.2');
  });
});
