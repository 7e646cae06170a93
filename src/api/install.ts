/**
 * Installs a pruned model as the applied one: slices the (compensated) full-size model by the plan,
 * opens a session on the smaller model and records its summary. Used by applyPlan, iterativePrune
 * and slimGptPrune, so exportModel, target 'pruned' and latency work the same on each.
 */
import { parameterCount, type ModelIR } from '../core/ir';
import type { Compensation } from '../prune/compensate';
import { modelCost } from '../prune/cost';
import { sliceModel } from '../prune/slice';
import { openModelSession } from '../graph/model-session';
import { releasePruned, type LoadedModel, type StudioState } from './state';
import type { AppliedModel } from './types';

export async function installApplied(
  state: StudioState,
  m: LoadedModel,
  plan: AppliedModel['plan'],
  compensatedIr: ModelIR,
  compensation: Compensation,
  recovery?: AppliedModel['recovery'],
  training?: AppliedModel['training'],
): Promise<AppliedModel> {
  const ir = sliceModel(compensatedIr, plan);
  const session = await openModelSession(state.deps.runner, ir, { logits: true, tokenLoss: true });
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
    compensatedIr,
    session,
    summary,
    evalBlocks: { runner: state.deps.runner, ir, graph: { tokenLoss: true, logits: false } },
  };
  return summary;
}
