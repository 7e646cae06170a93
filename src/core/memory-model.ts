/**
 * The memory model: peak bytes of the whole path (load, dense perplexity, calibration, generation,
 * export) predicted from the shapes alone (config.json), before any weight is downloaded. Pure:
 * named parts, each with its size, where it lives (JS heap or the wasm32 heap of onnxruntime) and
 * the phases in which it is alive; the peak is the largest phase total. The parts follow today's
 * engine: the weights held once in JS (read tensor by tensor from local files, whole from HTTP);
 * sessions read them as inputs, copied into the wasm heap for a run — for a large model
 * (BLOCKWISE_MIN_WEIGHT_BYTES) one block and one vocabulary matrix at a time, the whole model only
 * for latency and generation; the Grams of every layer kept packed in float32 (a large model's in
 * the host's storage, one layer in memory: api/gram-storage.ts) and expanded to float64 one
 * projection at a time; the token loss in vocabulary chunks; perplexity batches capped
 * by their logits; apply and export holding the sliced copy (a large model keeps no compensated
 * full-size one), the exported bytes and their verification session; and the studio's own memory
 * (its code, the runtime's, the UI) before any model. The constants are parameters so the model can
 * follow the engine. The wasm heap never shrinks: a later phase reuses an earlier one's freed region
 * but never returns it, so each phase's heap is the largest of its own and every earlier phase's (in
 * MEMORY_PHASES order, the path's, plus what steps already run left: MemorySettings.heapCarried).
 * Whole-model sessions in a disposable isolate (Node: api/isolation.ts) live in their own heap,
 * returned after the step, so they count in their phase only.
 */
import type { ArchSpec, LayerShape } from './ir';
import { DEFAULT_MEMORY_CONSTANTS, LOSS_VOCAB_CHUNK, type MemoryConstants } from './memory-constants';
import { forwardActivationBytes, layerParameters, runsBlockwise, shapeParameters, type ModelShape } from './model-shape';
import { packedGramLength } from './packed-gram';

export type MemoryPhase = 'load' | 'perplexity' | 'calibration' | 'generation' | 'pruning' | 'export';
/**
 * The path's order: latency and text comparison come before calibration; pruning (OBS scores, apply
 * with compensation, SlimGPT) holds the Hessians expanded and the pruned copy; export last.
 */
export const MEMORY_PHASES: readonly MemoryPhase[] = ['load', 'perplexity', 'generation', 'calibration', 'pruning', 'export'];

export interface MemoryPart {
  /** Stable id, e.g. 'hessians'. */
  name: string;
  /** What it is, for the UI table and error messages. */
  label: string;
  bytes: number;
  /**
   * 'wasm': inside onnxruntime's wasm32 heap (4 GiB limit, never shrinks); 'isolate': the wasm heap of a
   * disposable isolate (its own 4 GiB, returned after the step); 'js': JS heap.
   */
  heap: 'js' | 'wasm' | 'isolate';
  phases: readonly MemoryPhase[];
}

export interface MemorySettings {
  /** Dense perplexity: window length and windows per batch. */
  perplexity: { contextLength: number; batchSize: number };
  /** Calibration (absent: not planned). `batchSize` sequences run at once (the engine uses 4). */
  calibration?: { samples: number; seq: number; withHessians: boolean; batchSize?: number };
  /** Generation with the KV cache: prompt + new tokens (absent: not planned). */
  generation?: { tokens: number };
  /** Fraction of the parameters pruned before export (0: the dense size, an upper bound). */
  prunedFraction?: number;
  /**
   * Fraction pruned of the applied model already held while a new one is made (apply, SlimGPT keep it
   * until the new one replaces it; absent: none held).
   */
  heldPrunedFraction?: number;
  /** Bytes the wasm heap already holds from steps run before (it never shrinks; 0 before any). */
  heapCarried?: number;
  /**
   * Each phase as the next step after those already run (a step's own check): only `heapCarried`
   * carries into it, not the other phases of the path, which may never run.
   */
  nextStep?: boolean;
}

/** Float32 logits a perplexity batch may hold in the runtime (batch x window x vocab x 4 bytes). */
export const LOGITS_BUDGET_BYTES = 128 * 2 ** 20;

/**
 * Windows per batch: the requested number, fewer when their logits would pass `budget` bytes (at
 * least one). A token's NLL does not depend on the other rows of its batch, so results are the same.
 */
export function windowsPerBatch(requested: number, contextLength: number, vocabSize: number, budget = LOGITS_BUDGET_BYTES): number {
  const perWindow = 4 * contextLength * vocabSize;
  return Math.max(1, Math.min(requested, Math.floor(budget / perWindow)));
}

