/**
 * The memory model and the preflight on real model shapes (GPT-2 124M, Qwen2.5-0.5B, TinyLlama
 * 1.1B), from their published config.json. Expected numbers are written out by hand from the
 * architectures (not from the code under test).
 */
import { describe, expect, it } from 'vitest';
import { shapeFromConfig } from '../arch/config';
import { ModelTooLargeError } from './errors';
import { DEFAULT_MEMORY_CONSTANTS } from './memory-constants';
import { estimateMemory, windowsPerBatch, type MemoryEstimate } from './memory-model';
import { browserMemoryBudget, GiB } from '../io/memory-budget';
import { checkMemory } from '../io/memory-preflight';

const GPT2 = { model_type: 'gpt2', n_layer: 12, n_head: 12, n_embd: 768, vocab_size: 50257, n_positions: 1024 };
const QWEN = {
  model_type: 'qwen2',
  num_hidden_layers: 24,
  hidden_size: 896,
  num_attention_heads: 14,
  num_key_value_heads: 2,
  intermediate_size: 4864,
  vocab_size: 151936,
  max_position_embeddings: 32768,
  tie_word_embeddings: true,
  torch_dtype: 'bfloat16',
};
const TINYLLAMA = {
  model_type: 'llama',
  num_hidden_layers: 22,
  hidden_size: 2048,
  num_attention_heads: 32,
  num_key_value_heads: 4,
  intermediate_size: 5632,
  vocab_size: 32000,
  max_position_embeddings: 2048,
  tie_word_embeddings: false,
  torch_dtype: 'bfloat16',
};

const partBytes = (e: MemoryEstimate, name: string) => e.parts.find((p) => p.name === name)?.bytes;
/** The studio's own memory before any model (DEFAULT_MEMORY_CONSTANTS.runtimeBytes), in every phase. */
const RUNTIME = 200 * 2 ** 20;

describe('memory model: parameter counts from the shapes', () => {
  it('GPT-2 124M: 124,439,808 parameters', () => {
    // wte 50257*768 + wpe 1024*768 + 12 * (ln 2*768, c_attn 768*2304+2304, c_proj 768*768+768,
    // ln 2*768, c_fc 768*3072+3072, c_proj 3072*768+768) + ln_f 2*768
    const perLayer = 2 * 768 + 768 * 2304 + 2304 + 768 * 768 + 768 + 2 * 768 + 768 * 3072 + 3072 + 3072 * 768 + 768;
    const byHand = 50257 * 768 + 1024 * 768 + 12 * perLayer + 2 * 768;
    expect(byHand).toBe(124_439_808);
    const e = estimateMemory(shapeFromConfig(GPT2), { perplexity: { contextLength: 1024, batchSize: 1 } });
    expect(e.parameters).toBe(124_439_808);
    expect(partBytes(e, 'ir')).toBe(124_439_808 * 4);
    expect(partBytes(e, 'download')).toBe(124_439_808 * 4);
    // read tensor by tensor (picked files, a local folder): only the largest tensor, wte, is held as stored
    // (fp32 here) while its float32 array is made
    const ranged = estimateMemory(
      { ...shapeFromConfig(GPT2), filesHeldWhole: false },
      { perplexity: { contextLength: 1024, batchSize: 1 } },
    );
    expect(partBytes(ranged, 'download')).toBe(50257 * 768 * (4 + 4));
  });

  it('Qwen2.5-0.5B: 494,032,768 parameters, bf16 on disk', () => {
    // embed (tied) 151936*896 + 24 * (q 896*896+896, k,v 2*(896*128+128), o 896*896,
    // gate/up/down 3*896*4864, 2 RMSNorms 2*896) + final norm 896
    const perLayer = 896 * 896 + 896 + 2 * (896 * 128 + 128) + 896 * 896 + 3 * 896 * 4864 + 2 * 896;
    const byHand = 151936 * 896 + 24 * perLayer + 896;
    expect(byHand).toBe(494_032_768);
    const e = estimateMemory(shapeFromConfig(QWEN), { perplexity: { contextLength: 128, batchSize: 8 } });
    expect(e.parameters).toBe(494_032_768);
    expect(partBytes(e, 'download')).toBe(494_032_768 * 2);
  });
});

