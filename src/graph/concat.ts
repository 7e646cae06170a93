/**
 * Concat of any number of inputs as nodes of at most MAX_CONCAT_INPUTS inputs each.
 * onnxruntime-web's WebGPU Concat binds every input and its output as storage buffers of one shader,
 * and WebGPU's default limit (which onnxruntime-web asks for) is 8 per stage: a 12-input Concat (the
 * packed Gram of a 3,072-wide FFN, graph/taps.ts) failed pipeline validation on an NVIDIA H200 and
 * left its output unwritten. More inputs are joined in even groups, then the groups: the same values,
 * since concatenation along one axis is associative.
 */
import type { OnnxGraphBuilder } from '../io/onnx';

export const MAX_CONCAT_INPUTS = 7;

/** Concatenates `parts` along `axis` into `output` (or a fresh name); returns the result's name. */
export function boundedConcat(b: OnnxGraphBuilder, parts: readonly string[], axis: number, name: string, output?: string): string {
  if (parts.length <= MAX_CONCAT_INPUTS) {
    const opts = { attrs: { axis }, name, ...(output ? { outputs: [output] } : {}) };
    return b.node('Concat', parts, opts)[0]!;
  }
  const groupCount = Math.ceil(parts.length / MAX_CONCAT_INPUTS);
  const size = Math.ceil(parts.length / groupCount);
  const groups: string[] = [];
  for (let i = 0; i < parts.length; i += size)
    groups.push(boundedConcat(b, parts.slice(i, i + size), axis, `${name}/group${groups.length}`));
  return boundedConcat(b, groups, axis, name, output);
}
