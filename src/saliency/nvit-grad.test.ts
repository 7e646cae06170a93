/**
 * NViT's embedding-channel quantity Σ_{w touches c} w·∂L/∂w from the gradient graph (onnxruntime-node)
 * against central finite differences of the float64 reference forward (src/test-util/forward.ts,
 * written independently of the graph builder): scaling every weight that touches channel c by
 * (1 + ε) moves the loss by ε · Σ w·g. The scaling below is written from the IR's fields, not from
 * nvit-grad.ts's name rules. Tiny fixtures: GPT-2 (tied, biases, LayerNorm) and Llama (GQA, untied, RMSNorm).
 */
import { describe, expect, it } from 'vitest';
import { loadModelIR } from '../arch/load';
import { dirSource } from '../cli/dir-source';
import type { Linear, ModelIR, Norm } from '../core/ir';
import type { Tensor } from '../core/tensor';
import { createNodeRunner } from '../runtime/ort-node';
import { logProb, referenceForward } from '../test-util/forward';
import { cloneIR } from '../test-util/graph-run';
import { fixtureDir } from '../test-util/model-fixtures';
import { makeCalibrationSet } from './calibrate';
import { collectNvitGradients, hiddenChannelSums, nvitGraph } from './nvit-grad';
import { feedsFor, maskFeeds } from './calibrate';
import { onesMasks } from './criteria/ablation';
import { nextTokenWeights } from './gradients';
import { weightFeeds } from '../graph/weight-inputs';

const runner = createNodeRunner({ threads: 1 });
const SEQ = 8;
const IDS = Array.from({ length: 2 * SEQ }, (_, i) => (i * 37 + 11) % 300);

function scaleColumn(t: Tensor | undefined, c: number, a: number) {
  if (!t) return;
  const cols = t.shape[1]!;
  for (let r = 0; r < t.shape[0]!; r++) t.data[r * cols + c]! *= a;
}
function scaleRow(lin: Linear, c: number, a: number) {
  const cols = lin.weight.shape[1]!;
  for (let j = 0; j < cols; j++) lin.weight.data[c * cols + j]! *= a;
  if (lin.bias) lin.bias.data[c]! *= a;
}
function scaleNorm(n: Norm, c: number, a: number) {
  n.weight.data[c]! *= a;
  if (n.bias) n.bias.data[c]! *= a;
}

/** A copy with every weight touching residual channel c scaled by a. */
function scaledChannel(ir: ModelIR, c: number, a: number): ModelIR {
  const out = cloneIR(ir);
  const w = out.weights;
  scaleColumn(w.tokenEmbedding, c, a);
  scaleColumn(w.positionEmbedding, c, a);
  scaleColumn(w.lmHead, c, a);
  scaleNorm(w.finalNorm, c, a);
  for (const l of w.layers) {
    scaleNorm(l.attnNorm, c, a);
    scaleNorm(l.mlpNorm, c, a);
    for (const lin of [l.q, l.k, l.v, l.up, l.gate]) if (lin) scaleColumn(lin.weight, c, a);
    scaleRow(l.o, c, a);
    scaleRow(l.down, c, a);
  }
  return out;
}

/** Mean next-token NLL of one sequence over positions 0..seq-2, float64. */
function loss(ir: ModelIR, ids: readonly number[]): number {
  const { logits } = referenceForward(ir, ids);
  let s = 0;
  for (let t = 0; t < ids.length - 1; t++) s -= logProb(logits[t]!, ids[t + 1]!);
  return s / (ids.length - 1);
}

describe('NViT embedding-channel saliency vs finite differences', () => {
  it.each(['tiny/gpt2-sharded', 'tiny/llama-gqa-bf16'])(
    '%s',
    async (repo) => {
      const { ir } = await loadModelIR(dirSource(fixtureDir(repo)));
      const set = makeCalibrationSet(IDS, 'ids', 2, SEQ);
      const session = await runner.open(nvitGraph(ir));
      try {
        const L = ir.layers.length;
        const H = ir.layers[0]!.numHeads;
        const F = ir.layers[0]!.ffnSize;
        const seq0 = set.sequences[0]!;
        const out = await session.run({
          ...maskFeeds(onesMasks(L, H, F), L, H, F),
          ...weightFeeds(ir, session.inputNames),
          ...feedsFor([seq0], SEQ),
          ...nextTokenWeights(1, SEQ),
        });
        const sums = hiddenChannelSums(ir, out);
        const eps = 1e-3;
        const fd = Array.from({ length: ir.spec.hiddenSize }, (_, c) => {
          return (loss(scaledChannel(ir, c, 1 + eps), seq0) - loss(scaledChannel(ir, c, 1 - eps), seq0)) / (2 * eps);
        });
        const scale = Math.max(...fd.map(Math.abs));
        expect(scale).toBeGreaterThan(1e-3);
        fd.forEach((e, c) => expect(Math.abs(sums[c]! - e), `channel ${c}: ${sums[c]} vs ${e}`).toBeLessThan(2e-3 * scale));

        const acc = await collectNvitGradients(ir, session, set);
        expect(acc.batches).toBe(2);
        expect(acc.hidden[0]).toBeGreaterThanOrEqual(sums[0]! * sums[0]! * (1 - 1e-6));
        expect(acc.heads.every((v) => v >= 0) && acc.heads.some((v) => v > 0)).toBe(true);
      } finally {
        await session.release();
      }
    },
    120_000,
  );
});
