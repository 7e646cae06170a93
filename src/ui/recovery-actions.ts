/**
 * Recovery training of the applied model from the UI (api.recover in the worker): one visible,
 * cancellable job whose progress grows the recovery curve in the store, step by step; the trained
 * model then becomes the applied one and is measured like any other (exact and held-out perplexity,
 * latency, a results row that keeps the curve, so the chart comes back after a reload).
 */
import type { AppliedModel, RecoveryRequest } from '../api/types';
import { useStudio } from '../store';
import { modelKey } from '../store/model-key';
import type { ResultRow } from '../store/results';
import { fetchCalibrationText } from './importance-actions';
import { evaluationTextOrReport } from './inputs';
import { engine, multiJob } from './jobs';
import { EXACT_PROTOCOL, measureApplied } from './measure-applied';
import { quiet } from './prune-actions';
import { lossWeights, parseRecoveryStep, recoveryRequest, withPoint, type RecoverySettings } from './recovery-params';
import { fetchDemoTrainingImages, isClassifier } from './vision-actions';

/** Trains the applied model with `settings`; the result joins the results table as a new row. */
export async function runRecovery(settings: RecoverySettings): Promise<void> {
  const prior = useStudio.getState().applied;
  if (!prior) return;
  await quiet();
  const classifier = isClassifier(useStudio.getState().model);
  const text = classifier ? '' : await evaluationTextOrReport();
  if (text === undefined) return;
  const plan = prior.plan.name;
  const st = useStudio.getState();
  st.setRecoveryCurve({ plan, steps: settings.steps, running: true, points: [] });
  const result = await multiJob('Recovery training', async (signal, progress) => {
    const request = classifier
      ? await imageRecoveryRequest(settings)
      : recoveryRequest(settings, await fetchCalibrationText(), { ...EXACT_PROTOCOL, text });
    return engine().run('recover', [request], {
      signal,
      onProgress: (p) => {
        progress(p);
        const point = parseRecoveryStep(p.message);
        const cur = useStudio.getState().recoveryCurve;
        if (point && cur?.running && cur.plan === plan)
          useStudio.getState().setRecoveryCurve({ ...cur, points: withPoint(cur.points, { step: point.step, loss: point.loss }) });
      },
    });
  });
  const cur = useStudio.getState().recoveryCurve;
  if (!result) {
    if (cur?.plan === plan) useStudio.getState().setRecoveryCurve({ ...cur, running: false });
    return;
  }
  const curve = result.curve.map((p) => ({ step: p.step, loss: p.loss }));
  useStudio.getState().setRecoveryCurve({ plan, steps: settings.steps, running: false, points: curve });
  const meta = priorMeta(prior);
  await measureApplied(
    result.applied,
    { ...meta, compensation: `${meta.compensation} + recovery ${settings.steps} steps` },
    result.perplexity,
    curve,
  );
}

/** An image classifier trains on the demo's shipped training images (never the test images it reports on). */
async function imageRecoveryRequest(settings: RecoverySettings): Promise<RecoveryRequest> {
  const training = await engine().run('prepareImages', [await fetchDemoTrainingImages()]);
  return { steps: settings.steps, learningRate: settings.learningRate, ...lossWeights(settings), images: { training } };
}

/** How the model before training was made: its results row (iterative, SlimGPT name themselves there), else its plan. */
function priorMeta(prior: AppliedModel): Pick<ResultRow, 'criterion' | 'allocation' | 'compensation'> {
  const s = useStudio.getState();
  const key = modelKey(s.model);
  const row = s.results.filter((r) => r.model === key && r.plan === prior.plan.name).at(-1);
  return {
    criterion: row?.criterion ?? prior.plan.derivation?.criterion ?? 'manual',
    allocation: row?.allocation ?? prior.plan.derivation?.allocation ?? 'manual',
    compensation: row?.compensation ?? prior.compensation,
  };
}
