/**
 * Benchmark: greedy generation tokens/s without the KV cache (the whole context through the logits
 * graph per token, as before) and with it (graph/kv-cache.ts: one prefill, then one-token steps;
 * eval/kv-decoder.ts, the path api.generate uses), on the demo model and on a GPT-2-124M-shaped
 * random model (12 layers, d 768, 12 heads, FFN 3072, 50,257 tokens, 1,024 positions; built in
 * memory). Rounds alternate (without, with) so machine drift hits both; the tokens must be equal.
 */
import { tokenEmbeddingOf } from '../src/core/ir';
import type { ModelIR } from '../src/core/ir';
import { asFloat32, int64Tensor, type Runner, type RunnerSession } from '../src/core/runner';
import { tensor } from '../src/core/tensor';
import { generateIds } from '../src/eval/generate';
import { createKvDecoder } from '../src/eval/kv-decoder';
import { buildOnnx } from '../src/graph/build';
import { buildKvCacheOnnx, cacheHeads } from '../src/graph/kv-cache';
import { randomIR, seededRandom } from '../src/test-util/random-ir';
import { loadavg } from 'node:os';

export interface GenerateBenchOptions {
  promptTokens: number;
  newTokens: number;
  rounds: number;
  log?: (line: string) => void;
}

/** GPT-2 124M shapes with random weights (std ~0.02 like GPT-2's init, so activations stay moderate). */
export function gpt2_124mShape(): ModelIR {
  const ir = randomIR({ layers: 12, hidden: 768, heads: 12, ffn: 3072, vocab: 50257, seed: 11 });
  const rnd = seededRandom(12);
  const scale = (t: { data: Float32Array }) => t.data.forEach((v, i) => (t.data[i] = v * 0.07));
  scale(tokenEmbeddingOf(ir));
  for (const w of ir.weights.layers) for (const lin of [w.q, w.k, w.v, w.o, w.up, w.down]) scale(lin.weight);
  const pe = tensor(
    [1024, 768],
    Float32Array.from({ length: 1024 * 768 }, () => rnd() * 0.02),
  );
  return { ...ir, name: 'gpt2-124m-shape', spec: { ...ir.spec, maxPositions: 1024 }, weights: { ...ir.weights, positionEmbedding: pe } };
}

function uncached(session: RunnerSession, V: number) {
  return async (ctx: number[]) => {
    const res = await session.run({ input_ids: int64Tensor(ctx, [1, ctx.length]) }, ['logits']);
    return asFloat32(res.logits, 'logits').subarray((ctx.length - 1) * V, ctx.length * V);
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs `f`; tokens per wall-clock second and per CPU second of this process (onnxruntime's threads included). */
async function rate(f: () => Promise<number[]>): Promise<{ tokens: number[]; perS: number; perCpuS: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const tokens = await f();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { tokens, perS: (tokens.length * 1000) / wallMs, perCpuS: (tokens.length * 1e6) / (cpu.user + cpu.system) };
}

export async function benchGenerateModel(runner: Runner, ir: ModelIR, o: GenerateBenchOptions) {
  const V = ir.spec.vocabSize;
  const prompt = Array.from({ length: o.promptTokens }, (_, i) => (i * 7919 + 13) % V);
  const sampling = { maxNewTokens: o.newTokens, temperature: 0, topK: 0, seed: 1 };
  const plain = await runner.open(buildOnnx(ir, { logits: true }));
  const withPast = await runner.open(buildKvCacheOnnx(ir));
  const shape = { kvHeads: ir.layers.map((_, l) => cacheHeads(ir, l)), headDim: ir.spec.headDim, vocabSize: V };
  const before: number[] = [];
  const after: number[] = [];
  const beforeCpu: number[] = [];
  const afterCpu: number[] = [];
  let sameTokens = true;
  const loadBefore = loadavg()[0]!;
  let sampledKv: { tokensPerS: number; tokensPerCpuS: number } | undefined;
  try {
    for (let r = 0; r < o.rounds; r++) {
      const a = await rate(() => generateIds(prompt, ir.spec.maxPositions, uncached(plain, V), sampling));
      const b = await rate(() => generateIds(prompt, ir.spec.maxPositions, createKvDecoder(withPast, shape).lastLogits, sampling));
      before.push(a.perS);
      after.push(b.perS);
      beforeCpu.push(a.perCpuS);
      afterCpu.push(b.perCpuS);
      sameTokens &&= a.tokens.length === b.tokens.length && a.tokens.every((x, i) => x === b.tokens[i]);
      o.log?.(
        `${ir.name} round ${r + 1}: ${a.perS.toFixed(1)} -> ${b.perS.toFixed(1)} tokens/s (per CPU-second ${a.perCpuS.toFixed(1)} -> ${b.perCpuS.toFixed(1)})`,
      );
    }
    // the UI's sampling settings (top-k 40): sampling must not cost more than a step of the cache
    const s = await rate(() =>
      generateIds(prompt, ir.spec.maxPositions, createKvDecoder(withPast, shape).lastLogits, { ...sampling, temperature: 0.8, topK: 40 }),
    );
    sampledKv = { tokensPerS: s.perS, tokensPerCpuS: s.perCpuS };
    o.log?.(`${ir.name} with the cache, temperature 0.8 top-k 40: ${s.perS.toFixed(1)} tokens/s (per CPU-second ${s.perCpuS.toFixed(1)})`);
  } finally {
    await plain.release();
    await withPast.release();
  }
  const beforeTokensPerS = median(before);
  const afterTokensPerS = median(after);
  return {
    model: ir.name,
    backend: withPast.backend,
    promptTokens: o.promptTokens,
    newTokens: o.newTokens,
    beforeTokensPerS,
    afterTokensPerS,
    speedup: afterTokensPerS / beforeTokensPerS,
    /** Tokens per CPU second of the process: less sensitive to other load on a shared machine. */
    beforeTokensPerCpuS: median(beforeCpu),
    afterTokensPerCpuS: median(afterCpu),
    samples: { before, after, beforeCpu, afterCpu },
    sameTokens,
    sampledKv,
    /** 1-minute load average before and after (2 shared cores: wall numbers inflate with it; the CPU rates less so). */
    loadAverage: [loadBefore, loadavg()[0]!],
  };
}

export async function benchGenerate(runner: Runner, demo: ModelIR, o: GenerateBenchOptions & { scale?: boolean }) {
  const rows = [await benchGenerateModel(runner, demo, o)];
  if (o.scale) rows.push(await benchGenerateModel(runner, gpt2_124mShape(), { ...o, rounds: Math.min(o.rounds, 2) }));
  return { rows, target: 'gpt2-124m: >= 10 tokens/s in WASM with the KV cache (issue 11)' };
}
