import { describe, expect, it } from 'vitest';
import { randomIR } from '../test-util/random-ir';
import { modelFingerprint } from './fingerprint';
import { tokenEmbeddingOf } from './ir';
import { tensor } from './tensor';

describe('modelFingerprint', () => {
  it('is stable for the same weights and changes with a weight value or a shape', () => {
    const a = randomIR();
    expect(modelFingerprint(a)).toMatch(/^[0-9a-f]{8}$/);
    expect(modelFingerprint(randomIR())).toBe(modelFingerprint(a));

    const b = randomIR();
    b.weights.layers[1]!.down.weight.data[0] = b.weights.layers[1]!.down.weight.data[0]! + 1e-3;
    expect(modelFingerprint(b)).not.toBe(modelFingerprint(a));

    const c = randomIR();
    const e = tokenEmbeddingOf(c);
    c.weights.tokenEmbedding = tensor([e.shape[1]!, e.shape[0]!], e.data);
    expect(modelFingerprint(c)).not.toBe(modelFingerprint(a));
  });
});
