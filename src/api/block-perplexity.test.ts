/**
 * Block-by-block perplexity (api/block-perplexity.ts) gives the whole graph's numbers: dense, masked
 * preview and applied model on the demo GPT-2, dense on the tiny Llama fixture (rotary, GQA, RMSNorm),
 * with the windows split into several stream groups. The size rule keeps both small models on the whole graph.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import { createNodeRunner } from '../runtime/ort-node';
import { DEMO_DIR } from '../test-util/golden';
import { fixtureDir } from '../test-util/model-fixtures';
import { planMasks } from '../prune/masks';
import { BLOCKWISE_MIN_WEIGHT_BYTES, streamGroups, useBlockwise, type PerplexityPath } from './block-perplexity';
import { denseFeeds, maskFeeds, streamPerplexity } from './evaluation';
import type { LoadedModel } from './state';
import { createStudioApi } from './studio';
import type { PerplexityRequest } from './types';
import { parameterCount } from '../core/ir';

const text = readFileSync('public/data/evaluation.txt', 'utf8');

async function loaded(path: string) {
  const api = createStudioApi({ runner: createNodeRunner(), demoUrl: '', openDir: dirSource });
  await api.loadModel({ kind: 'dir', path });
  return { api, m: api.state.loaded! };
}

function requestFor(m: LoadedModel): PerplexityRequest {
  const ctx = Math.min(64, m.ir.spec.maxPositions);
  return { text, textName: 'evaluation.txt', contextLength: ctx, stride: ctx / 2, maxTokens: 600, batchSize: 3 };
}

/** Dense (or masked) perplexity of the loaded model by one path; streamBytes small enough for several groups. */
async function perplexity(m: LoadedModel, path: PerplexityPath, feeds = denseFeeds(m.ir)) {
  const blocks = { ...m.evalBlocks!, path, streamBytes: 3 * 64 * m.ir.spec.hiddenSize * 4 * 2 };
  return streamPerplexity(m, m.evalSession, m.ir.spec.maxPositions, requestFor(m), feeds, {}, blocks);
}

const rel = (a: number, b: number) => Math.abs(a / b - 1);

describe('block-by-block perplexity', () => {
  it('equals the whole graph on the demo model: dense, masked preview and the applied model', async () => {
    const { api, m } = await loaded(DEMO_DIR);
    expect(useBlockwise(m.ir)).toBe(false);
    const whole = await perplexity(m, 'whole');
    const blocks = await perplexity(m, 'blocks');
    expect(blocks.protocol).toEqual(whole.protocol);
    expect(blocks.protocol.tokensScored).toBe(599);
    expect(rel(blocks.perplexity, whole.perplexity)).toBeLessThan(1e-6);
    expect(rel(blocks.meanNll, whole.meanNll)).toBeLessThan(1e-6);
    expect(rel(blocks.nllStdError, whole.nllStdError)).toBeLessThan(1e-5);
    // the head apart from the last block, in vocabulary chunks (1,500 + 1,500 + 1,096 of 4,096)
    const headApart = { ...m.evalBlocks!, path: 'blocks' as const, headChunk: 1500 };
    const chunked = await streamPerplexity(m, m.evalSession, m.ir.spec.maxPositions, requestFor(m), denseFeeds(m.ir), {}, headApart);
    expect(chunked.protocol.tokensScored).toBe(599);
    // float64 log-sum-exp over the chunks against the graph's float32 reduction: the mean NLL within ~2 float32 ulps
    expect(rel(chunked.meanNll, whole.meanNll)).toBeLessThan(1e-6);
    expect(rel(chunked.perplexity, whole.perplexity)).toBeLessThan(1e-5);
    expect(rel(chunked.nllStdError, whole.nllStdError)).toBeLessThan(1e-4);

    await api.computeImportance('magnitude');
    const plan = await api.allocatePlan({ criterion: 'magnitude', allocation: 'uniform', heads: 0.5, ffn: 0.5, layers: 0 });
    const masks = maskFeeds(m.ir, planMasks(plan));
    const maskedWhole = await perplexity(m, 'whole', masks);
    const maskedBlocks = await perplexity(m, 'blocks', masks);
    expect(rel(maskedWhole.perplexity, whole.perplexity)).toBeGreaterThan(1e-3); // the masks do act
    expect(rel(maskedBlocks.perplexity, maskedWhole.perplexity)).toBeLessThan(1e-6);

    await api.applyPlan({ plan, compensation: 'none' });
    const p = m.pruned!;
    const req = requestFor(m);
    const prunedWhole = await streamPerplexity(m, p.session, p.ir.spec.maxPositions, req, {}, {}, { ...p.evalBlocks!, path: 'whole' });
    const prunedBlocks = await streamPerplexity(m, p.session, p.ir.spec.maxPositions, req, {}, {}, { ...p.evalBlocks!, path: 'blocks' });
    expect(rel(prunedWhole.perplexity, maskedWhole.perplexity)).toBeLessThan(1e-4); // slicing = masking
    expect(rel(prunedBlocks.perplexity, prunedWhole.perplexity)).toBeLessThan(1e-6);
  });

  it('equals the whole graph on the tiny Llama fixture (rotary positions in every block)', async () => {
    const { m } = await loaded(fixtureDir('tiny/llama-tied'));
    const whole = await perplexity(m, 'whole');
    const blocks = await perplexity(m, 'blocks');
    expect(Number.isFinite(whole.perplexity)).toBe(true);
    expect(rel(blocks.perplexity, whole.perplexity)).toBeLessThan(1e-6);
  });

  it('uses blocks from the size threshold on and groups runs under the stream cap', async () => {
    const { m } = await loaded(DEMO_DIR);
    const bytes = parameterCount(m.ir) * 4;
    expect(bytes).toBeLessThan(BLOCKWISE_MIN_WEIGHT_BYTES);
    expect(useBlockwise(m.ir, 'blocks')).toBe(true);
    expect(useBlockwise(m.ir, 'whole')).toBe(false);
    const run = (rows: number) => ({ feeds: {}, rows, len: 10 });
    const groups = streamGroups([run(2), run(2), run(5), run(1)], 4, 2 * 10 * 4 * 4 * 2);
    expect(groups.map((g) => g.map((r) => r.rows))).toEqual([[2, 2], [5], [1]]);
  });
});
