/**
 * Which models keep their weights on disk and in memory only while used (StudioDeps.weightSpill,
 * core/weight-residency.ts): by default those that run block by block, when the host gives a store
 * (StudioDeps.gramStore: Node a temp file, the engine Worker OPFS). A store that cannot be opened or
 * refuses the weights leaves them in memory, as before (the model works; it only holds more).
 */
import type { ModelIR } from '../core/ir';
import { runsBlockwise } from '../core/memory-model';
import { spillWeights, type WeightResidency } from '../core/weight-residency';
import type { StudioDeps } from './state';

/** Whether some model of this host may be spilled (then its load does not allocate shared memory). */
export function maySpillWeights(deps: Pick<StudioDeps, 'gramStore' | 'weightSpill'>): boolean {
  return deps.gramStore !== undefined && deps.weightSpill !== 'never';
}

/** Whether `ir`'s weights are spilled at load. */
export function spillsWeights(deps: Pick<StudioDeps, 'gramStore' | 'weightSpill'>, ir: ModelIR): boolean {
  if (!maySpillWeights(deps)) return false;
  return deps.weightSpill === 'always' || runsBlockwise(ir.spec, ir.layers);
}

/** Spills a freshly loaded `ir` when it should be; undefined when not (or when the store failed). */
export async function openWeightSpill(deps: StudioDeps, ir: ModelIR): Promise<WeightResidency | undefined> {
  if (!spillsWeights(deps, ir) || !deps.gramStore) return undefined;
  let store;
  try {
    store = await deps.gramStore();
    const residency = spillWeights(ir, store);
    residency.trim();
    return residency;
  } catch {
    await store?.dispose();
    return undefined;
  }
}