/** float64 n x n matrices alive at once while OBS works on one projection: the Hessian, its damped copy, its Cholesky factor, the inverse factor. */
export const OBS_FLOAT64_MATRICES = 4;

export interface MemoryEstimate {
  parameters: number;
  parts: MemoryPart[];
  /**
   * Total of every phase, in MEMORY_PHASES order: its parts plus `carriedWasmBytes`, the wasm heap kept
   * beyond its own parts from earlier phases and steps. `heapBytes`: the engine's wasm heap after the
   * phase (its high water so far); `wasmBytes`: the largest wasm32 heap it needs (that or an isolate's).
   */
  phases: { phase: MemoryPhase; bytes: number; wasmBytes: number; heapBytes: number; carriedWasmBytes: number }[];
  peak: { phase: MemoryPhase; bytes: number };
  /** The largest part alive in the peak phase. */
  dominant: MemoryPart;
  /** The largest single buffer (a tensor, the ONNX bytes or a logits buffer), for the 2 GB ArrayBuffer limit. */
  largestBuffer: { label: string; bytes: number };
  /** The single buffers checked against the per-ArrayBuffer limit, each with the phases it exists in. */
  buffers: { label: string; bytes: number; phases: readonly MemoryPhase[] }[];
}

const F32 = 4;
const F64 = 8;

function part(name: string, label: string, bytes: number, heap: MemoryPart['heap'], phases: readonly MemoryPhase[]): MemoryPart {
  return { name, label, bytes: Math.max(0, Math.round(bytes)), heap, phases };
}

/** Logit columns the token loss holds at once (the vocabulary, or one chunk of it). */
function lossColumns(spec: ArchSpec, c: MemoryConstants): number {
  return c.lossVocabChunk > 0 ? Math.min(spec.vocabSize, c.lossVocabChunk) : spec.vocabSize;
}

function calibrationParts(
  model: ModelShape,
  cal: NonNullable<MemorySettings['calibration']>,
  weights: number,
  c: MemoryConstants,
): MemoryPart[] {
  const { spec, layers } = model;
  const after: MemoryPhase[] = ['calibration', 'generation', 'pruning', 'export'];
  const attnW = (l: LayerShape) => l.numHeads * spec.headDim;
  const packed = c.gramStorage === 'packed-f32';
  // Bytes of one layer's two Grams as kept, and as the graph outputs them (float32).
  const kept1 = layers.map((l) =>
    packed ? F32 * (packedGramLength(attnW(l)) + packedGramLength(l.ffnSize)) : F64 * (attnW(l) ** 2 + l.ffnSize ** 2),
  );
  const out1 = layers.map(
    (l) => F32 * (packed ? packedGramLength(attnW(l)) + packedGramLength(l.ffnSize) : attnW(l) ** 2 + l.ffnSize ** 2),
  );
  const rows = Math.min(cal.samples, cal.batchSize ?? 4) * cal.seq;
  // Sequential calibration (saliency/calibrate.ts collectStatsByLayer): one block's session at a time,
  // reading that block's weights (the first also the embeddings, the last also the head).
  const vocabMatrix = spec.vocabSize * spec.hiddenSize * (spec.tiedEmbeddings ? 1 : 2);
  const blockWeights = F32 * (Math.max(0, ...layers.map((l) => layerParameters(spec, l))) + vocabMatrix);
  const tapWidth = Math.max(0, ...layers.map((l) => attnW(l) + l.ffnSize + 2 * spec.hiddenSize));
  const gramOut = cal.withHessians ? Math.max(0, ...out1) : 0;
  // in storage (api/gram-storage.ts): the layer being calibrated in memory, then one projection read back at a time
  const stored = packed && c.gramStore && runsBlockwise(spec, layers);
  const all = kept1.reduce((s, g) => s + g, 0);
  const kept = c.hessianLayers === 'all' && !stored ? all : Math.max(0, ...kept1);
  const widest = Math.max(0, ...layers.map((l) => Math.max(attnW(l), l.ffnSize)));
  const channelSums = layers.reduce((s, l) => s + 2 * (attnW(l) + l.ffnSize), 0);
  const keptLabel = packed ? 'packed float32' : 'float64';
  return [
    // a large model's block runs reuse the region of the evalSession part (one block + one vocabulary matrix)
    ...(runsBlockwise(spec, layers)
      ? []
      : [
          part(
            'tapSession',
            'Calibration block session weights (one block + embeddings or head)',
            blockWeights * c.sessionWeightCopies,
            'wasm',
            ['calibration'],
          ),
        ]),
    part(
      'residualStream',
      `Residual stream of the calibration set (${cal.samples} x ${cal.seq} tokens)`,
      F32 * cal.samples * cal.seq * spec.hiddenSize,
      'js',
      ['calibration'],
    ),
    part(
      'calibrationTaps',
      `One block's taps + in-graph Grams, one batch (${rows} tokens)`,
      c.tapCopies * (F32 * rows * tapWidth + gramOut) +
        forwardActivationBytes(spec, layers, rows / cal.seq, cal.seq, c.logitCopies, lossColumns(spec, c)),
      'wasm',
      ['calibration'],
    ),
    part(
      'hessians',
      cal.withHessians
        ? `Hessians X^T X, ${keptLabel} (${stored ? `one layer in memory, every layer's ${Math.round(all / 2 ** 20)} MiB in storage` : c.hessianLayers === 'all' ? 'every layer' : 'one layer at a time'})`
        : 'Channel statistics',
      (cal.withHessians ? kept : 0) + F64 * channelSums,
      'js',
      after,
    ),
    ...(cal.withHessians && packed
      ? [
          part(
            'hessianExpansion',
            `One projection’s float64 Hessian, damped copy and factors while OBS uses them${stored ? ' (+ its packed Gram read back)' : ''}`,
            OBS_FLOAT64_MATRICES * F64 * widest ** 2 + (stored ? F32 * packedGramLength(widest) : 0),
            'js',
            ['pruning'],
          ),
        ]
      : []),
  ];
}

