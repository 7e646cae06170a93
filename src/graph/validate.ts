/**
 * Checks a ModelIR before building: its block structure is one graph/ implements (structure.ts),
 * every tensor has the shape its spec and layer shapes imply, and the requested options fit the
 * model (masks need uniform layers). Errors name the tensor.
 */
import { InputError, ShapeMismatchError, UnsupportedModelError } from '../core/errors';
import { isUniform, type LayerShape, type LayerWeights, type ModelIR, type Norm } from '../core/ir';
import type { GraphOptions } from './options';
import { checkStructure } from './structure';
import { expectShape } from './weights';

function checkNorm(n: Norm, d: number, what: string, needBias: boolean): void {
  expectShape(n.weight, [d], `${what}.weight`);
  if (n.bias) expectShape(n.bias, [d], `${what}.bias`);
  else if (needBias) throw new ShapeMismatchError(`${what}.bias is missing (LayerNorm needs one).`);
}

function checkLayer(ir: ModelIR, shape: LayerShape, w: LayerWeights, i: number): void {
  const { hiddenSize: d, headDim: dh, gatedMlp } = ir.spec;
  const { numHeads: H, numKvHeads: K, ffnSize: F } = shape;
  const at = `layer ${i}`;
  if (H < 0 || K < 0 || F < 0 || !Number.isInteger(H) || !Number.isInteger(K) || !Number.isInteger(F)) {
    throw new ShapeMismatchError(`${at} has invalid shape ${JSON.stringify(shape)}.`);
  }
  if (H > 0 && (K === 0 || H % K !== 0)) throw new ShapeMismatchError(`${at}: ${H} query heads cannot share ${K} kv heads evenly.`);
  checkNorm(w.attnNorm, d, `${at} attnNorm`, ir.spec.norm === 'layernorm' && H > 0);
  checkNorm(w.mlpNorm, d, `${at} mlpNorm`, ir.spec.norm === 'layernorm' && F > 0);
  if (H > 0) {
    expectShape(w.q.weight, [H * dh, d], `${at} q.weight`);
    expectShape(w.k.weight, [K * dh, d], `${at} k.weight`);
    expectShape(w.v.weight, [K * dh, d], `${at} v.weight`);
    expectShape(w.o.weight, [d, H * dh], `${at} o.weight`);
    if (w.q.bias) expectShape(w.q.bias, [H * dh], `${at} q.bias`);
    if (w.k.bias) expectShape(w.k.bias, [K * dh], `${at} k.bias`);
    if (w.v.bias) expectShape(w.v.bias, [K * dh], `${at} v.bias`);
  }
  if (w.o.bias) expectShape(w.o.bias, [d], `${at} o.bias`);
  if (F > 0) {
    expectShape(w.up.weight, [F, d], `${at} up.weight`);
    if (w.up.bias) expectShape(w.up.bias, [F], `${at} up.bias`);
    if (gatedMlp) {
      expectShape(w.gate?.weight, [F, d], `${at} gate.weight`);
      if (w.gate?.bias) expectShape(w.gate.bias, [F], `${at} gate.bias`);
    }
    expectShape(w.down.weight, [d, F], `${at} down.weight`);
  }
  if (w.down.bias) expectShape(w.down.bias, [d], `${at} down.bias`);
}

/** Image geometry, patch projection [d, C, p, p] + bias, CLS token and 1 + (S/p)² learned positions. */
function checkPatchInput(ir: ModelIR): void {
  const v = ir.spec.vision;
  const d = ir.spec.hiddenSize;
  if (!v) throw new ShapeMismatchError(`${ir.name} reads image patches but has no image geometry (spec.vision).`);
  const { imageSize: S, patchSize: p, numChannels: C } = v;
  if (![S, p, C].every((n) => Number.isInteger(n) && n > 0) || S % p !== 0)
    throw new ShapeMismatchError(`Image size ${S} is not a whole number of ${p}-pixel patches (${C} channels).`);
  const positions = (S / p) ** 2 + 1;
  if (ir.spec.maxPositions !== positions)
    throw new ShapeMismatchError(
      `${ir.name} has ${ir.spec.maxPositions} positions; ${S}x${S} images in ${p}x${p} patches need ${positions} (CLS first).`,
    );
  expectShape(ir.weights.patchEmbedding?.weight, [d, C, p, p], 'patchEmbedding.weight');
  if (ir.weights.patchEmbedding?.bias) expectShape(ir.weights.patchEmbedding.bias, [d], 'patchEmbedding.bias');
  expectShape(ir.weights.clsToken, [d], 'clsToken');
}