describe('memory model: the named parts', () => {
  /** GPT-2 calibrated 8 x 128 with Hessians, perplexity over one 1024-token window. */
  const hessianSettings = {
    perplexity: { contextLength: 1024, batchSize: 1 },
    calibration: { samples: 8, seq: 128, withHessians: true },
  };
  // Sum and sum of squares per channel: 12 * 2 * (768 + 3072) float64
  const channelSums = 12 * 2 * (768 + 3072) * 8;
  // Upper block trapezoids, 256-row blocks: 768 -> 256 x (768 + 512 + 256); 3072 -> 256 x 256 x (12 + 11 + ... + 1 = 78)
  const packedLayer = 256 * (768 + 512 + 256) + 256 * 256 * 78;

  it('GPT-2: Hessians of every layer, packed float32, are 264 MB (963 MB as full float64); one layer at a time 22 MB', () => {
    const settings = hessianSettings;
    const shape = shapeFromConfig(GPT2);
    expect(packedLayer).toBe(5_505_024);
    expect(partBytes(estimateMemory(shape, settings), 'hessians')).toBe(12 * packedLayer * 4 + channelSums);
    const full = estimateMemory(shape, settings, { ...DEFAULT_MEMORY_CONSTANTS, gramStorage: 'full-f64' });
    expect(partBytes(full, 'hessians')).toBe(12 * (768 ** 2 + 3072 ** 2) * 8 + channelSums);
    expect(12 * (768 ** 2 + 3072 ** 2) * 8).toBe(962_592_768);
    const one = estimateMemory(shape, settings, { ...DEFAULT_MEMORY_CONSTANTS, hessianLayers: 'one' });
    expect(partBytes(one, 'hessians')).toBe(packedLayer * 4 + channelSums);
    // The consumer expands one projection at a time: the 3072 x 3072 float64 FFN Hessian (75 MB), with
    // its damped copy, Cholesky factor and inverse factor alive together: 4 x 75 MB.
    expect(partBytes(one, 'hessianExpansion')).toBe(4 * 3072 ** 2 * 8);
    const off = estimateMemory(shape, { ...settings, calibration: { ...settings.calibration, withHessians: false } });
    expect(partBytes(off, 'hessians')).toBe(channelSums);
    expect(partBytes(off, 'hessianExpansion')).toBeUndefined();
  });

  it('GPT-2 with a store for Grams (host storage): one layer packed in memory, and one projection read back while pruning', () => {
    const settings = hessianSettings;
    const shape = shapeFromConfig(GPT2);
    const packedFfn = 256 * 256 * 78; // the 3072-wide Gram alone
    const stored = estimateMemory(shape, settings, { ...DEFAULT_MEMORY_CONSTANTS, gramStore: true });
    expect(partBytes(stored, 'hessians')).toBe(packedLayer * 4 + channelSums);
    expect(partBytes(stored, 'hessianExpansion')).toBe(4 * 3072 ** 2 * 8 + packedFfn * 4);
    const inRam = estimateMemory(shape, settings);
    const drop = 11 * packedLayer * 4 - packedFfn * 4; // 11 layers' Grams leave memory; one projection's comes back while pruning
    expect(inRam.phases.find((p) => p.phase === 'pruning')!.bytes - stored.phases.find((p) => p.phase === 'pruning')!.bytes).toBe(drop);
    // at export only the layers' Grams differ (no Hessian is expanded)
    expect(inRam.phases.find((p) => p.phase === 'export')!.bytes - stored.phases.find((p) => p.phase === 'export')!.bytes).toBe(
      11 * packedLayer * 4,
    );
    // a model below BLOCKWISE_MIN_WEIGHT_BYTES keeps its Grams in memory whatever the host offers
    const small = shapeFromConfig({ ...GPT2, n_layer: 2, n_embd: 128, n_head: 2, vocab_size: 1000 });
    const smallSettings = { ...settings, perplexity: { contextLength: 128, batchSize: 1 } };
    expect(partBytes(estimateMemory(small, smallSettings, { ...DEFAULT_MEMORY_CONSTANTS, gramStore: true }), 'hessians')).toBe(
      partBytes(estimateMemory(small, smallSettings), 'hessians'),
    );
  });

  it('GPT-2: a 1024-token perplexity window holds one 8,192-token chunk of its logits (chunked loss)', () => {
    const e = estimateMemory(shapeFromConfig(GPT2), { perplexity: { contextLength: 1024, batchSize: 1 } });
    const logits = 1024 * 8192 * 4; // one vocabulary chunk, 34 MB (the whole vocabulary would be 206 MB)
    const scores = 2 * 12 * 1024 * 1024 * 4; // attention scores + probabilities
    const hidden = 4 * 1024 * 768 * 4;
    const mlp = 1024 * 3072 * 4;
    expect(partBytes(e, 'perplexityActivations')).toBe(logits + scores + hidden + mlp);
    expect(e.largestBuffer).toEqual({ label: 'exported ONNX bytes', bytes: 124_439_808 * 4 });
    // 498 MB of fp32 weights: runs go block by block (>= 256 MiB), so the runtime holds one block's weights
    // (the layer of the parameter count above, 7,087,872) and one chunk of the head (8,192 of wte's 50,257
    // rows: the head runs apart from the last block, one chunk at a time; graph/head-chunks.ts).
    const block = (7_087_872 + 8192 * 768) * 4;
    // Every phase holds the studio itself, the IR and that block; load adds the download (an HTTP source holds the file whole).
    expect(partBytes(e, 'evalSession')).toBe(block);
    expect(e.phases.find((p) => p.phase === 'load')?.bytes).toBe(RUNTIME + 2 * 124_439_808 * 4 + block);
    expect(e.phases.find((p) => p.phase === 'perplexity')?.bytes).toBe(RUNTIME + 124_439_808 * 4 + block + logits + scores + hidden + mlp);
    // Batch 8 of 1024-token windows runs one window at a time: 8 x 1024 x 50,257 float32 would be 1.6 GB.
    const eight = estimateMemory(shapeFromConfig(GPT2), { perplexity: { contextLength: 1024, batchSize: 8 } });
    expect(partBytes(eight, 'perplexityActivations')).toBe(logits + scores + hidden + mlp);
  });

  it('perplexity batches are capped by their logits (128 MiB): 5 windows of 128 GPT-2 tokens, never fewer than 1', () => {
    expect(windowsPerBatch(8, 128, 50257)).toBe(5); // 128 x 50,257 x 4 = 25.7 MB a window
    expect(windowsPerBatch(8, 1024, 50257)).toBe(1);
    expect(windowsPerBatch(8, 4096, 151936)).toBe(1);
    expect(windowsPerBatch(8, 128, 4096)).toBe(8); // the demo model: 2 MB a window
    expect(windowsPerBatch(3, 16, 100)).toBe(3);
  });

  it('Qwen2.5-0.5B: KV cache of 1024 tokens is 2 x 24 x 2 kv heads x 64 x 1024 float32', () => {
    const e = estimateMemory(shapeFromConfig(QWEN), { perplexity: { contextLength: 128, batchSize: 8 }, generation: { tokens: 1024 } });
    expect(partBytes(e, 'kvCache')).toBe(2 * 24 * 2 * 64 * 1024 * 4 + 1024 * 151936 * 4);
    // Sessions sharing one weight copy: the session parts vanish.
    const shared = estimateMemory(
      shapeFromConfig(QWEN),
      { perplexity: { contextLength: 128, batchSize: 8 } },
      { ...DEFAULT_MEMORY_CONSTANTS, sessionWeightCopies: 0 },
    );
    expect(partBytes(shared, 'evalSession')).toBe(0);
  });
});

