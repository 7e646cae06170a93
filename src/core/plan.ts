/**
 * PruningPlan: a versioned, JSON-serialisable description of what to remove, in the original
 * model's numbering, so any tool can apply it. Parsing validates every field with typed errors.
 */
import { InputError } from './errors';
import type { ModelIR } from './ir';

export const PLAN_VERSION = 1;

export interface PlanLayer {
  index: number;
  removed: boolean;
  removedHeads: number[];
  removedFfn: number[];
}

export interface PlanDerivation {
  criterion: string;
  allocation: string;
  targets: { heads: number; ffn: number; layers: number };
  /** Set when the plan was solved for a fraction of parameters or FLOPs; `achieved` is what it removes. */
  global?: { metric: 'parameters' | 'flops'; fraction: number; achieved: number };
  /** Latency allocation with measured unit costs (else FLOPs per token were the cost). */
  latencyCosts?: { kvGroupMs: number; neuronMs: number; backend: string };
  calibration?: { textName: string; samples: number; seq: number } | undefined;
  /** A compensation name (prune/compensation/registry.ts), e.g. 'none', 'bias', 'obs'. */
  compensation?: string;
}

export interface PruningPlan {
  format: 'prune-studio-plan';
  version: number;
  name: string;
  model: { name: string; numLayers: number; numHeads: number; numKvHeads: number; ffnSize: number; headDim: number };
  layers: PlanLayer[];
  /**
   * Hidden-size (residual-stream) channels removed from every block, the embeddings, every norm
   * and the LM head together (NViT's embedding unit); absent or empty = d_model kept whole.
   */
  removedHidden?: number[];
  derivation?: PlanDerivation;
  createdAt?: string;
}

export function emptyPlan(ir: ModelIR, name = 'dense'): PruningPlan {
  const first = ir.layers[0];
  return {
    format: 'prune-studio-plan',
    version: PLAN_VERSION,
    name,
    model: {
      name: ir.name,
      numLayers: ir.layers.length,
      numHeads: first?.numHeads ?? 0,
      numKvHeads: first?.numKvHeads ?? 0,
      ffnSize: first?.ffnSize ?? 0,
      headDim: ir.spec.headDim,
    },
    layers: ir.layers.map((_, index) => ({ index, removed: false, removedHeads: [], removedFfn: [] })),
  };
}

function intList(v: unknown, what: string, limit: number): number[] {
  if (!Array.isArray(v)) throw new InputError(`Plan: ${what} must be an array of indices.`);
  const seen = new Set<number>();
  for (const x of v) {
    if (!Number.isInteger(x) || x < 0 || x >= limit) {
      throw new InputError(`Plan: ${what} contains ${JSON.stringify(x)}, outside 0..${limit - 1}.`);
    }
    if (seen.has(x)) throw new InputError(`Plan: ${what} lists ${x} twice.`);
    seen.add(x);
  }
  return [...seen].sort((a, b) => a - b);
}