export function validateForGraph(ir: ModelIR, options: GraphOptions): void {
  const { spec } = ir;
  checkStructure(spec);
  const L = ir.layers.length;
  if (ir.weights.layers.length !== L)
    throw new ShapeMismatchError(`The model lists ${L} layer shapes but ${ir.weights.layers.length} weight sets.`);
  if (spec.positions === 'rotary' && spec.headDim % 2 !== 0)
    throw new UnsupportedModelError(`Rotary positions need an even head_dim, got ${spec.headDim}.`);
  if (spec.positions === 'learned') expectShape(ir.weights.positionEmbedding, [spec.maxPositions, spec.hiddenSize], 'positionEmbedding');
  if (spec.input === 'patches') checkPatchInput(ir);
  else expectShape(ir.weights.tokenEmbedding, [spec.vocabSize, spec.hiddenSize], 'tokenEmbedding');
  if (!spec.tiedEmbeddings || ir.weights.lmHead || spec.head === 'classifier')
    expectShape(ir.weights.lmHead, [spec.vocabSize, spec.hiddenSize], spec.head === 'classifier' ? 'classifier weight (lmHead)' : 'lmHead');
  if (ir.weights.lmHeadBias) expectShape(ir.weights.lmHeadBias, [spec.vocabSize], 'lmHeadBias');
  checkNorm(ir.weights.finalNorm, spec.hiddenSize, 'finalNorm', spec.norm === 'layernorm');
  ir.layers.forEach((shape, i) => checkLayer(ir, shape, ir.weights.layers[i]!, i));
  if (options.masks && !isUniform(ir)) {
    throw new InputError('Mask inputs need a model whose layers all have the same shape.', 'Build masks on the original (unsliced) model.');
  }
  const opset = options.opset ?? 17;
  if (!Number.isInteger(opset) || opset < 17 || opset > 21) {
    throw new InputError(`ONNX opset ${opset} is not supported; use 17 (default) to 21.`, 'LayerNormalization needs opset 17 or newer.');
  }
  const range = options.layerRange;
  if (
    range &&
    !(
      Number.isInteger(range.from) &&
      Number.isInteger(range.to) &&
      range.from >= 0 &&
      (range.from < range.to || (range.from === L && range.to === L && range.head !== false)) &&
      range.to <= L
    )
  ) {
    throw new InputError(`Layer range ${range.from}..${range.to} is not within the model's ${L} layers.`);
  }
  const g = options.gradients;
  if (range && g && !(g.stream && !g.weights && !options.distill && (range.from > 0 || range.embedded)))
    throw new InputError(
      'Gradients of a layer range are its stream gradients (gradients.stream, from hidden_in), without weight gradients.',
      'Build the whole model for weight gradients or distillation.',
    );
  if (g?.stream && !range) throw new InputError('Stream gradients need a layer range that reads hidden_in.');
  if (options.gradients?.masks && !options.masks) {
    throw new InputError('Mask gradients need the mask inputs.', 'Build with masks: true.');
  }
  if (options.gradients?.weights && !options.weightInputs) {
    throw new InputError('Weight gradients need the projection weights as inputs.', 'Build with weightInputs: true.');
  }
  if (options.lossFrom && (!options.tokenLoss || options.logits !== false || options.gradients || ir.spec.head !== 'lm'))
    throw new InputError(
      'loss_from needs a language-model token loss without logits or gradients.',
      'Build with tokenLoss: true and logits: false.',
    );
  if (
    options.lossParts &&
    (!options.tokenLoss || options.logits !== false || options.gradients || options.lossFrom || ir.spec.head !== 'lm')
  )
    throw new InputError(
      'Loss parts need a language-model token loss without logits, gradients or loss_from.',
      'Build with tokenLoss: true and logits: false.',
    );
  if (options.distill && !options.gradients) throw new InputError('Distillation is a training loss: build with gradients.');
  if (options.logits === false && !options.tokenLoss && !options.taps && !options.gradients) {
    throw new InputError('The graph would have no outputs: enable logits, tokenLoss or taps.');
  }
}
