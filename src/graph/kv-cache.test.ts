/**
 * The with-past graph (kv-cache.ts) against the full-sequence graph of build.ts (itself checked
 * against the PyTorch goldens): a prefill plus one-token (and multi-token) steps must give the same
 * logits at every position, for the demo model, the tiny Hub fixtures (and their golden logits
 * directly), random GPT-2 / Llama (GQA, q/k/v biases) and pruned models whose layers hold different
 * numbers of kv heads (or none). Left padding through attention_mask must not change a row's logits.
 */
import { describe, expect, it } from 'vitest';
import { loadModelIR } from '../arch/load';
import { dirSource } from '../cli/dir-source';
import type { ModelIR } from '../core/ir';
import { int64Tensor, type Feeds, type RunnerSession } from '../core/runner';
import { createNodeRunner } from '../runtime/ort-node';
import { DEMO_DIR } from '../test-util/golden';
import { floats, idsFeed, maxAbsDiff, runGraph } from '../test-util/graph-run';
import { fixtureDir, fixtureModels, goldenCases } from '../test-util/model-fixtures';
import { prunedGpt2, prunedLlama } from '../test-util/pruned-ir';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';
import { buildKvCacheOnnx, cacheHeads, kvNames, type KvCacheGraphOptions } from './kv-cache';

const runner = createNodeRunner({ threads: 1 });
/** Float tolerance between the cached and the full-sequence graph (same float32 ops, other shapes). */
const TOLERANCE = 1e-4;
/** The fixtures' golden tolerance (src/arch/llama.test.ts). */
const GOLDEN_TOLERANCE = 1e-3;
const IDS = [
  [1, 7, 30, 2, 19, 5, 11, 23, 3],
  [38, 4, 4, 12, 0, 9, 31, 16, 27],
];

interface CachedRun {
  ids: readonly (readonly number[])[];
  /** Tokens per run: the first is the prefill, then the steps; they sum to the sequence length. */
  chunks: readonly number[];
  /** attention_mask per row over the whole sequence (default all ones). */
  attention?: readonly (readonly number[])[];
  /** position_ids per row (default 0..seq-1). */
  positions?: readonly (readonly number[])[];
  /** kv heads of the empty pasts of the prefill (default: each layer's own). */
  emptyPastHeads?: number;
}

function slice2d(rows: readonly (readonly number[])[], from: number, to: number): Feeds[string] {
  return int64Tensor(
    rows.flatMap((r) => r.slice(from, to)),
    [rows.length, to - from],
  );
}

/** Runs the chunks through the with-past session, feeding presents back; returns logits [batch, seq, vocab]. */
async function runCached(session: RunnerSession, ir: ModelIR, run: CachedRun): Promise<Float32Array> {
  const B = run.ids.length;
  const S = run.ids[0]!.length;
  const V = ir.spec.vocabSize;
  const dh = ir.spec.headDim;
  const attention = run.attention ?? run.ids.map((r) => r.map(() => 1));
  const positions = run.positions ?? run.ids.map((r) => r.map((_, i) => i));
  const out = new Float32Array(B * S * V);
  let past: Feeds = {};
  ir.layers.forEach((_, l) => {
    const empty = { type: 'float32', dims: [B, run.emptyPastHeads ?? cacheHeads(ir, l), 0, dh], data: new Float32Array(0) } as const;
    past[kvNames.pastKey(l)] = empty;
    past[kvNames.pastValue(l)] = empty;
  });
  let start = 0;
  for (const n of run.chunks) {
    const end = start + n;
    const res = await session.run({
      input_ids: slice2d(run.ids, start, end),
      attention_mask: slice2d(attention, 0, end),
      position_ids: slice2d(positions, start, end),
      ...past,
    });
    const logits = floats(res.logits);
    expect(res.logits?.dims).toEqual([B, n, V]);
    for (let b = 0; b < B; b++) out.set(logits.subarray(b * n * V, (b + 1) * n * V), (b * S + start) * V);
    past = {};
    ir.layers.forEach((_, l) => {
      const key = res[kvNames.presentKey(l)]!;
      expect(key.dims, `present.${l}.key after ${end} tokens`).toEqual([B, cacheHeads(ir, l), end, dh]);
      past[kvNames.pastKey(l)] = key;
      past[kvNames.pastValue(l)] = res[kvNames.presentValue(l)]!;
    });
    start = end;
  }
  expect(start).toBe(S);
  return out;
}

