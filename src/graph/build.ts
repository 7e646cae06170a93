/**
 * buildOnnx: ModelIR -> ONNX bytes (opset 17, float32, dynamic batch and sequence), following the
 * graph contract in options.ts: logits, optional mask inputs, activation taps and per-token loss.
 * Patch-input classifiers (ViT) take pixel_values and give logits [batch, labels] (patches.ts, head.ts).
 * Works for dense and pruned models (layers may differ in heads / FFN width or lose a sublayer).
 * With `gradients`, the forward graph gets a scalar loss and src/graph/grad appends its reverse-mode
 * gradient (mask and/or weight gradients as extra outputs).
 */
import { tokenEmbeddingOf, type ModelIR } from '../core/ir';
import { encodeModel, OnnxGraphBuilder, type Dim, type ModelProto } from '../io/onnx';
import { attentionMaskOf, embed, positionsOf } from './embedding';
import { decoderBlock } from './block';
import { reduceLast, resolveOptions, vocabularyWeight, type GraphContext } from './context';
import { chunkedTokenNll, classifierHead, lmHead, scoredTail, tokenLossParts, tokenNll, usesChunkedLoss } from './head';
import { addPixelInput, embedPatches } from './patches';
import type { GraphOptions } from './options';
import { unsupportedStructure } from './structure';
import { rotaryTablesOf } from './rotary';
import { addMaskInputs, tap, tapNames, type TapRecord } from './taps';
import { validateForGraph } from './validate';
import { appendGradients } from './grad/autodiff';
import { distillLoss, gradientTargets, LOSS, LOSS_WEIGHTS, seededStreamLoss, weightedMeanLoss } from './grad/loss';
import { weightInputIndex } from './weight-inputs';

export const PRODUCER = 'prune-studio';
export const PRODUCER_VERSION = '0.1.0';

/** Options recorded in the metadata; the newer ones only when set, so older graphs keep their exact bytes. */
function metadataOptions(opts: ReturnType<typeof resolveOptions>): Record<string, unknown> {
  const { weightInputs, gradients, grams, gramsOf, weights, attentionProbs, distill, layerRange, lossFrom, lossParts, logitsMax, ...rest } =
    opts;
  return {
    ...rest,
    ...(logitsMax ? { logitsMax } : {}),
    ...(gramsOf ? { gramsOf } : {}),
    ...(layerRange ? { layerRange } : {}),
    ...(grams ? { grams } : {}),
    ...(attentionProbs ? { attentionProbs } : {}),
    ...(weightInputs ? { weightInputs } : {}),
    ...(gradients ? { gradients } : {}),
    ...(weights === 'inputs' ? { weights } : {}),
    ...(distill ? { distill } : {}),
    ...(lossFrom ? { lossFrom } : {}),
    ...(lossParts ? { lossParts } : {}),
  };
}

