/**
 * Hugging Face config.json: the family-independent part. Typed readers of config values (with the
 * errors a user can act on), the transformers activation names, and the per-layer shapes a config
 * written by Prune Studio for a pruned model carries under `prune_studio.layers` (and a pruned
 * hidden size under `prune_studio.hidden_size`, which overrides the family's own key).
 * Each family's own keys are read by its adapter (src/arch/<family>.ts, `readConfig`); the
 * model_type dispatch is src/arch/config.ts (`normalizeConfig`).
 */
import { ConfigError, UnsupportedModelError } from '../core/errors';
import type { Activation, ArchSpec, LayerShape } from '../core/ir';

/** transformers ACT2FN names -> IR activation (gelu_pytorch_tanh and gelu_fast are the tanh form). */
export const ACTIVATIONS: Readonly<Record<string, Activation>> = {
  gelu_new: 'gelu_new',
  gelu_pytorch_tanh: 'gelu_new',
  gelu_fast: 'gelu_new',
  gelu: 'gelu',
  silu: 'silu',
  swish: 'silu',
  relu: 'relu',
};

export interface NormalizedConfig {
  spec: ArchSpec;
  /** One shape per layer present in the checkpoint. */
  layers: LayerShape[];
  /** Original index of each layer (identity unless the config describes a pruned model). */
  originalLayerIndex: number[];
}

/** A parsed config.json object. */
export type ConfigObject = Record<string, unknown>;
/** What a family adapter reads from config.json: the spec and one (uniform) shape per layer. */
export type FamilyConfig = Omit<NormalizedConfig, 'originalLayerIndex'>;

/** Per-layer shapes of a pruned model (`prune_studio.layers`, written by api/model-card.ts). */
export function withPrunedLayers(c: ConfigObject, family: FamilyConfig, groupedQuery: boolean): NormalizedConfig {
  const ps = c.prune_studio;
  const base =
    isObject(ps) && ps.hidden_size !== undefined
      ? { ...family, spec: { ...family.spec, hiddenSize: positiveInt(ps, 'hidden_size') } }
      : family;
  const identity = base.layers.map((_, i) => i);
  if (!isObject(ps) || ps.layers === undefined) return { ...base, originalLayerIndex: identity };
  if (!Array.isArray(ps.layers) || ps.layers.length !== base.spec.numLayers) {
    throw new ConfigError(`prune_studio.layers must list one entry per layer (${base.spec.numLayers}).`);
  }
  const layers: LayerShape[] = [];
  const originalLayerIndex: number[] = [];
  ps.layers.forEach((entry: unknown, i) => {
    const where = `prune_studio.layers[${i}]`;
    if (!isObject(entry)) throw new ConfigError(`${where} must be an object.`);
    const numHeads = nonNegativeInt(entry, 'num_heads', where);
    const numKvHeads = nonNegativeInt(entry, 'num_kv_heads', where);
    const ffnSize = nonNegativeInt(entry, 'ffn_size', where);
    if (groupedQuery ? (numKvHeads === 0 ? numHeads !== 0 : numHeads % numKvHeads !== 0) : numKvHeads !== numHeads) {
      throw new ConfigError(`${where}: ${numKvHeads} key/value heads do not fit ${numHeads} query heads.`);
    }
    const orig = nonNegativeInt(entry, 'original_index', where);
    if (orig <= (originalLayerIndex.at(-1) ?? -1)) throw new ConfigError(`${where}: original_index ${orig} is not increasing.`);
    layers.push({ numHeads, numKvHeads, ffnSize });
    originalLayerIndex.push(orig);
  });
  return { spec: base.spec, layers, originalLayerIndex };
}

/** More layers than any released decoder; a config beyond it is refused before per-layer shapes are allocated. */
export const MAX_CONFIG_LAYERS = 4096;

export function uniform(n: number, shape: LayerShape): LayerShape[] {
  if (n > MAX_CONFIG_LAYERS) throw new ConfigError(`config.json states ${n} layers; Prune Studio reads at most ${MAX_CONFIG_LAYERS}.`);
  return Array.from({ length: n }, () => ({ ...shape }));
}

export function dividedHeadDim(hidden: number, heads: number, hiddenKey: string, headsKey: string): number {
  if (hidden % heads !== 0) {
    throw new ConfigError(`${hiddenKey} (${hidden}) is not divisible by ${headsKey} (${heads}), and no head_dim is given.`);
  }
  return hidden / heads;
}

export function positiveInt(c: ConfigObject, key: string): number {
  const v = c[key];
  if (v === undefined || v === null) throw new ConfigError(`config.json is missing "${key}".`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw new ConfigError(`config.json "${key}" must be a positive integer, got ${JSON.stringify(v)}.`);
  }
  return v;
}

function nonNegativeInt(c: ConfigObject, key: string, where: string): number {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
    throw new ConfigError(`${where}.${key} must be a non-negative integer, got ${JSON.stringify(v)}.`);
  }
  return v;
}

/** A positive integer, or `fallback()` when the key is absent or null. */
export function positiveIntOr(c: ConfigObject, key: string, fallback: () => number): number {
  return c[key] === undefined || c[key] === null ? fallback() : positiveInt(c, key);
}

export function positiveNumber(c: ConfigObject, key: string, fallback: number): number {
  const v = c[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new ConfigError(`config.json "${key}" must be a positive number, got ${JSON.stringify(v)}.`);
  }
  return v;
}

export function bool(c: ConfigObject, key: string, fallback: boolean): boolean {
  const v = c[key] ?? fallback;
  if (typeof v !== 'boolean') throw new ConfigError(`config.json "${key}" must be true or false, got ${JSON.stringify(v)}.`);
  return v;
}

export function activation(c: ConfigObject, key: string, fallback: string): Activation {
  const name = c[key] ?? fallback;
  const a = typeof name === 'string' && Object.hasOwn(ACTIVATIONS, name) ? ACTIVATIONS[name] : undefined;
  if (!a) {
    throw new UnsupportedModelError(
      `Activation ${JSON.stringify(name)} (${key}) is not supported; supported: ${Object.keys(ACTIVATIONS).join(', ')}.`,
    );
  }
  return a;
}

export function isObject(v: unknown): v is ConfigObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** "null", "an array", "a string", ...: what a JSON value is, for error messages. */
export function describeJson(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : `a ${typeof v}`;
}
