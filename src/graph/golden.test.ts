/**
 * THE golden test of the graph builder: the demo model (public/models/demo-gpt2) built to ONNX and
 * run in onnxruntime-node and onnxruntime-web (Node, WASM) must reproduce the independent PyTorch
 * reference (fixtures/golden/dense.json, float64) within 1e-3: dense logits, next-token log-probs,
 * and the three masked cases (heads, FFN neurons, a whole layer + a head).
 * Missing or stale files make it FAIL (readGolden checks the model's sha256), never skip.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModelIR } from '../arch/load';
import { dirSource } from '../cli/dir-source';
import type { ModelIR } from '../core/ir';
import type { Feeds, Runner, RunnerSession } from '../core/runner';
import { createNodeRunner } from '../runtime/ort-node';
import { createWebRunner } from '../runtime/ort-web';
import { logProb } from '../test-util/forward';
import { DEMO_DIR, readGolden } from '../test-util/golden';
import { floats, idsFeed, maskFeeds, maxAbsDiff } from '../test-util/graph-run';
import { buildOnnx } from './build';

interface MaskedCase {
  heads_off: [number, number][];
  ffn_off: [number, number[]][];
  layers_off: number[];
  logits: number[][][];
  next_token_logprob: number[][];
}

interface DenseGolden {
  input_ids: number[][];
  logits_positions: number[];
  logits: number[][][];
  next_token_logprob: number[][];
  masked: MaskedCase[];
}

const TOLERANCE = 1e-3;

let golden: DenseGolden;
let ir: ModelIR;
/** Set when the model or fixture is missing or stale: every test then fails with it (never skips). */
let setupError: unknown;

beforeAll(async () => {
  try {
    if (!existsSync(`${DEMO_DIR}/model.safetensors`)) {
      throw new Error(
        `${DEMO_DIR}/model.safetensors is missing: train the demo model (tools/demo-model/train.py) before running the golden test.`,
      );
    }
    golden = readGolden<DenseGolden>('dense.json');
    ir = (await loadModelIR(dirSource(DEMO_DIR))).ir;
  } catch (e) {
    setupError = e;
  }
}, 120_000);

function requireSetup(): void {
  if (setupError) throw setupError;
}

/** logits at the golden positions [batch][positions][vocab] and next-token log-probs [batch][seq-1]. */
function summarize(logits: Float32Array, ids: number[][], positions: number[], V: number) {
  const S = ids[0]!.length;
  const at = ids.map((_, b) => positions.map((p) => Array.from(logits.subarray((b * S + p) * V, (b * S + p + 1) * V))));
  const lp = ids.map((row, b) => row.slice(1).map((next, t) => logProb(logits.subarray((b * S + t) * V, (b * S + t + 1) * V), next)));
  return { at, lp };
}

function maskFor(c: MaskedCase): Feeds {
  const H = ir.layers[0]!.numHeads;
  const F = ir.layers[0]!.ffnSize;
  return maskFeeds(ir, {
    head: (m) => c.heads_off.forEach(([l, h]) => (m[l * H + h] = 0)),
    ffn: (m) => c.ffn_off.forEach(([l, js]) => js.forEach((j) => (m[l * F + j] = 0))),
    layer: (m) => c.layers_off.forEach((l) => (m[l] = 0)),
  });
}

function expectClose(actual: Float32Array, expected: { logits: number[][][]; next_token_logprob: number[][] }, what: string): void {
  const { at, lp } = summarize(actual, golden.input_ids, golden.logits_positions, ir.spec.vocabSize);
  const dLogits = maxAbsDiff(at.flat(2), expected.logits.flat(2));
  const dLogprob = maxAbsDiff(lp.flat(), expected.next_token_logprob.flat());
  expect(dLogits, `${what}: max |logit diff|`).toBeLessThan(TOLERANCE);
  expect(dLogprob, `${what}: max |log-prob diff|`).toBeLessThan(TOLERANCE);
}

describe.each([
  ['onnxruntime-node', () => createNodeRunner()],
  ['onnxruntime-web (Node, WASM)', () => createWebRunner()],
] as [string, () => Runner][])('demo-gpt2 matches the PyTorch reference (%s)', (_name, makeRunner) => {
  let plain: RunnerSession;
  let masked: RunnerSession;

  beforeAll(async () => {
    if (setupError) return;
    const runner = makeRunner();
    plain = await runner.open(buildOnnx(ir, { logits: true }));
    masked = await runner.open(buildOnnx(ir, { logits: true, masks: true }));
  }, 120_000);

  it('dense logits and next-token log-probs (plain graph and masks of ones)', async () => {
    requireSetup();
    const ids = idsFeed(golden.input_ids);
    expectClose(floats((await plain.run(ids)).logits), golden, 'plain');
    expectClose(floats((await masked.run({ ...ids, ...maskFeeds(ir) })).logits), golden, 'masks = 1');
  });

  it.each([0, 1, 2])('masked case %i (heads / FFN neurons / layer + head)', async (i) => {
    requireSetup();
    const c = golden.masked[i]!;
    const out = await masked.run({ ...idsFeed(golden.input_ids), ...maskFor(c) });
    expectClose(floats(out.logits), c, `masked case ${i}`);
  });
});