/** What a raw JSON value is, for messages: "null", "an array", "the string \"1\"", "the number 2". */
function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `the ${typeof v} ${String(v)}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The plan's `model` block against the loaded model: a plan applies only to the shape it was made for. */
function checkPlanModel(raw: unknown, ir: ModelIR): void {
  const hint = 'Plans apply only to the model they were made for; load that model, or make a new plan for this one.';
  if (!isRecord(raw)) throw new InputError(`Plan "model" must be an object describing the model, got ${describeValue(raw)}.`, hint);
  const want = emptyPlan(ir).model;
  const planName = typeof raw.name === 'string' ? raw.name : '?';
  for (const key of ['numLayers', 'numHeads', 'numKvHeads', 'ffnSize'] as const) {
    const got = raw[key];
    if (got === undefined && key === 'numKvHeads') continue;
    if (got !== want[key]) {
      throw new InputError(
        `Plan was made for model "${planName}" with ${key} ${describeValue(got)}, but the loaded model "${ir.name}" has ${key} ${want[key]}.`,
        hint,
      );
    }
  }
}

/**
 * Checks a plan against a model: the JSON shape (every field typed before it is read), the model it
 * was made for (layers, heads, kv heads, FFN width), index ranges, and the guard rails (a layer keeps at
 * least one head and one FFN neuron unless the whole layer is removed; with grouped-query
 * attention, heads leave in whole kv groups).
 */
export function validatePlan(raw: unknown, ir: ModelIR): PruningPlan {
  if (!isRecord(raw) || raw.format !== 'prune-studio-plan') {
    throw new InputError(
      `This file is not a Prune Studio plan (${isRecord(raw) ? 'format "prune-studio-plan" missing' : `it holds ${describeValue(raw)}, not an object`}).`,
      'Load a plan.json saved by Prune Studio.',
    );
  }
  const p = raw as Partial<PruningPlan> & Record<string, unknown>;
  if (p.version !== PLAN_VERSION) {
    throw new InputError(
      typeof p.version === 'number'
        ? `Plan version ${p.version} is not supported (expected ${PLAN_VERSION}).`
        : `Plan version must be the number ${PLAN_VERSION}, got ${describeValue(p.version)}.`,
      'Load a plan.json saved by this version of Prune Studio.',
    );
  }
  if (p.name !== undefined && typeof p.name !== 'string')
    throw new InputError(`Plan "name" must be a string, got ${describeValue(p.name)}.`);
  checkPlanModel(p.model, ir);
  const L = ir.layers.length;
  if (!Array.isArray(p.layers) || p.layers.length !== L) {
    throw new InputError(
      `Plan has ${Array.isArray(p.layers) ? p.layers.length : 'no'} layer entries; the model has ${L} layers.`,
      'Plans apply only to the model they were made for.',
    );
  }
  const layers = p.layers.map((raw, i): PlanLayer => {
    if (!isRecord(raw)) throw new InputError(`Plan layer entry ${i} must be an object, got ${describeValue(raw)}.`);
    const l = raw as Partial<PlanLayer>;
    const shape = ir.layers[i]!;
    if (l.index !== i)
      throw new InputError(`Plan layer entry ${i} has index ${describeValue(l.index)}; entries must be in order 0..${L - 1}.`);
    if (l.removed !== undefined && typeof l.removed !== 'boolean')
      throw new InputError(`Plan layer ${i} "removed" must be true or false, got ${describeValue(l.removed)}.`);
    const removed = l.removed === true;
    const removedHeads = intList(l.removedHeads ?? [], `layer ${i} removedHeads`, shape.numHeads);
    const removedFfn = intList(l.removedFfn ?? [], `layer ${i} removedFfn`, shape.ffnSize);
    if (!removed && removedHeads.length === shape.numHeads) {
      throw new InputError(
        `Plan removes every head of layer ${i} without removing the layer.`,
        'Keep at least one head, or remove the whole layer.',
      );
    }
    if (!removed && removedFfn.length === shape.ffnSize) {
      throw new InputError(
        `Plan removes every FFN neuron of layer ${i} without removing the layer.`,
        'Keep at least one neuron, or remove the whole layer.',
      );
    }
    checkKvGroups(removedHeads, shape.numHeads, shape.numKvHeads, i);
    return { index: i, removed, removedHeads, removedFfn };
  });
  if (layers.every((l) => l.removed)) throw new InputError('Plan removes every layer.', 'Keep at least one layer.');
  const { removedHidden: _raw, ...rest } = p as PruningPlan;
  const removedHidden = validRemovedHidden(p.removedHidden, ir.spec.hiddenSize);
  return { ...rest, layers, ...(removedHidden.length ? { removedHidden } : {}) };
}

/** removedHidden: indices of d_model, at least one channel kept. */
function validRemovedHidden(raw: unknown, hiddenSize: number): number[] {
  if (raw === undefined) return [];
  const removed = intList(raw, 'removedHidden', hiddenSize);
  if (removed.length === hiddenSize)
    throw new InputError('Plan removes every hidden channel.', 'Keep at least one channel of the residual stream.');
  return removed;
}

function checkKvGroups(removedHeads: number[], H: number, K: number, layer: number): void {
  if (K === H) return;
  const group = H / K;
  const removed = new Set(removedHeads);
  for (let g = 0; g < K; g++) {
    const members = Array.from({ length: group }, (_, j) => g * group + j);
    const n = members.filter((h) => removed.has(h)).length;
    if (n !== 0 && n !== group) {
      throw new InputError(
        `Plan removes ${n} of the ${group} query heads sharing kv head ${g} in layer ${layer}.`,
        'With grouped-query attention, remove whole kv groups.',
      );
    }
  }
}

export interface PlanCounts {
  layersRemoved: number;
  headsRemoved: number;
  headsTotal: number;
  ffnRemoved: number;
  ffnTotal: number;
}

export function planCounts(plan: PruningPlan): PlanCounts {
  const { numHeads, ffnSize, numLayers } = plan.model;
  let headsRemoved = 0;
  let ffnRemoved = 0;
  for (const l of plan.layers) {
    headsRemoved += l.removed ? numHeads : l.removedHeads.length;
    ffnRemoved += l.removed ? ffnSize : l.removedFfn.length;
  }
  return {
    layersRemoved: plan.layers.filter((l) => l.removed).length,
    headsRemoved,
    headsTotal: numHeads * numLayers,
    ffnRemoved,
    ffnTotal: ffnSize * numLayers,
  };
}
