/** GPT-2 adapter + loader on a tiny random checkpoint: layout by hand, round trips, every rejection. */
import { describe, expect, it } from 'vitest';
import { NumericError, ShapeMismatchError } from '../core/errors';
import { parameterCount } from '../core/ir';
import { tensor, type Tensor } from '../core/tensor';
import { parseSafetensors, writeSafetensors } from '../io/safetensors';
import { TINY, TINY_CONFIG, memSource, tinyFolder, tinyGpt2Tensors, withPrefix } from '../test-util/tiny-gpt2';
import { gpt2Adapter } from './gpt2';
import { exportSafetensors, loadModelIR } from './load';

const at = (t: Tensor, ...idx: number[]) => {
  let flat = 0;
  idx.forEach((v, k) => (flat = flat * t.shape[k]! + v));
  return t.data[flat]!;
};

async function rejects(p: Promise<unknown>, cls: new (...a: never[]) => Error, fragment: RegExp): Promise<void> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(cls);
  expect((e as Error).message).toMatch(fragment);
}

describe('gpt2 adapter: HF layout -> IR', () => {
  const hf = tinyGpt2Tensors();
  const d = TINY.hidden;

  it('maps names, splits c_attn and transposes Conv1D weights', async () => {
    const { ir, config } = await loadModelIR(tinyFolder(hf));
    expect(config).toEqual(TINY_CONFIG);
    expect(ir.name).toBe('tiny-gpt2');
    expect(ir.spec).toMatchObject({ family: 'gpt2', numLayers: 2, hiddenSize: 8, headDim: 4, tiedEmbeddings: true });
    expect(ir.layers).toEqual([
      { numHeads: 2, numKvHeads: 2, ffnSize: 12 },
      { numHeads: 2, numKvHeads: 2, ffnSize: 12 },
    ]);
    expect(ir.originalLayerIndex).toEqual([0, 1]);
    const l = ir.weights.layers[1]!;
    const cAttn = hf['h.1.attn.c_attn.weight']!;
    const cAttnBias = hf['h.1.attn.c_attn.bias']!;
    expect(l.q.weight.shape).toEqual([d, d]);
    // IR [out, in] element (r, c) = Conv1D [in, out] element (c, r), offset by 0 / d / 2d for q / k / v.
    expect(at(l.q.weight, 3, 5)).toBe(at(cAttn, 5, 3));
    expect(at(l.k.weight, 3, 5)).toBe(at(cAttn, 5, d + 3));
    expect(at(l.v.weight, 7, 0)).toBe(at(cAttn, 0, 2 * d + 7));
    expect(at(l.q.bias!, 2)).toBe(at(cAttnBias, 2));
    expect(at(l.k.bias!, 2)).toBe(at(cAttnBias, d + 2));
    expect(at(l.v.bias!, 2)).toBe(at(cAttnBias, 2 * d + 2));
    expect(at(l.o.weight, 1, 6)).toBe(at(hf['h.1.attn.c_proj.weight']!, 6, 1));
    expect(l.up.weight.shape).toEqual([TINY.ffn, d]);
    expect(at(l.up.weight, 11, 2)).toBe(at(hf['h.1.mlp.c_fc.weight']!, 2, 11));
    expect(l.down.weight.shape).toEqual([d, TINY.ffn]);
    expect(at(l.down.weight, 2, 11)).toBe(at(hf['h.1.mlp.c_proj.weight']!, 11, 2));
    expect([...l.attnNorm.weight.data]).toEqual([...hf['h.1.ln_1.weight']!.data]);
    expect([...l.mlpNorm.bias!.data]).toEqual([...hf['h.1.ln_2.bias']!.data]);
    expect([...ir.weights.finalNorm.weight.data]).toEqual([...hf['ln_f.weight']!.data]);
    expect([...ir.weights.positionEmbedding!.data]).toEqual([...hf['wpe.weight']!.data]);
    expect(ir.weights.lmHead).toBeUndefined();
    expect(parameterCount(ir)).toBe(Object.values(hf).reduce((n, t) => n + t.data.length, 0));
  });

  it('reads the "transformer." prefix; an lm_head equal to wte stays tied, a different one unties', async () => {
    const prefixed = withPrefix({ ...hf, 'lm_head.weight': hf['wte.weight']! }, 'transformer.');
    const tied = (await loadModelIR(tinyFolder(prefixed))).ir;
    expect(tied.spec.tiedEmbeddings).toBe(true);
    expect(tied.weights.lmHead).toBeUndefined();
    const head = tensor(
      [TINY.vocab, d],
      hf['wte.weight']!.data.map((x) => x * 2),
    );
    const untied = (await loadModelIR(tinyFolder({ ...hf, 'lm_head.weight': head }))).ir;
    expect(untied.spec.tiedEmbeddings).toBe(false);
    expect([...untied.weights.lmHead!.data]).toEqual([...head.data]);
  });

  it('round-trips toTensors -> fromTensors, and exports the same bytes it loaded', async () => {
    const source = tinyFolder(hf);
    const { ir } = await loadModelIR(source);
    const out = gpt2Adapter.toTensors(ir);
    expect(Object.keys(out).sort()).toEqual(Object.keys(hf).sort());
    for (const [name, t] of Object.entries(hf)) {
      expect(out[name]!.shape, name).toEqual(t.shape);
      expect([...out[name]!.data], name).toEqual([...t.data]);
    }
    const again = gpt2Adapter.fromTensors(ir.spec, ir.layers, (n) => out[n], ir.name);
    expect(again).toEqual(ir);
    expect(exportSafetensors(ir)).toEqual(await source.read('model.safetensors'));
  });

  it('exports an untied model with the "transformer." prefix and lm_head.weight, and reads it back', async () => {
    const head = tensor(
      [TINY.vocab, d],
      hf['wte.weight']!.data.map((x) => -x),
    );
    const { ir } = await loadModelIR(tinyFolder({ ...hf, 'lm_head.weight': head }));
    const file = parseSafetensors(exportSafetensors(ir));
    expect(file.metadata.format).toBe('pt');
    expect(file.header.has('lm_head.weight')).toBe(true);
    expect(file.header.has('transformer.h.0.attn.c_attn.weight')).toBe(true);
    const back = (
      await loadModelIR(
        memSource({ 'config.json': { ...TINY_CONFIG, tie_word_embeddings: false }, 'model.safetensors': exportSafetensors(ir) }),
      )
    ).ir;
    expect(back).toEqual(ir);
  });

  it('loads a pruned, non-uniform checkpoint described by prune_studio.layers', async () => {
    const shapes = [
      [2, 12],
      [1, 5],
      [0, 0],
    ] as const;
    const config = {
      ...TINY_CONFIG,
      n_layer: 3,
      prune_studio: { layers: shapes.map(([h, f], i) => ({ original_index: [0, 2, 5][i], num_heads: h, num_kv_heads: h, ffn_size: f })) },
    };
    const tensors = tinyGpt2Tensors(3, shapes);
    const { ir } = await loadModelIR(tinyFolder(tensors, config));
    expect(ir.layers).toEqual([
      { numHeads: 2, numKvHeads: 2, ffnSize: 12 },
      { numHeads: 1, numKvHeads: 1, ffnSize: 5 },
      { numHeads: 0, numKvHeads: 0, ffnSize: 0 },
    ]);
    expect(ir.originalLayerIndex).toEqual([0, 2, 5]);
    expect(ir.weights.layers[1]!.q.weight.shape).toEqual([4, d]);
    expect(ir.weights.layers[1]!.o.weight.shape).toEqual([d, 4]);
    expect(ir.weights.layers[2]!.up.weight.shape).toEqual([0, d]);
    const out = gpt2Adapter.toTensors(ir);
    for (const [name, t] of Object.entries(tensors)) expect([...out[name]!.data], name).toEqual([...t.data]);
  });
});

