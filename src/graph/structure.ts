/**
 * The block-structure flags of an ArchSpec (core/ir.ts `BlockStructure`, declared by each family
 * adapter) that this builder implements. `checkStructure` runs before anything is built, so a
 * flag value a family declares but graph/ lacks (an encoder's bidirectional attention, post-norm
 * blocks) is refused by name rather than built as something else; the builders that read a flag
 * (embedding.ts, block.ts, head.ts, norms.ts) refuse it the same way.
 */
import { UnsupportedModelError } from '../core/errors';
import type { ArchSpec, BlockStructure } from '../core/ir';

type Buildable = { readonly [K in keyof BlockStructure]: readonly BlockStructure[K][] };

export const BUILDABLE: Buildable = {
  attention: ['causal'],
  normPlacement: ['pre'],
  norm: ['layernorm', 'rmsnorm'],
  positions: ['learned', 'rotary'],
  gatedMlp: [false, true],
  head: ['lm'],
};

export function unsupportedStructure(spec: ArchSpec, flag: keyof BlockStructure): UnsupportedModelError {
  return new UnsupportedModelError(
    `The ${spec.family} family declares ${flag} ${JSON.stringify(spec[flag])}, which the graph builder does not implement (implemented: ${BUILDABLE[flag].join(', ')}).`,
    'Only causal, pre-norm decoders with an LM head can be built so far.',
  );
}

export function checkStructure(spec: ArchSpec): void {
  for (const flag of Object.keys(BUILDABLE) as (keyof BlockStructure)[]) {
    if (!(BUILDABLE[flag] as readonly unknown[]).includes(spec[flag])) throw unsupportedStructure(spec, flag);
  }
}