async function withCacheSession<T>(ir: ModelIR, f: (s: RunnerSession) => Promise<T>, options: KvCacheGraphOptions = {}): Promise<T> {
  const session = await runner.open(buildKvCacheOnnx(ir, options));
  try {
    return await f(session);
  } finally {
    await session.release();
  }
}

/** Prefill of about half the sequence, then one token at a time. */
function halfThenSteps(seq: number): number[] {
  const prefill = Math.ceil(seq / 2);
  return [prefill, ...Array.from({ length: seq - prefill }, () => 1)];
}

/** Largest |cached - full| over `ids` for prefill + one-token steps and for a prefill + multi-token chunks. */
async function cachedVsFull(ir: ModelIR, ids: readonly (readonly number[])[]): Promise<number> {
  const full = floats((await runGraph(runner, ir, { logits: true }, idsFeed(ids))).logits);
  const S = ids[0]!.length;
  return withCacheSession(ir, async (session) => {
    const steps = await runCached(session, ir, { ids, chunks: halfThenSteps(S) });
    const chunked = await runCached(session, ir, { ids, chunks: [2, S - 3, 1] });
    return Math.max(maxAbsDiff(steps, full), maxAbsDiff(chunked, full));
  });
}

describe('with-past graph: prefill + steps equal the full-sequence graph', () => {
  const cases: [string, () => ModelIR][] = [
    ['random gpt2', () => randomIR({ seed: 2 })],
    ['random llama, GQA 4 q / 2 kv heads', () => randomLlamaIR()],
    ['random qwen2-style llama, q/k/v biases, no GQA', () => randomLlamaIR({ heads: 2, kvHeads: 2, qkvBias: true, seed: 4 })],
    ['pruned gpt2: heads [3, 0, 4], FFN [32, 16, 0]', prunedGpt2],
    ['pruned llama: kv heads [1, 2, 0], FFN [24, 12, 24]', prunedLlama],
  ];
  it.each(cases)('%s', async (_, make) => {
    const ir = make();
    expect(await cachedVsFull(ir, IDS)).toBeLessThan(TOLERANCE);
  });

  it('declares the Optimum names and per-layer kv-head counts (pruned llama)', async () => {
    const ir = prunedLlama();
    expect(ir.layers.map((_, l) => cacheHeads(ir, l))).toEqual([1, 2, 0]);
    await withCacheSession(ir, async (s) => {
      expect(s.inputNames).toEqual([
        'input_ids',
        'attention_mask',
        'position_ids',
        ...[0, 1, 2].flatMap((l) => [`past_key_values.${l}.key`, `past_key_values.${l}.value`]),
      ]);
      expect(s.outputNames).toEqual(['logits', ...[0, 1, 2].flatMap((l) => [`present.${l}.key`, `present.${l}.value`])]);
    });
  });

  it('widerEmptyPast: a pruned model accepts transformers.js-style empty pasts with the config’s kv heads in every layer', async () => {
    const ir = prunedLlama();
    const full = floats((await runGraph(runner, ir, { logits: true }, idsFeed(IDS))).logits);
    const run = { ids: IDS, chunks: halfThenSteps(IDS[0]!.length), emptyPastHeads: 2 };
    await withCacheSession(ir, async (s) => expect(maxAbsDiff(await runCached(s, ir, run), full)).toBeLessThan(TOLERANCE), {
      widerEmptyPast: true,
    });
    await withCacheSession(ir, async (s) => expect(runCached(s, ir, run)).rejects.toThrow(/invalid dimensions/i));
  });

  it('the demo model (prefill + 12 steps, batch 2)', async () => {
    const { ir } = await loadModelIR(dirSource(DEMO_DIR));
    const ids = [0, 1].map((r) => Array.from({ length: 24 }, (_, i) => (r * 977 + i * 131 + 7) % ir.spec.vocabSize));
    expect(await cachedVsFull(ir, ids)).toBeLessThan(TOLERANCE);
  }, 60_000);

  const fixtures = fixtureModels('safetensors');
  it.each(fixtures.map((m) => [m.repo, m] as const))('%s: equals the full graph and the PyTorch golden', async (repo, m) => {
    const { ir } = await loadModelIR(dirSource(fixtureDir(repo)));
    await withCacheSession(ir, async (session) => {
      for (const c of goldenCases(m.golden)) {
        const ids = [c.ids];
        const full = floats((await runGraph(runner, ir, { logits: true }, idsFeed(ids))).logits);
        const cached = await runCached(session, ir, { ids, chunks: halfThenSteps(c.ids.length) });
        expect(maxAbsDiff(cached, full), `${repo}/${c.name} vs full graph`).toBeLessThan(TOLERANCE);
        expect(maxAbsDiff(cached, c.logits.flat()), `${repo}/${c.name} vs golden`).toBeLessThan(GOLDEN_TOLERANCE);
      }
    });
  });
});

