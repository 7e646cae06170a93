/**
 * Benchmark rows of issue 15 item 2 (part of the recovery bench): heads-only pruning at 50% of the
 * heads (uniform, Taylor) on the demo model, compensated by nothing, FLAP bias, OBS and attention
 * redistribution at several ranks, with and without the intercept. Perplexity on evaluation.txt and
 * on the held-out e-mail text (method comparisons use the held-out one). Calibration: 16 x 128 tokens
 * of calibration.txt with Hessians, as the rest of the recovery bench.
 */
import type { createStudioApi } from '../src/api/studio';
import type { Compensation, CompensationOptions } from '../src/prune/compensate';

type Api = ReturnType<typeof createStudioApi>;

export interface RedistributionBenchOptions {
  heads?: number[];
  log?: (line: string) => void;
  /** Perplexity of the pruned model on the evaluation and held-out texts. */
  both: (api: Api, target: 'dense' | 'pruned') => Promise<{ evaluation: number; heldOut: number }>;
  calibrate: (api: Api) => Promise<unknown>;
}

export async function benchRedistribution(api: Api, o: RedistributionBenchOptions) {
  const log = o.log ?? (() => {});
  await o.calibrate(api);
  await api.computeImportance('taylor');
  const headDim = api.state.loaded!.ir.spec.headDim;
  const dense = await o.both(api, 'dense');
  const rows: Record<string, unknown>[] = [];
  for (const heads of o.heads ?? [0.5]) {
    const plan = await api.allocatePlan({ criterion: 'taylor', allocation: 'uniform', heads, ffn: 0, layers: 0 });
    const removedPerLayer = plan.layers.map((l) => l.removedHeads.length);
    const full = Math.max(...removedPerLayer) * headDim;
    const cases: { compensation: Compensation; options?: CompensationOptions; label: string }[] = [
      { compensation: 'none', label: 'none' },
      { compensation: 'bias', label: 'bias (FLAP)' },
      { compensation: 'obs', label: 'OBS' },
      ...[headDim / 2, headDim, 2 * headDim, full].map((rank) => ({
        compensation: 'redistribute' as const,
        options: { rank },
        label: `redistribute rank ${rank}${rank === full ? ' (full = OBS)' : ''}`,
      })),
      ...[headDim, full].map((rank) => ({
        compensation: 'redistribute' as const,
        options: { rank, intercept: true },
        label: `redistribute rank ${rank} + intercept`,
      })),
    ];
    for (const c of cases) {
      const t0 = performance.now();
      await api.applyPlan({ plan, compensation: c.compensation, ...(c.options ? { compensationOptions: c.options } : {}) });
      const applySeconds = (performance.now() - t0) / 1000;
      const ppl = await o.both(api, 'pruned');
      log(`heads ${heads}: ${c.label} ${ppl.evaluation.toFixed(2)} / ${ppl.heldOut.toFixed(2)} (apply ${applySeconds.toFixed(1)} s)`);
      rows.push({ heads, ffn: 0, ...c, ...ppl, applySeconds: +applySeconds.toFixed(2) });
    }
  }
  return { setup: 'taylor, uniform, heads only (FFN 0), layers 0; calibration 16 x 128 with Hessians; ridge 0.01', dense, rows };
}
