/**
 * SlimGPT (Ling et al., 2024): layer-wise structured pruning with OBS, calibrated sequentially.
 * For each layer in order, on the current model (earlier layers already pruned and compensated):
 *   1. H of the output projection's inputs → greedy grouped-Cholesky removal of heads (kv groups
 *      under GQA) with the OBS update of W_o (slimgpt-obs.ts);
 *   2. H of the down projection's inputs, taken again with this layer's heads pruned → dynamic
 *      group-size removal of FFN channels with the OBS update of W_down;
 * so each layer's statistics see the pruned outputs of the layers before it. Per-layer counts come
 * from the uniform or SlimGPT log-increase (incremental) ratio, with the allocation's rounding and
 * guard rails (a layer keeps one unit; locked layers are untouched). The engine that runs the model
 * is injected, so this module stays pure.
 */
import { InputError, throwIfAborted } from '../core/errors';
import type { LayerWeights, Linear, ModelIR } from '../core/ir';
import type { PruningPlan } from '../core/plan';
import { tensor } from '../core/tensor';
import { stoppable, type ProgressCallback } from '../core/job';
import { gemmThreadStats } from '../core/gemm-threads';
import type { MaskSet } from '../saliency/types';
import { getAllocation, removalCount, type Allocation } from './allocate';
import { floorCount, ratioCap } from './allocation/select';
import { masksToPlan, onesMaskSet } from './iterative';
import { obsState, type ObsState } from './obs-update';
import { removeChannelsDynamic, removeGroupsGreedy } from './slimgpt-obs';

/** The allocations that are per-layer ratio schedules (allocation/*.ts `layerRatios`). */
export const SLIMGPT_ALLOCATIONS = ['uniform', 'incremental'] as const satisfies readonly Allocation[];
export type SlimGptAllocation = (typeof SLIMGPT_ALLOCATIONS)[number];

export interface SlimGptOptions {
  /** Fraction of heads (kv groups) and of FFN channels to remove (mean over layers). */
  heads: number;
  ffn: number;
  allocation: SlimGptAllocation;
  locked?: readonly number[];
  /** Floor: every layer keeps at least this fraction of its FFN channels (default 0.05) and one kv group. */
  minFfnShare?: number;
}

export interface SlimGptEngine {
  /**
   * H = 2XᵀX/N_seq of layer `layer`'s o ('attn') or down ('ffn') projection inputs, on (ir weights,
   * masks): the matrix, or a function that makes it afresh on each call (then H⁻¹ is computed in the
   * array it makes: one n x n float64 array per layer instead of two).
   */
  hessian(ir: ModelIR, masks: MaskSet, layer: number, kind: 'attn' | 'ffn'): Promise<Float64Array | (() => Float64Array)>;
  now(): number;
}

export interface SlimGptLayerRecord {
  layer: number;
  /** Heads removed, in the order the greedy search picked their groups. */
  headOrder: number[];
  /** Grouped-Cholesky error of each picked group when it was picked. */
  headErrors: number[];
  removedHeads: number[];
  ffnGroups: number[];
  removedFfn: number[];
  attnDamping: number;
  ffnDamping: number;
  ms: number;
  /** Threads the layer's float64 algebra ran on (1, or 1 + helpers when its products were split: core/gemm-threads.ts). */
  threads: number;
}

export interface SlimGptHooks {
  signal?: AbortSignal;
  onProgress?: ProgressCallback;
  onLayer?: (r: SlimGptLayerRecord) => void;
  /** A finished layer's weights (its compensated projections final: SlimGPT never changes a layer again). */
  onLayerWeights?: (layer: number, weights: LayerWeights) => void;
}

export function validateSlimGpt(opts: SlimGptOptions): void {
  if (!(opts.heads >= 0 && opts.heads < 1) || !(opts.ffn >= 0 && opts.ffn < 1))
    throw new InputError(`SlimGPT targets must be fractions in [0, 1), got heads ${opts.heads} and FFN ${opts.ffn}.`);
  if (!SLIMGPT_ALLOCATIONS.includes(opts.allocation))
    throw new InputError(`SlimGPT allocation must be uniform or incremental, got ${JSON.stringify(opts.allocation)}.`);
}

/** Per layer: kv groups and FFN channels to remove. */
export function slimGptCounts(ir: ModelIR, opts: SlimGptOptions): { groups: number[]; ffn: number[] } {
  const L = ir.layers.length;
  const schedule = getAllocation(opts.allocation).layerRatios!;
  const share = opts.minFfnShare;
  // Capped at the tightest layer's floor, so the schedule redistributes what a layer cannot take.
  const cap = (kind: 'head' | 'ffn') =>
    Math.min(...ir.layers.map((s) => ratioCap(kind, kind === 'head' ? s.numKvHeads : s.ffnSize, share)));
  const hr = schedule(L, opts.heads, cap('head'));
  const fr = schedule(L, opts.ffn, cap('ffn'));
  const locked = new Set(opts.locked ?? []);
  return {
    groups: ir.layers.map((s, l) => (locked.has(l) ? 0 : removalCount(hr[l]!, s.numKvHeads, floorCount('head', s.numKvHeads)))),
    ffn: ir.layers.map((s, l) => (locked.has(l) ? 0 : removalCount(fr[l]!, s.ffnSize, floorCount('ffn', s.ffnSize, share)))),
  };
}

