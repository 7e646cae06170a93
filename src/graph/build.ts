/**
 * buildOnnx: ModelIR -> ONNX bytes (opset 17, float32, dynamic batch and sequence), following the
 * graph contract in options.ts: logits, optional mask inputs, activation taps and per-token loss.
 * Works for dense and pruned models (layers may differ in heads / FFN width or lose a sublayer).
 */
import type { ModelIR } from '../core/ir';
import { encodeModel, OnnxGraphBuilder, type ModelProto } from '../io/onnx';
import { causalMaskOf, embed, positionsOf } from './embedding';
import { decoderBlock } from './block';
import { resolveOptions, type GraphContext } from './context';
import { lmHead, tokenNll } from './head';
import type { GraphOptions } from './options';
import { rotaryTablesOf } from './rotary';
import { addMaskInputs, tap, tapNames, type TapRecord } from './taps';
import { validateForGraph } from './validate';

export const PRODUCER = 'prune-studio';
export const PRODUCER_VERSION = '0.1.0';

/** Builds the ModelProto (useful for inspection); `buildOnnx` encodes it. */
export function buildModelProto(ir: ModelIR, options: GraphOptions = {}): ModelProto {
  validateForGraph(ir, options);
  const opts = resolveOptions(options);
  const b = new OnnxGraphBuilder(ir.name);
  const { spec } = ir;
  const inputIds = b.addInput('input_ids', 'int64', ['batch', 'seq']);
  const labels = opts.tokenLoss ? b.addInput('labels', 'int64', ['batch', 'seq']) : undefined;
  const masks = opts.masks ? addMaskInputs(b, ir) : undefined;
  const positions = positionsOf(b, inputIds);
  const ctx: GraphContext = {
    b,
    ir,
    opts,
    inputIds,
    positions,
    causalMask: causalMaskOf(b, positions),
    masks,
    rotary: spec.positions === 'rotary' ? rotaryTablesOf(b, ir, positions) : undefined,
  };
  const taps: TapRecord[] = [];
  const tokenEmbedding = b.addInitializer('token_embedding', ir.weights.tokenEmbedding);
  let h = embed(ctx, tokenEmbedding);
  ir.layers.forEach((_, l) => {
    h = decoderBlock(ctx, taps, h, l);
  });
  tap(ctx, taps, h, tapNames.hidden(ir.layers.length), spec.hiddenSize);
  if (opts.logits || opts.tokenLoss) {
    const logits = lmHead(ctx, h, tokenEmbedding, opts.logits ? 'logits' : undefined);
    if (opts.logits) b.addOutput('logits', 'float32', ['batch', 'seq', spec.vocabSize]);
    if (labels) b.addOutput(tokenNll(ctx, logits, labels, 'token_nll'), 'float32', ['batch', 'seq']);
  }
  for (const t of taps) b.addOutput(t.name, 'float32', t.dims);
  return b.toModel({
    opset: opts.opset,
    producer: PRODUCER,
    producerVersion: PRODUCER_VERSION,
    docString: `${ir.name}: ${spec.modelType} decoder, ${ir.layers.length} layers, built by Prune Studio`,
    metadata: {
      'prune_studio.model': ir.name,
      'prune_studio.layers': JSON.stringify(ir.layers),
      'prune_studio.original_layer_index': JSON.stringify(ir.originalLayerIndex),
      'prune_studio.options': JSON.stringify(opts),
    },
  });
}

export function buildOnnx(ir: ModelIR, options: GraphOptions = {}): Uint8Array {
  return encodeModel(buildModelProto(ir, options));
}
