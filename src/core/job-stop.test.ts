/**
 * Cancellation inside one long synchronous linear-algebra call: a cancel requested while the
 * blocked kernels run (simulated by the host poll aborting the job after a few blocks) stops the
 * call at the next block, long before it completes; outside `stoppable` nothing is polled.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CancelledError } from './errors';
import { setCancelPoll, stoppable, stopPoint } from './job';
import { inverseSpd } from './linalg';
import { choleskyBlocked, solveRightLowerT } from './linalg-blocked';
import { inverseFromT, inverseTransposedLower } from './linalg-inverse';

/** A well-conditioned SPD matrix: G Gᵀ / n + I from a deterministic pseudo-random G. */
function spd(n: number): Float64Array {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  const g = Float64Array.from({ length: n * n }, rnd);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += g[i * n + k]! * g[j * n + k]!;
      a[i * n + j] = a[j * n + i] = s / n + (i === j ? 1 : 0);
    }
  }
  return a;
}

/** Counts the host polls; aborts the job at poll number `stopAt` (never when undefined). */
function pollingHost(stopAt?: number) {
  const controller = new AbortController();
  const host = { polls: 0, signal: controller.signal };
  setCancelPoll(() => {
    host.polls++;
    if (host.polls === stopAt) controller.abort();
  });
  return host;
}

const n = 384;
const a = spd(n);

afterEach(() => setCancelPoll(undefined));

describe('stoppable blocked linear algebra', () => {
  it('polls once per block inside stoppable, never outside it, and does not change the result', () => {
    const host = pollingHost();
    const plain = choleskyBlocked(a, n);
    expect(host.polls).toBe(0);
    const inside = stoppable({ signal: host.signal }, 'Cholesky', () => choleskyBlocked(a, n));
    expect(host.polls).toBeGreaterThanOrEqual(n / 64);
    expect(inside).toEqual(plain);
  });

  const calls: [string, () => unknown][] = [
    ['Cholesky', () => choleskyBlocked(a, n)],
    ['SPD inverse', () => inverseSpd(a, n, 'the test matrix')],
    ['inverse from T', () => inverseFromT(inverseTransposedLower(choleskyBlocked(a, n)!, n), n)],
    ['triangular solve', () => solveRightLowerT(a.slice(), n, n, choleskyBlocked(a, n)!)],
  ];
  for (const [name, call] of calls) {
    it(`${name}: a cancel during the call stops it at the next block`, () => {
      const full = pollingHost();
      stoppable({ signal: full.signal }, name, call);
      const total = full.polls;
      expect(total).toBeGreaterThan(8);

      const stopAt = Math.floor(total / 3);
      const cancelled = pollingHost(stopAt);
      expect(() => stoppable({ signal: cancelled.signal }, name, call)).toThrow(CancelledError);
      // Stopped at the very poll that saw the cancel: a third of the blocks, not the whole call.
      expect(cancelled.polls).toBe(stopAt);
      expect(cancelled.polls).toBeLessThan(total);
    });
  }

  it('names the job in the error and restores the outer scope afterwards', () => {
    const host = pollingHost(1);
    expect(() => stoppable({ signal: host.signal }, 'OBS errors', () => choleskyBlocked(a, n))).toThrow(/OBS errors was cancelled/);
    // Outside any scope, stopPoint is a no-op even with an aborted job around.
    expect(() => stopPoint()).not.toThrow();
  });

  it('without a signal the scope never stops the call', () => {
    const host = pollingHost(1);
    expect(stoppable({}, 'Cholesky', () => choleskyBlocked(a, n))).not.toBeNull();
    expect(host.polls).toBe(0);
  });
});
