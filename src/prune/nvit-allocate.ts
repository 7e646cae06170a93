/**
 * NViT's global allocation: one ranking over kv groups (heads), FFN neurons and hidden (embedding)
 * channels by their NViT scores (saliency/criteria/nvit.ts: normalised per type, latency-adjusted),
 * removing the lowest-scored unit first until a fraction of the parameters or forward FLOPs is gone.
 * Guard rails: a layer keeps at least one kv group and one FFN neuron, the model at least one
 * hidden channel. A kv group's score is the sum of its query heads' scores (pitfall 4 of the
 * methods brief). NViT prunes iteratively with fine-tuning in between; this is its one-shot ranking.
 */
import { InputError } from '../core/errors';
import type { LayerShape, ModelIR } from '../core/ir';
import { emptyPlan, type PruningPlan } from '../core/plan';
import type { UnitScores } from '../saliency/types';
import { defaultCostSeq, forwardFlops } from './cost';

export interface NvitTarget {
  metric: 'parameters' | 'flops';
  /** Fraction (0..1) of the metric to remove. */
  fraction: number;
  /** Context length of the FLOP count (default: 128 tokens, a ViT's 1 + patches; prune/cost.ts defaultCostSeq). */
  seq?: number;
}

type Unit = { kind: 'group' | 'ffn' | 'hidden'; layer: number; index: number; score: number };

/** Weights of the embeddings, LM head and block projections (biases and norms left out). */
export function structuralParameters(ir: ModelIR, layers: readonly LayerShape[], d: number): number {
  const { headDim: dh, vocabSize: V, gatedMlp, tiedEmbeddings, maxPositions, positions } = ir.spec;
  let n = V * d * (tiedEmbeddings && !ir.weights.lmHead ? 1 : 2) + (positions === 'learned' ? maxPositions * d : 0);
  for (const l of layers) n += d * dh * (2 * l.numHeads + 2 * l.numKvHeads) + d * l.ffnSize * (gatedMlp ? 3 : 2);
  return n;
}

function rankedUnits(ir: ModelIR, s: UnitScores): Unit[] {
  if (!s.heads || !s.ffn || !s.hidden) throw new InputError('NViT allocation needs head, FFN and hidden-channel scores (criterion nvit).');
  const units: Unit[] = [];
  ir.layers.forEach((shape, l) => {
    const group = shape.numHeads / shape.numKvHeads;
    for (let g = 0; g < shape.numKvHeads; g++) {
      let score = 0;
      for (let h = g * group; h < (g + 1) * group; h++) score += s.heads![l * s.numHeads + h]!;
      units.push({ kind: 'group', layer: l, index: g, score });
    }
    for (let j = 0; j < shape.ffnSize; j++) units.push({ kind: 'ffn', layer: l, index: j, score: s.ffn![l * s.ffnSize + j]! });
  });
  s.hidden.forEach((score, c) => units.push({ kind: 'hidden', layer: -1, index: c, score }));
  return units.sort((a, b) => a.score - b.score);
}

/** The plan removing the lowest-ranked units until `target.fraction` of the metric is removed. */
export function nvitGlobalPlan(ir: ModelIR, scores: UnitScores, target: NvitTarget, name = 'nvit-global'): PruningPlan {
  if (!(target.fraction >= 0 && target.fraction < 1))
    throw new InputError(`The NViT target must be a fraction in [0, 1), got ${target.fraction}.`);
  const seq = target.seq ?? defaultCostSeq(ir.spec);
  const shapes = ir.layers.map((l) => ({ ...l }));
  let d = ir.spec.hiddenSize;
  const measure = () =>
    target.metric === 'flops' ? forwardFlops({ ...ir.spec, hiddenSize: d }, shapes, seq) : structuralParameters(ir, shapes, d);
  const dense = measure();
  const plan = emptyPlan(ir, name);
  const removedHidden: number[] = [];
  for (const u of rankedUnits(ir, scores)) {
    if (measure() <= dense * (1 - target.fraction)) break;
    if (u.kind === 'hidden') {
      if (d <= 1) continue;
      d--;
      removedHidden.push(u.index);
      continue;
    }
    const shape = shapes[u.layer]!;
    const entry = plan.layers[u.layer]!;
    if (u.kind === 'ffn') {
      if (shape.ffnSize <= 1) continue;
      shape.ffnSize--;
      entry.removedFfn.push(u.index);
    } else {
      if (shape.numKvHeads <= 1) continue;
      const group = shape.numHeads / shape.numKvHeads;
      shape.numHeads -= group;
      shape.numKvHeads--;
      for (let h = u.index * group; h < (u.index + 1) * group; h++) entry.removedHeads.push(h);
    }
  }
  for (const l of plan.layers) {
    l.removedHeads.sort((a, b) => a - b);
    l.removedFfn.sort((a, b) => a - b);
  }
  if (removedHidden.length) plan.removedHidden = removedHidden.sort((a, b) => a - b);
  const achieved = 1 - measure() / dense;
  plan.derivation = {
    criterion: scores.criterion,
    allocation: 'nvit-global',
    targets: {
      heads: 1 - shapes.reduce((a, l) => a + l.numHeads, 0) / ir.layers.reduce((a, l) => a + l.numHeads, 0),
      ffn: 1 - shapes.reduce((a, l) => a + l.ffnSize, 0) / ir.layers.reduce((a, l) => a + l.ffnSize, 0),
      layers: 0,
    },
    global: { metric: target.metric, fraction: target.fraction, achieved },
  };
  return plan;
}
