/**
 * The "with past" decoder graph for generation with a KV cache, in the Optimum / transformers.js
 * layout (names exact):
 *   inputs   input_ids                 int64   [batch, seq]
 *            attention_mask            int64   [batch, past_seq + seq]   1 = attend, 0 = padding
 *            position_ids              int64   [batch, seq]              learned: rows of the position
 *                                              table; rotary: the angle's position
 *            past_key_values.N.key     float32 [batch, K_N, past_seq, headDim]   for every layer N
 *            past_key_values.N.value   float32 [batch, K_N, past_seq, headDim]
 *   outputs  logits                    float32 [batch, seq, vocab]
 *            present.N.key / .value    float32 [batch, K_N, past_seq + seq, headDim]
 * K_N is layer N's kv-head count (not repeated under GQA; 0 for a layer without attention, whose
 * present is all-empty and whose past is ignored). Keys are stored after rotary, as Hugging Face does.
 * One graph serves the prefill (past_seq = 0) and the one-token steps. Query i attends key j when
 * j <= past_seq + i and attention_mask[j] = 1. The blocks are the ones of build.ts; attention.ts
 * only calls the KvCacheHooks below.
 *
 * Dimension names are Optimum's (DIMS): transformers.js 4.x sizes the empty pasts of the first step
 * from the graph's declared input shapes, so each layer gets its own K_N (exporters/onnx.ts writes this graph).
 * `widerEmptyPast`: for runtimes that size every empty past [batch, H, 0, headDim] with one kv-head
 * count H from config.json (transformers.js 3.x). With this option a past's head axis is
 * symbolic and each layer reads its first K_N heads, so a pruned model whose layers hold fewer (and
 * different numbers of) kv heads accepts those; from the first step on it is fed its own presents.
 */
import { tokenEmbeddingOf } from '../core/ir';
import type { ModelIR } from '../core/ir';
import { encodeModel, OnnxGraphBuilder, type ModelProto } from '../io/onnx';
import { decoderBlock } from './block';
import { PRODUCER, PRODUCER_VERSION } from './build';
import { MASKED_SCORE, resolveOptions, vocabularyWeight, type GraphContext, type KvCacheHooks } from './context';
import { weightInputIndex } from './weight-inputs';
import { embed } from './embedding';
import { lmHead } from './head';
import { rotaryTablesOf } from './rotary';
import { validateForGraph } from './validate';

export const kvNames = {
  pastKey: (l: number) => `past_key_values.${l}.key`,
  pastValue: (l: number) => `past_key_values.${l}.value`,
  presentKey: (l: number) => `present.${l}.key`,
  presentValue: (l: number) => `present.${l}.value`,
};

/**
 * Symbolic dimension names, Optimum's. transformers.js (4.x, `addPastKeyValues`) builds the empty
 * past of the first step from the graph's input metadata: numeric dims as declared (so each layer's
 * own K_N), `batch_size` as the batch, any other symbol as 0 (`past_sequence_length`).
 */
export const DIMS = {
  batch: 'batch_size',
  seq: 'sequence_length',
  past: 'past_sequence_length',
  total: 'total_sequence_length',
} as const;

export interface KvCacheGraphOptions {
  /** ONNX opset for the default domain; 17 unless stated. */
  opset?: number;
  /** Past head axes symbolic (`past_kv_heads.N`), sliced to the layer's K_N: empty pasts may be wider (see header). */
  widerEmptyPast?: boolean;
  /**
   * 'inputs': the IR's weights as graph inputs (graph/weight-inputs.ts names and layout) instead of
   * initializers, for sessions that supply them (graph/external-weights.ts); the exporters keep the default.
   */
  weights?: 'initializers' | 'inputs';
}

/** kv heads held in layer l's cache (0 when the layer has no attention). */
export function cacheHeads(ir: ModelIR, l: number): number {
  const shape = ir.layers[l]!;
  return shape.numHeads === 0 ? 0 : shape.numKvHeads;
}

/** int64 scalar: dimension `axis` of `x`. */
function dimOf(b: OnnxGraphBuilder, x: string, axis: number, name: string): string {
  return b.op('Gather', [b.op('Shape', [x], undefined, `${name}/shape`), b.constInt64([axis], [])], { axis: 0 }, name);
}

