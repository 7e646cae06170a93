/**
 * Hugging Face config.json -> ArchSpec + per-layer shapes, dispatched by model_type through the
 * family registry: the family's adapter reads its own keys (`readConfig`), then the per-layer
 * shapes of a config written by Prune Studio for a pruned model (`prune_studio.layers`) are
 * honoured (io/hf-config.ts). Structural fields are required; the rest take the defaults of the
 * transformers config classes.
 */
import { ConfigError, UnsupportedModelError } from '../core/errors';
import { describeJson, isObject, withPrunedLayers, type NormalizedConfig } from '../io/hf-config';
import { adapterForModelType, supportedModelTypes } from './registry';
import type { ModelShape } from '../core/model-shape';
import { bytesPerWeight } from '../io/memory-budget';

export type { NormalizedConfig } from '../io/hf-config';

export function normalizeConfig(raw: unknown): NormalizedConfig {
  if (!isObject(raw)) throw new ConfigError(`config.json must be a JSON object, got ${describeJson(raw)}.`);
  const modelType = raw.model_type;
  if (modelType === undefined)
    throw new ConfigError('config.json has no "model_type".', `Supported model types: ${supportedModelTypes().join(', ')}.`);
  const adapter = typeof modelType === 'string' ? adapterForModelType(modelType) : undefined;
  if (!adapter || typeof modelType !== 'string') {
    throw new UnsupportedModelError(
      `model_type ${JSON.stringify(modelType)} is not supported; supported model types: ${supportedModelTypes().join(', ')}.`,
    );
  }
  return withPrunedLayers(raw, adapter.readConfig(raw, modelType), adapter.groupedQuery);
}

/** A model's shapes and stored element size from its config.json (the memory preflight's input). */
export function shapeFromConfig(config: unknown): ModelShape {
  const { spec, layers } = normalizeConfig(config);
  return { spec, layers, storedBytesPerWeight: bytesPerWeight(config) };
}
