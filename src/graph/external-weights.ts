/**
 * A graph opened with its weights embedded but never encoded: built with the weights as inputs
 * (graph/weight-inputs.ts), those inputs become initializers whose external data are the IR's own
 * arrays (one file per tensor, no copy, no re-layout). The runner copies each tensor once into its
 * engine (SessionOptions.externalData) and the runs feed only the other inputs; with the IR on
 * SharedArrayBuffers (core/shared-weights.ts) the views reach an isolated runner without a copy.
 * A spilled tensor (core/weight-residency.ts) gives bytes read from its store when the runner copies
 * them in (a runner that reads external data tensor by tensor, core/lazy-bytes.ts: opening holds one
 * tensor at a time), else a copy for this session alone (`owned`: an isolated runner transfers it to
 * its thread); either way opening keeps no weight resident.
 * The with-past graph (generation) and a large model's logits graph (latency) open this way.
 */
import type { ModelIR } from '../core/ir';
import type { ExternalFile, Runner, RunnerSession, SessionOptions } from '../core/runner';
import { freeScratch, spilledCopy, spilledLazyBytes, spilledLocation, type ScratchBuffer } from '../core/weight-residency';
import type { Tensor } from '../core/tensor';
import { DataType, encodeModel, type ModelProto, type TensorProto } from '../io/onnx';
import { rowsInputTensor, weightEntries } from './weight-inputs';

/** What the runner that will open the model can read (core/runner.ts flags). */
export type ExternalReader = Pick<Runner, 'readsExternalDataBySubarray' | 'readsStoredFiles'>;

/**
 * A spilled tensor's bytes for the runner: where they lie in the store's file when the runner reads
 * stored files (a Node isolate), else read when the runner copies them in (lazy bytes), else a copy
 * for this session alone (owned); an in-memory tensor's own array.
 */
function externalFile(path: string, t: Tensor, reader: ExternalReader, scratch: ScratchBuffer): ExternalFile {
  const stored = reader.readsStoredFiles ? spilledLocation(t) : undefined;
  if (stored) return { path, data: new Uint8Array(0), stored };
  const lazy = reader.readsExternalDataBySubarray ? spilledLazyBytes(t, scratch) : undefined;
  if (lazy) return { path, data: lazy };
  const copy = spilledCopy(t);
  const data = copy ?? t.data;
  return { path, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), ...(copy ? { owned: true } : {}) };
}

/**
 * The buffer lazily read tensors pass through, shared by successive opens (a block-wise pass opens a
 * session per block): kept between them while it is block-sized, so each open makes no garbage, and
 * let go after an open that grew it past this size (a vocabulary matrix), which it would otherwise hold.
 */
const KEEP_SCRATCH_BYTES = 32 * 2 ** 20;
const sharedScratch: ScratchBuffer = {};

function releaseSharedScratch(): void {
  if ((sharedScratch.buffer?.byteLength ?? 0) > KEEP_SCRATCH_BYTES) freeScratch(sharedScratch);
}

export interface ExternalWeights {
  /** The model with the weights as external data (small). */
  skeleton: Uint8Array;
  /** One file per weight: a view of the IR's array (little-endian, as on every supported platform). */
  externalData: ExternalFile[];
  /** Lets a vocabulary-sized scratch go (a block-sized one is kept for the next open): call once the session is open (or failed to). */
  release(): void;
}

/**
 * A `weights: 'inputs'` graph of `ir` with those inputs turned into initializers whose external data
 * are the IR's own arrays (one file per tensor, no copy, no re-layout): the weights enter the engine
 * once, as constants, and the session's runs feed only the other inputs.
 */
export function weightInputsAsExternal(
  model: ModelProto,
  ir: ModelIR,
  reader: ExternalReader = {},
  /** Weight inputs the caller feeds itself (they stay inputs). */
  fed: ReadonlySet<string> = new Set(),
): ExternalWeights {
  const byName = new Map(weightEntries(ir));
  const externalData: ExternalWeights['externalData'] = [];
  // the runner copies each lazily read tensor before it asks for the next: one buffer serves them all
  const scratch = sharedScratch;
  const initializers: TensorProto[] = [];
  const inputs = (model.graph.input ?? []).filter((input) => {
    // a weight, or a block of its rows (the chunked loss's head chunks, graph/head.ts)
    const t = byName.get(input.name ?? '') ?? rowsInputTensor(input.name ?? '', byName);
    if (!t || fed.has(input.name ?? '')) return true;
    const path = `weight-${externalData.length}.bin`;
    const file = externalFile(path, t, reader, scratch);
    externalData.push(file);
    const bytes = file.stored?.bytes ?? file.data.byteLength;
    initializers.push({
      name: input.name,
      dims: [...t.shape],
      data_type: DataType.FLOAT,
      data_location: 1,
      external_data: [
        { key: 'location', value: path },
        { key: 'offset', value: '0' },
        { key: 'length', value: String(bytes) },
      ],
    });
    return false;
  });
  const graph = { ...model.graph, input: inputs, initializer: [...(model.graph.initializer ?? []), ...initializers] };
  return { skeleton: encodeModel({ ...model, graph }), externalData, release: releaseSharedScratch };
}

/** Opens `model` (a `weights: 'inputs'` graph of `ir`) with the weights embedded from the IR's arrays. */
export async function openWithWeights(
  runner: Runner,
  model: ModelProto,
  ir: ModelIR,
  options: Omit<SessionOptions, 'externalData'> = {},
): Promise<RunnerSession> {
  const { skeleton, externalData, release } = weightInputsAsExternal(model, ir, runner);
  try {
    return await runner.open(skeleton, { ...options, externalData });
  } finally {
    release();
  }
}
