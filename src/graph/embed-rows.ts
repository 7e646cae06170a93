/**
 * The embedding of graph/embedding.ts `embed` computed in JS: the residual stream entering block 0
 * for input ids [rows, len] is the token embedding's rows (+ the learned position embedding's rows
 * 0..len-1 when the spec has learned positions: GPT-2; Llama/Qwen take the token rows alone). One
 * float32 addition per value, as the graph's Add does, so the result is bitwise the graph's (negative
 * ids count from the end, as Gather's indices do). Block-wise
 * runs (block-run.ts) feed it as hidden_in to block 0, so the vocabulary matrix is not copied into
 * onnxruntime-web's wasm heap for block 0 as well as for the head.
 */
import { InputError, ShapeMismatchError } from '../core/errors';
import { tokenEmbeddingOf, type ModelIR } from '../core/ir';
import type { RunnerTensor } from '../core/runner';
import { isSpilled, tensorRows, type ScratchBuffer } from '../core/weight-residency';

/** float32 [rows, len, hidden]: the embedded stream of `ids` (int64 [rows, len], row-major). */
export function embedRows(ir: ModelIR, ids: RunnerTensor, rows: number, len: number): Float32Array {
  const d = ir.spec.hiddenSize;
  const vocab = ir.spec.vocabSize;
  const table = tokenEmbeddingOf(ir);
  // a spilled table is read a row at a time (tensorRows: not made resident), a plain one viewed
  const te = isSpilled(table) ? undefined : table.data;
  const scratch: ScratchBuffer = {};
  const rowOf = (id: number) => (te ? te.subarray(id * d, id * d + d) : tensorRows(table, id, id + 1, scratch));
  const pe = ir.spec.positions === 'learned' ? ir.weights.positionEmbedding?.data : undefined;
  if (ids.data.length !== rows * len) throw new ShapeMismatchError(`embedRows: ${ids.data.length} ids for ${rows} x ${len}.`);
  if (pe && pe.length < len * d) throw new ShapeMismatchError(`embedRows: ${len} positions exceed the position embedding.`);
  const out = new Float32Array(rows * len * d);
  for (let i = 0; i < rows * len; i++) {
    // ONNX Gather semantics: an index in [-vocab, 0) counts from the end.
    const raw = Number(ids.data[i]);
    const id = raw < 0 ? raw + vocab : raw;
    if (!(Number.isInteger(id) && id >= 0 && id < vocab))
      throw new InputError(
        `Token id ${raw} is outside the vocabulary of ${vocab} tokens.`,
        'Keep token ids below the vocabulary size (the tokenizer must match the model).',
      );
    const row = rowOf(id);
    if (!pe) {
      out.set(row, i * d);
      continue;
    }
    const p = (i % len) * d;
    for (let j = 0; j < d; j++) out[i * d + j] = row[j]! + pe[p + j]!;
  }
  return out;
}
