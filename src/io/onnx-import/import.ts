/**
 * ONNX decoder -> ModelIR, by following the graph from `input_ids`: the Gather of the token
 * embedding (plus a Gather of learned positions, GPT-2), then block after block: normalisation,
 * attention (q / k / v / o, heads, rotary), residual Add, normalisation, MLP, residual Add, until a
 * normalisation feeds a single projection onto the vocabulary (the LM head). Tensor names are never
 * consulted; what was not found is reported with the layer and the structure that was missing.
 * The walk finds a pre-norm causal decoder with an LM head; its norm kind, MLP kind and positions
 * complete the block structure, and the family is the first candidate declaring that structure.
 */
import { UnsupportedModelError } from '../../core/errors';
import type { ArchSpec, BlockStructure, LayerShape, LayerWeights, ModelIR, Norm } from '../../core/ir';
import { tensor, type Tensor } from '../../core/tensor';
import { matchAttention, type AttentionMatch } from './attention';
import { OnnxStructureError } from './errors';
import { PASS_OPS, type GraphIndex } from './graph';
import { dataUses, linearConsumers, type LinearMatch } from './linear';
import { matchMlp, type MlpMatch } from './mlp';
import { matchNorm, type NormMatch } from './norm';
import { sameStructure, specOf, type ImportableFamily } from './import-spec';
import { classifierAfter, PIXEL_VALUES, visionStem, type VisionStem } from './vision';

export interface ImportedGraph {
  ir: ModelIR;
  /** What the graph said about things config.json also states (for the cross-check). */
  facts: { rotaryTableRows?: number; hasPast: boolean };
  /** The residual stream entering each block, then after the last one (for locating a numeric mismatch). */
  hidden: string[];
}

/** What config.json (or other provenance) says about the graph that the graph itself cannot show. */
export interface ImportHints {
  /** 1/sqrt(head_dim) is folded into the query projection (`prune_studio.attention_scale_folded`); it is un-folded on import. */
  attentionScaleFolded?: boolean;
  /**
   * Layers config.json (`prune_studio.layers`) says have no attention (0 heads) or no MLP (0 FFN
   * neurons): the graph has no norm / projections for that branch, only its output bias (if any)
   * added to the residual stream as a constant (src/graph/attention.ts, mlp.ts write it so).
   */
  emptyBranches?: { attention: boolean; mlp: boolean }[];
}

const MAX_LAYERS = 1024;

/** Follows Cast / Identity / Reshape-like ops back to the value they copy. */
function root(g: GraphIndex, v: string): string {
  const p = g.producer.get(v);
  return p && PASS_OPS.has(p.op) && p.inputs[0] ? root(g, p.inputs[0]) : v;
}

function embedding(g: GraphIndex): { gather: string; table: string; vocab: number; hidden: number } {
  if (!g.inputs.has('input_ids')) {
    throw new OnnxStructureError(`the graph has no "input_ids" input (inputs: ${[...g.inputs].join(', ') || 'none'}).`);
  }
  for (const n of g.nodes) {
    if (n.op !== 'Gather' || !n.inputs[1] || root(g, n.inputs[1]) !== 'input_ids') continue;
    const dims = g.constDims(n.inputs[0] ?? '');
    if (dims?.length === 2 && g.attrInt(n, 'axis', 0) === 0)
      return { gather: n.outputs[0]!, table: n.inputs[0]!, vocab: dims[0]!, hidden: dims[1]! };
  }
  throw new OnnxStructureError('could not find the token embedding (a Gather of a [vocab, hidden] constant by input_ids).');
}

/** GPT-2: the token embedding plus a Gather of a [positions, hidden] constant. */
function positions(g: GraphIndex, tokens: string, hidden: number): { h: string; table?: string; rows?: number } {
  let v = tokens;
  for (;;) {
    const uses = dataUses(g, v);
    const add = uses.find((u) => u.node.op === 'Add');
    if (add) {
      const other = root(g, add.node.inputs[1 - add.slot] ?? '');
      const p = g.producer.get(other);
      const dims = p?.op === 'Gather' ? g.constDims(p.inputs[0] ?? '') : undefined;
      if (p && dims?.length === 2 && dims[1] === hidden) return { h: add.node.outputs[0]!, table: p.inputs[0]!, rows: dims[0]! };
    }
    const pass = uses.length === 1 && PASS_OPS.has(uses[0]!.node.op) ? uses[0]!.node : undefined;
    if (!pass) return { h: v };
    v = pass.outputs[0]!;
  }
}

