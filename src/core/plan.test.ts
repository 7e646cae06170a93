import { describe, expect, it } from 'vitest';
import { InputError } from './errors';
import { emptyPlan, planCounts, validatePlan } from './plan';
import { randomIR } from '../test-util/random-ir';

const ir = randomIR({ layers: 2, heads: 4, ffn: 8 });
const gqa = randomIR({ layers: 1, heads: 4, kvHeads: 2, ffn: 8 });

function withLayer(plan = emptyPlan(ir), i: number, patch: object) {
  return { ...plan, layers: plan.layers.map((l) => (l.index === i ? { ...l, ...patch } : l)) };
}

describe('validatePlan', () => {
  it('accepts a valid plan, sorts indices and counts removals', () => {
    const plan = validatePlan(withLayer(emptyPlan(ir), 1, { removedHeads: [3, 0], removedFfn: [7] }), ir);
    expect(plan.layers[1]!.removedHeads).toEqual([0, 3]);
    expect(planCounts(plan)).toEqual({ layersRemoved: 0, headsRemoved: 2, headsTotal: 8, ffnRemoved: 1, ffnTotal: 16 });
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it.each([
    ['not a plan', { hello: 1 }, /not a Prune Studio plan/],
    ['wrong version', { ...emptyPlan(ir), version: 9 }, /version 9/],
    ['wrong layer count', { ...emptyPlan(ir), layers: [] }, /0 layer entries; the model has 2/],
    ['index out of range', withLayer(emptyPlan(ir), 0, { removedHeads: [4] }), /outside 0\.\.3/],
    ['duplicate index', withLayer(emptyPlan(ir), 0, { removedFfn: [1, 1] }), /lists 1 twice/],
    ['every head of a kept layer', withLayer(emptyPlan(ir), 0, { removedHeads: [0, 1, 2, 3] }), /every head of layer 0/],
    ['every neuron of a kept layer', withLayer(emptyPlan(ir), 1, { removedFfn: [0, 1, 2, 3, 4, 5, 6, 7] }), /every FFN neuron of layer 1/],
    ['every layer', withLayer(withLayer(emptyPlan(ir), 0, { removed: true }), 1, { removed: true }), /removes every layer/],
  ])('rejects %s with a clear error', (_name, raw, message) => {
    expect(() => validatePlan(raw, ir)).toThrow(message);
  });

  it.each([
    ['null', null, /it holds null, not an object/],
    ['an array', [], /it holds an array, not an object/],
    ['version as a string', { ...emptyPlan(ir), version: '1' }, 'Plan version must be the number 1, got the string "1".'],
    [
      'removed as a string',
      withLayer(emptyPlan(ir), 0, { removed: 'true' }),
      'Plan layer 0 "removed" must be true or false, got the string "true".',
    ],
    ['a layer entry that is not an object', { ...emptyPlan(ir), layers: [null, null] }, /layer entry 0 must be an object, got null/],
    ['no model block', { ...emptyPlan(ir), model: null }, /"model" must be an object describing the model, got null/],
    ['head indices as strings', withLayer(emptyPlan(ir), 0, { removedHeads: ['1'] }), /contains "1", outside/],
  ])('rejects %s before reading its fields', (_name, raw, message) => {
    expect(() => validatePlan(raw, ir)).toThrow(InputError);
    expect(() => validatePlan(raw, ir)).toThrow(message);
  });

  it('rejects a plan made for another model with the same layer count, naming both', () => {
    const other = randomIR({ layers: 2, heads: 2, ffn: 8 });
    const plan = { ...emptyPlan(other), model: { ...emptyPlan(other).model, name: 'other-model' } };
    expect(() => validatePlan(plan, ir)).toThrow(
      /made for model "other-model" with numHeads the number 2, but the loaded model ".*" has numHeads 4/,
    );
    const wider = randomIR({ layers: 2, heads: 4, ffn: 16 });
    expect(() => validatePlan(emptyPlan(wider), ir)).toThrow(/ffnSize the number 16, but the loaded model .* has ffnSize 8/);
  });

  it('keeps grouped-query attention groups whole', () => {
    expect(() => validatePlan(withLayer(emptyPlan(gqa), 0, { removedHeads: [0] }), gqa)).toThrow(
      /1 of the 2 query heads sharing kv head 0/,
    );
    expect(validatePlan(withLayer(emptyPlan(gqa), 0, { removedHeads: [2, 3] }), gqa).layers[0]!.removedHeads).toEqual([2, 3]);
  });
});