/**
 * float32 [batch, 1, seq, total] additive mask: MASKED_SCORE where the key is in the future of the
 * query (j > past + i) or is padding (attention_mask = 0), else 0.
 */
function cacheMaskOf(b: OnnxGraphBuilder, inputIds: string, attentionMask: string): string {
  const seq = dimOf(b, inputIds, 1, 'kv_mask/seq');
  const total = dimOf(b, attentionMask, 1, 'kv_mask/total');
  const one = b.constInt64([1], []);
  const past = b.op('Sub', [total, seq], undefined, 'kv_mask/past');
  const queries = b.op('Range', [past, total, one], undefined, 'kv_mask/query_positions');
  const keys = b.op('Range', [b.constInt64([0], []), total, one], undefined, 'kv_mask/key_positions');
  const rows = b.op('Unsqueeze', [queries, b.constInt64([1])], undefined, 'kv_mask/rows');
  const cols = b.op('Unsqueeze', [keys, b.constInt64([0])], undefined, 'kv_mask/cols');
  const future = b.op('Greater', [cols, rows], undefined, 'kv_mask/future');
  const padded = b.op('Equal', [attentionMask, b.constInt64([0], [])], undefined, 'kv_mask/padding');
  const padded4 = b.op('Unsqueeze', [padded, b.constInt64([1, 2])], undefined, 'kv_mask/padding_4d');
  const masked = b.op('Or', [future, padded4], undefined, 'kv_mask/masked');
  return b.op('Where', [masked, b.constFloat([MASKED_SCORE], []), b.constFloat([0], [])], undefined, 'kv_mask');
}

/** Rotary cos/sin [batch, 1, seq, headDim] at position_ids (the tables of rotary.ts, gathered per row). */
function cacheRotary(b: OnnxGraphBuilder, ir: ModelIR, inputIds: string, positionIds: string): { cos: string; sin: string } {
  const flat = b.op('Reshape', [positionIds, b.constInt64([-1])], undefined, 'rope/flat_positions');
  const tables = rotaryTablesOf(b, ir, flat);
  const shape = b.op(
    'Concat',
    [b.op('Shape', [inputIds], undefined, 'rope/ids_shape'), b.constInt64([ir.spec.headDim])],
    { axis: 0 },
    'rope/table_shape',
  );
  const perRow = (t: string, what: string) =>
    b.op('Unsqueeze', [b.op('Reshape', [t, shape], undefined, `rope/${what}_rows`), b.constInt64([1])], undefined, `rope/${what}_4d`);
  return { cos: perRow(tables.cos, 'cos'), sin: perRow(tables.sin, 'sin') };
}

function cacheHooks(b: OnnxGraphBuilder, ir: ModelIR, mask: string, widerEmptyPast: boolean): KvCacheHooks {
  const heads = (past: string, l: number) =>
    widerEmptyPast
      ? b.op('Slice', [past, b.constInt64([0]), b.constInt64([cacheHeads(ir, l)]), b.constInt64([1])], undefined, `${past}/heads`)
      : past;
  const join = (past: string, now: string, out: string, l: number) =>
    b.node('Concat', [heads(past, l), now], { attrs: { axis: 2 }, outputs: [out], name: `layer${l}/attn/${out}` })[0]!;
  return {
    extend: (l, k, v) => [join(kvNames.pastKey(l), k, kvNames.presentKey(l), l), join(kvNames.pastValue(l), v, kvNames.presentValue(l), l)],
    groupedMask: b.op('Unsqueeze', [mask, b.constInt64([1])], undefined, 'kv_mask/grouped'),
  };
}

/** present.l.* of a layer without attention: zeros of shape [batch, 0, past_seq + seq, headDim]. */
function emptyPresents(b: OnnxGraphBuilder, ir: ModelIR, l: number, inputIds: string, attentionMask: string): void {
  const shape = b.op(
    'Concat',
    [
      b.op('Slice', [b.op('Shape', [inputIds]), b.constInt64([0]), b.constInt64([1])], undefined, `layer${l}/kv_empty/batch`),
      b.constInt64([0]),
      b.op('Slice', [b.op('Shape', [attentionMask]), b.constInt64([1]), b.constInt64([2])], undefined, `layer${l}/kv_empty/total`),
      b.constInt64([ir.spec.headDim]),
    ],
    { axis: 0 },
    `layer${l}/kv_empty/shape`,
  );
  for (const out of [kvNames.presentKey(l), kvNames.presentValue(l)]) b.node('ConstantOfShape', [shape], { outputs: [out], name: out });
}

