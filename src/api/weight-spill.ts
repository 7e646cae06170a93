/**
 * Which models keep their weights on disk and in memory only while used (StudioDeps.weightSpill,
 * core/weight-residency.ts): by default those that run block by block, when the host gives a store
 * (StudioDeps.gramStore: Node a temp file, the engine Worker OPFS). A store that cannot be opened or
 * refuses the weights leaves them in memory, as before (the model works; it only holds more).
 */
import { tokenEmbeddingOf, type LayerWeights, type ModelIR } from '../core/ir';
import { runsBlockwise } from '../core/model-shape';
import { isSpilled, openSpill, spillWeights, tensorsUnder, type GrowingResidency, type WeightResidency } from '../core/weight-residency';
import { splitsHead } from '../graph/head-chunks';
import type { LoadedModel, StudioDeps } from './state';

/** Whether some model of this host may be spilled (then its load does not allocate shared memory). */
export function maySpillWeights(deps: Pick<StudioDeps, 'gramStore' | 'weightSpill'>): boolean {
  return deps.gramStore !== undefined && deps.weightSpill !== 'never';
}

/** Whether `ir`'s weights are spilled at load. */
export function spillsWeights(deps: Pick<StudioDeps, 'gramStore' | 'weightSpill'>, ir: ModelIR): boolean {
  if (!maySpillWeights(deps)) return false;
  return deps.weightSpill === 'always' || runsBlockwise(ir.spec, ir.layers);
}

/** Spills `ir` when it should be (`fresh`: just loaded, nothing else holds its arrays); undefined when not (or when the store failed). */
export async function openWeightSpill(deps: StudioDeps, ir: ModelIR, fresh = false): Promise<WeightResidency | undefined> {
  if (!spillsWeights(deps, ir) || !deps.gramStore) return undefined;
  let store;
  try {
    store = await deps.gramStore();
    // a head run in chunks reads the vocabulary matrices by rows (graph/head-chunks.ts, embed-rows.ts)
    const byRows = splitsHead(ir) ? [tokenEmbeddingOf(ir), ...(ir.weights.lmHead ? [ir.weights.lmHead] : [])] : [];
    const residency = spillWeights(ir, store, { byRows });
    // `fresh` (from the loader): nothing else holds these arrays, free them now where the platform can
    residency.trim(undefined, fresh);
    return residency;
  } catch {
    await store?.dispose();
    return undefined;
  }
}

/**
 * Spills the arrays an applied model of a spilled `m` made (the sliced, compensated weights; those it
 * shares with the dense model are spilled already). Its store lives as long as `m`: a later applied
 * model may share these tensors (recovery and iterative rounds start from the applied one), so it is
 * not deleted when that one is replaced (one file per apply, deleted when the model is unloaded).
 */
export async function spillApplied(deps: StudioDeps, m: LoadedModel, ir: ModelIR): Promise<void> {
  if (!m.residency || !deps.gramStore) return;
  // every array spilled already (the dense model's, and layers spilled as they were made: openLayerSpill)
  if ([...tensorsUnder(ir.weights)].every(isSpilled)) return;
  const before = m.appliedSpills ?? [];
  const spilled = await openWeightSpill({ ...deps, weightSpill: 'always' }, ir);
  if (spilled) m.appliedSpills = [...before, spilled];
}

/**
 * Evicts every resident array of `m`'s spilled weights (dense and applied): before a step whose memory
 * is elsewhere (a whole-model session embedding copies, a written file being verified), so those
 * arrays are not held besides it. Later reads bring back what they use.
 */
export function evictResident(m: Pick<LoadedModel, 'residency' | 'appliedSpills'>, deps: Pick<StudioDeps, 'collectGarbage'>): void {
  if (!m.residency) return;
  // between jobs nothing holds an engine model's arrays: free them now where the platform can
  m.residency.trim(0, true);
  for (const r of m.appliedSpills ?? []) r.trim(0, true);
  // evicted arrays free their memory when collected; the host may collect now
  deps.collectGarbage?.();
}

/**
 * Spills the new arrays of a model built for one job (export verification's reference: the applied
 * model's compensated full-size rebuild) when `m` is spilled; the caller disposes the store after
 * the job, after which that model must not be read.
 */
export async function spillForJob(deps: StudioDeps, m: LoadedModel, ir: ModelIR): Promise<WeightResidency | undefined> {
  if (!m.residency) return undefined;
  return openWeightSpill({ ...deps, weightSpill: 'always' }, ir);
}

/**
 * Runs `make` (an applied model of a spilled `m` made layer by layer: apply's compensated slice,
 * install's slice, SlimGPT's finished layers) with a per-layer hook that adds each layer's new arrays
 * to a growing residency in a fresh store and evicts down to its budget, so the model never sits
 * whole in memory beside the next layer's work. The store is listed in `m.appliedSpills` at once (kept
 * with the model, which may share its tensors); a failure of `make` takes it out and deletes it. When
 * `m` is not spilled or the store cannot open, the hook does nothing (the layers stay in memory until
 * spillApplied); after a failed write it stops.
 */
export async function withLayerSpill<T>(
  deps: StudioDeps,
  m: LoadedModel,
  make: (onLayer: (weights: LayerWeights) => void) => Promise<T>,
): Promise<T> {
  const spill = await openLayerSpill(deps, m);
  if (spill) m.appliedSpills = [...(m.appliedSpills ?? []), spill];
  let spilling = spill !== undefined;
  const onLayer = (weights: LayerWeights) => {
    if (!spilling) return;
    try {
      spill!.add(weights);
      spill!.trim();
    } catch {
      spilling = false;
    }
  };
  try {
    return await make(onLayer);
  } catch (e) {
    if (spill) {
      m.appliedSpills = m.appliedSpills?.filter((r) => r !== spill);
      await spill.dispose();
    }
    throw e;
  }
}

async function openLayerSpill(deps: StudioDeps, m: LoadedModel): Promise<GrowingResidency | undefined> {
  if (!m.residency || !deps.gramStore) return undefined;
  try {
    return openSpill(`${m.ir.name} (applied)`, await deps.gramStore());
  } catch {
    return undefined;
  }
}