describe('gpt2 adapter: rejections', () => {
  const hf = tinyGpt2Tensors();

  it('names a missing tensor and the file', async () => {
    const { ['h.1.ln_2.bias']: _, ...rest } = hf;
    await rejects(
      loadModelIR(tinyFolder(rest)),
      ShapeMismatchError,
      /Tensor "h.1.ln_2.bias" is missing from mem\/tiny-gpt2\/model.safetensors/,
    );
  });

  it('names a tensor whose shape disagrees with config.json, with both shapes', async () => {
    await rejects(
      loadModelIR(tinyFolder({ ...hf, 'h.0.mlp.c_fc.weight': tensor([8, 11]) })),
      ShapeMismatchError,
      /Tensor "h.0.mlp.c_fc.weight" has shape \[8, 11\], but config.json implies \[8, 12\]/,
    );
    await rejects(
      loadModelIR(tinyFolder(hf, { ...TINY_CONFIG, vocab_size: 11 })),
      ShapeMismatchError,
      /"wte.weight" has shape \[10, 8\], but config.json implies \[11, 8\]/,
    );
  });

  it('names a tensor with NaN or Inf', async () => {
    const bad = hf['h.0.attn.c_proj.weight']!.data.slice();
    bad[9] = NaN;
    await rejects(
      loadModelIR(tinyFolder({ ...hf, 'h.0.attn.c_proj.weight': tensor([8, 8], bad) })),
      NumericError,
      /Tensor "h.0.attn.c_proj.weight" contains NaN at element 9 \(index \[1, 1\]\)/,
    );
    const inf = hf['ln_f.bias']!.data.slice();
    inf[0] = -Infinity;
    await rejects(loadModelIR(tinyFolder({ ...hf, 'ln_f.bias': tensor([8], inf) })), NumericError, /"ln_f.bias" contains -Inf/);
  });

  it('rejects tensors config.json does not account for, but ignores causal-mask buffers', async () => {
    const extra = tinyGpt2Tensors(7, [
      [2, 12],
      [2, 12],
      [2, 12],
    ]);
    await rejects(
      loadModelIR(tinyFolder(extra)),
      ShapeMismatchError,
      /has 12 tensor\(s\) that config.json does not account for, e.g. "h.2./,
    );
    const buffers = { ...hf, 'h.0.attn.bias': tensor([1, 1, 6, 6]), 'h.1.attn.masked_bias': tensor([]) };
    expect((await loadModelIR(tinyFolder(buffers))).ir.layers).toHaveLength(2);
  });

  it('requires lm_head.weight when config.json unties the embeddings', async () => {
    await rejects(
      loadModelIR(tinyFolder(hf, { ...TINY_CONFIG, tie_word_embeddings: false })),
      ShapeMismatchError,
      /"lm_head.weight" is missing/,
    );
  });

  it('refuses to export what GPT-2 cannot hold', async () => {
    const { ir } = await loadModelIR(tinyFolder(hf));
    const layer = ir.weights.layers[0]!;
    const gated = { ...ir, weights: { ...ir.weights, layers: [{ ...layer, gate: layer.up }, ir.weights.layers[1]!] } };
    expect(() => gpt2Adapter.toTensors(gated)).toThrow(/no gated MLP/);
    const bad = layer.o.weight.data.slice();
    bad[0] = NaN;
    const nan = {
      ...ir,
      weights: { ...ir.weights, layers: [{ ...layer, o: { ...layer.o, weight: tensor([8, 8], bad) } }, ir.weights.layers[1]!] },
    };
    expect(() => exportSafetensors(nan)).toThrow(NumericError);
    expect(writeSafetensors(gpt2Adapter.toTensors(ir)).length).toBeGreaterThan(0);
  });
});