describe('memory model: weights kept in storage (core/weight-residency.ts)', () => {
  it('GPT-2: resident weights are the widest block matrix plus an eighth of all (the vocabulary read by rows); generation adds the copies read for its session', () => {
    const shape = shapeFromConfig(GPT2);
    const settings = { perplexity: { contextLength: 1024, batchSize: 1 }, generation: { tokens: 64 } };
    const weights = 4 * 124_439_808;
    const inMemory = estimateMemory(shape, settings);
    const stored = estimateMemory(shape, settings, { ...DEFAULT_MEMORY_CONSTANTS, weightStore: true });
    expect(partBytes(inMemory, 'ir')).toBe(weights);
    // c_fc / c_proj [3072, 768]; wte [50257, 768] is read a chunk or a token at a time
    expect(partBytes(stored, 'ir')).toBe(4 * 3072 * 768 + weights / 8);
    expect(partBytes(inMemory, 'sessionCopies')).toBeUndefined();
    expect(partBytes(stored, 'sessionCopies')).toBe(weights);
    const streamed = estimateMemory(shape, settings, { ...DEFAULT_MEMORY_CONSTANTS, weightStore: true, streamsWeights: true });
    expect(partBytes(streamed, 'sessionCopies')).toBe(4 * 50257 * 768);
    // the export: its bytes whole in memory, unless written into storage (api/streamed-export.ts): then the scratch of wte
    const pruned = { ...settings, prunedFraction: 0.25 };
    expect(partBytes(estimateMemory(shape, pruned, { ...DEFAULT_MEMORY_CONSTANTS, weightStore: true }), 'exportBytes')).toBe(
      0.75 * weights,
    );
    const exportStore = { ...DEFAULT_MEMORY_CONSTANTS, weightStore: true, streamsWeights: true, streamsExport: true };
    expect(partBytes(estimateMemory(shape, pruned, exportStore), 'exportBytes')).toBe(4 * 50257 * 768);
    // below the size rule nothing is spilled
    const small = shapeFromConfig({ ...GPT2, n_layer: 2 });
    const smallStored = estimateMemory(small, settings, { ...DEFAULT_MEMORY_CONSTANTS, weightStore: true });
    expect(partBytes(smallStored, 'ir')).toBe(partBytes(estimateMemory(small, settings), 'ir'));
  });
});

