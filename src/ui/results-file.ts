/** The results table as files (pure): CSV with a header row (RFC 4180 quoting) and JSON with the model. */
import type { ModelSummary } from '../api/types';
import type { ResultRow } from '../store/results';

export const RESULT_COLUMNS = [
  'plan',
  'criterion',
  'allocation',
  'compensation',
  'parameters',
  'perplexity',
  'heldOutPerplexity',
  'latencyMs',
  'denseLatencyMs',
  'flopRatio',
  'at',
  'dtype',
  'bytes',
] as const satisfies readonly (keyof ResultRow)[];

function cell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** An fp32 row (no dtype) reads as dtype fp32. */
const withDtype = (r: ResultRow): ResultRow => ({ ...r, dtype: r.dtype ?? 'fp32' });

export function resultsCsv(rows: readonly ResultRow[]): string {
  const lines = [RESULT_COLUMNS.join(','), ...rows.map(withDtype).map((r) => RESULT_COLUMNS.map((c) => cell(r[c])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}

export function resultsJson(rows: readonly ResultRow[], model: Pick<ModelSummary, 'name' | 'fingerprint'> | null): string {
  const results = rows.map(withDtype).map((r) => Object.fromEntries(RESULT_COLUMNS.map((c) => [c, r[c] ?? null])));
  return `${JSON.stringify({ model: model ? { name: model.name, fingerprint: model.fingerprint } : null, results }, null, 2)}\n`;
}
