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

/** Image classifiers: the row's accuracy, flattened (empty for language models). */
export const ACCURACY_COLUMNS = ['top1', 'top1Low95', 'top1High95', 'meanLoss'] as const;

function accuracyCells(r: ResultRow): Record<(typeof ACCURACY_COLUMNS)[number], number | null> {
  const a = r.accuracy;
  return { top1: a?.top1 ?? null, top1Low95: a?.ci[0] ?? null, top1High95: a?.ci[1] ?? null, meanLoss: a?.meanLoss ?? null };
}

function cell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** An fp32 row (no dtype) reads as dtype fp32. */
const withDtype = (r: ResultRow): ResultRow => ({ ...r, dtype: r.dtype ?? 'fp32' });

export function resultsCsv(rows: readonly ResultRow[]): string {
  // Accuracy columns only when a row has an accuracy (language models' files are unchanged).
  const extra = rows.some((r) => r.accuracy) ? ACCURACY_COLUMNS : [];
  const header = [...RESULT_COLUMNS, ...extra].join(',');
  const line = (r: ResultRow) => {
    const acc = accuracyCells(r);
    return [...RESULT_COLUMNS.map((c) => cell(r[c])), ...extra.map((c) => cell(acc[c]))].join(',');
  };
  const lines = [header, ...rows.map(withDtype).map(line)];
  return `${lines.join('\r\n')}\r\n`;
}

export function resultsJson(rows: readonly ResultRow[], model: Pick<ModelSummary, 'name' | 'fingerprint'> | null): string {
  const results = rows
    .map(withDtype)
    .map((r) => ({ ...Object.fromEntries(RESULT_COLUMNS.map((c) => [c, r[c] ?? null])), ...(r.accuracy ? accuracyCells(r) : {}) }));
  return `${JSON.stringify({ model: model ? { name: model.name, fingerprint: model.fingerprint } : null, results }, null, 2)}\n`;
}
