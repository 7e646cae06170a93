/**
 * The block-structure flags of an ArchSpec (core/ir.ts `BlockStructure`, declared by each family
 * adapter) that this builder implements. `checkStructure` runs before anything is built, so a
 * flag value a family declares but graph/ lacks (post-norm blocks) is refused by name rather than
 * built as something else; the builders that read a flag (embedding.ts, patches.ts, block.ts,
 * head.ts, norms.ts) refuse it the same way. Optional flags are checked at their default.
 */
import { UnsupportedModelError } from '../core/errors';
import type { ArchSpec, BlockStructure } from '../core/ir';

type Buildable = { readonly [K in keyof BlockStructure]-?: readonly NonNullable<BlockStructure[K]>[] };

export const BUILDABLE: Buildable = {
  attention: ['causal', 'bidirectional'],
  normPlacement: ['pre'],
  norm: ['layernorm', 'rmsnorm'],
  positions: ['learned', 'rotary'],
  gatedMlp: [false, true],
  head: ['lm', 'classifier'],
  input: ['tokens', 'patches'],
  pooling: ['cls', 'mean'],
};

/** The value of a flag, optional ones at their default (input: tokens, pooling: cls). */
export function structureFlag<K extends keyof BlockStructure>(spec: BlockStructure, flag: K): NonNullable<BlockStructure[K]> {
  const defaults: Pick<Required<BlockStructure>, 'input' | 'pooling'> = { input: 'tokens', pooling: 'cls' };
  const v = spec[flag] ?? (defaults as Partial<Required<BlockStructure>>)[flag];
  return v as NonNullable<BlockStructure[K]>;
}

export function unsupportedStructure(spec: ArchSpec, flag: keyof BlockStructure): UnsupportedModelError {
  return new UnsupportedModelError(
    `The ${spec.family} family declares ${flag} ${JSON.stringify(structureFlag(spec, flag))}, which the graph builder does not implement (implemented: ${BUILDABLE[flag].join(', ')}).`,
    'Only pre-norm Transformers (causal decoders with an LM head, ViT-style encoders with a classifier) can be built so far.',
  );
}

export function checkStructure(spec: ArchSpec): void {
  for (const flag of Object.keys(BUILDABLE) as (keyof BlockStructure)[]) {
    if (!(BUILDABLE[flag] as readonly unknown[]).includes(structureFlag(spec, flag))) throw unsupportedStructure(spec, flag);
  }
  const patches = structureFlag(spec, 'input') === 'patches';
  if (patches && (spec.head !== 'classifier' || spec.attention !== 'bidirectional' || spec.positions !== 'learned'))
    throw new UnsupportedModelError(
      `The ${spec.family} family reads image patches with ${spec.attention} attention, ${spec.positions} positions and an ${spec.head} head; patch input is built only as a ViT (bidirectional, learned positions, classifier head).`,
    );
  if (!patches && spec.attention === 'bidirectional' && spec.head === 'lm')
    throw new UnsupportedModelError(
      `The ${spec.family} family declares bidirectional attention with an LM head; a token encoder is not built yet.`,
    );
}