/** Builds the with-past ModelProto (see the header for the contract). */
export function buildKvCacheProto(ir: ModelIR, options: KvCacheGraphOptions = {}, b = new OnnxGraphBuilder(ir.name)): ModelProto {
  validateForGraph(ir, { opset: options.opset });
  const opts = resolveOptions({ logits: true, opset: options.opset, ...(options.weights === 'inputs' ? { weights: 'inputs' } : {}) });
  const { spec } = ir;
  const dh = spec.headDim;
  const inputIds = b.addInput('input_ids', 'int64', [DIMS.batch, DIMS.seq]);
  const attentionMask = b.addInput('attention_mask', 'int64', [DIMS.batch, DIMS.total]);
  const positionIds = b.addInput('position_ids', 'int64', [DIMS.batch, DIMS.seq]);
  ir.layers.forEach((_, l) => {
    const K = options.widerEmptyPast ? `past_kv_heads.${l}` : cacheHeads(ir, l);
    b.addInput(kvNames.pastKey(l), 'float32', [DIMS.batch, K, DIMS.past, dh]);
    b.addInput(kvNames.pastValue(l), 'float32', [DIMS.batch, K, DIMS.past, dh]);
  });
  const mask = cacheMaskOf(b, inputIds, attentionMask);
  const ctx: GraphContext = {
    b,
    ir,
    opts,
    inputIds,
    positions: positionIds,
    attentionMask: mask,
    masks: undefined,
    rotary: spec.positions === 'rotary' ? cacheRotary(b, ir, inputIds, positionIds) : undefined,
    kvCache: cacheHooks(b, ir, mask, options.widerEmptyPast ?? false),
    ...(options.weights === 'inputs' ? { weightIndex: weightInputIndex(ir) } : {}),
  };
  const te = tokenEmbeddingOf(ir);
  const tokenEmbedding = vocabularyWeight(ctx, 'token_embedding', te);
  let h = embed(ctx, tokenEmbedding);
  ir.layers.forEach((_, l) => {
    h = decoderBlock(ctx, [], h, l);
    if (cacheHeads(ir, l) === 0) emptyPresents(b, ir, l, inputIds, attentionMask);
  });
  lmHead(ctx, h, tokenEmbedding, 'logits');
  b.addOutput('logits', 'float32', [DIMS.batch, DIMS.seq, spec.vocabSize]);
  ir.layers.forEach((_, l) => {
    const dims = [DIMS.batch, cacheHeads(ir, l), DIMS.total, dh];
    b.addOutput(kvNames.presentKey(l), 'float32', dims);
    b.addOutput(kvNames.presentValue(l), 'float32', dims);
  });
  return b.toModel({
    opset: opts.opset,
    producer: PRODUCER,
    producerVersion: PRODUCER_VERSION,
    docString: `${ir.name}: ${spec.modelType} decoder with past keys/values, ${ir.layers.length} layers, built by Prune Studio`,
    metadata: {
      'prune_studio.model': ir.name,
      'prune_studio.layers': JSON.stringify(ir.layers),
      'prune_studio.original_layer_index': JSON.stringify(ir.originalLayerIndex),
      'prune_studio.options': JSON.stringify({
        kvCache: true,
        opset: opts.opset,
        ...(options.widerEmptyPast ? { widerEmptyPast: true } : {}),
      }),
      'prune_studio.kv_heads': JSON.stringify(ir.layers.map((_, l) => cacheHeads(ir, l))),
    },
  });
}

/** The with-past graph's bytes; its fused / transposed weights go straight into them (no whole copy held). */
export function buildKvCacheOnnx(ir: ModelIR, options: KvCacheGraphOptions = {}): Uint8Array {
  const b = new OnnxGraphBuilder(ir.name, { deferWeights: true });
  return encodeModel(buildKvCacheProto(ir, options, b), b.deferredWeights);
}
