/**
 * Rotary tables: the constant (gathered) tables and the in-graph fallback for very long contexts
 * give the same model output, and the constants are used whenever they fit.
 */
import { describe, expect, it } from 'vitest';
import { asFloat32 } from '../core/runner';
import { createNodeRunner } from '../runtime/ort-node';
import { randomLlamaIR } from '../test-util/random-llama';
import { idsFeed } from '../test-util/graph-run';
import { buildOnnx } from './build';
import { MAX_TABLE_FLOATS } from './rotary';
import { decodeModel } from '../io/onnx';

const runner = createNodeRunner();

async function logits(bytes: Uint8Array, vocab: number): Promise<Float32Array> {
  const ids = [0, 1].map((r) => Array.from({ length: 24 }, (_, t) => (t * 7 + r * 13) % vocab));
  const session = await runner.open(bytes);
  try {
    return asFloat32((await session.run(idsFeed(ids), ['logits'])).logits, 'logits');
  } finally {
    await session.release();
  }
}

describe('rotary tables', () => {
  it('constant tables and the in-graph fallback agree', async () => {
    const ir = randomLlamaIR();
    const long = { ...ir, spec: { ...ir.spec, maxPositions: MAX_TABLE_FLOATS / ir.spec.headDim + 1 } };
    const tabled = buildOnnx(ir, { logits: true });
    const computed = buildOnnx(long, { logits: true });
    const ops = (bytes: Uint8Array) => decodeModel(bytes).graph.node.map((n) => (n as unknown as { op_type: string }).op_type);
    expect(ops(tabled)).not.toContain('Cos');
    expect(ops(computed)).toContain('Cos');
    const a = await logits(tabled, ir.spec.vocabSize);
    const b = await logits(computed, ir.spec.vocabSize);
    let worst = 0;
    a.forEach((x, i) => (worst = Math.max(worst, Math.abs(x - b[i]!))));
    expect(worst).toBeLessThan(1e-5);
    expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.1);
  });
});