const constTensor = (g: GraphIndex, name: string): Tensor => {
  const c = g.constValue(name)!;
  return tensor(c.dims, c.values);
};
const norm = (m: NormMatch): Norm => ({ weight: m.weight(), ...(m.bias ? { bias: m.bias() } : {}) });

function isLmHead(g: GraphIndex, p: LinearMatch, vocab: number): boolean {
  if (p.outFeatures !== vocab) return false;
  if (g.outputs.has(p.out)) return true;
  return [...g.region([p.out], new Set(['MatMul', 'Gemm', 'Softmax'])).values].some((v) => g.outputs.has(v));
}

/** The token stem (embedding Gather, learned positions) or, for pixel_values, the image stem (vision.ts). */
function stem(g: GraphIndex): {
  emb?: ReturnType<typeof embedding>;
  pos: { h: string; table?: string; rows?: number };
  vision?: VisionStem;
  d: number;
} {
  if (g.inputs.has(PIXEL_VALUES) && !g.inputs.has('input_ids')) {
    g.markStream(PIXEL_VALUES);
    const vision = visionStem(g);
    return { pos: { h: vision.h }, vision, d: vision.d };
  }
  const emb = embedding(g);
  g.markStream(emb.gather);
  return { emb, pos: positions(g, emb.gather, emb.hidden), d: emb.hidden };
}

export function importDecoder(g: GraphIndex, name: string, families: readonly ImportableFamily[], hints: ImportHints = {}): ImportedGraph {
  const { emb, pos, vision, d } = stem(g);
  let h = pos.h;
  const hidden = [h];
  const branches: { attn: (AttentionMatch & { norm: NormMatch }) | EmptyBranch; mlp: (MlpMatch & { norm: NormMatch }) | EmptyBranch }[] =
    [];
  const norms: NormMatch[] = [];
  const meta: { activation?: string; rotary?: number; tableRows?: number; headDim?: number } = {};
  let lmHead: LinearMatch | undefined;
  let finalNorm: NormMatch | undefined;
  let pooling: 'cls' | 'mean' = 'cls';
  for (let i = 0; i <= MAX_LAYERS; i++) {
    const where = `layer ${i}`;
    const empty = hints.emptyBranches?.[i];
    let attn: (AttentionMatch & { norm: NormMatch }) | EmptyBranch;
    if (empty?.attention) attn = emptyBranch(g, h, d);
    else {
      const n1 = matchNorm(g, h, d, i === 0 ? 'after the embedding' : `after layer ${i - 1}`);
      const classifier = vision ? classifierAfter(g, n1.out) : undefined;
      if (classifier) {
        [finalNorm, lmHead, pooling] = [n1, classifier.head, classifier.pooling];
        break;
      }
      const projections = linearConsumers(g, n1.out);
      if (emb && projections.length === 1 && isLmHead(g, projections[0]!, emb.vocab)) {
        [finalNorm, lmHead] = [n1, projections[0]];
        break;
      }
      if (i === MAX_LAYERS) throw new OnnxStructureError(`more than ${MAX_LAYERS} layers; the LM head was never found.`);
      attn = { ...matchAttention(g, h, projections, where, hints.attentionScaleFolded === true), norm: n1 };
    }
    let mlp: (MlpMatch & { norm: NormMatch }) | EmptyBranch;
    if (empty?.mlp) mlp = emptyBranch(g, attn.out, d);
    else {
      const n2 = matchNorm(g, attn.out, d, `${where} (before the MLP)`);
      mlp = { ...matchMlp(g, attn.out, linearConsumers(g, n2.out), where), norm: n2 };
    }
    if ('headDim' in attn) {
      if (meta.headDim !== undefined && meta.headDim !== attn.headDim)
        throw new OnnxStructureError(`${where}: head_dim ${attn.headDim} differs from an earlier layer's ${meta.headDim}.`);
      if (meta.headDim !== undefined && (meta.rotary !== undefined) !== (attn.rotary !== undefined))
        throw new OnnxStructureError(`${where}: rotary embeddings are used in some layers only.`);
      meta.headDim = attn.headDim;
      if (attn.rotary) [meta.rotary, meta.tableRows] = [attn.rotary.theta, attn.rotary.tableRows];
      norms.push(attn.norm);
    }
    if ('activation' in mlp) {
      if (meta.activation !== undefined && meta.activation !== mlp.activation)
        throw new OnnxStructureError(`${where}: activation ${mlp.activation} differs from an earlier layer's ${meta.activation}.`);
      meta.activation = mlp.activation;
      norms.push(mlp.norm);
    }
    branches.push({ attn, mlp });
    h = mlp.out;
    hidden.push(h);
  }
  if (!lmHead || !finalNorm)
    throw new OnnxStructureError(
      'could not find the final normalisation and the LM head (a projection onto the vocabulary feeding the logits output).',
    );
  if (branches.length === 0) throw new OnnxStructureError('found no decoder layer between the embedding and the LM head.');
  norms.push(finalNorm);
  const { layers, weights } = layersOf(branches, d, finalNorm);
  if (vision) return visionImport({ name, vision, norms, meta, layers, weights, finalNorm, head: lmHead, pooling, families, hidden });
  if (!emb) throw new OnnxStructureError('the graph has no token embedding.');
  const spec = specOf({
    name,
    d,
    vocab: emb.vocab,
    norms,
    meta,
    posRows: pos.rows,
    gated: weights.some((w) => w.gate !== undefined),
    layers: layers.length,
    families,
  });
  const tokenEmbedding = constTensor(g, emb.table);
  const head = lmHead.weight();
  const tied = head.data.length === tokenEmbedding.data.length && head.data.every((x, i) => x === tokenEmbedding.data[i]);
  const ir: ModelIR = {
    name,
    spec: { ...spec, tiedEmbeddings: tied },
    layers,
    originalLayerIndex: layers.map((_, i) => i),
    weights: {
      tokenEmbedding,
      ...(pos.table ? { positionEmbedding: constTensor(g, pos.table) } : {}),
      layers: weights,
      finalNorm: norm(finalNorm),
      ...(tied ? {} : { lmHead: head }),
    },
  };
  const hasPast = [...g.inputs].some((i) => i.startsWith('past_key_values') || i.startsWith('past_'));
  return { ir, facts: { ...(meta.tableRows ? { rotaryTableRows: meta.tableRows } : {}), hasPast }, hidden };
}