describe('memory model: the wasm heap never shrinks', () => {
  const gpt2 = shapeFromConfig(GPT2);
  const weights = 124_439_808 * 4;
  const block = (7_087_872 + 8192 * 768) * 4; // one layer + one 8,192-row chunk of wte, a block-by-block run's weights
  // 128 tokens: K and V of 12 layers x 12 heads x 64 + the prefill logits 128 x 50,257, float32
  const kvCache = 4 * (12 * 2 * 12 * 64 * 128 + 128 * 50257);
  const settings = {
    perplexity: { contextLength: 128, batchSize: 8 },
    calibration: { samples: 16, seq: 128, withHessians: true },
    generation: { tokens: 128 },
  };
  const phase = (e: MemoryEstimate, name: string) => e.phases.find((p) => p.phase === name)!;

  it('in a tab, calibration and export after text generation keep the whole-model session’s heap (586.4 MB)', () => {
    expect(kvCache).toBe(35_168_768);
    const e = estimateMemory(gpt2, settings);
    const generationHeap = block + weights + kvCache;
    expect(generationHeap).toBe(586_445_312);
    expect(phase(e, 'generation').heapBytes).toBe(generationHeap);
    expect(phase(e, 'calibration').heapBytes).toBe(generationHeap);
    expect(phase(e, 'export').heapBytes).toBe(generationHeap);
    // without generation in the plan, calibration's heap is its own: the block and its taps
    const calibrationOwn = phase(estimateMemory(gpt2, { ...settings, generation: undefined }), 'calibration').heapBytes;
    expect(calibrationOwn).toBeLessThan(generationHeap);
    expect(phase(e, 'calibration').carriedWasmBytes).toBe(generationHeap - calibrationOwn);
  });

  it('in Node, the whole-model session runs in a disposable isolate: counted in generation only', () => {
    const e = estimateMemory(gpt2, settings, { ...DEFAULT_MEMORY_CONSTANTS, isolatedSessions: true });
    const alone = estimateMemory(gpt2, { ...settings, generation: undefined });
    expect(phase(e, 'calibration').bytes).toBe(phase(alone, 'calibration').bytes);
    const isolate = weights + kvCache + 250 * 2 ** 20; // + the isolate's own runtime (isolateRuntimeBytes)
    expect(phase(e, 'generation').wasmBytes).toBe(isolate); // the isolate's heap
    expect(phase(e, 'generation').bytes - phase(alone, 'generation').bytes).toBe(isolate);
  });

  it('a step checked next carries the heap the steps before it left, and only that', () => {
    const carried = 1e9;
    const next = estimateMemory(gpt2, { perplexity: settings.perplexity, heapCarried: carried, nextStep: true });
    // the studio, the IR and the 1 GB heap (larger than perplexity's own block + activations)
    expect(phase(next, 'perplexity').bytes).toBe(RUNTIME + weights + carried);
    expect(phase(next, 'perplexity').heapBytes).toBe(carried);
    // a fresh engine: generation planned but not run does not weigh on the next step
    const fresh = estimateMemory(gpt2, { ...settings, heapCarried: 0, nextStep: true });
    expect(phase(fresh, 'calibration').carriedWasmBytes).toBe(0);
  });
});

