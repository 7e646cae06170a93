/**
 * GPT-2 family adapter. Hugging Face names (optionally prefixed "transformer."); Conv1D weights
 * are stored [in, out] and transposed to the IR's [out, in]; c_attn [d, 3d] splits into q | k | v.
 */
import type { LayerWeights, ModelIR } from '../core/ir';
import { tensor, type Tensor } from '../core/tensor';
import { requireTensor, transpose, type FamilyAdapter, type TensorGetter } from './adapter';

function splitColumns(t: Tensor, parts: number): Tensor[] {
  const [rows = 0, cols = 0] = t.shape;
  const w = cols / parts;
  return Array.from({ length: parts }, (_, p) => {
    const out = new Float32Array(rows * w);
    for (let r = 0; r < rows; r++) out.set(t.data.subarray(r * cols + p * w, r * cols + (p + 1) * w), r * w);
    return tensor([rows, w], out);
  });
}

function splitVector(t: Tensor, parts: number): Tensor[] {
  const w = t.data.length / parts;
  return Array.from({ length: parts }, (_, p) => tensor([w], t.data.slice(p * w, (p + 1) * w)));
}

function concatColumns(parts: Tensor[]): Tensor {
  const rows = parts[0]?.shape[0] ?? 0;
  const widths = parts.map((p) => p.shape[1] ?? 0);
  const cols = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    let at = 0;
    parts.forEach((p, i) => {
      out.set(p.data.subarray(r * widths[i]!, (r + 1) * widths[i]!), r * cols + at);
      at += widths[i]!;
    });
  }
  return tensor([rows, cols], out);
}

function prefixed(get: TensorGetter): TensorGetter {
  return (name) => get(name) ?? get(`transformer.${name}`);
}

export const gpt2Adapter: FamilyAdapter = {
  family: 'gpt2',
  fromTensors(spec, layers, rawGet, name): ModelIR {
    const get = prefixed(rawGet);
    const d = spec.hiddenSize;
    const req = (n: string, shape: number[]) => requireTensor(get, n, shape);
    const weights = layers.map((shape, i): LayerWeights => {
      const p = `h.${i}.`;
      const inner = shape.numHeads * spec.headDim;
      const [q, k, v] = splitColumns(req(`${p}attn.c_attn.weight`, [d, 3 * inner]), 3).map(transpose) as [Tensor, Tensor, Tensor];
      const [qb, kb, vb] = splitVector(req(`${p}attn.c_attn.bias`, [3 * inner]), 3) as [Tensor, Tensor, Tensor];
      return {
        attnNorm: { weight: req(`${p}ln_1.weight`, [d]), bias: req(`${p}ln_1.bias`, [d]) },
        q: { weight: q, bias: qb },
        k: { weight: k, bias: kb },
        v: { weight: v, bias: vb },
        o: { weight: transpose(req(`${p}attn.c_proj.weight`, [inner, d])), bias: req(`${p}attn.c_proj.bias`, [d]) },
        mlpNorm: { weight: req(`${p}ln_2.weight`, [d]), bias: req(`${p}ln_2.bias`, [d]) },
        up: { weight: transpose(req(`${p}mlp.c_fc.weight`, [d, shape.ffnSize])), bias: req(`${p}mlp.c_fc.bias`, [shape.ffnSize]) },
        down: { weight: transpose(req(`${p}mlp.c_proj.weight`, [shape.ffnSize, d])), bias: req(`${p}mlp.c_proj.bias`, [d]) },
      };
    });
    const tokenEmbedding = req('wte.weight', [spec.vocabSize, d]);
    const head = rawGet('lm_head.weight');
    const untied = head !== undefined && head.data !== tokenEmbedding.data && head.data.some((x, i) => x !== tokenEmbedding.data[i]);
    return {
      name,
      spec: { ...spec, tiedEmbeddings: !untied },
      layers,
      originalLayerIndex: layers.map((_, i) => i),
      weights: {
        tokenEmbedding,
        positionEmbedding: req('wpe.weight', [spec.maxPositions, d]),
        layers: weights,
        finalNorm: { weight: req('ln_f.weight', [d]), bias: req('ln_f.bias', [d]) },
        ...(untied ? { lmHead: requireTensor(rawGet, 'lm_head.weight', [spec.vocabSize, d]) } : {}),
      },
    };
  },
  toTensors(ir) {
    const w = ir.weights;
    const out: Record<string, Tensor> = { 'wte.weight': w.tokenEmbedding, 'ln_f.weight': w.finalNorm.weight };
    if (w.positionEmbedding) out['wpe.weight'] = w.positionEmbedding;
    if (w.finalNorm.bias) out['ln_f.bias'] = w.finalNorm.bias;
    if (w.lmHead) out['lm_head.weight'] = w.lmHead;
    w.layers.forEach((l, i) => {
      const p = `h.${i}.`;
      const vec = (t: Tensor | undefined, n: number) => t ?? tensor([n]);
      out[`${p}ln_1.weight`] = l.attnNorm.weight;
      out[`${p}ln_1.bias`] = vec(l.attnNorm.bias, ir.spec.hiddenSize);
      out[`${p}attn.c_attn.weight`] = concatColumns([transpose(l.q.weight), transpose(l.k.weight), transpose(l.v.weight)]);
      const qn = l.q.weight.shape[0] ?? 0;
      const bias = new Float32Array(3 * qn);
      [l.q.bias, l.k.bias, l.v.bias].forEach((b, j) => b && bias.set(b.data, j * qn));
      out[`${p}attn.c_attn.bias`] = tensor([3 * qn], bias);
      out[`${p}attn.c_proj.weight`] = transpose(l.o.weight);
      out[`${p}attn.c_proj.bias`] = vec(l.o.bias, ir.spec.hiddenSize);
      out[`${p}ln_2.weight`] = l.mlpNorm.weight;
      out[`${p}ln_2.bias`] = vec(l.mlpNorm.bias, ir.spec.hiddenSize);
      out[`${p}mlp.c_fc.weight`] = transpose(l.up.weight);
      out[`${p}mlp.c_fc.bias`] = vec(l.up.bias, l.up.weight.shape[0] ?? 0);
      out[`${p}mlp.c_proj.weight`] = transpose(l.down.weight);
      out[`${p}mlp.c_proj.bias`] = vec(l.down.bias, ir.spec.hiddenSize);
    });
    return out;
  },
};