/** An image classifier's IR: ViT structure (bidirectional pre-norm blocks, CLS pooling, classifier), geometry from the stem. */
function visionImport(v: {
  name: string;
  vision: VisionStem;
  norms: NormMatch[];
  meta: { activation?: string; headDim?: number; rotary?: number };
  layers: LayerShape[];
  weights: LayerWeights[];
  finalNorm: NormMatch;
  head: LinearMatch;
  pooling: 'cls' | 'mean';
  families: readonly ImportableFamily[];
  hidden: string[];
}): ImportedGraph {
  const kinds = new Set(v.norms.map((n) => n.kind));
  if (kinds.size !== 1) throw new OnnxStructureError('the layers mix LayerNorm and RMSNorm.');
  if (v.meta.rotary !== undefined) throw new OnnxStructureError('an image classifier with rotary positions is not supported.');
  const gated = v.weights.some((w) => w.gate !== undefined);
  const structure: BlockStructure = {
    attention: 'bidirectional',
    normPlacement: 'pre',
    norm: v.norms[0]!.kind,
    positions: 'learned',
    gatedMlp: gated,
    head: 'classifier',
    input: 'patches',
    pooling: v.pooling,
  };
  const family = v.families.find((f) => sameStructure(f.structure, structure) && f.structure.input === 'patches');
  if (!family)
    throw new UnsupportedModelError(
      `The ONNX image classifier (${structure.norm}, ${gated ? 'gated' : 'plain'} MLP) is none of the families ${v.families.map((f) => f.family).join(', ')}.`,
    );
  const labels = v.head.outFeatures;
  const { h: _h, d, patch, cls, positions: pos, geometry } = v.vision;
  const headWeight = v.head.weight();
  const ir: ModelIR = {
    name: v.name,
    spec: {
      ...structure,
      family: family.family,
      modelType: family.modelTypes[0] ?? family.family,
      numLayers: v.layers.length,
      hiddenSize: d,
      headDim: v.meta.headDim ?? 0,
      vocabSize: labels,
      maxPositions: pos.shape[0] ?? 0,
      normEps: v.norms[0]!.eps,
      activation: (v.meta.activation ?? 'gelu') as ArchSpec['activation'],
      tiedEmbeddings: false,
      vision: { ...geometry, labels: Array.from({ length: labels }, (_, i) => `LABEL_${i}`) },
    },
    layers: v.layers,
    originalLayerIndex: v.layers.map((_, i) => i),
    weights: {
      patchEmbedding: patch,
      clsToken: cls,
      positionEmbedding: pos,
      layers: v.weights,
      finalNorm: norm(v.finalNorm),
      lmHead: headWeight,
      ...(v.head.bias ? { lmHeadBias: v.head.bias() } : {}),
    },
  };
  return { ir, facts: { hasPast: false }, hidden: v.hidden };
}

