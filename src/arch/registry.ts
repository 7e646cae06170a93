/** model family -> adapter. Adding a family = one adapter file + one line here (+ config keys in io/hf-config.ts). */
import type { Family } from '../core/ir';
import { UnsupportedModelError } from '../core/errors';
import type { FamilyAdapter } from './adapter';
import { gpt2Adapter } from './gpt2';

const ADAPTERS: Partial<Record<Family, FamilyAdapter>> = {
  gpt2: gpt2Adapter,
  // llama: llamaAdapter,  (src/arch/llama.ts)
};

export function adapterFor(family: Family): FamilyAdapter {
  const a = ADAPTERS[family];
  if (!a) throw new UnsupportedModelError(`The ${family} family has no adapter yet.`, `Supported: ${Object.keys(ADAPTERS).join(', ')}.`);
  return a;
}
