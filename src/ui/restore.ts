/**
 * What a model load brings back from this browser, said plainly: the model's plan timeline,
 * results rows and cached scores are restored; the calibration statistics and the applied (pruned)
 * model live in the engine's memory only, so they must be recomputed. A restored control whose
 * inputs are gone (a compensation that needs calibration) is reset, and the note says so.
 */
import type { CriterionName } from '../saliency/types';
import { compensationInfos } from '../prune/compensate';
import { unmetNeed } from '../prune/method';
import { useStudio } from '../store';
import { modelKey } from '../store/model-key';
import { storedCalibration } from './importance-actions';

const APPLIED = 'prune-studio:applied:';

/** Remembers which plan was applied to this model (to say after a reload that it must be applied again). */
export function rememberApplied(model: string, plan: string, compensation: string): void {
  try {
    localStorage.setItem(APPLIED + model, JSON.stringify({ plan, compensation }));
  } catch {
    // not remembered: the note after a reload just does not mention it
  }
}

function appliedBefore(model: string): { plan: string; compensation: string } | null {
  try {
    const raw = localStorage.getItem(APPLIED + model);
    return raw ? (JSON.parse(raw) as { plan: string; compensation: string }) : null;
  } catch {
    return null;
  }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** After a model load (scores restored as `scores`): sets the restore note and resets orphaned controls. */
export async function noteRestored(scores: CriterionName[]): Promise<void> {
  const st = useStudio.getState();
  const model = modelKey(st.model);
  if (!model) return;
  const restored: string[] = [];
  const missing: string[] = [];
  if (st.history.length) restored.push(`${plural(st.history.length, 'plan')} in the timeline (current: ${st.plan?.name ?? 'none'})`);
  const rows = st.results.filter((r) => r.model === model).length;
  if (rows) restored.push(`${plural(rows, 'result')} in the results table`);
  if (scores.length) restored.push(`importance scores: ${scores.join(', ')}`);
  const calibration = await storedCalibration(model);
  if (calibration)
    missing.push(
      `calibration (${calibration.samples} × ${calibration.seq} tokens of ${calibration.textName}): its statistics are kept in memory only; run step 2 again for bias / OBS compensation, activation-aware criteria and iterative pruning`,
    );
  const applied = appliedBefore(model);
  if (applied)
    missing.push(
      `the applied model (${applied.plan}, compensation ${applied.compensation}): apply it again to measure, generate or export`,
    );
  const comp = compensationInfos().find((c) => c.name === st.controls.compensation);
  if (comp && unmetNeed(comp.needs, st.calibration)) {
    st.setControls({ compensation: 'none' });
    missing.push(`compensation ${comp.name} needs calibration: set to none until calibration runs again`);
  }
  st.setRestoreNote(restored.length || missing.length ? { model, restored, missing } : null);
}
