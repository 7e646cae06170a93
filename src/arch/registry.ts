/**
 * model_type -> family adapter. Adding a family = one adapter file + one line in ADAPTERS
 * (+ its config keys in io/hf-config.ts) + one fixture.
 */
import { UnsupportedModelError } from '../core/errors';
import type { ArchSpec } from '../core/ir';
import type { FamilyAdapter } from './adapter';
import { gpt2Adapter } from './gpt2';
import { llamaAdapter } from './llama';

const ADAPTERS: readonly FamilyAdapter[] = [gpt2Adapter, llamaAdapter];

/** The model_type values that can be loaded end to end. */
export function supportedModelTypes(): string[] {
  return ADAPTERS.flatMap((a) => [...a.modelTypes]);
}

/** The adapter for a spec: by model_type first, then by family (e.g. an IR built by hand). */
export function adapterFor(spec: Pick<ArchSpec, 'family' | 'modelType'>): FamilyAdapter {
  const a = ADAPTERS.find((x) => x.modelTypes.includes(spec.modelType)) ?? ADAPTERS.find((x) => x.family === spec.family);
  if (!a) {
    throw new UnsupportedModelError(
      `model_type "${spec.modelType}" (${spec.family} family) has no adapter yet; loadable model types: ${supportedModelTypes().join(', ')}.`,
    );
  }
  return a;
}
