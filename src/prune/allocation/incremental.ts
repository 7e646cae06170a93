/**
 * Incremental allocation: SlimGPT's log-increase schedule r_i = r_min + (r_max - r_min) ln(1+i)/ln(L),
 * r_min = r_max/4, each ratio capped at `cap` (the layers' floor), with r_max bisected so the mean of
 * the capped ratios meets the target: what the last layers cannot take goes to the earlier ones.
 */
import { selectPerLayer } from './select';
import type { AllocationStrategy } from './types';

/** SlimGPT log-increase ratios for L layers with the given mean. */
export function incrementalRatios(L: number, mean: number, cap = 1): number[] {
  const schedule = (rMax: number) =>
    Array.from({ length: L }, (_, i) => {
      const rMin = rMax / 4;
      return L === 1 ? rMax : rMin + ((rMax - rMin) * Math.log(1 + i)) / Math.log(L);
    });
  let lo = 0;
  let hi = 64;
  for (let it = 0; it < 80; it++) {
    const mid = (lo + hi) / 2;
    const m = schedule(mid).reduce((a, r) => a + Math.min(r, cap), 0) / L;
    if (m < mean) lo = mid;
    else hi = mid;
  }
  return schedule(hi).map((r) => Math.min(r, cap));
}

export const incremental: AllocationStrategy = {
  name: 'incremental',
  label: 'Incremental',
  plain: 'Later layers lose more than early ones.',
  what: 'SlimGPT schedule: later layers lose more (log-increasing ratio with the same mean).',
  source: 'Ling et al., 2024, "SlimGPT: Layer-wise Structured Pruning for LLMs" (incremental pruning ratio).',
  needs: { calibration: false, hessians: false },
  layerRatios: incrementalRatios,
  apply: (input) => selectPerLayer(input, incrementalRatios),
};
