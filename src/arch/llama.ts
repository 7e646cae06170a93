/**
 * Llama family adapter (Hugging Face LlamaForCausalLM / Qwen2ForCausalLM / MistralForCausalLM names):
 * model.embed_tokens.weight, model.layers.{i}.input_layernorm / post_attention_layernorm (RMSNorm
 * weights), self_attn.{q,k,v,o}_proj.{weight,bias?} (Qwen2: q/k/v biases), mlp.{gate,up,down}_proj,
 * model.norm.weight, lm_head.weight (absent, or equal to the embedding, when tied).
 * nn.Linear weights are already [out, in], the IR convention, so nothing is transposed.
 * Grouped-query attention: k/v have numKvHeads * headDim rows.
 */
import { ShapeMismatchError } from '../core/errors';
import type { ArchSpec, LayerShape, LayerWeights, Linear, ModelIR } from '../core/ir';
import type { Tensor } from '../core/tensor';
import type { FamilyAdapter, TensorGetter } from './adapter';
import { checkFinite, checkTensor, denseIR, readLmHead } from './tensors';

const EMBED = 'model.embed_tokens.weight';
const NORM = 'model.norm.weight';
const HEAD = 'lm_head.weight';
const layerPrefix = (i: number) => `model.layers.${i}.`;

type Get = (name: string, shape: readonly number[]) => Tensor;

function readLayer(get: Get, opt: TensorGetter, spec: ArchSpec, shape: LayerShape, i: number, files?: string): LayerWeights {
  const d = spec.hiddenSize;
  const p = layerPrefix(i);
  const q = shape.numHeads * spec.headDim;
  const kv = shape.numKvHeads * spec.headDim;
  const f = shape.ffnSize;
  const linear = (name: string, out: number, inp: number): Linear => {
    const weight = get(`${p}${name}.weight`, [out, inp]);
    const raw = opt(`${p}${name}.bias`);
    return raw ? { weight, bias: checkTensor(raw, `${p}${name}.bias`, [out], files) } : { weight };
  };
  return {
    attnNorm: { weight: get(`${p}input_layernorm.weight`, [d]) },
    q: linear('self_attn.q_proj', q, d),
    k: linear('self_attn.k_proj', kv, d),
    v: linear('self_attn.v_proj', kv, d),
    o: linear('self_attn.o_proj', d, q),
    mlpNorm: { weight: get(`${p}post_attention_layernorm.weight`, [d]) },
    gate: linear('mlp.gate_proj', f, d),
    up: linear('mlp.up_proj', f, d),
    down: linear('mlp.down_proj', d, f),
  };
}

function fromTensors(spec: ArchSpec, layers: readonly LayerShape[], get: TensorGetter, name: string, files?: string): ModelIR {
  if (spec.family !== 'llama') throw new ShapeMismatchError(`The Llama adapter cannot read a ${spec.family} model.`);
  const req: Get = (n, shape) => checkTensor(get(n), n, shape, files);
  const d = spec.hiddenSize;
  const tokenEmbedding = req(EMBED, [spec.vocabSize, d]);
  const layerWeights = layers.map((shape, i) => readLayer(req, get, spec, shape, i, files));
  const lmHead = readLmHead(get, HEAD, spec, tokenEmbedding, files);
  return denseIR(name, spec, layers, { tokenEmbedding, layers: layerWeights, finalNorm: { weight: req(NORM, [d]) } }, lmHead);
}

/** undefined = tied to the embedding. An untied config requires lm_head.weight. */
function writeLayer(out: Record<string, Tensor>, i: number, l: LayerWeights): void {
  if (!l.gate) throw new ShapeMismatchError(`Layer ${i} has no gate projection; a Llama checkpoint needs a SwiGLU MLP.`);
  const p = layerPrefix(i);
  const linear = (name: string, lin: Linear) => {
    out[`${p}${name}.weight`] = lin.weight;
    if (lin.bias) out[`${p}${name}.bias`] = lin.bias;
  };
  out[`${p}input_layernorm.weight`] = l.attnNorm.weight;
  linear('self_attn.q_proj', l.q);
  linear('self_attn.k_proj', l.k);
  linear('self_attn.v_proj', l.v);
  linear('self_attn.o_proj', l.o);
  out[`${p}post_attention_layernorm.weight`] = l.mlpNorm.weight;
  linear('mlp.gate_proj', l.gate);
  linear('mlp.up_proj', l.up);
  linear('mlp.down_proj', l.down);
}

/**
 * The inverse mapping. An o/down bias (added by FLAP compensation) has no slot in a Llama
 * checkpoint; such a model is refused here rather than silently changed.
 */
function toTensors(ir: ModelIR): Record<string, Tensor> {
  if (ir.spec.family !== 'llama') throw new ShapeMismatchError(`The Llama adapter cannot export a ${ir.spec.family} model.`);
  const w = ir.weights;
  const out: Record<string, Tensor> = { [EMBED]: w.tokenEmbedding, [NORM]: w.finalNorm.weight };
  w.layers.forEach((l, i) => {
    for (const [what, lin] of [
      ['o_proj', l.o],
      ['down_proj', l.down],
    ] as const) {
      if (lin.bias && lin.bias.data.some((x) => x !== 0)) {
        throw new ShapeMismatchError(
          `Layer ${i} ${what} has a bias (from bias compensation), which a Llama checkpoint cannot hold.`,
          'Export as ONNX instead, or apply the plan without bias compensation.',
        );
      }
    }
    writeLayer(out, i, { ...l, o: { weight: l.o.weight }, down: { weight: l.down.weight } });
  });
  if (w.lmHead) out[HEAD] = w.lmHead;
  for (const [name, t] of Object.entries(out)) checkFinite(t, name);
  return out;
}

export const llamaAdapter: FamilyAdapter = {
  family: 'llama',
  modelTypes: ['llama', 'qwen2', 'mistral'],
  // Rotary caches some conversions saved with the weights (recomputed from rope_theta).
  ignoredTensors: /(^|\.)rotary_emb\.inv_freq$/,
  fromTensors,
  toTensors,
};
