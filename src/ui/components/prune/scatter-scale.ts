/**
 * Linear axis of the Pareto scatter (pure): a "nice" domain around the values (ends on multiples of a
 * 1, 2 or 5 step, as recharts' 'auto' domain did) and its ticks.
 */

export interface NiceAxis {
  min: number;
  max: number;
  ticks: number[];
}

/** Step of about `span / count`, rounded to 1, 2 or 5 times a power of ten (the thresholds of d3-array's tickIncrement). */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m >= Math.sqrt(50) ? 10 : m >= Math.sqrt(10) ? 5 : m >= Math.sqrt(2) ? 2 : 1) * power;
}

/** Domain and ticks for `values` (finite ones; an empty list gives 0..1, one value a span around it). */
export function niceAxis(values: readonly number[], count = 5): NiceAxis {
  const finite = values.filter(Number.isFinite);
  let lo = finite.length ? Math.min(...finite) : 0;
  let hi = finite.length ? Math.max(...finite) : 1;
  if (hi - lo < 1e-12 * Math.max(1, Math.abs(hi))) {
    const pad = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, count);
  const min = Math.floor(lo / step) * step;
  const max = Math.ceil(hi / step) * step;
  const ticks: number[] = [];
  for (let k = 0; min + k * step <= max + step * 1e-9; k++) ticks.push(Number((min + k * step).toPrecision(12)));
  return { min, max, ticks };
}

/** Tick text: no trailing float noise. */
export function tickLabel(v: number): string {
  return String(Number(v.toPrecision(6)));
}
