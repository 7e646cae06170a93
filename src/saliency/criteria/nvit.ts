/**
 * NViT (Yang et al., "Global Vision Transformer Pruning with Hessian-Aware Saliency", CVPR 2023;
 * NVlabs/NViT `pruning_engine_general.py`, method 23): per unit and calibration batch
 * (Σ_{w∈unit} w·g)², averaged over batches (a rank-one Fisher approximation of the Hessian
 * term), for heads, FFN neurons and hidden (embedding) channels (saliency/nvit-grad.ts), then
 *  1. per-type divisors so the three types compete in one global ranking:
 *     hidden channel / numLayers (a channel's sum runs through every block; NViT's /12 is
 *     DeiT-Base's depth), head / 6 (NViT's fixed constant, kept), FFN neuron / 1;
 *  2. the latency-aware adjustment s' = s − η·ΔLat(unit), ΔLat = the unit's share of the dense
 *     forward FLOPs per token in percent (prune/cost.ts, the studio's cost model), or, once the
 *     person has measured unit latency (api.measureUnitLatency), the unit's share of the measured
 *     dense time, as NViT's latency table (ms) does; η defaults to 5e−4.
 * Scores: heads, ffn and `hidden`; no layer scores.
 */
import { InputError } from '../../core/errors';
import type { ModelIR } from '../../core/ir';
import { defaultCostSeq, forwardFlops, unitCosts } from '../../prune/cost';
import type { NvitGradients } from '../nvit-grad';
import type { Criterion, MeasuredUnitCost, UnitScores } from '../types';
import { emptyScores } from '../units';

export const NVIT_DIVISORS = { head: 6, ffn: 1 } as const;
export const NVIT_ETA = 5e-4;
/**
 * Percent of the dense forward FLOPs per token that one unit of each type costs, priced at `seq`
 * tokens (attention scores grow with it; default 128 tokens, a ViT's 1 + patches).
 */
export function unitLatencyPercent(ir: ModelIR, seq = defaultCostSeq(ir.spec)) {
  const dense = forwardFlops(ir.spec, ir.layers, seq) / seq;
  const costs = unitCosts(ir, seq);
  const narrower = forwardFlops({ ...ir.spec, hiddenSize: ir.spec.hiddenSize - 1 }, ir.layers, seq) / seq;
  return {
    head: (layer: number) => {
      const { numHeads: H, numKvHeads: K } = ir.layers[layer]!;
      return (100 * costs.kvGroup(layer)) / (H / K) / dense;
    },
    ffn: (100 * costs.neuron) / dense,
    hidden: (100 * (dense - narrower)) / dense,
  };
}

/**
 * Percent of the dense pass's measured time one unit costs (NViT's latency table): heads and FFN
 * neurons from the measurement; a hidden channel, which the measurement does not time, keeps its FLOP share.
 */
export function measuredLatencyPercent(ir: ModelIR, measured: MeasuredUnitCost) {
  const flops = unitLatencyPercent(ir);
  if (!(measured.denseMs > 0)) throw new InputError('The measured dense latency must be positive.', 'Measure unit latency again.');
  return {
    head: (layer: number) => {
      const { numHeads: H, numKvHeads: K } = ir.layers[layer]!;
      return (100 * Math.max(0, measured.kvGroupMs)) / (H / K) / measured.denseMs;
    },
    ffn: (100 * Math.max(0, measured.neuronMs)) / measured.denseMs,
    hidden: flops.hidden,
  };
}

/** NViT scores from the per-batch sums: normalised, latency-adjusted (measured table when given, else FLOP shares). */
export function nvitScores(ir: ModelIR, g: NvitGradients, eta = NVIT_ETA, measured?: MeasuredUnitCost): UnitScores {
  if (g.batches === 0) throw new InputError('NViT saliency needs at least one calibration batch.');
  const s = emptyScores(ir, 'nvit', { heads: true, ffn: true });
  const H = s.numHeads;
  const lat = measured ? measuredLatencyPercent(ir, measured) : unitLatencyPercent(ir);
  s.heads!.set(g.heads.map((v, i) => v / g.batches / NVIT_DIVISORS.head - eta * lat.head(Math.floor(i / H))));
  s.ffn!.set(g.ffn.map((v) => v / g.batches / NVIT_DIVISORS.ffn - eta * lat.ffn));
  const L = ir.layers.length;
  s.hidden = g.hidden.map((v) => v / g.batches / L - eta * lat.hidden);
  return s;
}

export const nvit: Criterion = {
  name: 'nvit',
  label: 'NViT (Hessian-aware, latency-aware)',
  plain:
    'Squares each unit’s first-order loss change per batch (a cheap stand-in for curvature), puts heads, FFN neurons and embedding channels on one scale, and discounts units that cost more time.',
  what: 'For every head, FFN neuron and hidden (embedding) channel: the mean over calibration batches of (Σ over the unit’s weights of w·∂L/∂w)², a rank-one Fisher estimate of the loss increase when the unit is removed. Heads and neurons are gated by their masks; an embedding channel takes every weight that reads or writes that channel of the residual stream (embeddings, norms, every projection, the LM head). Per-type divisors (channels / number of layers, heads / 6) make the three types comparable, and s − η·ΔLat subtracts the unit’s share of the forward cost (η = 5e−4, cost in percent of dense FLOPs).',
  cost: 'One forward + backward pass per calibration sequence, with gradients of every weight (about 3 forward passes each).',
  source:
    'Yang et al., 2023, "Global Vision Transformer Pruning with Hessian-Aware Saliency" (NViT), NVlabs/NViT pruning_engine_general.py (method 23); Molchanov et al., 2019 (Taylor / Fisher gate importance).',
  needs: { stats: true, gram: false, maskedLoss: false, gradients: true },
  async compute({ ir, nvitGradients, measuredCost }) {
    if (!nvitGradients) throw new InputError('NViT saliency needs gradients of the calibration loss.', 'Run calibration first.');
    return nvitScores(ir, await nvitGradients(), NVIT_ETA, measuredCost);
  },
};
