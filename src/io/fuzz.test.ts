/**
 * Seeded mutation fuzzing of every input format (src/test-util/fuzz.ts): a few hundred cases per
 * format, each a named StudioError or a model (equal to the source after semantics-preserving edits;
 * ONNX imports also pass the numeric check). Deterministic: fixed seeds. The longer run is
 * `npm run bench -- --only fuzz`.
 */
import { describe, expect, it } from 'vitest';
import { createNodeRunner } from '../runtime/ort-node';
import { FORMATS, fuzzFormat } from '../test-util/fuzz';

const runner = createNodeRunner({ threads: 1 });
const CASES: Record<string, number> = { safetensors: 300, onnx: 200, config: 300, tokenizer: 200, plan: 400 };

describe('mutation fuzz', () => {
  it.each(FORMATS.map((f) => [f] as const))(
    '%s: every outcome is a named error or a faithful model',
    async (format) => {
      const s = await fuzzFormat(format, CASES[format]!, runner, 1);
      expect(s.findings.slice(0, 5)).toEqual([]);
      expect(s.loaded + s.refused).toBe(s.cases);
      expect(s.refused).toBeGreaterThan(0);
    },
    120_000,
  );
});
