/** Test helper: the largest |logit - golden| of a ModelIR, through the graph builder and a Runner. */
import type { ModelIR } from '../core/ir';
import type { Runner } from '../core/runner';
import { buildOnnx } from '../graph/build';
import { maxGoldenDiff } from './model-fixtures';

export function irGoldenDiff(runner: Runner, ir: ModelIR, repo: string): Promise<number> {
  return maxGoldenDiff(runner, buildOnnx(ir, { logits: true }), repo);
}
