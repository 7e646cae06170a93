/**
 * Calibration statistics, accumulated in float64 and streamed batch by batch (activations are
 * never all held at once). Per layer: for the inputs of the output projection (attn_in) and of
 * the down projection (ffn_in): per-channel sum and sum of squares, optionally the second-moment
 * matrix X^T X; and the running sum of (1 - cos) between the block's input and output states.
 */
import type { ModelIR } from '../core/ir';
import type { CalibrationStats, ChannelStats, GramSelection, LayerStats } from '../core/stats';

export type { CalibrationStats, ChannelStats, GramSelection, LayerStats } from '../core/stats';
export { channelMean, channelVariance } from '../core/stats';

function channelStats(channels: number, withGram: boolean): ChannelStats {
  return {
    channels,
    count: 0,
    sum: new Float64Array(channels),
    sumSq: new Float64Array(channels),
    gram: withGram ? new Float64Array(channels * channels) : null,
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
 * their X^T X already computed (in the graph, float32): it is added instead of computing it here.
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
  for (let i = 0; i < c * c; i++) s.gram[i] = s.gram[i]! + gram[i]!;
}

/** gram += X^T X for X [rows, c], via a column-major float64 copy (cache-friendly dot products). */
function accumulateGram(gram: Float64Array, x: Float32Array, rows: number, c: number): void {
  const cols = new Float64Array(rows * c);
  for (let r = 0; r < rows; r++) for (let j = 0; j < c; j++) cols[j * rows + r] = x[r * c + j]!;
  for (let i = 0; i < c; i++) {
    const oi = i * rows;
    for (let j = i; j < c; j++) {
      const oj = j * rows;
      let s = 0;
      for (let r = 0; r < rows; r++) s += cols[oi + r]! * cols[oj + r]!;
      gram[i * c + j] = gram[i * c + j]! + s;
      if (j !== i) gram[j * c + i] = gram[j * c + i]! + s;
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
