/**
 * VJPs of Gather and GatherElements (gradient flows to the data input only).
 *  - Gather on axis 0 with a constant scalar index i from data of static length n (a per-layer
 *    row of a stacked mask): dData = onehot(i)[n, 1, …] ⊙ Unsqueeze(g, 0), plain element-wise ops.
 *  - other Gathers on axis 0: ScatterND(zeros, indices, g, reduction = add).
 *  - GatherElements picking one entry per row on the last axis (the label logit):
 *    dData = g ⊙ (Range(n) == index), an implicit one-hot; otherwise ScatterElements(add).
 */
import { fixed } from '../dims';
import { fixedValues, intAttr } from '../facts';
import { gradOut, type GradRule } from './types';

export const Gather: GradRule = {
  diff: [0],
  vjp(a) {
    if (!a.needs[0]) return [undefined, undefined];
    const { e, node } = a;
    const [data, idx] = node.input as [string, string];
    const g = gradOut(a);
    const rank = e.rank(data);
    const axisRaw = intAttr(node, 'axis', 0);
    if ((axisRaw < 0 ? axisRaw + rank : axisRaw) !== 0)
      throw new Error(`gradient builder: Gather "${node.name ?? ''}" on axis ${axisRaw} is not supported`);
    const idxFacts = e.shapes.facts(idx);
    const picks = fixedValues(idxFacts);
    const n = fixed(e.shape(data)?.[0] ?? null);
    if (picks && picks.length === 1 && idxFacts.shape?.length === 0 && n !== null) {
      const i = picks[0]! < 0 ? picks[0]! + n : picks[0]!;
      const hot = new Float32Array(n);
      hot[i] = 1;
      const onehot = e.b.constFloat(hot, [n, ...new Array<number>(rank - 1).fill(1)]);
      const lifted = e.op('Unsqueeze', [g, e.ints([0])], undefined, 'gather_lift');
      return [e.op('Mul', [lifted, onehot], undefined, 'gather_grad'), undefined];
    }
    const idx64 = e.op('Unsqueeze', [idx, e.ints([-1])], undefined, 'gather_idx');
    return [e.op('ScatterND', [e.zerosLike(data), idx64, g], { reduction: 'add' }, 'gather_grad'), undefined];
  },
};

export const GatherElements: GradRule = {
  diff: [0],
  vjp(a) {
    if (!a.needs[0]) return [undefined, undefined];
    const { e, node } = a;
    const [data, idx] = node.input as [string, string];
    const g = gradOut(a);
    const rank = e.rank(data);
    const axisRaw = intAttr(node, 'axis', 0);
    const axis = axisRaw < 0 ? axisRaw + rank : axisRaw;
    const idxShape = e.shape(idx);
    if (axis === rank - 1 && idxShape && fixed(idxShape[rank - 1] ?? null) === 1) {
      const n = e.op('Slice', [e.shapeOf(data), e.ints([axis]), e.ints([axis + 1])], undefined, 'ge_len');
      const positions = e.op(
        'Range',
        [e.b.constInt64([0], []), e.op('Squeeze', [n, e.ints([0])], undefined, 'ge_len_s'), e.b.constInt64([1], [])],
        undefined,
        'ge_range',
      );
      const hit = e.op('Cast', [e.op('Equal', [idx, positions], undefined, 'ge_hit')], { to: 1 }, 'ge_onehot');
      return [e.op('Mul', [g, hit], undefined, 'gather_elements_grad'), undefined];
    }
    return [e.op('ScatterElements', [e.zerosLike(data), idx, g], { axis, reduction: 'add' }, 'gather_elements_grad'), undefined];
  },
};
