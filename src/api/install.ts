/**
 * Installs a pruned model as the applied one: slices the (compensated) full-size model by the plan,
 * opens a session on the smaller model and records its summary. Used by applyPlan, iterativePrune
 * and slimGptPrune, so exportModel, target 'pruned' and latency work the same on each. A large
 * model does not keep the compensated full-size copy (its o / down weights alone are 142 MB on
 * GPT-2 124M): `compensatedModel` rebuilds it from the sliced one (prune/unslice.ts) when export
 * verification or recovery asks. A spilled model's applied one is spilled too (its own arrays;
 * api/weight-spill.ts).
 */
import { parameterCount, type LayerWeights, type ModelIR } from '../core/ir';
import type { Compensation } from '../prune/compensate';
import { modelCost } from '../prune/cost';
import { sliceModel } from '../prune/slice';
import { computesOnDevice, openRunSession } from '../graph/model-session';
import { unsliceModel } from '../prune/unslice';
import { useBlockwise } from '../graph/block-run';
import { releasePruned, type LoadedModel, type PrunedModel, type StudioState } from './state';
import type { AppliedModel } from './types';
import { spillApplied, withLayerSpill } from './weight-spill';

export async function installApplied(
  state: StudioState,
  m: LoadedModel,
  plan: AppliedModel['plan'],
  compensatedIr: ModelIR,
  compensation: Compensation,
  recovery?: AppliedModel['recovery'],
  training?: AppliedModel['training'],
): Promise<AppliedModel> {
  if (keepsCompensated(state, m, plan))
    return installSliced(state, m, plan, sliceModel(compensatedIr, plan), compensatedIr, compensation, recovery, training);
  return installByLayers(state, m, plan, (onLayer) => sliceModel(compensatedIr, plan, undefined, onLayer), compensation, {
    ...(recovery ? { recovery } : {}),
    ...(training ? { training } : {}),
  });
}

/**
 * installSliced of a model `make` builds one layer at a time (a large model: no compensated
 * full-size copy kept): a spilled model's layers go to storage as they are made
 * (weight-spill.ts withLayerSpill; a failed write leaves the rest in memory, as spillApplied would),
 * so the sliced model is never whole in memory beside the next layer's work (gpt2-124m in Chromium:
 * docs/ARCHITECTURE.md).
 */
export async function installByLayers(
  state: StudioState,
  m: LoadedModel,
  plan: AppliedModel['plan'],
  make: (onLayer: (weights: LayerWeights) => void) => ModelIR,
  compensation: Compensation,
  how: Pick<AppliedModel, 'recovery' | 'training'> = {},
): Promise<AppliedModel> {
  return withLayerSpill(state.deps, m, (onLayer) =>
    installSliced(state, m, plan, make(onLayer), undefined, compensation, how.recovery, how.training),
  );
}

/** installApplied from the sliced model itself (`compensatedIr`: the full-size copy to keep, if any). */
export async function installSliced(
  state: StudioState,
  m: LoadedModel,
  plan: AppliedModel['plan'],
  ir: ModelIR,
  compensatedIr: ModelIR | undefined,
  compensation: Compensation,
  recovery?: AppliedModel['recovery'],
  training?: AppliedModel['training'],
): Promise<AppliedModel> {
  const session = await openRunSession(state.deps.runner, ir, { logits: true, tokenLoss: true }, m.evalSession.backend);
  if (m.pruned) await releasePruned(m.pruned);
  const parameters = parameterCount(ir);
  const summary: AppliedModel = {
    plan,
    compensation,
    ...(recovery ? { recovery } : {}),
    ...(training ? { training } : {}),
    layers: ir.layers,
    parameters,
    weightBytes: parameters * 4,
    cost: modelCost(ir, m.ir.spec.maxPositions),
    denseCost: modelCost(m.ir, m.ir.spec.maxPositions),
  };
  m.pruned = {
    ir,
    ...(compensatedIr ? { compensatedIr } : {}),
    session,
    summary,
    ...(computesOnDevice(session.backend)
      ? {}
      : { evalBlocks: { runner: state.deps.runner, ir, graph: { tokenLoss: true, logits: false } } }),
  };
  await spillApplied(state.deps, m, ir);
  return summary;
}

/** Whether the applied model keeps its compensated full-size copy: small models, and plans that remove hidden channels (no rebuild). */
export function keepsCompensated(state: StudioState, m: LoadedModel, plan: AppliedModel['plan']): boolean {
  if ((plan.removedHidden ?? []).length) return true;
  return state.deps.compensatedCopy !== 'rebuild' && !useBlockwise(m.ir);
}

/** The compensated full-size model of the applied one: the kept copy, else rebuilt from the sliced model (a fresh copy per call). */
export function compensatedModel(m: LoadedModel, p: PrunedModel): ModelIR {
  return p.compensatedIr ?? unsliceModel(m.ir, p.summary.plan, p.ir);
}
