/**
 * Perplexity with an explicit protocol (pure: no runtime).
 *
 * Sliding windows as in Hugging Face's perplexity guide: windows of `contextLength` tokens start
 * at 0, stride, 2*stride, ...; every token at absolute index t >= 1 is scored exactly once, in
 * the first window that reaches it (window 0 scores tokens 1..ctx-1, later windows score only
 * the tokens after the previous window's end), so each token keeps up to ctx-stride tokens of
 * context. No BOS token is prepended; token 0 is never scored. Tokens scored = total - 1.
 */
import { InputError } from '../core/errors';

export interface EvalWindow {
  /** Absolute index of the window's first token. */
  begin: number;
  /** One past the window's last token. */
  end: number;
  /** Absolute index of the first token scored in this window (>= begin + 1). */
  scoreFrom: number;
}

export function planWindows(totalTokens: number, contextLength: number, stride: number): EvalWindow[] {
  if (!Number.isInteger(contextLength) || contextLength < 2) {
    throw new InputError(`Context length must be an integer >= 2, got ${contextLength}.`);
  }
  if (!Number.isInteger(stride) || stride < 1 || stride >= contextLength) {
    throw new InputError(
      `Stride must be an integer in [1, context length - 1 = ${contextLength - 1}], got ${stride}.`,
      'A stride below the context length gives every scored token at least one token of context.',
    );
  }
  if (totalTokens < 2) throw new InputError('The text has fewer than 2 tokens; nothing to score.');
  const windows: EvalWindow[] = [];
  let prevEnd = 0;
  for (let begin = 0; begin < totalTokens; begin += stride) {
    const end = Math.min(begin + contextLength, totalTokens);
    windows.push({ begin, end, scoreFrom: Math.max(prevEnd, begin + 1) });
    prevEnd = end;
    if (end === totalTokens) break;
  }
  return windows;
}

/** Running mean and standard error of per-token negative log-likelihoods (float64). */
export class NllAccumulator {
  private sum = 0;
  private sumSq = 0;
  count = 0;

  add(nll: number): void {
    this.sum += nll;
    this.sumSq += nll * nll;
    this.count++;
  }

  get mean(): number {
    return this.count ? this.sum / this.count : NaN;
  }

  /** Standard error of the mean NLL (tokens treated as independent: a lower bound on the true spread). */
  get stdError(): number {
    if (this.count < 2) return NaN;
    const variance = (this.sumSq - (this.sum * this.sum) / this.count) / (this.count - 1);
    return Math.sqrt(Math.max(variance, 0) / this.count);
  }

  get perplexity(): number {
    return Math.exp(this.mean);
  }
}

/** Groups windows of equal length so they can run as one batch. */
export function batchWindows(windows: readonly EvalWindow[], batchSize: number): EvalWindow[][] {
  const batches: EvalWindow[][] = [];
  let current: EvalWindow[] = [];
  for (const w of windows) {
    const first = current[0];
    if (current.length === batchSize || (first && first.end - first.begin !== w.end - w.begin)) {
      batches.push(current);
      current = [];
    }
    current.push(w);
  }
  if (current.length) batches.push(current);
  return batches;
}

/** Input ids and next-token labels of a batch of equal-length windows, row-major [batch, len]. */
export function windowFeeds(ids: readonly number[], batch: readonly EvalWindow[]): { inputIds: number[]; labels: number[]; len: number } {
  const first = batch[0];
  if (!first) throw new InputError('empty batch');
  const len = first.end - first.begin;
  const inputIds: number[] = [];
  const labels: number[] = [];
  for (const w of batch) {
    for (let p = 0; p < len; p++) {
      inputIds.push(ids[w.begin + p] ?? 0);
      labels.push(ids[w.begin + p + 1] ?? 0);
    }
  }
  return { inputIds, labels, len };
}

/**
 * Adds the scored positions of each window from token_nll ([batch, len - from]: positions from..len-1,
 * position p predicts token begin+p+1).
 */
export function accumulateScored(acc: NllAccumulator, batch: readonly EvalWindow[], tokenNll: Float32Array, len: number, from = 0): void {
  const width = len - from;
  batch.forEach((w, b) => {
    for (let t = w.scoreFrom; t < w.end; t++) acc.add(tokenNll[b * width + (t - w.begin - 1 - from)] ?? NaN);
  });
}

/** The first position any window of the batch scores (the lossFrom graph computes token_nll from there). */
export function firstScoredPosition(batch: readonly EvalWindow[]): number {
  return Math.min(...batch.map((w) => w.scoreFrom - w.begin - 1));
}
