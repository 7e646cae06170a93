/**
 * The numeric check of an ONNX import: the original file and the model rebuilt from what the
 * importer matched run on a few seeded random token sequences (image classifiers: seeded random images); logits that differ beyond a float32
 * tolerance refuse the import (OnnxImportMismatchError with the largest difference and, located by
 * the residual stream the importer matched, the first layer whose output differs). Pattern matchers
 * recognise structure; this check makes sure the structure they did not look at computes the same.
 */
import { OnnxFormatError, OnnxImportMismatchError, RuntimeFailure, StudioError } from '../core/errors';
import type { ModelIR } from '../core/ir';
import { asFloat32, float32Tensor, int64Tensor, type Feeds, type Runner, type RunnerSession } from '../core/runner';
import { buildOnnx } from '../graph/build';
import { encodeModel, type ModelProto } from '../io/onnx';
import { decoderFeeds, FROM_FILE, withActivationInputs, withOutputs, type OnnxImportSource } from '../io/onnx-import/source-model';

/** Relative float32 tolerance on logits (and hidden states), scaled by their largest magnitude (at least 1). */
export const IMPORT_TOLERANCE = 1e-3;

export interface ImportCheck {
  maxAbsDiff: number;
  tolerance: number;
}

/** One probe: token sequences [batch][seq], or (image classifiers) pixel_values [batch, C, S, S]. */
type Probe = number[][] | { pixels: Float32Array; dims: number[] };

const isPixels = (p: Probe): p is { pixels: Float32Array; dims: number[] } => !Array.isArray(p);

/** The probe as the rebuilt model's feeds. */
function rebuiltFeeds(p: Probe): Feeds {
  return isPixels(p) ? { pixel_values: float32Tensor(p.pixels, p.dims) } : { input_ids: int64Tensor(p.flat(), [p.length, p[0]!.length]) };
}

/** Seeded probes: token sequences within the model's context, or seeded images in [-1, 1) for an image classifier. */
function sequences(ir: ModelIR, seed = 0x5eed): Probe[] {
  const v = ir.spec.vision;
  if (ir.spec.input === 'patches' && v) {
    const rand = seeded(seed);
    return [2, 1].map((B) => {
      const dims = [B, v.numChannels, v.imageSize, v.imageSize];
      return { pixels: Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, () => 2 * rand() - 1), dims };
    });
  }
  return tokenSequences(ir, seed);
}

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded token sequences: [batch, seq] pairs within the model's context. */
function tokenSequences(ir: ModelIR, seed: number): number[][][] {
  const next = seeded(seed);
  const P = Math.max(1, ir.spec.maxPositions);
  const shapes: [number, number][] = [
    [2, Math.min(16, P)],
    [1, Math.min(5, P)],
  ];
  return shapes.map(([B, T]) => Array.from({ length: B }, () => Array.from({ length: T }, () => Math.floor(next() * ir.spec.vocabSize))));
}

function pastDims(ir: ModelIR): (name: string) => [number, number] {
  return (name) => {
    const i = Number(/\.(\d+)\./.exec(name)?.[1] ?? 0);
    return [ir.layers[i]?.numKvHeads ?? ir.layers[0]?.numKvHeads ?? 1, ir.spec.headDim];
  };
}

function diff(a: Float32Array, b: Float32Array): { maxAbsDiff: number; scale: number } {
  if (a.length !== b.length) return { maxAbsDiff: Infinity, scale: 1 };
  let maxAbsDiff = 0;
  let scale = 1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { maxAbsDiff, scale };
}

async function withSession<T>(runner: Runner, bytes: Uint8Array, f: (s: RunnerSession) => Promise<T>): Promise<T> {
  let session: RunnerSession;
  try {
    session = await runner.open(bytes);
  } catch (e) {
    if (e instanceof StudioError) throw e;
    throw new OnnxFormatError(`The ONNX graph could not be opened to check the import: ${(e as Error).message}`);
  }
  try {
    return await f(session);
  } finally {
    await session.release();
  }
}

function originalFeeds(source: OnnxImportSource, session: RunnerSession, ids: Probe, ir: ModelIR): Feeds {
  if (isPixels(ids)) return rebuiltFeeds(ids);
  const inputs = source.model.graph.input.filter((i) => session.inputNames.includes(i.name));
  return decoderFeeds(inputs, ids, pastDims(ir));
}

/**
 * Runs both models on the seeded sequences; throws OnnxImportMismatchError when they differ. A file
 * whose activations are quantized at run time (int8) is checked in two exact steps, since the float32
 * import does not quantize activations: the import against the float graph with the weights
 * dequantized, and then the weights' dequantization against the file (quantizedWeightsMatch).
 */
export async function verifyOnnxImport(runner: Runner, ir: ModelIR, source: OnnxImportSource): Promise<ImportCheck> {
  if (!source.dequantized) return compareWith(runner, ir, source, IMPORT_TOLERANCE);
  const check = await compareWith(runner, ir, { model: source.dequantized.float, hidden: source.hidden }, IMPORT_TOLERANCE);
  await quantizedWeightsMatch(runner, ir, source.model, source.dequantized);
  return check;
}

/**
 * Every value the dequantizer computes again (each int8 MatMul's output, each quantized table's
 * rows) equals the file's, value by value: the graph that keeps the activation quantization
 * (DynamicQuantizeLinear -> DequantizeLinear -> float MatMul) runs with each quantized MatMul fed the
 * file's own activations. Comparing logits instead is chaotic: a float32 difference of one ulp can
 * move an activation across a rounding boundary of the next quantization, and such flips add up
 * over the layers to differences no weight caused (measured: 0.033 on the demo model's logits).
 */
