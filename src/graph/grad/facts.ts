/**
 * Facts the gradient builder's shape inference records per value (element type, symbolic shape,
 * small integer contents) and helpers to read ONNX node attributes.
 */
import type { AttributeProto, NodeProto } from '../../io/onnx';
import type { MaybeDim, Shape } from './dims';

export const ELEM = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;

export interface ValueFacts {
  /** ONNX TensorProto.DataType code, or null when unknown. */
  elem: number | null;
  shape: Shape;
  /** Contents of an integer tensor when known (row-major), e.g. a shape vector. */
  value?: MaybeDim[] | undefined;
  /** Contents of a small float initializer (e.g. a Pow exponent). */
  floats?: Float32Array | undefined;
}

export interface RuleContext {
  opset: number;
  facts(name: string): ValueFacts;
}

export type ShapeRule = (node: NodeProto, inputs: ValueFacts[], ctx: RuleContext) => ValueFacts[];

export const UNKNOWN: ValueFacts = { elem: null, shape: null };

export function attribute(node: NodeProto, name: string): AttributeProto | undefined {
  return node.attribute?.find((a) => a.name === name);
}

export function intAttr(node: NodeProto, name: string, fallback: number): number {
  const a = attribute(node, name);
  return a?.i ?? fallback;
}

export function intsAttr(node: NodeProto, name: string): number[] | undefined {
  const a = attribute(node, name);
  return a?.ints ? a.ints.map(Number) : undefined;
}

export function floatAttr(node: NodeProto, name: string, fallback: number): number {
  return attribute(node, name)?.f ?? fallback;
}

/** Known integer contents as plain numbers (null if any entry is unknown or symbolic). */
export function fixedValues(f: ValueFacts | undefined): number[] | null {
  if (!f?.value) return null;
  const out: number[] = [];
  for (const d of f.value) {
    if (!d || Object.keys(d.e).length) return null;
    out.push(d.k);
  }
  return out;
}
