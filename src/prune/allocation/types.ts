/**
 * The allocation contract: a strategy picks, from importance scores and targets, which kv groups
 * (heads) and FFN neurons each active layer loses. allocate.ts removes whole layers, applies the
 * guard rails and builds the PruningPlan around it. One file per strategy next to this one, listed
 * in registry.ts.
 */
import type { ModelIR } from '../../core/ir';
import type { UnitScores } from '../../saliency/types';
import type { MethodInfo } from '../method';

/** Targets of an allocation (AllocationRequest without the strategy name). */
export interface AllocationTargets {
  /** Fraction of heads to remove (0..1). */
  heads: number;
  /** Fraction of FFN neurons to remove (0..1). */
  ffn: number;
  /** Whole layers to remove (count). */
  layers: number;
  /** Per-layer overrides of the head / FFN fractions (uniform-style within that layer). */
  overrides?: Record<number, { heads?: number; ffn?: number }>;
  /** Layers that are never touched. */
  locked?: number[];
  /** Floor: every layer keeps at least this fraction of its FFN neurons (default 0.05; at least one). */
  minFfnShare?: number;
  /** Latency allocation: measured cost per kv group and per neuron (any unit, e.g. ms); default FLOPs per token. */
  unitCost?: { kvGroup: number; neuron: number };
}

export type UnitKind = 'head' | 'ffn';

/** A selectable unit: a kv group (index within the layer's groups) or an FFN neuron. */
export interface Unit {
  layer: number;
  index: number;
  score: number;
  cost: number;
  kind: UnitKind;
}

/** `${kind}:${layer}` -> indices of the kv groups / neurons removed there. */
export type Selections = Map<string, number[]>;

export interface AllocationInput {
  ir: ModelIR;
  req: AllocationTargets;
  headScores: UnitScores | null;
  ffnScores: UnitScores | null;
  /** Layers that may lose units: not locked, not removed whole. */
  active: number[];
  /** The selectable units of the active layers, with their cost (measured, else FLOPs per token). */
  units(scores: UnitScores | null, kind: UnitKind): Unit[];
}

export interface AllocationStrategy extends MethodInfo {
  apply(input: AllocationInput): Selections;
  /**
   * For per-layer ratio schedules (uniform, incremental): the L ratios with the given mean, none above
   * `cap` (a layer's floor), redistributing what a capped layer cannot take; SlimGPT uses them too.
   */
  layerRatios?(L: number, mean: number, cap?: number): number[];
}
