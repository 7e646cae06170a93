/**
 * The ArchSpec of a walked ONNX decoder (import.ts): its norms, MLP kind and position scheme matched
 * against the families the importer is given, which must agree on one structure.
 */
import { UnsupportedModelError } from '../../core/errors';
import type { ArchSpec, BlockStructure, Family, PositionKind } from '../../core/ir';
import { OnnxStructureError } from './errors';
import type { NormMatch } from './norm';

/** A family the importer may recognise (arch/registry.ts passes its adapters): the first with the graph's structure wins. */
export interface ImportableFamily {
  readonly family: Family;
  /** The first names the imported model_type. */
  readonly modelTypes: readonly string[];
  readonly structure: BlockStructure;
}

export interface SpecInput {
  name: string;
  d: number;
  vocab: number;
  norms: NormMatch[];
  meta: { activation?: string; rotary?: number; headDim?: number; tableRows?: number };
  posRows: number | undefined;
  gated: boolean;
  layers: number;
  families: readonly ImportableFamily[];
}

/** What the walk above recognises regardless of the model: pre-norm causal blocks and an LM head. */
const WALKED = { attention: 'causal', normPlacement: 'pre', head: 'lm' } as const;
const STRUCTURE_KEYS = ['attention', 'normPlacement', 'norm', 'positions', 'gatedMlp', 'head'] as const;

export function sameStructure(a: BlockStructure, b: BlockStructure): boolean {
  return STRUCTURE_KEYS.every((k) => a[k] === b[k]);
}

export function specOf(s: SpecInput): Omit<ArchSpec, 'tiedEmbeddings'> {
  const kinds = new Set(s.norms.map((n) => n.kind));
  if (kinds.size !== 1) throw new OnnxStructureError('the layers mix LayerNorm and RMSNorm.');
  const normKind = s.norms[0]!.kind;
  const rotary = s.meta.rotary !== undefined;
  // Exactly one position scheme: rotary inside attention, or a learned table added to the embedding.
  const positions: PositionKind | undefined = rotary === (s.posRows !== undefined) ? undefined : rotary ? 'rotary' : 'learned';
  const structure: BlockStructure | undefined = positions && { ...WALKED, norm: normKind, positions, gatedMlp: s.gated };
  const family = structure && s.families.find((f) => sameStructure(f.structure, structure));
  if (!structure || !family) {
    throw new UnsupportedModelError(
      `The ONNX decoder combines ${normKind}, ${s.gated ? 'a gated' : 'a plain'} MLP and ${rotary ? 'rotary' : s.posRows ? 'learned' : 'no'} positions, which is none of the families ${s.families.map((f) => f.family).join(', ')}.`,
    );
  }
  return {
    ...structure,
    family: family.family,
    modelType: family.modelTypes[0] ?? family.family,
    numLayers: s.layers,
    hiddenSize: s.d,
    headDim: s.meta.headDim ?? 0,
    vocabSize: s.vocab,
    maxPositions: s.posRows ?? s.meta.tableRows ?? 2048,
    normEps: s.norms[0]!.eps,
    // No layer with an MLP: the family's usual activation (never applied).
    activation: (s.meta.activation ?? (s.gated ? 'silu' : 'gelu_new')) as ArchSpec['activation'],
    ...(rotary ? { ropeTheta: s.meta.rotary! } : {}),
  };
}
