import { describe, expect, it } from 'vitest';
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

  it('keeps grouped-query attention groups whole', () => {
    expect(() => validatePlan(withLayer(emptyPlan(gqa), 0, { removedHeads: [0] }), gqa)).toThrow(
      /1 of the 2 query heads sharing kv head 0/,
    );
    expect(validatePlan(withLayer(emptyPlan(gqa), 0, { removedHeads: [2, 3] }), gqa).layers[0]!.removedHeads).toEqual([2, 3]);
  });
});
