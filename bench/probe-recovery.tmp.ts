import { readFileSync } from 'node:fs';
import { createNodeRunner } from '../src/runtime/ort-node';
import { openDemo, CALIB_TEXT, EVAL_TEXT } from './common';
const api = await openDemo(createNodeRunner());
const H = readFileSync('public/data/heldout.txt', 'utf8');
const P = { contextLength: 128, stride: 64, maxTokens: 4096 };
const both = async (target: 'dense' | 'pruned') => [
  (await api.evaluatePerplexity({ ...P, text: EVAL_TEXT, textName: 'e', target })).perplexity.toFixed(2),
  (await api.evaluatePerplexity({ ...P, text: H, textName: 'h', target })).perplexity.toFixed(2),
];
await api.calibrate({ text: CALIB_TEXT, textName: 'calibration.txt', samples: 16, seq: 128, withHessians: true });
await api.computeImportance('taylor');
console.log('dense', await both('dense'));
const plan = await api.allocatePlan({ criterion: 'taylor', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
for (const lr of (process.env.LRS ?? '3e-4,1e-3').split(',').map(Number)) {
  await api.applyPlan({ plan, compensation: 'obs' });
  if (lr === Number((process.env.LRS ?? '3e-4').split(',')[0])) console.log('oneshot', await both('pruned'));
  const t0 = performance.now();
  const r = await api.recover({ steps: Number(process.env.STEPS ?? 20), learningRate: lr, lmWeight: Number(process.env.LM ?? 0.5), training: { text: CALIB_TEXT, textName: 'calibration.txt', samples: 64 }, perplexity: { ...P, text: EVAL_TEXT, textName: 'e' } });
  console.log('lr', lr, 'secs', ((performance.now() - t0) / 1000).toFixed(1), await both('pruned'), r.curve.filter((_, i) => i % 5 === 0).map((p) => p.loss.toFixed(3) + '/' + p.kl.toFixed(3)).join(' '));
}
