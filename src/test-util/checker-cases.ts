/**
 * The graphs whose ONNX bytes tools/onnx/record-checker.ts runs through the official ONNX checker
 * (tools/check_onnx.py) and records in fixtures/onnx-checker.json (sha256 + verdict); checker.test.ts
 * rebuilds them and fails when a hash no longer matches, so a graph change needs a new checker run.
 */
import { loadModelIR } from '../arch/load';
import { dirSource } from '../cli/dir-source';
import { buildOnnx } from '../graph/build';
import { buildKvCacheOnnx, type KvCacheGraphOptions } from '../graph/kv-cache';
import type { GraphOptions } from '../graph/options';
import type { ModelIR } from '../core/ir';
import { prunedGpt2, prunedLlama } from './pruned-ir';
import { randomIR } from './random-ir';
import { DEMO_DIR, readGolden } from './golden';
import { randomLlamaIR } from './random-llama';
import { sliceModel } from '../prune/slice';
import { emptyPlan, type PruningPlan } from '../core/plan';

export interface CheckerCase {
  name: string;
  build: () => Promise<Uint8Array>;
}

const all: GraphOptions = { masks: true, taps: true, tokenLoss: true, logits: true };
const grads: GraphOptions = { masks: true, logits: false, weightInputs: true, gradients: { masks: true, weights: true } };

function fromIR(name: string, make: () => ModelIR | Promise<ModelIR>, options: GraphOptions): CheckerCase {
  return { name, build: async () => buildOnnx(await make(), options) };
}

/** The with-past graph of graph/kv-cache.ts (generation with a KV cache). */
function withPast(name: string, make: () => ModelIR | Promise<ModelIR>, options: KvCacheGraphOptions = {}): CheckerCase {
  return { name, build: async () => buildKvCacheOnnx(await make(), options) };
}

let demo: Promise<ModelIR> | undefined;
/** The demo model (public/models/demo-gpt2), loaded once; its cases change whenever model.safetensors does. */
function demoIR(): Promise<ModelIR> {
  demo ??= loadModelIR(dirSource(DEMO_DIR)).then((r) => r.ir);
  return demo;
}

async function demoSliced(planName: 'golden-50' | 'golden-layer'): Promise<ModelIR> {
  const golden = readGolden<{ plans: Record<string, PruningPlan> }>('prune.json');
  return sliceModel(await demoIR(), golden.plans[planName]!);
}

/** The tiny random ViT fixture (fixtures/hub/tiny/vit-tiny). */
function vitIR(): Promise<ModelIR> {
  return loadModelIR(dirSource('fixtures/hub/tiny/vit-tiny')).then((r) => r.ir);
}

/** The tiny ViT with heads (0, 1) and (1, 0) and half of each layer's FFN removed: the pruned export's onnx/model.onnx. */
async function vitSliced(): Promise<ModelIR> {
  const ir = await vitIR();
  const plan = emptyPlan(ir, 'checker: 50% heads and FFN');
  plan.layers = plan.layers.map((l, i) => ({
    ...l,
    removedHeads: [i === 0 ? 1 : 0],
    removedFfn: Array.from({ length: Math.floor(ir.layers[i]!.ffnSize / 2) }, (_, k) => 2 * k + i),
  }));
  return sliceModel(ir, plan);
}

