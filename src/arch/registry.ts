/**
 * The family registry: model_type -> family adapter. Adding a family = one adapter file + one line
 * in ADAPTERS (+ one fixture). `registerAdapter` adds one at run time (tests use it for a family
 * that exists in the test alone).
 */
import { InputError, UnsupportedModelError } from '../core/errors';
import type { ArchSpec } from '../core/ir';
import type { FamilyAdapter } from './adapter';
import { gpt2Adapter } from './gpt2';
import { llamaAdapter } from './llama';
import { vitAdapter } from './vit';

const ADAPTERS: FamilyAdapter[] = [gpt2Adapter, llamaAdapter, vitAdapter];

/** The registered adapters, in registration order (the first of equal structures names an ONNX import). */
export function adapters(): readonly FamilyAdapter[] {
  return ADAPTERS;
}

/** Adds an adapter; returns the function that removes it again. Family ids and model types must be new. */
export function registerAdapter(adapter: FamilyAdapter): () => void {
  const clash = ADAPTERS.find((a) => a.family === adapter.family || a.modelTypes.some((t) => adapter.modelTypes.includes(t)));
  if (clash)
    throw new InputError(`The ${adapter.family} adapter clashes with the registered ${clash.family} adapter (family id or model_type).`);
  ADAPTERS.push(adapter);
  return () => {
    const i = ADAPTERS.indexOf(adapter);
    if (i >= 0) ADAPTERS.splice(i, 1);
  };
}

/** The model_type values that can be loaded end to end. */
export function supportedModelTypes(): string[] {
  return ADAPTERS.flatMap((a) => [...a.modelTypes]);
}

/** The adapter reading a config.json model_type, or undefined. */
export function adapterForModelType(modelType: string): FamilyAdapter | undefined {
  return ADAPTERS.find((a) => a.modelTypes.includes(modelType));
}

/** The adapter for a spec: by model_type first, then by family (e.g. an IR built by hand). */
export function adapterFor(spec: Pick<ArchSpec, 'family' | 'modelType'>): FamilyAdapter {
  const a = adapterForModelType(spec.modelType) ?? ADAPTERS.find((x) => x.family === spec.family);
  if (!a) {
    throw new UnsupportedModelError(
      `model_type "${spec.modelType}" (${spec.family} family) has no adapter yet; loadable model types: ${supportedModelTypes().join(', ')}.`,
    );
  }
  return a;
}
