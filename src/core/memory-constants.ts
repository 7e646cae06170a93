/**
 * The engine's sizes and habits the memory model (memory-model.ts) follows, as parameters: how many
 * copies of the weights, logits, taps and Grams exist and where, and the studio's own memory.
 */

/** Vocabulary entries per chunk of the token loss when the graph has no logits output (graph/head.ts). */
export const LOSS_VOCAB_CHUNK = 8192;

export interface MemoryConstants {
  /** Weight copies each onnxruntime session holds (1 today; 0 once sessions take the weights as inputs). */
  sessionWeightCopies: number;
  /** Float32 [batch, seq, vocab] buffers alive while the token loss is computed (the logits: 1). */
  logitCopies: number;
  /**
   * Vocabulary columns of the token loss's logits at once (graph/head.ts chunkedTokenNll: 8,192);
   * 0 = the whole vocabulary. Latency and generation graphs output full logits regardless.
   */
  lossVocabChunk: number;
  /** Hessians kept at once: 'all' layers (today) or 'one' (sequential, per-layer streaming). */
  hessianLayers: 'all' | 'one';
  /** Kept Grams: 'packed-f32' (core/packed-gram.ts, today) or 'full-f64' (c x c float64 each). */
  gramStorage: 'packed-f32' | 'full-f64';
  /** Tap outputs exist twice: in the wasm heap and copied out to JS. */
  tapCopies: number;
  /**
   * Whether the host gives the engine storage for Grams (StudioDeps.gramStore): then a model that
   * runs block by block keeps one layer's packed Grams in memory, every layer's in storage. Default
   * false; the api sets it from its host (api/memory.ts hostConstants).
   */
  gramStore: boolean;
  /**
   * Whether whole-model sessions (latency, generation) run in a disposable isolate with its own heap
   * (api/isolation.ts: Node) instead of the engine's, which would keep their region. The api sets it.
   */
  isolatedSessions: boolean;
  /**
   * Whether the host keeps a large model's weights in storage, resident only while used
   * (core/weight-residency.ts, api/weight-spill.ts: a gramStore and weightSpill not 'never'). The api sets it.
   */
  weightStore?: boolean;
  /**
   * Whether the runtime takes a session's stored weights one tensor at a time (onnxruntime-web,
   * Runner.readsExternalDataBySubarray) instead of all at once as copies. The api sets it.
   */
  streamsWeights?: boolean;
  /**
   * Whether a spilled model's ONNX export is written into storage and opened from there
   * (api/streamed-export.ts: an export store, sessions in process): the bytes are then never whole in
   * memory, only one tensor's read scratch. The api sets it.
   */
  streamsExport?: boolean;
  /**
   * The studio's own memory before any model: its code, onnxruntime's module and threads, the UI.
   * Measured on gpt2-124m's bench: the app idle in Chromium is 202 MB over an empty page, a Node
   * process running the engine 117 MB RSS before loading (bench/results/scale-*.json).
   */
  runtimeBytes: number;
  /**
   * A disposable isolate's own runtime beyond the weights it holds: measured on gpt2-124m in Node, the
   * worker and onnxruntime's module +30 MB, opening the whole model +115 MB over its 475 MB of
   * weights, the runs' arena +100 MB.
   */
  isolateRuntimeBytes: number;
}

export const DEFAULT_MEMORY_CONSTANTS: MemoryConstants = {
  sessionWeightCopies: 1,
  logitCopies: 1,
  lossVocabChunk: LOSS_VOCAB_CHUNK,
  hessianLayers: 'all',
  gramStorage: 'packed-f32',
  tapCopies: 2,
  gramStore: false,
  isolatedSessions: false,
  runtimeBytes: 200 * 2 ** 20,
  isolateRuntimeBytes: 250 * 2 ** 20,
};
