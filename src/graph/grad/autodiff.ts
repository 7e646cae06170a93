/**
 * Reverse-mode differentiation of an ONNX graph. Given a model whose graph computes a scalar
 * `loss` (nodes in topological order), `appendGradients` appends, in reverse node order, the VJP
 * nodes of every op on a path from the chosen inputs to the loss, accumulating the gradient of a
 * value used several times with Add, and exposes d loss / d input as new graph outputs. The result
 * is a graph of standard inference ops: it runs in any onnxruntime like the forward model.
 *
 * Activity analysis: a value is "varied" when it depends on a differentiated input through
 * differentiable op inputs (GradRule.diff) and is a float tensor; it is "useful" when the loss
 * depends on it. Only nodes with a varied and useful output get a VJP; an op without a rule on such
 * a path raises UnsupportedModelError naming the op and the node.
 */
import { UnsupportedModelError } from '../../core/errors';
import type { ModelProto, NodeProto, ValueInfoProto } from '../../io/onnx';
import { GradEmitter } from './emitter';
import { ELEM } from './facts';
import { GRAD_RULES } from './ops';
import { inferShapes } from './shapes';

export interface GradientRequest {
  /** Name of the scalar loss value. */
  loss: string;
  /** Graph inputs (or initializers) to differentiate, and the output name of each gradient. */
  wrt: readonly { value: string; output: string }[];
}

function opsetOf(model: ModelProto): number {
  return model.opset_import.find((o) => !o.domain)?.version ?? 17;
}

function diffIndices(node: NodeProto): (i: number) => boolean {
  const rule = GRAD_RULES[node.op_type];
  if (!rule || rule.diff === 'all') return () => true;
  const set = new Set(rule.diff);
  return (i) => set.has(i);
}

/** Values that depend on `sources` through differentiable inputs (float values only). */
function variedValues(nodes: readonly NodeProto[], sources: readonly string[], isFloat: (v: string) => boolean): Set<string> {
  const varied = new Set(sources);
  for (const node of nodes) {
    const diff = diffIndices(node);
    if (!node.input.some((x, i) => x !== '' && diff(i) && varied.has(x))) continue;
    for (const o of node.output) if (o && isFloat(o)) varied.add(o);
  }
  return varied;
}

/** Values the loss depends on. */
function usefulValues(nodes: readonly NodeProto[], loss: string): Set<string> {
  const useful = new Set([loss]);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    if (node.output.some((o) => useful.has(o))) for (const x of node.input) if (x) useful.add(x);
  }
  return useful;
}

function describe(node: NodeProto): string {
  return `${node.op_type} (node "${node.name ?? node.output[0] ?? ''}")`;
}

export function appendGradients(model: ModelProto, req: GradientRequest): ModelProto {
  const graph = model.graph;
  const shapes = inferShapes(graph, opsetOf(model));
  const isFloat = (v: string) => {
    const elem = shapes.facts(v).elem;
    return elem === null || elem === ELEM.FLOAT;
  };
  const nodes = graph.node;
  const varied = variedValues(
    nodes,
    req.wrt.map((w) => w.value),
    isFloat,
  );
  const useful = usefulValues(nodes, req.loss);
  const e = new GradEmitter(graph, shapes);
  const grads = new Map<string, string[]>();
  const contribute = (v: string, g: string) => grads.set(v, [...(grads.get(v) ?? []), g]);
  const total = (v: string) => {
    const parts = grads.get(v);
    return parts?.length ? e.sum(parts) : undefined;
  };
  const lossShape = shapes.facts(req.loss).shape;
  if (lossShape && lossShape.length !== 0) throw new UnsupportedModelError(`The loss "${req.loss}" must be a scalar.`);
  contribute(req.loss, e.scalar(1));

  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k]!;
    if (!node.output.some((o) => varied.has(o) && useful.has(o))) continue;
    const gy = node.output.map((o) => (varied.has(o) ? total(o) : undefined));
    if (gy.every((g) => g === undefined)) continue;
    const diff = diffIndices(node);
    const needs = node.input.map((x, i) => x !== '' && diff(i) && varied.has(x));
    if (!needs.some(Boolean)) continue;
    const rule = GRAD_RULES[node.op_type];
    if (!rule?.vjp) {
      throw new UnsupportedModelError(
        `Cannot differentiate through ONNX op ${describe(node)}: no gradient rule.`,
        `Ops with gradient rules: ${Object.keys(GRAD_RULES)
          .filter((op) => GRAD_RULES[op]!.vjp)
          .join(', ')}.`,
      );
    }
    let gx: (string | undefined)[];
    try {
      gx = rule.vjp({ node, gy, needs, e });
    } catch (err) {
      throw new UnsupportedModelError(`Cannot differentiate through ${describe(node)}: ${(err as Error).message}.`);
    }
    node.input.forEach((x, i) => {
      const g = gx[i];
      if (needs[i] && g) contribute(x, g);
    });
  }

  const outputs: ValueInfoProto[] = [];
  for (const { value, output } of req.wrt) {
    const g = total(value) ?? e.zerosLike(value);
    e.b.node('Identity', [g], { outputs: [output], name: `grad/out/${output}` });
    const declared = [...graph.input, ...(graph.value_info ?? [])].find((vi) => vi.name === value);
    outputs.push({ name: output, type: declared?.type ?? { tensor_type: { elem_type: ELEM.FLOAT } } });
  }
  const extra = e.b.toModel({ opset: opsetOf(model) }).graph;
  return {
    ...model,
    graph: {
      ...graph,
      node: [...graph.node, ...extra.node],
      initializer: [...(graph.initializer ?? []), ...(extra.initializer ?? [])],
      output: [...graph.output, ...outputs],
    },
  };
}
