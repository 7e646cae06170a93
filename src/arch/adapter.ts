/**
 * The family adapter contract: checkpoint tensor names <-> the canonical ModelIR. One adapter per
 * architecture family (gpt2.ts, later llama.ts), registered in registry.ts by model_type.
 * `fromTensors` validates every tensor it takes (shape against config.json, finite values);
 * `toTensors` is the inverse mapping, in the checkpoint's own names and layout, for export.
 */
import type { ArchSpec, Family, LayerShape, ModelIR } from '../core/ir';
import type { Tensor } from '../core/tensor';

/** Returns a checkpoint tensor as float32 by its exact name, or undefined when the checkpoint lacks it. */
export type TensorGetter = (name: string) => Tensor | undefined;

export interface FamilyAdapter {
  readonly family: Family;
  /** config.json model_type values this adapter reads, e.g. ['llama', 'qwen2', 'mistral']. */
  readonly modelTypes: readonly string[];
  /** Checkpoint tensors that are not weights (buffers such as GPT-2's causal mask) and may stay unread. */
  readonly ignoredTensors?: RegExp;
  /**
   * Builds the IR. `name` is the model's display name; `files` describes where the tensors come
   * from (e.g. "/models/demo-gpt2/model.safetensors") for error messages.
   */
  fromTensors(spec: ArchSpec, layers: readonly LayerShape[], get: TensorGetter, name: string, files?: string): ModelIR;
  /** The inverse mapping: tensors under the checkpoint's own names and layout. */
  toTensors(ir: ModelIR): Record<string, Tensor>;
}
