/**
 * Both Runners on the same graphs: onnxruntime-node (CPU) and onnxruntime-web (Node, WASM) must
 * agree on every output; BackendInfo is reported; failures become RuntimeFailure naming the op.
 */
import { describe, expect, it } from 'vitest';
import { RuntimeFailure } from '../core/errors';
import { int64Tensor, sessionConfigEntries } from '../core/runner';
import { buildOnnx } from '../graph/build';
import { floats, idsFeed, maskFeeds, maxAbsDiff, nextTokenLabels, SAMPLE_IDS } from '../test-util/graph-run';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';
import { createNodeRunner } from './ort-node';
import { createWebRunner } from './ort-web';

const node = createNodeRunner({ threads: 1 });
const web = createWebRunner();

describe('onnxruntime-node and onnxruntime-web agree', () => {
  it.each([
    ['gpt2', randomIR({ layers: 2, hidden: 16, heads: 4, ffn: 32, vocab: 50 })],
    ['llama', randomLlamaIR({ vocab: 50 })],
  ])('%s: logits, token_nll and every tap within 1e-5', async (_name, ir) => {
    const bytes = buildOnnx(ir, { masks: true, taps: true, tokenLoss: true });
    const feeds = { ...idsFeed(SAMPLE_IDS), ...nextTokenLabels(SAMPLE_IDS), ...maskFeeds(ir, { head: (m) => (m[2] = 0) }) };
    const [a, b] = await Promise.all([node.open(bytes), web.open(bytes)]);
    const [outA, outB] = [await a.run(feeds), await b.run(feeds)];
    expect(Object.keys(outB).sort()).toEqual(Object.keys(outA).sort());
    expect(Object.keys(outA)).toHaveLength(2 + 3 * ir.layers.length + 1);
    for (const name of Object.keys(outA)) {
      expect(outB[name]!.dims, name).toEqual(outA[name]!.dims);
      expect(maxAbsDiff(floats(outA[name]), floats(outB[name])), name).toBeLessThan(1e-5);
    }
    await Promise.all([a.release(), b.release()]);
  });
});

describe('Runner sessions', () => {
  const bytes = buildOnnx(randomIR(), { tokenLoss: true });

  it("prepack: false maps to onnxruntime's session.disable_prepacking", () => {
    expect(sessionConfigEntries({ prepack: false })).toEqual({ session: { disable_prepacking: '1' } });
    expect(sessionConfigEntries({})).toBeUndefined();
  });

  it.each([
    ['onnxruntime-node', node],
    ['onnxruntime-web', web],
  ])('%s: a session without pre-packed weights gives the same outputs within 1e-5', async (_name, runner) => {
    const feeds = { ...idsFeed(SAMPLE_IDS), ...nextTokenLabels(SAMPLE_IDS) };
    const [a, b] = [await runner.open(bytes), await runner.open(bytes, { prepack: false })];
    const [outA, outB] = [await a.run(feeds), await b.run(feeds)];
    for (const name of ['logits', 'token_nll']) expect(maxAbsDiff(floats(outA[name]), floats(outB[name])), name).toBeLessThan(1e-5);
    await Promise.all([a.release(), b.release()]);
  });

  it('report their backend, inputs and outputs', async () => {
    const [a, b] = await Promise.all([node.open(bytes), web.open(bytes)]);
    expect(a.backend).toMatchObject({ name: 'cpu', threads: 1, engine: 'onnxruntime-node 1.30.0' });
    expect(b.backend).toMatchObject({ name: 'wasm', engine: 'onnxruntime-web 1.30.0' });
    expect(b.backend.threads).toBeGreaterThanOrEqual(1);
    expect(b.backend.threads).toBeLessThanOrEqual(4);
    expect(a.inputNames).toEqual(['input_ids', 'labels']);
    expect(b.outputNames).toEqual(['logits', 'token_nll']);
    const only = await b.run({ ...idsFeed(SAMPLE_IDS), ...nextTokenLabels(SAMPLE_IDS) }, ['token_nll']);
    expect(Object.keys(only)).toEqual(['token_nll']);
    await Promise.all([a.release(), b.release()]);
  });

  it.each([
    ['onnxruntime-node', node],
    ['onnxruntime-web', web],
  ])('%s: a token id outside the vocabulary is a RuntimeFailure naming the op', async (_name, runner) => {
    const s = await runner.open(bytes);
    const feeds = { input_ids: int64Tensor([1, 2, 999], [1, 3]), labels: int64Tensor([0, 0, 0], [1, 3]) };
    const error = await s.run(feeds).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RuntimeFailure);
    expect((error as RuntimeFailure).message).toMatch(/Gather/);
    expect((error as RuntimeFailure).hint).toMatch(/out of range/);
    await s.release();
  });

  it.each([
    ['onnxruntime-node', node],
    ['onnxruntime-web', web],
  ])('%s: bytes that are not a model are a RuntimeFailure', async (_name, runner) => {
    await expect(runner.open(new Uint8Array([1, 2, 3, 4]))).rejects.toBeInstanceOf(RuntimeFailure);
  });
});