/** A branch (attention or MLP) with no units: only its output bias, if any, is added to the stream. */
interface EmptyBranch {
  empty: true;
  bias?: Tensor;
  out: string;
}

/** The stream after an empty branch: `h`, or Add(h, constant [d] bias). */
function emptyBranch(g: GraphIndex, h: string, d: number): EmptyBranch {
  for (const u of dataUses(g, h)) {
    if (u.node.op !== 'Add') continue;
    const other = u.node.inputs[1 - u.slot] ?? '';
    const dims = g.isStream(other) ? undefined : g.constDims(other);
    if (dims && dims.reduce((a, b) => a * b, 1) === d && dims[dims.length - 1] === d)
      return { empty: true, bias: tensor([d], g.constValue(other)!.values), out: u.node.outputs[0]! };
  }
  return { empty: true, out: h };
}

const zeros = (shape: number[]) => tensor(shape, new Float32Array(shape.reduce((a, b) => a * b, 1)));
const ones = (d: number) => tensor([d], new Float32Array(d).fill(1));

/**
 * Layer shapes and weights; an empty branch gets 0-row projections (and 0-length biases where the
 * other layers have biases), a unit norm it never applies, and its output bias.
 */
function layersOf(
  branches: { attn: (AttentionMatch & { norm: NormMatch }) | EmptyBranch; mlp: (MlpMatch & { norm: NormMatch }) | EmptyBranch }[],
  d: number,
  finalNorm: NormMatch,
): { layers: LayerShape[]; weights: LayerWeights[] } {
  const attnT = branches.map((b) => b.attn).find((a): a is AttentionMatch & { norm: NormMatch } => !('empty' in a));
  const mlpT = branches.map((b) => b.mlp).find((m): m is MlpMatch & { norm: NormMatch } => !('empty' in m));
  const unitNorm = (): Norm => ({ weight: ones(d), ...(finalNorm.bias ? { bias: zeros([d]) } : {}) });
  const none = (hasBias: boolean | undefined): { weight: Tensor; bias?: Tensor } => ({
    weight: zeros([0, d]),
    ...(hasBias ? { bias: zeros([0]) } : {}),
  });
  const out = (bias: Tensor | undefined) => ({ weight: zeros([d, 0]), ...(bias ? { bias } : {}) });
  const layers: LayerShape[] = [];
  const weights: LayerWeights[] = [];
  for (const { attn, mlp } of branches) {
    const a =
      'empty' in attn
        ? { q: none(!!attnT?.q.bias), k: none(!!attnT?.k.bias), v: none(!!attnT?.v.bias), o: out(attn.bias), attnNorm: unitNorm() }
        : { q: attn.q, k: attn.k, v: attn.v, o: attn.o, attnNorm: norm(attn.norm) };
    const m =
      'empty' in mlp
        ? {
            up: none(!!mlpT?.up.bias),
            ...(mlpT?.gate ? { gate: none(!!mlpT.gate.bias) } : {}),
            down: out(mlp.bias),
            mlpNorm: unitNorm(),
          }
        : { up: mlp.up, ...(mlp.gate ? { gate: mlp.gate } : {}), down: mlp.down, mlpNorm: norm(mlp.norm) };
    layers.push({
      numHeads: 'empty' in attn ? 0 : attn.numHeads,
      numKvHeads: 'empty' in attn ? 0 : attn.numKvHeads,
      ffnSize: 'empty' in mlp ? 0 : (mlp.up.weight.shape[0] ?? 0),
    });
    weights.push({
      attnNorm: a.attnNorm,
      q: a.q,
      k: a.k,
      v: a.v,
      o: a.o,
      mlpNorm: m.mlpNorm,
      up: m.up,
      ...(m.gate ? { gate: m.gate } : {}),
      down: m.down,
    });
  }
  return { layers, weights };
}