function toLinear(lin: Linear, st: ObsState): Linear {
  return { ...lin, weight: tensor(lin.weight.shape, Float32Array.from(st.w)) };
}

function withLayer(ir: ModelIR, l: number, patch: Partial<LayerWeights>): ModelIR {
  const layers = ir.weights.layers.map((lw, i) => (i === l ? { ...lw, ...patch } : lw));
  return { ...ir, weights: { ...ir.weights, layers } };
}

function stateOf(lin: Linear, hessian: Float64Array | (() => Float64Array)): ObsState {
  const [rows = 0, n = 0] = lin.weight.shape;
  return obsState(lin.weight.data, rows, n, hessian);
}

/** Runs SlimGPT; returns the compensated full-size model, the final masks, the plan and per-layer records. */
export async function slimGptPrune(
  ir0: ModelIR,
  opts: SlimGptOptions,
  engine: SlimGptEngine,
  hooks: SlimGptHooks = {},
): Promise<{ ir: ModelIR; masks: MaskSet; plan: PruningPlan; layers: SlimGptLayerRecord[] }> {
  validateSlimGpt(opts);
  const counts = slimGptCounts(ir0, opts);
  // every compensated projection is a new tensor (toLinear; the OBS state works on its own float64 copy): no private copies up front
  let ir = ir0;
  const masks = onesMaskSet(ir0);
  const H = ir0.layers[0]?.numHeads ?? 0;
  const F = ir0.layers[0]?.ffnSize ?? 0;
  const records: SlimGptLayerRecord[] = [];
  const L = ir0.layers.length;
  for (let l = 0; l < L; l++) {
    const t0 = engine.now();
    const split0 = gemmThreadStats().threadedCalls;
    const shape = ir0.layers[l]!;
    const record: SlimGptLayerRecord = {
      layer: l,
      headOrder: [],
      headErrors: [],
      removedHeads: [],
      ffnGroups: [],
      removedFfn: [],
      attnDamping: NaN,
      ffnDamping: NaN,
      ms: 0,
      threads: 1,
    };
    const step = (what: string, done: number) =>
      hooks.onProgress?.({ stage: 'slimgpt', done: 2 * l + done, total: 2 * L, message: `Layer ${l + 1}/${L}: ${what}` });
    if (counts.groups[l]! > 0) {
      throwIfAborted(hooks.signal, 'SlimGPT');
      step(`heads (${counts.groups[l]} of ${shape.numKvHeads} groups)`, 0);
      const hA = await engine.hessian(ir, masks, l, 'attn');
      const st = stoppable(hooks, 'SlimGPT', () => stateOf(ir.weights.layers[l]!.o, hA));
      const g = shape.numHeads / shape.numKvHeads;
      const picked = stoppable(hooks, 'SlimGPT', () =>
        removeGroupsGreedy(st, g * ir0.spec.headDim, counts.groups[l]!, () => {
          step(`heads (${counts.groups[l]} of ${shape.numKvHeads} groups)`, 0);
          throwIfAborted(hooks.signal, 'SlimGPT');
        }),
      );
      record.headOrder = picked.order.flatMap((k) => Array.from({ length: g }, (_, j) => k * g + j));
      record.headErrors = picked.errors;
      record.removedHeads = [...record.headOrder].sort((a, b) => a - b);
      record.attnDamping = st.damping;
      ir = withLayer(ir, l, { o: toLinear(ir.weights.layers[l]!.o, st) });
      for (const h of record.removedHeads) masks.heads[l * H + h] = 0;
    }
    if (counts.ffn[l]! > 0) {
      throwIfAborted(hooks.signal, 'SlimGPT');
      step(`FFN channels (${counts.ffn[l]} of ${shape.ffnSize})`, 1);
      const hF = await engine.hessian(ir, masks, l, 'ffn');
      const st = stoppable(hooks, 'SlimGPT', () => stateOf(ir.weights.layers[l]!.down, hF));
      const removed = stoppable(hooks, 'SlimGPT', () =>
        removeChannelsDynamic(st, counts.ffn[l]!, () => {
          step(`FFN channels (${counts.ffn[l]} of ${shape.ffnSize})`, 1);
          throwIfAborted(hooks.signal, 'SlimGPT');
        }),
      );
      record.removedFfn = removed.removed;
      record.ffnGroups = removed.groups;
      record.ffnDamping = st.damping;
      ir = withLayer(ir, l, { down: toLinear(ir.weights.layers[l]!.down, st) });
      for (const j of record.removedFfn) masks.ffn[l * F + j] = 0;
    }
    record.ms = engine.now() - t0;
    const threads = gemmThreadStats();
    if (threads.threadedCalls > split0) record.threads = threads.helpers + 1;
    records.push(record);
    hooks.onLayerWeights?.(l, ir.weights.layers[l]!);
    hooks.onLayer?.(record);
  }
  hooks.onProgress?.({ stage: 'slimgpt', done: 2 * L, total: 2 * L, message: 'SlimGPT done' });
  return { ir, masks, plan: masksToPlan(ir0, masks, 'slimgpt'), layers: records };
}
