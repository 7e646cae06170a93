/**
 * Api operation `generate`: compare-text generation with the KV cache (eval/kv-decoder.ts) over the
 * with-past graph of the dense or applied model (graph/kv-cache.ts), its session opened with the
 * weights embedded (graph/external-weights.ts).
 */
import { throwIfAborted } from '../core/errors';
import type { ModelIR } from '../core/ir';
import type { Runner, RunnerSession } from '../core/runner';
import { generateIds } from '../eval/generate';
import { createKvDecoder, type KvDecoder } from '../eval/kv-decoder';
import { openWithWeights } from '../graph/external-weights';
import { buildKvCacheProto, cacheHeads } from '../graph/kv-cache';
import { useBlockwise } from './block-perplexity';
import { isolatesSessions, withIsolate } from './isolation';
import { requirePruned, type LoadedModel, type StudioState } from './state';
import type { GenerateRequest, GenerateResult, JobOptions } from './types';
import { evictResident } from './weight-spill';

/** The with-past graph's cache shape. */
function cacheShape(ir: ModelIR) {
  return { kvHeads: ir.layers.map((_, l) => cacheHeads(ir, l)), headDim: ir.spec.headDim, vocabSize: ir.spec.vocabSize };
}

/**
 * Opens the with-past graph of `ir` with the IR's arrays as its initializers' external data
 * (graph/external-weights.ts): no encoded copy of the weights, each copied once into the engine.
 * `prepack: false` keeps the MatMul / Gemm weights as loaded instead of also packing a copy: a large
 * model's choice, since the wasm heap never shrinks and every later step would carry the packed copy
 * (gpt2-124m in Node: generation peak 3.64x -> 3.07x the fp32 weights, steady decoding 33 -> 17 tokens/s,
 * each step packing its weights again).
 */
async function openKvSession(runner: Runner, ir: ModelIR, prepack: boolean): Promise<RunnerSession> {
  return openWithWeights(runner, buildKvCacheProto(ir, { weights: 'inputs' }), ir, prepack ? {} : { prepack: false });
}

/**
 * Runs `use` on a decoder over the with-past session of the dense or pruned model: for a large
 * model in a disposable isolate, dropped afterwards (api/isolation.ts), else in process: a small
 * model's session is opened on first use and kept, a large model's is opened for the call and released.
 */
async function withGenerationDecoder<T>(
  state: StudioState,
  m: LoadedModel,
  target: GenerateRequest['target'],
  use: (ir: ModelIR, decoder: KvDecoder) => Promise<T>,
): Promise<T> {
  const owner = target === 'pruned' ? requirePruned(m) : m;
  const { ir } = owner;
  // only a small model's session is pre-packed (openKvSession)
  const prepack = !useBlockwise(m.ir);
  if (!prepack) evictResident(m, state.deps);
  if (!isolatesSessions(state, m.ir)) {
    if (prepack) {
      owner.generateSession ??= await openKvSession(state.deps.runner, ir, prepack);
      return use(ir, createKvDecoder(owner.generateSession, cacheShape(ir)));
    }
    // A large model's with-past session holds the whole model in the wasm heap (not pre-packed: see
    // openKvSession): released after the call, its region is reused by later runs instead of adding to them
    // (measured in Chromium on gpt2-124m: calibration after generation 4.02x -> 3.88x, export 5.75x -> 5.18x).
    const session = await openKvSession(state.deps.runner, ir, prepack);
    try {
      return await use(ir, createKvDecoder(session, cacheShape(ir)));
    } finally {
      await session.release();
    }
  }
  return withIsolate(state.deps.runner, async (runner) =>
    use(ir, createKvDecoder(await openKvSession(runner, ir, prepack), cacheShape(ir))),
  );
}

/** Prefill of the prompt, then one token per step from the KV cache (a full window re-prefills as it slides). */
export async function generate(state: StudioState, m: LoadedModel, req: GenerateRequest, options: JobOptions): Promise<GenerateResult> {
  const what = `Generating (${req.target})`;
  // opening the with-past session (first use) takes seconds on a real-size model: say so
  options.onProgress?.({ stage: 'generation', done: 0, total: req.maxNewTokens, message: `${what}: preparing the model` });
  return withGenerationDecoder(state, m, req.target, async (ir, decoder) => {
    throwIfAborted(options.signal, what);
    const t0 = state.now();
    const prompt = m.tokenizer.encode(req.prompt);
    let done = 0;
    // one call per new token: progress (and an ETA) per token
    const lastLogits = async (ids: number[]) => {
      const logits = await decoder.lastLogits(ids);
      done++;
      options.onProgress?.({ stage: 'generation', done, total: req.maxNewTokens, message: `${what}: token ${done}/${req.maxNewTokens}` });
      return logits;
    };
    const out = await generateIds(
      prompt.length ? prompt : [m.tokenizer.eosId ?? 0],
      ir.spec.maxPositions,
      lastLogits,
      { maxNewTokens: req.maxNewTokens, temperature: req.temperature, topK: req.topK, seed: req.seed, stopId: m.tokenizer.eosId },
      options.signal,
    );
    const ms = state.now() - t0;
    return {
      target: req.target,
      text: m.tokenizer.decode(out),
      newTokens: out.length,
      ms,
      ids: out,
      pieces: out.map((id) => m.tokenizer.decode([id])),
    };
  });
}
