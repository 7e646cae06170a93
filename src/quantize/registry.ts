/**
 * Quantization variant -> method (like the criteria and compensation registries). Adding a variant:
 * one file under methods/ and one line here.
 */
import { InputError } from '../core/errors';
import { fp16 } from './methods/fp16';
import { int4Gptq } from './methods/int4-gptq';
import { int4Rtn } from './methods/int4-rtn';
import { int8 } from './methods/int8';
import type { QuantMethod, QuantVariant } from './types';

export const QUANT_METHODS: readonly QuantMethod[] = [fp16, int8, int4Rtn, int4Gptq];
export const QUANT_VARIANTS: QuantVariant[] = QUANT_METHODS.map((m) => m.name);

export function quantMethod(name: string): QuantMethod {
  const m = QUANT_METHODS.find((x) => x.name === name);
  if (!m) throw new InputError(`Unknown quantization variant "${name}".`, `Variants: ${QUANT_VARIANTS.join(', ')}.`);
  return m;
}