/**
 * Per-phase totals: the parts alive, plus the wasm heap a step already run (`carried`) or, `inOrder`, an
 * earlier phase of the path left larger than the phase's own wasm parts; an isolate's heap is separate
 * and counts only in its phase.
 */
function phaseTotals(parts: readonly MemoryPart[], carried: number, inOrder: boolean): MemoryEstimate['phases'] {
  const sum = (ps: readonly MemoryPart[]) => ps.reduce((s, p) => s + p.bytes, 0);
  let highWater = carried;
  return MEMORY_PHASES.map((phase) => {
    const alive = parts.filter((p) => p.phases.includes(phase));
    const own = sum(alive.filter((p) => p.heap === 'wasm'));
    const isolate = sum(alive.filter((p) => p.heap === 'isolate'));
    const carriedWasmBytes = Math.max(0, highWater - own);
    if (inOrder) highWater = Math.max(highWater, own);
    const heapBytes = own + carriedWasmBytes;
    return { phase, bytes: sum(alive) + carriedWasmBytes, wasmBytes: Math.max(heapBytes, isolate), heapBytes, carriedWasmBytes };
  });
}

/** Predicted memory of the whole path: named parts, per-phase totals, the peak and what dominates it. */
export function estimateMemory(
  model: ModelShape,
  settings: MemorySettings,
  constants: MemoryConstants = DEFAULT_MEMORY_CONSTANTS,
): MemoryEstimate {
  const { spec, layers } = model;
  const parameters = shapeParameters(spec, layers);
  const weights = F32 * parameters;
  const ctx = Math.min(settings.perplexity.contextLength, spec.maxPositions);
  const batch = windowsPerBatch(settings.perplexity.batchSize, ctx, spec.vocabSize);
  const columns = lossColumns(spec, constants);
  const pruned = weights * (1 - (settings.prunedFraction ?? 0));
  const blockwise = runsBlockwise(spec, layers);
  const vocabMatrix = F32 * spec.vocabSize * spec.hiddenSize;
  // block by block, a vocabulary over one loss chunk has its head run apart, one chunk of rows at a time (graph/head-chunks.ts)
  const headInHeap = spec.head === 'lm' && spec.vocabSize > LOSS_VOCAB_CHUNK ? F32 * LOSS_VOCAB_CHUNK * spec.hiddenSize : vocabMatrix;
  const held = model.filesHeldWhole ?? true;
  const spilled = blockwise && constants.weightStore === true;
  // core/weight-residency.ts defaultResidentBudget: the largest array read whole plus an eighth; a head in
  // chunks reads the vocabulary matrix by rows, so the largest is then a block's widest matrix
  const widestLinear = F32 * spec.hiddenSize * Math.max(spec.hiddenSize, ...layers.map((l) => l.ffnSize));
  const residentBudget = (headInHeap < vocabMatrix ? widestLinear : vocabMatrix) + weights / 8;
  const parts: MemoryPart[] = [
    part('runtime', 'The studio and its runtime (code, threads, UI) before any model', constants.runtimeBytes, 'js', MEMORY_PHASES),
    part(
      'download',
      held ? 'Weight files as stored (held whole while loading)' : 'One tensor as stored and as float32 (files read tensor by tensor)',
      held ? parameters * model.storedBytesPerWeight : spec.vocabSize * spec.hiddenSize * (model.storedBytesPerWeight + F32),
      'js',
      ['load'],
    ),
    spilled
      ? part('ir', 'Float32 weights resident (the rest in storage, read back per block)', residentBudget, 'js', MEMORY_PHASES)
      : part('ir', 'Float32 weights (the model)', weights, 'js', MEMORY_PHASES),
    part(
      'evalSession',
      blockwise
        ? `Run weights in the runtime: one block and ${headInHeap < vocabMatrix ? 'one chunk of the head' : 'one vocabulary matrix'} (block-by-block runs)`
        : 'Run weights in the runtime (every weight is copied in for a run)',
      (blockwise ? F32 * Math.max(0, ...layers.map((l) => layerParameters(spec, l))) + headInHeap : weights) *
        constants.sessionWeightCopies,
      'wasm',
      MEMORY_PHASES,
    ),
    part(
      'perplexityActivations',
      `Perplexity activations (${batch} x ${ctx} tokens, logits over ${columns} of ${spec.vocabSize} tokens at a time)`,
      forwardActivationBytes(spec, layers, batch, ctx, constants.logitCopies, columns),
      'wasm',
      ['perplexity'],
    ),
  ];
  if (settings.calibration) parts.push(...calibrationParts(model, settings.calibration, weights, constants));
  if (settings.generation) {
    const t = Math.min(settings.generation.tokens, spec.maxPositions);
    const kv = layers.reduce((s, l) => s + 2 * l.numKvHeads * spec.headDim * t, 0);
    const heap = constants.isolatedSessions && blockwise ? 'isolate' : 'wasm';
    parts.push(
      part(
        'generateSession',
        `Latency / generation session weights (the whole model in the runtime${heap === 'isolate' ? ', a disposable isolate' : ''})`,
        weights * constants.sessionWeightCopies,
        heap,
        ['generation'],
      ),
      ...(spilled
        ? [
            constants.streamsWeights
              ? part(
                  'sessionCopies',
                  'The tensor being read from storage into the session while it opens (the largest)',
                  vocabMatrix,
                  'js',
                  ['generation'],
                )
              : part(
                  'sessionCopies',
                  'Weight copies read from storage for the session while it opens',
                  weights,
                  heap === 'isolate' ? 'isolate' : 'js',
                  ['generation'],
                ),
          ]
        : []),
      part('kvCache', `KV cache (${t} tokens) + prefill logits`, F32 * (kv + t * spec.vocabSize), heap, ['generation']),
      ...(heap === 'isolate'
        ? [
            part('isolateRuntime', 'The isolate’s own runtime (code, threads, run arena)', constants.isolateRuntimeBytes, 'isolate', [
              'generation',
            ]),
          ]
        : []),
    );
  }
  parts.push(
    part(
      'prunedIr',
      spilled
        ? 'Pruned weights resident (the sliced copy, in storage)'
        : blockwise
          ? 'Pruned weights (the sliced copy)'
          : 'Pruned weights (sliced + compensated copies)',
      (spilled ? 1 / 8 : blockwise ? 1 : 2) * pruned,
      'js',
      ['pruning', 'export'],
    ),
    ...(settings.heldPrunedFraction !== undefined
      ? [
          part('heldPrunedIr', 'The applied model held until the new one replaces it', weights * (1 - settings.heldPrunedFraction), 'js', [
            'pruning',
          ]),
        ]
      : []),
    spilled && constants.streamsExport
      ? // api/streamed-export.ts: written into storage; the file's session reads each tensor through one scratch
        part('exportBytes', 'Exported ONNX file in storage: its largest tensor read back at a time', vocabMatrix, 'js', ['export'])
      : part('exportBytes', 'Exported ONNX bytes', pruned, 'js', ['export']),
    part('verifySession', 'Export verification session weights', pruned * constants.sessionWeightCopies, 'wasm', ['export']),
  );
  const phases = phaseTotals(parts, settings.heapCarried ?? 0, !settings.nextStep);
  const top = phases.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const dominant = parts.filter((p) => p.phases.includes(top.phase)).reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const buffers = [
    // the export is written as one buffer (io/onnx/encode.ts); no other phase builds the whole model's bytes
    { label: 'exported ONNX bytes', bytes: pruned, phases: ['export'] as const },
    { label: 'token embedding tensor', bytes: F32 * spec.vocabSize * spec.hiddenSize, phases: MEMORY_PHASES },
    { label: `perplexity logits (${batch} x ${ctx} x ${columns})`, bytes: F32 * batch * ctx * columns, phases: ['perplexity'] as const },
  ];
  return {
    parameters,
    parts,
    phases,
    peak: { phase: top.phase, bytes: top.bytes },
    dominant,
    largestBuffer: buffers.map(({ label, bytes }) => ({ label, bytes })).reduce((a, b) => (b.bytes > a.bytes ? b : a)),
    buffers,
  };
}
