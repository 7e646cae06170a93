/**
 * Actions of the teaching views: the sweep (one engine call per point, so points stream and a
 * cancel stops between points), token damage, attention patterns with knock-out, and the first
 * divergence of compare-text. Results live in teach-store.ts and are cleared when the model changes.
 */
import type { GenerateResult, SweepPoint, SweepSeries } from '../../../api/types';
import type { Compensation } from '../../../prune/compensate';
import { useStudio } from '../../../store';
import { fetchEvaluationText } from '../../actions';
import { engine, job, multiJob } from '../../jobs';
import { quiet } from '../../prune-actions';
import { useTeach } from './teach-store';

/** Sweep protocol: fewer tokens than the exact evaluation (8192), the same windows. */
export const SWEEP_PROTOCOL = { textName: 'evaluation.txt', contextLength: 128, stride: 64, maxTokens: 1024 };
export const SWEEP_FRACTIONS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
export const RANDOM_SEEDS = [1, 2, 3];

let watching = false;
/** Clears the teaching results whenever another model is loaded. */
export function watchTeachModel(): void {
  if (watching) return;
  watching = true;
  const sync = () => {
    const key = useStudio.getState().model?.fingerprint ?? null;
    if (key !== useTeach.getState().modelKey) useTeach.getState().reset(key);
  };
  sync();
  useStudio.subscribe(sync);
}

/** The current plan when it belongs to the loaded model. */
export function currentPlan() {
  const { plan, model } = useStudio.getState();
  return plan && model && plan.model.name === model.name ? plan : null;
}

export async function runSweep(
  criteria: string[],
  seeds: number[],
  compensation: Compensation = 'none',
  fractions = SWEEP_FRACTIONS,
): Promise<void> {
  await quiet();
  const text = await fetchEvaluationText();
  const series: SweepSeries[] = [...criteria.map((criterion) => ({ criterion })), ...seeds.map((random) => ({ random }))];
  useTeach.getState().patch({ sweepPoints: [], sweepTokens: SWEEP_PROTOCOL.maxTokens, sweepCompensation: compensation });
  const total = series.length * fractions.length;
  await multiJob('Sweep', async (signal, progress) => {
    let done = 0;
    for (const s of series) {
      for (const fraction of fractions) {
        const r = await engine().run(
          'sweep',
          [{ series: [s], fractions: [fraction], compensation, perplexity: { ...SWEEP_PROTOCOL, text } }],
          {
            signal,
          },
        );
        done++;
        const points: SweepPoint[] = r.points;
        useTeach.getState().patch({ sweepPoints: [...useTeach.getState().sweepPoints, ...points] });
        progress({ stage: 'sweep', done, total, message: `${points[0]?.series} at ${Math.round(fraction * 100)}%` });
      }
    }
  });
}

export async function runTokenLoss(text: string): Promise<void> {
  await quiet();
  const plan = currentPlan();
  // The pruned side: the current plan's masks (follows the sliders), else the applied model.
  const r = await job('Per-token loss', 'tokenLosses', [{ text, ...(plan ? { plan } : {}) }]);
  if (r) useTeach.getState().patch({ tokenLoss: r });
}

export async function runAttention(text: string, knockout?: { layer: number; head: number }): Promise<void> {
  await quiet();
  const r = await job('Attention patterns', 'attentionPatterns', [{ text, ...(knockout ? { knockout: [knockout] } : {}) }]);
  if (r) useTeach.getState().patch({ attention: r });
}

/** Index of the first generated token where the dense and pruned outputs differ (-1: none within both). */
export function firstDivergence(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

export async function runDivergence(prompt: string, dense: GenerateResult, pruned: GenerateResult): Promise<void> {
  if (!dense.ids || !pruned.ids) return;
  const index = firstDivergence(dense.ids, pruned.ids);
  if (index < 0) {
    useTeach.getState().patch({ divergence: { index, next: {} } });
    return;
  }
  await quiet();
  const next = await job('Next-token probabilities', 'nextTokens', [
    { prompt, continuation: dense.ids.slice(0, index), targets: ['dense', 'pruned'], k: 5 },
  ]);
  if (next) useTeach.getState().patch({ divergence: { index, next } });
}
