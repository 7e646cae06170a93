/**
 * `weights: 'inputs'`: the graph that reads every weight as an input, fed by `weightFeeds` (views
 * of the IR's arrays), gives the same logits, token loss, taps and gradients as the embedded graph,
 * on a random GPT-2, a Llama with GQA and untied head, and a pruned GPT-2 with empty sublayers;
 * and it embeds no weight.
 */
import { describe, expect, it } from 'vitest';
import type { ModelIR } from '../core/ir';
import type { Feeds } from '../core/runner';
import { decodeModel } from '../io/onnx';
import { createNodeRunner } from '../runtime/ort-node';
import { floats, idsFeed, maskFeeds, maxAbsDiff, nextTokenLabels, runGraph, SAMPLE_IDS } from '../test-util/graph-run';
import { prunedGpt2 } from '../test-util/pruned-ir';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';
import { buildOnnx } from './build';
import { weightFeeds as oDownFeeds } from './grad/loss';
import type { GraphOptions } from './options';
import { weightEntries, weightFeeds } from './weight-inputs';

const runner = createNodeRunner({ threads: 1 });
const ids = { ...idsFeed(SAMPLE_IDS), ...nextTokenLabels(SAMPLE_IDS) };

async function both(ir: ModelIR, options: GraphOptions, feeds: Feeds) {
  const embedded = await runGraph(runner, ir, options, feeds);
  const session = await runner.open(buildOnnx(ir, { ...options, weights: 'inputs' }));
  try {
    const inputs = await session.run({ ...weightFeeds(ir, session.inputNames), ...feeds });
    return { embedded, inputs, inputNames: session.inputNames };
  } finally {
    await session.release();
  }
}

const MODELS: [string, () => ModelIR][] = [
  ['random GPT-2', () => randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50 })],
  ['random Llama (GQA, untied head)', () => randomLlamaIR({ vocab: 50 })],
  ['pruned GPT-2 (uneven layers, empty sublayers)', prunedGpt2],
];

describe.each(MODELS)('weights as inputs: %s', (_, make) => {
  const ir = make();

  it('logits and token_nll equal the embedded graph', async () => {
    const { embedded, inputs } = await both(ir, { tokenLoss: true }, ids);
    expect(maxAbsDiff(floats(inputs.logits), floats(embedded.logits))).toBeLessThan(1e-5);
    expect(maxAbsDiff(floats(inputs.token_nll), floats(embedded.token_nll))).toBeLessThan(1e-5);
  });

  it('embeds no weight: every IR tensor it uses is an input, fed without a copy', () => {
    const model = decodeModel(buildOnnx(ir, { weights: 'inputs' }));
    const graph = model.graph!;
    const inputNames = new Set((graph.input ?? []).map((i) => i.name));
    const used = weightEntries(ir).filter(([name]) => inputNames.has(name));
    const weightValues = used.reduce((n, [, t]) => n + t.data.length, 0);
    const embedded = (graph.initializer ?? []).reduce((n, t) => n + (t.raw_data?.length ?? 0) / 4, 0);
    expect(embedded).toBeLessThan(weightValues / 10); // constants only (shapes, the rotary tables)
    const feeds = weightFeeds(ir, [...inputNames]);
    for (const [name, t] of used) expect(feeds[name]?.data).toBe(t.data);
  });
});

describe('weights as inputs with masks, taps and gradients', () => {
  it('masked taps and grams equal the embedded graph (random Llama)', async () => {
    const ir = randomLlamaIR({ vocab: 50 });
    const masks = maskFeeds(ir, { head: (m) => (m[1] = 0), ffn: (m) => (m[3] = 0.5) });
    const { embedded, inputs } = await both(
      ir,
      { masks: true, taps: true, grams: true, tokenLoss: true, logits: false },
      { ...ids, ...masks },
    );
    for (const name of Object.keys(embedded)) {
      const scale = Math.max(1, ...Array.from(floats(embedded[name]), Math.abs));
      expect(maxAbsDiff(floats(inputs[name]), floats(embedded[name])) / scale, name).toBeLessThan(1e-5);
    }
  });

  it('mask and o/down weight gradients equal the embedded graph; a caller feed overrides the default weight', async () => {
    const ir = randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50 });
    const B = SAMPLE_IDS.length;
    const S = SAMPLE_IDS[0]!.length;
    const lossWeights: Feeds = { loss_weights: { type: 'float32', dims: [B, S], data: new Float32Array(B * S).fill(1) } };
    const recovered = structuredClone(ir);
    recovered.weights.layers[1]!.o.weight.data.forEach((v, i, a) => (a[i] = v * 0.5));
    const feeds = { ...ids, ...maskFeeds(ir), ...lossWeights, ...oDownFeeds(recovered) };
    const options: GraphOptions = { masks: true, logits: false, weightInputs: true, gradients: { masks: true, weights: true } };
    const { embedded, inputs } = await both(ir, options, feeds);
    for (const name of Object.keys(embedded)) {
      const scale = Math.max(1e-3, ...Array.from(floats(embedded[name]), Math.abs));
      expect(maxAbsDiff(floats(inputs[name]), floats(embedded[name])) / scale, name).toBeLessThan(1e-5);
    }
  });
});
