/**
 * Calibration statistics, accumulated in float64 and streamed batch by batch (activations are
 * never all held at once). Per layer: for the inputs of the output projection (attn_in) and of
 * the down projection (ffn_in): per-channel sum and sum of squares, optionally the second-moment
 * matrix X^T X (packed float32, core/packed-gram.ts); and the running sum of (1 - cos) between the
 * block's input and output states.
 */
import type { ModelIR } from '../core/ir';
import { gramBlocks, packedGramLength } from '../core/packed-gram';
import type { CalibrationStats, ChannelStats, GramSelection, LayerStats } from '../core/stats';

export type { CalibrationStats, ChannelStats, GramSelection, LayerStats } from '../core/stats';
export { channelMean, channelVariance } from '../core/stats';

function channelStats(channels: number, withGram: boolean): ChannelStats {
  return {
    channels,
    count: 0,
    sum: new Float64Array(channels),
    sumSq: new Float64Array(channels),
    gram: withGram ? new Float32Array(packedGramLength(channels)) : null,
  };
}

export function createStats(ir: ModelIR, withGram: GramSelection): CalibrationStats {
  const gram = (l: number, kind: 'attnIn' | 'ffnIn') => (typeof withGram === 'function' ? withGram(l, kind) : withGram);
  return {
    numSequences: 0,
    numTokens: 0,
    baseLoss: NaN,
    layers: ir.layers.map((l, i) => ({
      attnIn: channelStats(l.numHeads * ir.spec.headDim, gram(i, 'attnIn')),
      ffnIn: channelStats(l.ffnSize, gram(i, 'ffnIn')),
      influenceSum: 0,
    })),
  };
}

/**
 * Adds `rows` token vectors (row-major [rows, channels]) to the statistics. `gram`, when given, is
 * their X^T X already computed (in the graph, float32): packed (core/packed-gram.ts), or the full
 * c x c matrix (packed here); it is added instead of computing it here.
 */
export function accumulateChannels(s: ChannelStats, x: Float32Array, rows: number, gram?: Float32Array): void {
  const c = s.channels;
  for (let r = 0; r < rows; r++) {
    const o = r * c;
    for (let j = 0; j < c; j++) {
      const v = x[o + j]!;
      s.sum[j] = s.sum[j]! + v;
      s.sumSq[j] = s.sumSq[j]! + v * v;
    }
  }
  s.count += rows;
  if (!s.gram) return;
  if (!gram) return accumulateGram(s.gram, x, rows, c);
  if (gram.length === s.gram.length) {
    for (let i = 0; i < gram.length; i++) s.gram[i] = s.gram[i]! + gram[i]!;
  } else if (gram.length === c * c) {
    addFullGram(s.gram, gram, c);
  } else {
    throw new RangeError(`X^T X of ${gram.length} values for ${c} channels (packed: ${s.gram.length}).`);
  }
}

/** packed += the upper block trapezoid of a full row-major c x c matrix. */
function addFullGram(packed: Float32Array | Float64Array, full: Float32Array, c: number): void {
  for (const { from, height, width, offset } of gramBlocks(c)) {
    for (let r = 0; r < height; r++) {
      const src = (from + r) * c + from;
      const dst = offset + r * width;
      for (let k = 0; k < width; k++) packed[dst + k] = packed[dst + k]! + full[src + k]!;
    }
  }
}

/** packed += X^T X for X [rows, c] (float64 dot products over a column-major copy, packed layout). */
function accumulateGram(packed: Float32Array | Float64Array, x: Float32Array, rows: number, c: number): void {
  const cols = new Float64Array(rows * c);
  for (let r = 0; r < rows; r++) for (let j = 0; j < c; j++) cols[j * rows + r] = x[r * c + j]!;
  for (const { from, height, width, offset } of gramBlocks(c)) {
    for (let i = from; i < from + height; i++) {
      const oi = i * rows;
      const dst = offset + (i - from) * width - from;
      for (let j = from; j < c; j++) {
        const oj = j * rows;
        let s = 0;
        for (let r = 0; r < rows; r++) s += cols[oi + r]! * cols[oj + r]!;
        packed[dst + j] = packed[dst + j]! + s;
      }
    }
  }
}

/** Adds sum over tokens of (1 - cos(hIn_t, hOut_t)) for [rows, hidden] states. */
export function accumulateInfluence(layer: LayerStats, hIn: Float32Array, hOut: Float32Array, rows: number, hidden: number): void {
  let total = 0;
  for (let r = 0; r < rows; r++) {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let j = 0; j < hidden; j++) {
      const a = hIn[r * hidden + j]!;
      const b = hOut[r * hidden + j]!;
      dot += a * b;
      na += a * a;
      nb += b * b;
    }
    const denom = Math.sqrt(na) * Math.sqrt(nb);
    total += denom > 0 ? 1 - dot / denom : 0.5;
  }
  layer.influenceSum += total;
}
