/** The builder reads the block-structure flags and refuses, by name, the values it does not implement. */
import { describe, expect, it } from 'vitest';
import { UnsupportedModelError } from '../core/errors';
import type { BlockStructure, ModelIR } from '../core/ir';
import { randomIR } from '../test-util/random-ir';
import { randomLlamaIR } from '../test-util/random-llama';
import { buildOnnx } from './build';

function withFlag<K extends keyof BlockStructure>(ir: ModelIR, flag: K, value: unknown): ModelIR {
  return { ...ir, spec: { ...ir.spec, [flag]: value } };
}

describe('block-structure flags', () => {
  it('builds the causal pre-norm LM of both families', () => {
    expect(buildOnnx(randomIR()).length).toBeGreaterThan(0);
    expect(buildOnnx(randomLlamaIR()).length).toBeGreaterThan(0);
  });

  it.each([
    ['attention', 'sliding', /declares attention "sliding", .*implemented: causal, bidirectional/],
    ['attention', 'bidirectional', /bidirectional attention with an LM head/],
    ['normPlacement', 'post', /declares normPlacement "post", .*implemented: pre/],
    ['head', 'pooled', /declares head "pooled", .*implemented: lm, classifier/],
    ['input', 'audio', /declares input "audio", .*implemented: tokens, patches/],
    ['input', 'patches', /patch input is built only as a ViT/],
    ['norm', 'batchnorm', /declares norm "batchnorm", .*implemented: layernorm, rmsnorm/],
    ['positions', 'alibi', /declares positions "alibi", .*implemented: learned, rotary/],
  ] as const)('refuses %s %s with UnsupportedModelError', (flag, value, message) => {
    const build = () => buildOnnx(withFlag(randomIR(), flag, value));
    expect(build).toThrow(UnsupportedModelError);
    expect(build).toThrow(message);
  });
});