describe('with-past graph: attention_mask', () => {
  /** Row 0 is row 1's last `S - pad` tokens behind `pad` left pads (HF position_ids: cumsum(mask) - 1, pads at 1). */
  async function leftPadded(ir: ModelIR, pad: number): Promise<void> {
    const S = IDS[0]!.length;
    const real = IDS[1]!.slice(pad);
    const ids = [[...Array.from({ length: pad }, () => 0), ...real], IDS[1]!];
    const attention = [[...Array.from({ length: pad }, () => 0), ...real.map(() => 1)], IDS[1]!.map(() => 1)];
    const positions = [[...Array.from({ length: pad }, () => 1), ...real.map((_, i) => i)], IDS[1]!.map((_, i) => i)];
    const alone = floats((await runGraph(runner, ir, { logits: true }, idsFeed([real]))).logits);
    const full = floats((await runGraph(runner, ir, { logits: true }, idsFeed([IDS[1]!]))).logits);
    const V = ir.spec.vocabSize;
    await withCacheSession(ir, async (session) => {
      const cached = await runCached(session, ir, { ids, attention, positions, chunks: halfThenSteps(S) });
      expect(maxAbsDiff(cached.subarray(pad * V, S * V), alone), 'padded row vs the same tokens alone').toBeLessThan(TOLERANCE);
      expect(maxAbsDiff(cached.subarray(S * V), full), 'unpadded row in the same batch').toBeLessThan(TOLERANCE);
    });
  }

  it('left-padded rows give the logits of their tokens alone (learned positions)', async () => {
    await leftPadded(randomIR({ seed: 2 }), 3);
  });

  it('left-padded rows give the logits of their tokens alone (rotary, GQA)', async () => {
    await leftPadded(randomLlamaIR(), 3);
  });

  it('a masked key changes the logits (the mask is not ignored)', async () => {
    const ir = randomLlamaIR();
    await withCacheSession(ir, async (session) => {
      const ids = [IDS[0]!];
      const plain = await runCached(session, ir, { ids, chunks: [4, 5] });
      const attention = [IDS[0]!.map((_, i) => (i === 1 ? 0 : 1))];
      const masked = await runCached(session, ir, { ids, attention, chunks: [4, 5] });
      const V = ir.spec.vocabSize;
      expect(maxAbsDiff(masked.subarray(0, V), plain.subarray(0, V))).toBe(0);
      expect(maxAbsDiff(masked.subarray(8 * V), plain.subarray(8 * V))).toBeGreaterThan(1e-3);
    });
  });
});