/** Builds the ModelProto (useful for inspection); `buildOnnx` encodes it. */
export function buildModelProto(ir: ModelIR, options: GraphOptions = {}, b = new OnnxGraphBuilder(ir.name)): ModelProto {
  validateForGraph(ir, options);
  const opts = resolveOptions(options);
  const { spec } = ir;
  const patches = spec.input === 'patches';
  const classifier = spec.head === 'classifier';
  const L = ir.layers.length;
  const range = opts.layerRange ?? { from: 0, to: L };
  if (patches && (range.from !== 0 || range.to !== L)) throw unsupportedStructure(spec, 'input');
  const withHead = range.to === L && range.head !== false;
  const pixels = patches ? addPixelInput(b, ir) : undefined;
  const inputIds = pixels?.pixels ?? b.addInput('input_ids', 'int64', ['batch', 'seq']);
  // A classifier scores one label per image (sequence), an LM one per position.
  const perItem: Dim[] = classifier ? ['batch'] : ['batch', 'seq'];
  const labels = withHead && (opts.tokenLoss || opts.gradients) ? b.addInput('labels', 'int64', perItem) : undefined;
  const lossWeights = opts.gradients && withHead ? b.addInput(LOSS_WEIGHTS, 'float32', perItem) : undefined;
  const masks = opts.masks ? addMaskInputs(b, ir) : undefined;
  const positions = pixels ? '' : positionsOf(b, inputIds);
  const ctx: GraphContext = {
    b,
    ir,
    opts,
    inputIds,
    positions,
    attentionMask: pixels ? undefined : attentionMaskOf(b, positions, spec),
    masks,
    rotary: spec.positions === 'rotary' && !pixels ? rotaryTablesOf(b, ir, positions) : undefined,
    ...(pixels ? { streamShape: pixels.streamShape } : {}),
    ...(opts.weights === 'inputs' ? { weightIndex: weightInputIndex(ir) } : {}),
  };
  const taps: TapRecord[] = [];
  // Declared where the embedding or the (tied) head first needs it, so a middle range of blocks holds no vocabulary matrix.
  let embedding: string | undefined;
  const tokenEmbedding = () => {
    if (embedding === undefined) {
      const te = tokenEmbeddingOf(ir);
      embedding = vocabularyWeight(ctx, 'token_embedding', te);
    }
    return embedding;
  };
  let h = pixels
    ? embedPatches(ctx, pixels.batch)
    : range.from === 0 && !range.embedded
      ? embed(ctx, tokenEmbedding())
      : b.addInput('hidden_in', 'float32', ['batch', 'seq', spec.hiddenSize]);
  for (let l = range.from; l < range.to; l++) h = decoderBlock(ctx, taps, h, l);
  tap(ctx, taps, h, tapNames.hidden(range.to), spec.hiddenSize);
  // A range that stops before the head always gives the residual stream it leaves (block-by-block perplexity).
  if (!withHead && !opts.taps) {
    b.node('Identity', [h], { outputs: [tapNames.hidden(range.to)], name: `out/${tapNames.hidden(range.to)}` });
    b.addOutput(tapNames.hidden(range.to), 'float32', ['batch', 'seq', spec.hiddenSize]);
  }
  if (!withHead && opts.gradients) b.addOutput(seededStreamLoss(ctx, h), 'float32', []);
  if (withHead && labels && opts.lossFrom) {
    const tail = scoredTail(ctx, h, labels);
    const nll = usesChunkedLoss(ctx)
      ? chunkedTokenNll(tail.ctx, tail.h, tokenEmbedding, tail.labels, 'token_nll')
      : tokenNll(tail.ctx, lmHead(tail.ctx, tail.h, tokenEmbedding, undefined), tail.labels, 'token_nll');
    b.addOutput(nll, 'float32', ['batch', 'scored']);
  } else if (withHead && labels && opts.lossParts) {
    const parts = tokenLossParts(ctx, lmHead(ctx, h, tokenEmbedding, undefined), labels);
    for (const name of parts) b.addOutput(name, 'float32', perItem);
  } else if (withHead && labels && !classifier && usesChunkedLoss(ctx)) {
    b.addOutput(chunkedTokenNll(ctx, h, tokenEmbedding, labels, 'token_nll'), 'float32', ['batch', 'seq']);
  } else if (withHead && (opts.logits || labels)) {
    const out = opts.logits ? 'logits' : undefined;
    const logits = classifier ? classifierHead(ctx, h, out) : lmHead(ctx, h, tokenEmbedding, out);
    if (opts.logits) b.addOutput('logits', 'float32', [...perItem, spec.vocabSize]);
    if (opts.logits && opts.logitsMax) b.addOutput(reduceLast(ctx, 'ReduceMax', logits, 'logits_max'), 'float32', [...perItem, 1]);
    if (labels) {
      const nll = tokenNll(ctx, logits, labels, 'token_nll');
      if (opts.tokenLoss) b.addOutput(nll, 'float32', perItem);
      if (lossWeights)
        b.addOutput(
          opts.distill ? distillLoss(ctx, logits, nll, lossWeights, opts.distill) : weightedMeanLoss(ctx, nll, lossWeights),
          'float32',
          [],
        );
    }
  }
  for (const t of taps) b.addOutput(t.name, 'float32', t.dims);
  const model = b.toModel({
    opset: opts.opset,
    producer: PRODUCER,
    producerVersion: PRODUCER_VERSION,
    docString: `${ir.name}: ${spec.modelType} ${spec.attention === 'causal' ? 'decoder' : 'encoder'}, ${ir.layers.length} layers, built by Prune Studio`,
    metadata: {
      'prune_studio.model': ir.name,
      'prune_studio.layers': JSON.stringify(ir.layers),
      'prune_studio.original_layer_index': JSON.stringify(ir.originalLayerIndex),
      'prune_studio.options': JSON.stringify(metadataOptions(opts)),
    },
  });
  return opts.gradients ? appendGradients(model, { loss: LOSS, wrt: gradientTargets(ir, opts.gradients, opts.weightInputs) }) : model;
}

/** The graph's bytes; its fused / transposed weights go straight into them (no whole copy held; not with gradients, which rewrite the model). */
export function buildOnnx(ir: ModelIR, options: GraphOptions = {}): Uint8Array {
  const b = new OnnxGraphBuilder(ir.name, { deferWeights: !options.gradients });
  return encodeModel(buildModelProto(ir, options, b), b.deferredWeights);
}
