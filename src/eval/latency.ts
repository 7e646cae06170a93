/** Latency statistics (pure): median and percentiles of repeated timings. */

export function percentile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? NaN;
  const b = sorted[hi] ?? NaN;
  return a + (b - a) * (pos - lo);
}

export function summarizeTimings(samplesMs: readonly number[]): { medianMs: number; p10Ms: number; p90Ms: number } {
  const sorted = [...samplesMs].sort((x, y) => x - y);
  return { medianMs: percentile(sorted, 0.5), p10Ms: percentile(sorted, 0.1), p90Ms: percentile(sorted, 0.9) };
}