export function checkerCases(): CheckerCase[] {
  return [
    // The graphs the studio builds for the demo model (api/studio.ts, api/evaluation.ts, saliency calibration, export).
    fromIR('demo-gpt2 evaluation (masks+tokenLoss, no logits)', demoIR, { masks: true, tokenLoss: true, logits: false }),
    // api/evaluation.ts block by block (a large model): the last block, weights as inputs, the loss from loss_from on.
    fromIR('demo-gpt2 last block with loss_from (layerRange+masks+tokenLoss+lossFrom, weights as inputs)', demoIR, {
      masks: true,
      tokenLoss: true,
      logits: false,
      weights: 'inputs',
      layerRange: { from: 3, to: 4, embedded: true },
      lossFrom: true,
    }),
    fromIR('demo-gpt2 calibration (masks+taps+grams+tokenLoss)', demoIR, {
      masks: true,
      taps: true,
      grams: true,
      tokenLoss: true,
      logits: false,
    }),
    // api/slimgpt.ts and api/iterative.ts: statistics on the partly pruned model, o / down weights fed as inputs.
    fromIR('demo-gpt2 statistics with weight inputs (masks+taps+grams+tokenLoss+weightInputs)', demoIR, {
      masks: true,
      taps: true,
      grams: true,
      tokenLoss: true,
      logits: false,
      weightInputs: true,
    }),
    fromIR('demo-gpt2 export (logits)', demoIR, { logits: true }),
    // The exact onnx/model.onnx the export writes for the golden plans with compensation off
    // (exporters/onnx.ts decoderOnnx: the with-past graph of sliceModel(ir, plan)).
    withPast('demo-gpt2 pruned export, golden-50 plan (50% heads and FFN per layer), with past', () => demoSliced('golden-50')),
    withPast('demo-gpt2 pruned export, golden-layer plan (a whole layer removed), with past', () => demoSliced('golden-layer')),
    fromIR('random-gpt2 logits', () => randomIR(), { logits: true }),
    fromIR('random-llama GQA logits+logitsMax (the latency graph)', () => randomLlamaIR(), { logits: true, logitsMax: true }),
    fromIR('random-gpt2 masks+taps+tokenLoss+logits', () => randomIR(), all),
    fromIR('random-gpt2 pruned (0-head and 0-FFN layers) taps+tokenLoss', prunedGpt2, { taps: true, tokenLoss: true }),
    fromIR('random-gpt2 pruned (0-head and 0-FFN layers) taps+grams', prunedGpt2, { taps: true, grams: true }),
    fromIR('random-gpt2 gelu masks+tokenLoss, no logits', () => ({ ...randomIR(), spec: { ...randomIR().spec, activation: 'gelu' } }), {
      masks: true,
      tokenLoss: true,
      logits: false,
    }),
    fromIR('random-llama GQA masks+taps+tokenLoss+logits', () => randomLlamaIR(), all),
    // Gradient graphs (src/graph/grad): Taylor / Fisher scores and gradient-descent recovery (api/gradients.ts, api/iterative.ts).
    fromIR('demo-gpt2 gradients (masks+weightInputs, mask and weight gradients)', demoIR, grads),
    fromIR('random-llama GQA gradients (masks+weightInputs, mask and weight gradients)', () => randomLlamaIR(), grads),
    fromIR('random-gpt2 weightInputs masks+taps+tokenLoss', () => randomIR(), {
      masks: true,
      taps: true,
      tokenLoss: true,
      logits: false,
      weightInputs: true,
    }),
    // graph/kv-cache.ts: generation with a KV cache (api/evaluation.ts generate), Optimum input / output names.
    withPast('demo-gpt2 with past (KV cache)', demoIR),
    withPast('random-llama GQA with past (KV cache)', () => randomLlamaIR()),
    withPast('random-gpt2 pruned (0-head and 0-FFN layers) with past (KV cache)', prunedGpt2),
    withPast('random-llama pruned (kv heads 1 / 2 / 0 per layer) with past (KV cache)', prunedLlama),
    withPast('random-llama pruned (kv heads 1 / 2 / 0 per layer) with past, wider empty pasts', prunedLlama, { widerEmptyPast: true }),
    // ViT (graph/patches.ts, head.ts classifierHead): the api's eval session, the export and mask gradients.
    fromIR('tiny-vit evaluation (masks+tokenLoss+logits)', vitIR, { masks: true, tokenLoss: true, logits: true }),
    fromIR('tiny-vit export (logits)', vitIR, { logits: true }),
    fromIR(
      'tiny-vit mean pooling masks+taps+grams+tokenLoss',
      async () => ({ ...(await vitIR()), spec: { ...(await vitIR()).spec, pooling: 'mean' } }),
      {
        masks: true,
        taps: true,
        grams: true,
        tokenLoss: true,
      },
    ),
    fromIR('tiny-vit gradients (masks+weightInputs, mask and weight gradients)', vitIR, grads),
    // The exact onnx/model.onnx the export writes for a pruned ViT (exporters/onnx.ts decoderOnnx: the logits graph, pixel_values -> logits).
    fromIR('tiny-vit pruned export (1 head and half the FFN per layer), onnx/model.onnx', vitSliced, { logits: true }),
  ];
}