describe('memory model: pruning', () => {
  it('GPT-2 pruned 50% while a 30%-pruned model is still applied: both copies in the pruning phase, only the new one at export', () => {
    const weights = 124_439_808 * 4;
    const settings = { perplexity: { contextLength: 128, batchSize: 8 }, prunedFraction: 0.5 };
    const alone = estimateMemory(shapeFromConfig(GPT2), settings);
    const held = estimateMemory(shapeFromConfig(GPT2), { ...settings, heldPrunedFraction: 0.3 });
    const pruning = (e: MemoryEstimate) => e.phases.find((p) => p.phase === 'pruning')!.bytes;
    const exporting = (e: MemoryEstimate) => e.phases.find((p) => p.phase === 'export')!.bytes;
    expect(partBytes(alone, 'prunedIr')).toBe(weights / 2); // the sliced copy of a block-wise model
    expect(partBytes(held, 'heldPrunedIr')).toBe(Math.round(weights * 0.7));
    expect(pruning(held) - pruning(alone)).toBe(Math.round(weights * 0.7));
    expect(exporting(held)).toBe(exporting(alone));
  });
});

describe('memory preflight', () => {
  const browser8 = browserMemoryBudget({ deviceMemory: 8 }); // 8 GiB, 2 GiB per buffer, 4 GiB wasm
  const browser4 = browserMemoryBudget({ deviceMemory: 4 }); // 4 GiB

  it('loads GPT-2 and Qwen2.5-0.5B in a 4 GB browser; refuses Qwen2.5-0.5B in a 2 GB one with the numbers and the dominant part', () => {
    const settings = { perplexity: { contextLength: 128, batchSize: 8 } };
    const browser2 = browserMemoryBudget({ deviceMemory: 2 });
    expect(() => checkMemory('gpt2', shapeFromConfig(GPT2), settings, browser8, ['load'])).not.toThrow();
    expect(() => checkMemory('gpt2', shapeFromConfig(GPT2), settings, browser4, ['load'])).not.toThrow();
    expect(() => checkMemory('qwen', shapeFromConfig(QWEN), settings, browser8, ['load'])).not.toThrow();
    expect(() => checkMemory('qwen', shapeFromConfig(QWEN), settings, browser4, ['load'])).not.toThrow();
    let err: unknown;
    try {
      checkMemory('qwen', shapeFromConfig(QWEN), settings, browser2, ['load']);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ModelTooLargeError);
    // the studio (200 MiB) + bf16 download 988 MB (held whole from the Hub) + the float32 IR 1.98 GB + one
    // block in the runtime: a layer (q 896x896+896, k/v 2 x (896x128+128), o 896x896, gate/up/down
    // 3 x 896x4864, 2 norms x 896) and one 8,192-row chunk of the tied vocabulary matrix (151,936 x 896)
    const layer = 896 * 896 + 896 + 2 * (896 * 128 + 128) + 896 * 896 + 3 * 896 * 4864 + 2 * 896;
    const need = RUNTIME + 494_032_768 * 2 + 494_032_768 * 4 + (layer + 8192 * 896) * 4;
    expect(need).toBe(3_262_921_472);
    expect(err).toMatchObject({ neededBytes: need, availableBytes: 2 * GiB });
    expect((err as Error).message).toMatch(
      /load needs about 3\.04 GB, but only about 2\.00 GB is available .*largest part is Float32 weights/,
    );
  });

  it('loads TinyLlama 1.1B block by block, refuses its whole-model latency / generation for the wasm32 heap and its fp32 export for the ArrayBuffer limit', () => {
    const roomy = { bytes: 64 * GiB, source: 'test', wasmHeapLimit: 4 * GiB, arrayBufferLimit: 2 * GiB };
    const settings = { perplexity: { contextLength: 128, batchSize: 8 }, generation: { tokens: 256 } };
    const tiny = shapeFromConfig(TINYLLAMA);
    expect(() => checkMemory('tinyllama', tiny, settings, roomy, ['load', 'perplexity'])).not.toThrow();
    // 1.1 B float32 weights (4.40 GB) in one session exceed the 4 GiB wasm32 heap
    expect(() => checkMemory('tinyllama', tiny, settings, roomy, ['generation'])).toThrow(/wasm32 heap/);
    const noWasm = { bytes: 64 * GiB, source: 'test', arrayBufferLimit: 2 * GiB };
    expect(() => checkMemory('tinyllama', tiny, settings, noWasm, ['export'])).toThrow(
      /exported ONNX bytes would be one buffer of 4\.10 GB/,
    );
  });

  it('names the setting that fits: batch 1 for perplexity, per-layer Hessians for calibration', () => {
    const gpt2 = shapeFromConfig(GPT2);
    const weights = 124_439_808 * 4;
    // Perplexity, 128-token windows: the studio (210 MB) + IR (498 MB) + one block and a head chunk in the
    // runtime (53.5 MB) + 5 windows (capped) of activations, 44.6 MB; one window's are 8.9 MB. A budget of
    // studio + IR + block + 20 MB fits only batch 1.
    const block = (7_087_872 + 8192 * 768) * 4;
    const budget = { bytes: RUNTIME + weights + block + 20e6, source: 'test' };
    expect(() => checkMemory('gpt2', gpt2, { perplexity: { contextLength: 128, batchSize: 8 } }, budget, ['perplexity'])).toThrow(
      expect.objectContaining({ hint: expect.stringMatching(/^A perplexity batch size of 1 would fit/) }),
    );
    // Calibration 16 x 128 with Hessians, one block's session at a time (the same block region as perplexity):
    // studio 210 MB + IR 498 MB + block 53.5 MB + residual stream 6.3 MB + taps and in-graph Grams of 4 sequences
    // 102 MB, plus every layer's packed Grams and channel sums 265 MB (1.13 GB) or one layer's 22.8 MB (0.89 GB).
    const cal = { perplexity: { contextLength: 128, batchSize: 8 }, calibration: { samples: 16, seq: 128, withHessians: true } };
    expect(() => checkMemory('gpt2', gpt2, cal, { bytes: 1.0e9, source: 'test' }, ['calibration'])).toThrow(
      expect.objectContaining({ hint: expect.stringMatching(/^Hessians kept for one layer at a time/) }),
    );
  });
});
