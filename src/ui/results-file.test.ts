/** Results files: CSV quoting (commas, quotes, newlines) read back by a minimal RFC 4180 parser; JSON keeps the numbers. */
import { describe, expect, it } from 'vitest';
import type { ResultRow } from '../store/results';
import { RESULT_COLUMNS, resultsCsv, resultsJson } from './results-file';

const row = (plan: string, perplexity: number): ResultRow => ({
  id: plan,
  model: 'm@1',
  plan,
  criterion: 'magnitude',
  allocation: 'uniform',
  compensation: 'none',
  parameters: 1234,
  perplexity,
  latencyMs: 1.5,
  denseLatencyMs: null,
  flopRatio: 0.5,
  at: '2026-01-01T00:00:00.000Z',
});

/** RFC 4180: fields separated by commas, quoted fields may hold commas, "" and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let field = '';
  let row: string[] = [];
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  return rows;
}

describe('results files', () => {
  it('CSV: a header and one line per row, awkward names quoted and read back unchanged', () => {
    const rows = [row('a, "b"\nc', 12.25), row('plain', 30)];
    const parsed = parseCsv(resultsCsv(rows));
    expect(parsed[0]).toEqual([...RESULT_COLUMNS]);
    expect(parsed).toHaveLength(3);
    expect(parsed[1]![0]).toBe('a, "b"\nc');
    expect(parsed[1]![RESULT_COLUMNS.indexOf('perplexity')]).toBe('12.25');
    expect(parsed[1]![RESULT_COLUMNS.indexOf('denseLatencyMs')]).toBe('');
    expect(parsed[2]![0]).toBe('plain');
  });

  it('JSON: the model and the rows with their numbers', () => {
    const json = JSON.parse(resultsJson([row('p', 7.5)], { name: 'demo', fingerprint: 'f' })) as {
      model: { name: string };
      results: Record<string, unknown>[];
    };
    expect(json.model.name).toBe('demo');
    expect(json.results[0]).toMatchObject({ plan: 'p', perplexity: 7.5, parameters: 1234, denseLatencyMs: null });
  });

  it('dtype: an applied plan reads fp32, a quantized variant keeps its dtype and file bytes', () => {
    const parsed = parseCsv(resultsCsv([row('p', 10), { ...row('p', 10.5), dtype: 'int4-rtn', bytes: 4096 }]));
    const dtype = RESULT_COLUMNS.indexOf('dtype');
    const bytes = RESULT_COLUMNS.indexOf('bytes');
    expect([parsed[1]![dtype], parsed[2]![dtype]]).toEqual(['fp32', 'int4-rtn']);
    expect([parsed[1]![bytes], parsed[2]![bytes]]).toEqual(['', '4096']);
    const json = JSON.parse(resultsJson([row('p', 10)], null)) as { results: Record<string, unknown>[] };
    expect(json.results[0]).toMatchObject({ dtype: 'fp32', bytes: null });
  });

  it('classifier rows add top-1, its 95% interval and mean loss; language-model files keep their columns', () => {
    const vit = {
      ...row('heads30', Number.NaN),
      accuracy: { top1: 0.875, ci: [0.84, 0.9] as [number, number], meanLoss: 0.3125, images: 500 },
    };
    const parsed = parseCsv(resultsCsv([vit]));
    const header = parsed[0]!;
    expect(header.slice(0, RESULT_COLUMNS.length)).toEqual([...RESULT_COLUMNS]);
    expect(header.slice(RESULT_COLUMNS.length)).toEqual(['top1', 'top1Low95', 'top1High95', 'meanLoss']);
    expect(parsed[1]!.slice(RESULT_COLUMNS.length)).toEqual(['0.875', '0.84', '0.9', '0.3125']);
    const json = JSON.parse(resultsJson([vit], null)) as { results: Record<string, unknown>[] };
    expect(json.results[0]).toMatchObject({ top1: 0.875, top1Low95: 0.84, top1High95: 0.9, meanLoss: 0.3125 });
    expect(parseCsv(resultsCsv([row('lm', 9)]))[0]).toEqual([...RESULT_COLUMNS]);
  });
});
