/**
 * Plan and model files, and text compare: save / load plan.json (the engine validates a loaded
 * plan through previewPlan, so its typed errors are shown), export the pruned bundle as
 * `<model>-pruned.zip` or `<model>-pruned-<dtype>.zip` with a quantized variant (fflate, in a worker: ui/zip.ts), generate dense vs pruned.
 */
import type { GenerateRequest } from '../api/types';
import { InputError } from '../core/errors';
import type { PruningPlan } from '../core/plan';
import { useStudio } from '../store';
import { fetchEvaluationText } from './actions';
import { download } from './download';
import { engine, job, report } from './jobs';
import { PREVIEW_PROTOCOL, quiet } from './prune-actions';
import { parseJsonText } from '../io/json';
import { zipInWorker } from './zip';

export function savePlan(): void {
  const plan = useStudio.getState().plan;
  if (!plan) return;
  download(`${plan.name.replace(/[^\w.-]+/g, '_')}.plan.json`, new Blob([JSON.stringify(plan, null, 2)], { type: 'application/json' }));
}

/** Reads a plan file; the engine validates it (a masked preview) before it joins the timeline. */
export async function loadPlanFile(file: File): Promise<void> {
  let plan: PruningPlan;
  try {
    plan = parseJsonText(await file.text(), file.name, { hint: 'Load a plan.json saved by Prune Studio.' }) as PruningPlan;
    await quiet();
    const text = await fetchEvaluationText();
    const result = await engine().run('previewPlan', [{ plan, perplexity: { ...PREVIEW_PROTOCOL, maxTokens: 256, text } }]);
    if (!Number.isFinite(result.perplexity)) throw new InputError('The plan did not give a finite perplexity.');
  } catch (e) {
    report(`Loading plan ${file.name}`, e);
    return;
  }
  const st = useStudio.getState();
  const criterion = plan.derivation?.criterion;
  st.setPlan(plan, { ...st.controls, ...(criterion && st.scores[criterion] ? { criterion } : {}) });
}

/** Large bundles are stored, not deflated: float32 weights shrink by a few percent at the cost of seconds per 100 MB. */
export const STORE_ABOVE_BYTES = 64 * 2 ** 20;

function zipLevel(files: readonly { bytes: Uint8Array }[], stored: readonly { blob: Blob }[] = []): 0 | 6 {
  const bytes = files.reduce((n, f) => n + f.bytes.byteLength, 0) + stored.reduce((n, f) => n + f.blob.size, 0);
  return bytes > STORE_ABOVE_BYTES ? 0 : 6;
}

/** The bundle with the fp32 model, or with one quantized variant (`<model>-pruned-<dtype>.zip`). */
export async function exportZip(dtype = 'fp32'): Promise<void> {
  const { model, applied } = useStudio.getState();
  if (!model || !applied) return;
  await quiet();
  const label = dtype === 'fp32' ? 'Exporting the pruned model' : `Exporting the pruned model (${dtype})`;
  const bundle = await job(label, 'exportModel', [{ format: 'onnx', dtype }]);
  if (!bundle) return;
  useStudio.getState().setExportVerification(bundle.verification);
  let zip: Blob;
  try {
    zip = await zipInWorker(bundle.files, zipLevel(bundle.files, bundle.stored), bundle.stored);
  } catch (e) {
    report('Exporting the pruned model', e);
    return;
  }
  const suffix = dtype === 'fp32' ? '' : `-${dtype}`;
  download(`${model.name.replace(/[^\w.-]+/g, '_')}-pruned${suffix}.zip`, zip);
}

export async function generateCompare(req: Omit<GenerateRequest, 'target'>): Promise<void> {
  await quiet();
  const st = useStudio.getState();
  st.setGenerated({ dense: null, pruned: null });
  const dense = await job('Generating (dense)', 'generate', [{ ...req, target: 'dense' }]);
  if (!dense) return;
  useStudio.getState().setGenerated({ dense });
  if (!useStudio.getState().applied) return;
  const pruned = await job('Generating (pruned)', 'generate', [{ ...req, target: 'pruned' }]);
  if (pruned) useStudio.getState().setGenerated({ pruned });
}
