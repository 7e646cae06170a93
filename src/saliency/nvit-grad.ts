/**
 * NViT's per-batch structural saliency inputs (Yang et al., "Global Vision Transformer Pruning with
 * Hessian-Aware Saliency", NVlabs/NViT `add_criteria` method 23): for every unit and calibration
 * batch b, (Σ_{w∈unit} w·∂L_b/∂w)², summed over batches (the caller divides by the count).
 * - heads and FFN neurons: the unit's gate is the graph's head / FFN mask (m = 1), so
 *   Σ w·g over the gated weights = m·∂L/∂m = the mask gradient (NViT's gate layers);
 * - hidden (embedding) channel c: Σ over every weight that touches channel c of the residual
 *   stream: embedding / position / untied LM-head column c, every norm's weight and bias entry c,
 *   q/k/v/up/gate input column c, o/down output row c and bias entry c (tied LM head: the token
 *   embedding's gradient already holds both uses).
 * The gradient graph is the builder's mask-gradient graph with every weight a graph input
 * (`weights: 'inputs'`) and gradients appended for all of them (src/graph/grad).
 */
import { throwIfAborted } from '../core/errors';
import type { ModelIR } from '../core/ir';
import type { JobOptions } from '../core/job';
import { asFloat32, type Runner, type RunnerSession } from '../core/runner';
import type { Tensor } from '../core/tensor';
import { buildModelProto } from '../graph/build';
import { appendGradients } from '../graph/grad/autodiff';
import { LOSS } from '../graph/grad/loss';
import { weightEntries, weightFeeds } from '../graph/weight-inputs';
import { encodeModel } from '../io/onnx';
import { maskFeeds, sampleFeeds, sampleLossWeights, type CalibrationSet } from './calibrate';
import { onesMasks } from './criteria/ablation';
import type { NvitGradients } from './types';

export type { NvitGradients } from './types';

const gradName = (input: string) => `grad.${input}`;

/** How a weight tensor's entries map to hidden channels: column index, row index, or entry index. */
export function channelAxis(name: string): 'columns' | 'rows' | 'entries' | null {
  if (/^weight\.(token_embedding|position_embedding|lm_head|q|k|v|up|gate)(\.|$)/.test(name)) return 'columns';
  if (/^weight\.(o|down)\./.test(name) || name === 'weight.patch_embedding') return 'rows';
  if (
    /^(weight|bias)\.(final_norm|attn_norm|mlp_norm)(\.|$)/.test(name) ||
    /^bias\.(o|down)\./.test(name) ||
    name === 'bias.patch_embedding' ||
    name === 'weight.cls_token'
  )
    return 'entries';
  return null; // q/k/v/up/gate biases live in the head / FFN space
}

/** Adds Σ over entries of channel c of w·g into out[c], for one weight tensor. */
export function addChannelProducts(out: Float64Array, name: string, w: Tensor, g: Float32Array): void {
  const axis = channelAxis(name);
  if (!axis) return;
  // Entries per leading index: a [rows, cols] matrix's columns, a patch embedding's C·p·p.
  const cols = w.shape.slice(1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < w.data.length; i++) {
    const c = axis === 'columns' ? i % cols : axis === 'rows' ? Math.floor(i / cols) : i;
    out[c] = out[c]! + w.data[i]! * g[i]!;
  }
}

/** The gradient graph: mask gradients plus the gradient of every weight input. */
export function nvitGraph(ir: ModelIR): Uint8Array {
  // `gradients: {}`: the loss and its inputs without any gradient yet; all are appended in one sweep.
  const model = buildModelProto(ir, { masks: true, logits: false, weights: 'inputs', gradients: {} });
  const wrt = [
    { value: 'head_mask', output: 'grad.head_mask' },
    { value: 'ffn_mask', output: 'grad.ffn_mask' },
    ...weightEntries(ir)
      .filter(([name]) => channelAxis(name) !== null)
      .map(([name]) => ({ value: name, output: gradName(name) })),
  ];
  return encodeModel(appendGradients(model, { loss: LOSS, wrt }));
}

/** Per-batch channel sums Σ_{w touches c} w·g from one run's outputs. */
export function hiddenChannelSums(ir: ModelIR, out: Record<string, unknown>): Float64Array {
  const sums = new Float64Array(ir.spec.hiddenSize);
  for (const [name, w] of weightEntries(ir)) {
    if (channelAxis(name) === null) continue;
    addChannelProducts(sums, name, w, asFloat32(out[gradName(name)] as never, gradName(name)));
  }
  return sums;
}

function addSquares(acc: Float64Array, g: ArrayLike<number>): void {
  for (let i = 0; i < acc.length; i++) acc[i] = acc[i]! + g[i]! * g[i]!;
}

/** Runs the gradient graph once per calibration batch (of `batchSize` sequences). */
export async function collectNvitGradients(
  ir: ModelIR,
  session: RunnerSession,
  set: CalibrationSet,
  opts: JobOptions & { batchSize?: number } = {},
): Promise<NvitGradients> {
  const L = ir.layers.length;
  const H = ir.layers[0]?.numHeads ?? 0;
  const F = ir.layers[0]?.ffnSize ?? 0;
  const base = { ...maskFeeds(onesMasks(L, H, F), L, H, F), ...weightFeeds(ir, session.inputNames) };
  const acc: NvitGradients = {
    batches: 0,
    heads: new Float64Array(L * H),
    ffn: new Float64Array(L * F),
    hidden: new Float64Array(ir.spec.hiddenSize),
  };
  const outputs = session.outputNames.filter((n) => n.startsWith('grad.'));
  const batchSize = opts.batchSize ?? 1;
  const total = Math.ceil(set.samples / batchSize);
  for (let i = 0; i < total; i++) {
    throwIfAborted(opts.signal, 'NViT saliency');
    const { feeds, size } = sampleFeeds(set, i * batchSize, batchSize);
    const out = await session.run({ ...base, ...feeds, ...sampleLossWeights(set, size) }, outputs);
    addSquares(acc.heads, asFloat32(out['grad.head_mask'], 'grad.head_mask'));
    addSquares(acc.ffn, asFloat32(out['grad.ffn_mask'], 'grad.ffn_mask'));
    addSquares(acc.hidden, hiddenChannelSums(ir, out));
    acc.batches++;
    opts.onProgress?.({ stage: 'gradients', done: i + 1, total, message: `NViT backward pass ${i + 1}/${total}` });
  }
  return acc;
}

/** Opens the graph, collects, releases. */
export async function nvitGradients(ir: ModelIR, runner: Runner, set: CalibrationSet, opts: JobOptions & { batchSize?: number } = {}) {
  const session = await runner.open(nvitGraph(ir));
  try {
    return await collectNvitGradients(ir, session, set, opts);
  } finally {
    await session.release();
  }
}
