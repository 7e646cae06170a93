/**
 * The family adapter contract: everything family-specific in one object, so that a family is one
 * file (gpt2.ts, llama.ts, ...) plus one line in registry.ts. An adapter owns
 * - its config.json keys both ways (`readConfig`, `writeConfig`, `layerCountKey`),
 * - its block structure (`structure`: the ArchSpec flags graph/ reads; also how the ONNX importer
 *   recognises the family from a graph),
 * - its checkpoint tensor names both ways: `fromTensors` validates every tensor it takes (shape
 *   against config.json, finite values); `toTensors` is the inverse mapping, in the checkpoint's
 *   own names and layout, for export.
 */
import type { ArchSpec, BlockStructure, Family, LayerShape, ModelIR } from '../core/ir';
import type { Tensor } from '../core/tensor';
import type { ConfigObject, FamilyConfig } from '../io/hf-config';

/** Returns a checkpoint tensor as float32 by its exact name, or undefined when the checkpoint lacks it. */
export type TensorGetter = (name: string) => Tensor | undefined;

export interface FamilyAdapter {
  /** The family id (ArchSpec.family), unique in the registry. */
  readonly family: Family;
  /** config.json model_type values this adapter reads, e.g. ['llama', 'qwen2', 'mistral']; the first names ONNX imports. */
  readonly modelTypes: readonly string[];
  /** The block-structure flags of every spec this adapter reads (graph/ builds from them). */
  readonly structure: BlockStructure;
  /** true when k/v may have fewer heads than q (grouped-query attention); pruned layer shapes are checked accordingly. */
  readonly groupedQuery: boolean;
  /** The config.json key holding the number of layers (the export of a pruned model rewrites it). */
  readonly layerCountKey: string;
  /** Checkpoint tensors that are not weights (buffers such as GPT-2's causal mask) and may stay unread. */
  readonly ignoredTensors?: RegExp;
  /**
   * config.json (model_type is one of `modelTypes`) -> the spec (with `structure` spread in) and one
   * shape per layer; arch/config.ts then applies the per-layer shapes of a pruned model.
   */
  readConfig(config: ConfigObject, modelType: string): FamilyConfig;
  /**
   * A Hugging Face config.json for a model of this family: for an ONNX import that came without
   * one, and the top-level keys of an export whose layers all share one shape (layer 0's shape is
   * written; head_dim explicit where the config class reads it).
   */
  writeConfig(ir: ModelIR): Record<string, unknown>;
  /**
   * Why the family's transformers model class cannot hold this model even with uniform layers
   * (e.g. GPT-2 derives head_dim from n_embd / n_head), or undefined when it can. Optional: absent = can.
   */
  hubIncompatibility?(ir: ModelIR): string | undefined;
  /**
   * Builds the IR. `name` is the model's display name; `files` describes where the tensors come
   * from (e.g. "/models/demo-gpt2/model.safetensors") for error messages.
   */
  fromTensors(spec: ArchSpec, layers: readonly LayerShape[], get: TensorGetter, name: string, files?: string): ModelIR;
  /** The inverse mapping: tensors under the checkpoint's own names and layout. */
  toTensors(ir: ModelIR): Record<string, Tensor>;
}
