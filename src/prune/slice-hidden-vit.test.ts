/**
 * Hidden-size (embedding-channel) slicing of a ViT against the independent numpy reference
 * (tools/reference/vit_hidden_slice_golden.py, written from the HF ViT definition ->
 * fixtures/golden/hidden-slice-vit.json): patch embedding, CLS token, position embeddings, every
 * LayerNorm, q/k/v/intermediate inputs, attention-output / output rows and the classifier's inputs
 * all lose the same channels, alone and together with removed heads and FFN neurons. The sliced
 * graph's logits match the reference's (LayerNorm over the kept channels), and so do the exported
 * checkpoint's tensor names, shapes and parameter count.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exportSafetensors, loadModelIR } from '../arch/load';
import { dirSource } from '../cli/dir-source';
import { parameterCount } from '../core/ir';
import { emptyPlan, validatePlan } from '../core/plan';
import { float32Tensor } from '../core/runner';
import { parseSafetensors } from '../io/safetensors';
import { createNodeRunner } from '../runtime/ort-node';
import { floats, maxAbsDiff, runGraph } from '../test-util/graph-run';
import { fixtureDir } from '../test-util/model-fixtures';
import { sliceModel } from './slice';

interface VitCase {
  layers: { removed_heads: number[]; removed_ffn: number[] }[];
  logits: number[][];
  parameters: number;
  shapes: Record<string, number[]>;
}

interface VitHiddenGolden {
  pixel_values: number[][][][];
  removed_hidden: number[];
  hidden_size: number;
  dense_parameters: number;
  cases: Record<'hidden' | 'hidden_heads_ffn', VitCase>;
}

const golden = JSON.parse(readFileSync('fixtures/golden/hidden-slice-vit.json', 'utf8')) as VitHiddenGolden;
const runner = createNodeRunner({ threads: 1 });

function pixelFeed() {
  const p = golden.pixel_values;
  const shape = [p.length, p[0]!.length, p[0]![0]!.length, p[0]![0]![0]!.length];
  return { pixel_values: float32Tensor(Float32Array.from(p.flat(3)), shape) };
}

async function sliced(c: VitCase) {
  const { ir } = await loadModelIR(dirSource(fixtureDir('tiny/vit-tiny')));
  const base = emptyPlan(ir);
  const layers = base.layers.map((l, i) => ({ ...l, removedHeads: c.layers[i]!.removed_heads, removedFfn: c.layers[i]!.removed_ffn }));
  const plan = validatePlan({ ...base, layers, removedHidden: golden.removed_hidden }, ir);
  return { ir, sliced: sliceModel(ir, plan) };
}

describe('ViT hidden-size slicing matches the numpy reference', () => {
  it.each(Object.keys(golden.cases) as (keyof VitHiddenGolden['cases'])[])('%s', async (name) => {
    const c = golden.cases[name];
    const { ir, sliced: s } = await sliced(c);
    expect(parameterCount(ir)).toBe(golden.dense_parameters);
    expect(s.spec.hiddenSize).toBe(golden.hidden_size);
    expect(parameterCount(s)).toBe(c.parameters);
    const logits = floats((await runGraph(runner, s, {}, pixelFeed())).logits);
    expect(maxAbsDiff(logits, c.logits.flat())).toBeLessThan(1e-4);
    // The exported checkpoint: the reference's tensor names and shapes, so its parameter count.
    const file = parseSafetensors(exportSafetensors(s));
    const shapes = Object.fromEntries([...file.header].map(([k, info]) => [k, [...info.shape]]));
    expect(shapes).toEqual(c.shapes);
    const exported = Object.values(shapes).reduce((n, sh) => n + sh.reduce((a, b) => a * b, 1), 0);
    expect(exported).toBe(c.parameters);
  });
});
