/**
 * Golden test: perplexity protocol on the demo model against the independent PyTorch reference
 * (fixtures/golden/perplexity.json), with onnxruntime-node and onnxruntime-web (Node, WASM).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createStudioApi } from '../api/studio';
import { createNodeRunner } from '../runtime/ort-node';
import { createWebRunner } from '../runtime/ort-web';
import { dirSource } from '../cli/dir-source';
import { DEMO_DIR, readGolden } from '../test-util/golden';

interface PerplexityGolden {
  cases: {
    text_file: string;
    max_tokens: number;
    context: number;
    stride: number;
    tokens_scored: number;
    mean_nll: number;
    perplexity: number;
  }[];
}

const golden = readGolden<PerplexityGolden>('perplexity.json');

describe.each([
  ['onnxruntime-node', createNodeRunner],
  ['onnxruntime-web (WASM)', createWebRunner],
])('perplexity protocol matches the reference (%s)', (_name, makeRunner) => {
  it('every golden case within 0.1% and the same token count', async () => {
    const api = createStudioApi({ runner: makeRunner(), demoUrl: '', openDir: dirSource });
    await api.loadModel({ kind: 'dir', path: DEMO_DIR });
    for (const c of golden.cases) {
      const r = await api.evaluatePerplexity({
        text: readFileSync(c.text_file, 'utf8'),
        textName: basename(c.text_file),
        contextLength: c.context,
        stride: c.stride,
        maxTokens: c.max_tokens,
      });
      expect(r.protocol.tokensScored).toBe(c.tokens_scored);
      expect(Math.abs(r.perplexity / c.perplexity - 1)).toBeLessThan(1e-3);
      expect(r.meanNll).toBeCloseTo(c.mean_nll, 4);
    }
  }, 300_000);
});