async function quantizedWeightsMatch(
  runner: Runner,
  ir: ModelIR,
  model: ModelProto,
  dequantized: NonNullable<OnnxImportSource['dequantized']>,
): Promise<void> {
  const outputs = dequantized.rederived.map((r) => r.output);
  const activations = [...new Set(dequantized.rederived.flatMap((r) => (r.activation ? [r.activation] : [])))];
  const fake = withActivationInputs(dequantized.fakeQuantized, activations);
  for (const ids of sequences(ir)) {
    const file = await valuesOf(runner, model, ids, ir, [...outputs, ...activations], {});
    const extra: Feeds = {};
    for (const a of activations) extra[`${a}${FROM_FILE}`] = file.get(a)!;
    const mine = await valuesOf(runner, fake, ids, ir, outputs, extra);
    for (const name of outputs) {
      const d = diff(asFloat32(mine.get(name)!, name), asFloat32(file.get(name)!, name));
      if (d.maxAbsDiff > IMPORT_TOLERANCE * d.scale)
        throw new OnnxImportMismatchError(
          `The quantized weights were not read as the file computes with them: "${name}", computed from the dequantized weights on the file's own quantized activations, differs from the file's by up to ${d.maxAbsDiff.toPrecision(4)} (float32 tolerance ${(IMPORT_TOLERANCE * d.scale).toPrecision(3)}).`,
          d.maxAbsDiff,
          undefined,
        );
    }
  }
}

/** Named values of a decoder graph on one probe (its own feeds plus `extra`). */
async function valuesOf(
  runner: Runner,
  model: ModelProto,
  ids: Probe,
  ir: ModelIR,
  names: string[],
  extra: Feeds,
): Promise<Map<string, Feeds[string]>> {
  const own = { ...model, graph: { ...model.graph, input: model.graph.input.filter((i) => !(i.name in extra)) } };
  return withSession(runner, encodeModel(withOutputs(model, names)), async (s) => {
    const out = await runChecked(s, { ...originalFeeds({ model: own, hidden: [] }, s, ids, ir), ...extra }, names);
    return new Map(names.map((n) => [n, out[n]!]));
  });
}

async function compareWith(runner: Runner, ir: ModelIR, source: OnnxImportSource, relTolerance: number): Promise<ImportCheck> {
  const batches = sequences(ir);
  const original: Float32Array[] = [];
  await withSession(runner, encodeModel(source.model), async (s) => {
    const logits = s.outputNames.includes('logits') ? 'logits' : s.outputNames[0]!;
    for (const ids of batches) original.push(asFloat32((await runChecked(s, originalFeeds(source, s, ids, ir), [logits]))[logits], logits));
  });
  let worst = { maxAbsDiff: 0, tolerance: relTolerance };
  await withSession(runner, buildOnnx(ir, { logits: true }), async (s) => {
    for (const [k, ids] of batches.entries()) {
      const got = asFloat32((await runChecked(s, rebuiltFeeds(ids), ['logits'])).logits, 'logits');
      const d = diff(got, original[k]!);
      const tolerance = relTolerance * d.scale;
      if (k === 0 || d.maxAbsDiff / tolerance > worst.maxAbsDiff / worst.tolerance) worst = { maxAbsDiff: d.maxAbsDiff, tolerance };
    }
  });
  if (worst.maxAbsDiff > worst.tolerance) {
    const layer = await firstDivergingLayer(runner, ir, source, batches[0]!, relTolerance).catch(() => undefined);
    const where =
      layer === undefined
        ? ''
        : layer < 0
          ? '; the difference is already in the embedding output'
          : `; the residual stream first differs after layer ${layer}`;
    throw new OnnxImportMismatchError(
      `The ONNX graph does not compute the decoder Prune Studio recognised in it: on seeded random token sequences its logits differ from the rebuilt model's by up to ${worst.maxAbsDiff.toPrecision(4)} (float32 tolerance ${worst.tolerance.toPrecision(3)})${where}.`,
      worst.maxAbsDiff,
      layer,
    );
  }
  return worst;
}

async function runChecked(s: RunnerSession, feeds: Feeds, outputs: string[]) {
  try {
    return await s.run(feeds, outputs);
  } catch (e) {
    if (e instanceof StudioError) throw e;
    throw new RuntimeFailure(`Checking the ONNX import failed while running the graph: ${(e as Error).message}`);
  }
}

/** The first block whose output (residual stream) differs: -1 = the embedding, i = layer i. */
async function firstDivergingLayer(
  runner: Runner,
  ir: ModelIR,
  source: OnnxImportSource,
  ids: Probe,
  relTolerance: number,
): Promise<number | undefined> {
  const L = ir.layers.length;
  if (source.hidden.length !== L + 1) return undefined;
  const theirs: Float32Array[] = [];
  await withSession(runner, encodeModel(withOutputs(source.model, source.hidden)), async (s) => {
    const out = await s.run(originalFeeds(source, s, ids, ir), source.hidden);
    for (const h of source.hidden) theirs.push(asFloat32(out[h], h));
  });
  const names = Array.from({ length: L + 1 }, (_, i) => `hidden.${i}`);
  return withSession(runner, buildOnnx(ir, { logits: true, taps: true }), async (s) => {
    const out = await s.run(rebuiltFeeds(ids), names);
    for (let i = 0; i <= L; i++) {
      const d = diff(asFloat32(out[names[i]!], names[i]!), theirs[i]!);
      if (d.maxAbsDiff > relTolerance * d.scale) return i - 1;
    }
    return undefined;
  });
}
