/**
 * Classifier metrics (pure: no runtime): top-1 accuracy with its Wilson score 95% interval, mean
 * cross-entropy loss and the confusion matrix, from logits [N, labels] and true labels. Batches
 * are added to an accumulator (`AccuracyAccumulator`) so a large test split streams through in
 * pieces. Float64 throughout. The prediction is the first label with the largest logit (ties
 * resolve to the lower index, like torch.argmax on CPU).
 */
import { InputError } from '../core/errors';

/** z of the two-sided 95% normal interval. */
export const Z95 = 1.959963984540054;

export interface AccuracyResult {
  /** Images scored. */
  images: number;
  correct: number;
  /** correct / images. */
  accuracy: number;
  /** Wilson score interval for the accuracy at 95%: [low, high]. */
  interval95: [number, number];
  /** Mean over images of -log softmax(logits)[label] (natural log). */
  meanLoss: number;
  /** confusion[true][predicted] = number of images. */
  confusion: number[][];
  /** Predicted label per image, in the order added. */
  predictions: number[];
}

/** Wilson score interval for k successes in n trials (z = 1.96 unless given); [0, 1] when n = 0. */
export function wilsonInterval(k: number, n: number, z = Z95): [number, number] {
  if (!Number.isInteger(n) || n < 0 || !Number.isInteger(k) || k < 0 || k > n)
    throw new InputError(`Wilson interval needs integers 0 <= k <= n, got k = ${k}, n = ${n}.`);
  if (n === 0) return [0, 1];
  const p = k / n;
  const z2 = z * z;
  const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n));
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** Index of the largest of row[0..n) (the first on ties). */
export function argmax(row: ArrayLike<number>, from = 0, n = row.length - from): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (row[from + j]! > row[from + best]!) best = j;
  return best;
}

/** -log softmax(row)[label], computed stably in float64. */
export function crossEntropy(logits: ArrayLike<number>, from: number, n: number, label: number): number {
  let max = -Infinity;
  for (let j = 0; j < n; j++) max = Math.max(max, logits[from + j]!);
  let sum = 0;
  for (let j = 0; j < n; j++) sum += Math.exp(logits[from + j]! - max);
  return max + Math.log(sum) - logits[from + label]!;
}

export class AccuracyAccumulator {
  private correct = 0;
  private lossSum = 0;
  private readonly predictions: number[] = [];
  private readonly confusion: number[][];

  constructor(readonly numLabels: number) {
    if (!Number.isInteger(numLabels) || numLabels < 1) throw new InputError(`A classifier needs at least one label, got ${numLabels}.`);
    this.confusion = Array.from({ length: numLabels }, () => new Array<number>(numLabels).fill(0));
  }

  /** Adds a batch: logits [labels.length, numLabels] (row-major) and the true labels. */
  add(logits: ArrayLike<number>, labels: ArrayLike<number>): void {
    const V = this.numLabels;
    if (logits.length !== labels.length * V)
      throw new InputError(`${logits.length} logits for ${labels.length} images of ${V} labels; expected ${labels.length * V}.`);
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i]!;
      if (!Number.isInteger(y) || y < 0 || y >= V)
        throw new InputError(`Label ${y} of image ${this.predictions.length} is not in 0..${V - 1}.`);
      const from = i * V;
      for (let j = 0; j < V; j++)
        if (!Number.isFinite(logits[from + j]!)) throw new InputError(`Image ${this.predictions.length} has a non-finite logit.`);
      const pred = argmax(logits, from, V);
      if (pred === y) this.correct++;
      this.lossSum += crossEntropy(logits, from, V, y);
      this.confusion[y]![pred]!++;
      this.predictions.push(pred);
    }
  }

  result(): AccuracyResult {
    const n = this.predictions.length;
    if (n === 0) throw new InputError('No images were scored.');
    return {
      images: n,
      correct: this.correct,
      accuracy: this.correct / n,
      interval95: wilsonInterval(this.correct, n),
      meanLoss: this.lossSum / n,
      confusion: this.confusion.map((r) => [...r]),
      predictions: [...this.predictions],
    };
  }
}

/** All metrics of one set of logits [N, numLabels]. */
export function classifierAccuracy(logits: ArrayLike<number>, labels: ArrayLike<number>, numLabels: number): AccuracyResult {
  const acc = new AccuracyAccumulator(numLabels);
  acc.add(logits, labels);
  return acc.result();
}

/** Images whose prediction differs between two runs (dense vs pruned), with both predictions and the truth. */
export function flippedPredictions(
  before: readonly number[],
  after: readonly number[],
  labels: ArrayLike<number>,
): { index: number; label: number; before: number; after: number }[] {
  if (before.length !== after.length || before.length !== labels.length)
    throw new InputError(`Predictions of ${before.length} and ${after.length} images for ${labels.length} labels.`);
  const out: { index: number; label: number; before: number; after: number }[] = [];
  before.forEach((b, i) => {
    if (b !== after[i]) out.push({ index: i, label: labels[i]!, before: b, after: after[i]! });
  });
  return out;
}
