/** The ETA helper: rate since the stage began, smoothed, restarted by a new stage. */
import { describe, expect, it } from 'vitest';
import { formatEta, nextEta, type Eta } from './eta';

function feed(reports: [number, number][], total = 10, stage = 's'): Eta | undefined {
  let eta: Eta | undefined;
  for (const [ms, done] of reports) eta = nextEta(eta, { stage, done, total }, ms);
  return eta;
}

describe('nextEta', () => {
  it('is unknown until a unit has been timed, then elapsed x left / done', () => {
    expect(feed([[0, 0]])?.remainingS).toBeUndefined();
    // 2 units in 4 s since the first report: 2 s per unit, 8 left -> 16 s.
    expect(
      feed([
        [0, 0],
        [4000, 2],
      ])?.remainingS,
    ).toBe(16);
  });

  it('smooths: a steady rate stays put, a sudden slow unit moves it by 30% of the jump', () => {
    const steady = feed([
      [0, 0],
      [1000, 1],
      [2000, 2],
      [3000, 3],
    ]);
    expect(steady?.remainingS).toBeCloseTo(7, 10);
    // After 1 s/unit for 2 units (8 s left), the third unit takes 7 s: raw = 9 s * 7 / 3 = 21 s;
    // prior = 8 - 7 = 1 s; smoothed = 0.3 * 21 + 0.7 * 1 = 7.
    const jump = feed([
      [0, 0],
      [1000, 1],
      [2000, 2],
      [9000, 3],
    ]);
    expect(jump?.remainingS).toBeCloseTo(0.3 * 21 + 0.7 * 1, 10);
  });

  it('restarts on a new stage, a new total or a step back; 0 when done', () => {
    let eta = feed([
      [0, 0],
      [1000, 5],
    ]);
    expect(eta?.remainingS).toBe(1);
    eta = nextEta(eta, { stage: 'other', done: 1, total: 10 }, 2000);
    expect(eta.remainingS).toBeUndefined();
    expect(eta.startDone).toBe(1);
    eta = nextEta(eta, { stage: 'other', done: 2, total: 10 }, 3000);
    expect(eta.remainingS).toBe(8);
    expect(nextEta(eta, { stage: 'other', done: 1, total: 10 }, 4000).remainingS).toBeUndefined();
    expect(nextEta(eta, { stage: 'other', done: 10, total: 10 }, 4000).remainingS).toBe(0);
  });
});

describe('formatEta', () => {
  it('rounds up and picks the unit', () => {
    expect(formatEta(0.2)).toBe('1 s');
    expect(formatEta(65)).toBe('1 min 05 s');
    expect(formatEta(3725)).toBe('1 h 02 min');
  });
});
