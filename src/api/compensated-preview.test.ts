/**
 * previewCompensated: the exact live preview of a plan with its compensation equals the applied
 * model (applyPlan + evaluatePerplexity on the pruned model) on the same tokens, for none and for
 * bias compensation, and leaves the applied model alone. Latency refuses inputs longer than the
 * model's context with an InputError naming the limit (a model with a short context must not fail deep in ORT).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createNodeRunner } from '../runtime/ort-node';
import { dirSource } from '../cli/dir-source';
import { DEMO_DIR } from '../test-util/golden';
import { InputError } from '../core/errors';
import { createStudioApi } from './studio';
import type { Runner } from '../core/runner';

const text = readFileSync('public/data/evaluation.txt', 'utf8');
const calibrationText = readFileSync('public/data/calibration.txt', 'utf8');
const perplexity = { text, textName: 'evaluation.txt', contextLength: 64, stride: 32, maxTokens: 512 } as const;

describe('previewCompensated', () => {
  it('equals the applied model on the same tokens (none, bias) and leaves the applied model alone', async () => {
    const api = createStudioApi({ runner: createNodeRunner(), demoUrl: '', openDir: dirSource });
    await api.loadModel({ kind: 'dir', path: DEMO_DIR });
    await api.calibrate({ text: calibrationText, textName: 'calibration.txt', samples: 4, seq: 64, withHessians: false });
    await api.computeImportance('magnitude');
    const plan = await api.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });

    const masked = await api.previewPlan({ plan, perplexity });
    const none = await api.previewCompensated({ plan, compensation: 'none', perplexity });
    // masking a unit and slicing it out are the same function: equal up to float32 noise
    expect(Math.abs(none.perplexity - masked.perplexity) / masked.perplexity).toBeLessThan(1e-4);

    const bias = await api.previewCompensated({ plan, compensation: 'bias', perplexity });
    expect(Math.abs(bias.perplexity - masked.perplexity)).toBeGreaterThan(1e-3);
    await api.applyPlan({ plan, compensation: 'bias' });
    const applied = await api.evaluatePerplexity({ ...perplexity, target: 'pruned' });
    expect(Math.abs(bias.perplexity - applied.perplexity) / applied.perplexity).toBeLessThan(1e-5);

    // the applied (bias) model is still the one evaluated after a 'none' preview
    await api.previewCompensated({ plan, compensation: 'none', perplexity });
    const again = await api.evaluatePerplexity({ ...perplexity, target: 'pruned' });
    expect(again.perplexity).toBe(applied.perplexity);
  }, 120_000);

  it('latency refuses a sequence longer than the context with a named InputError', async () => {
    const api = createStudioApi({ runner: createNodeRunner(), demoUrl: '', openDir: dirSource });
    const summary = await api.loadModel({ kind: 'dir', path: DEMO_DIR });
    const max = summary.spec.maxPositions;
    const req = { batch: 1, seq: max + 1, warmup: 0, runs: 1 };
    await expect(api.measureLatency(req)).rejects.toThrow(InputError);
    await expect(api.measureLatency(req)).rejects.toThrow(`context ${max} tokens`);
    const ok = await api.measureLatency({ ...req, seq: max });
    expect(ok.samplesMs).toHaveLength(1);
  }, 60_000);

  it("latency runs fetch each row's largest logit, never the logits (no vocabulary-sized garbage per run)", async () => {
    const inner = createNodeRunner();
    const fetched: (readonly string[] | undefined)[] = [];
    const runner: Runner = {
      ...inner,
      async open(model, options) {
        const session = await inner.open(model, options);
        return {
          ...session,
          run: (feeds, outputs) => {
            if (session.outputNames.includes('logits')) fetched.push(outputs);
            return session.run(feeds, outputs);
          },
        };
      },
    };
    const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource });
    await api.loadModel({ kind: 'dir', path: DEMO_DIR });
    fetched.length = 0;
    await api.measureLatency({ batch: 1, seq: 32, warmup: 1, runs: 2 });
    expect(fetched).toEqual([['logits_max'], ['logits_max'], ['logits_max']]);
  }, 60_000);
});
