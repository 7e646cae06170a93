/** Symbolic dimensions and broadcasting used by the gradient builder's shape inference. */
import { describe, expect, it } from 'vitest';
import { broadcastShapes, dimKey, div, fixed, mul, num, product, shapeKey, sym } from './dims';

describe('symbolic dims', () => {
  it('multiplies and divides monomials exactly', () => {
    const bs = mul(sym('batch'), sym('seq'));
    expect(dimKey(bs)).toBe('batch*seq');
    expect(dimKey(div(product([sym('batch'), num(8), sym('seq'), num(32)]), product([sym('batch'), num(8), num(32)])))).toBe('seq');
    expect(div(sym('seq'), num(2))).toBeNull();
    expect(div(num(6), sym('seq'))).toBeNull();
    expect(fixed(mul(num(3), num(4)))).toBe(12);
    expect(fixed(sym('seq'))).toBeNull();
  });

  it('broadcasts with numpy rules and marks unresolvable dims unknown', () => {
    expect(
      shapeKey(
        broadcastShapes([
          [sym('b'), num(8), sym('s'), sym('s')],
          [sym('s'), sym('s')],
        ]),
      ),
    ).toBe('[b,8,s,s]');
    expect(
      shapeKey(
        broadcastShapes([
          [num(8), num(1), num(1)],
          [sym('b'), num(8), sym('s'), num(32)],
        ]),
      ),
    ).toBe('[b,8,s,32]');
    expect(shapeKey(broadcastShapes([[sym('a')], [sym('b')]]))).toBe('[?]');
    expect(broadcastShapes([null, [num(1)]])).toBeNull();
  });
});
