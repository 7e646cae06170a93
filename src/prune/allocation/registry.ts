/** Allocation registry: name -> strategy (one file per strategy in this folder). */
import { InputError } from '../../core/errors';
import type { MethodInfo } from '../method';
import { globalRanking } from './global';
import { incremental } from './incremental';
import { latency } from './latency';
import { sensitivity } from './sensitivity';
import type { AllocationStrategy } from './types';
import { uniform } from './uniform';

export const ALLOCATION_STRATEGIES = { uniform, global: globalRanking, incremental, sensitivity, latency } satisfies Record<
  string,
  AllocationStrategy
>;

export type Allocation = keyof typeof ALLOCATION_STRATEGIES;
export const ALLOCATIONS = Object.keys(ALLOCATION_STRATEGIES) as readonly Allocation[];

export function getAllocation(name: string): AllocationStrategy {
  const s = (ALLOCATION_STRATEGIES as Record<string, AllocationStrategy>)[name];
  if (!s) throw new InputError(`Unknown allocation "${name}".`, `Choose one of: ${ALLOCATIONS.join(', ')}.`);
  return s;
}

export function allocationInfos(): (MethodInfo & { name: Allocation })[] {
  return ALLOCATIONS.map((name) => {
    const { apply: _apply, layerRatios: _ratios, ...info } = ALLOCATION_STRATEGIES[name];
    return { ...info, name };
  });
}
