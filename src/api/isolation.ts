/**
 * Whole-model sessions that are used and then dropped (latency, latency comparison, unit latency,
 * generation) run, for a large model, in a disposable isolate (core/runner.ts `isolate`: a worker
 * with its own wasm heap) that is disposed after the job: onnxruntime-web's heap never shrinks, so
 * in the engine's own realm such a session would keep a whole copy of the weights for the rest of
 * the session. The IR's weights sit on SharedArrayBuffers (shared at load, core/shared-weights.ts),
 * so the isolate reads them without a copy. Small models and runners without isolates keep their
 * sessions in process (the fallback). StudioDeps.isolateSessions forces either way.
 */
import type { ModelIR } from '../core/ir';
import type { Runner } from '../core/runner';
import { useBlockwise } from './block-perplexity';
import type { StudioState } from './state';

/** Whether some model's sessions may run isolated (then a load allocates its weights shared). */
export function mayIsolate(state: StudioState): boolean {
  return state.deps.runner.isolate !== undefined && state.deps.isolateSessions !== 'never';
}

/** Whether whole-model sessions of `ir` run in an isolate: large models (the block-wise size rule) when the runner offers one. */
export function isolatesSessions(state: StudioState, ir: ModelIR): boolean {
  if (!mayIsolate(state)) return false;
  return state.deps.isolateSessions === 'always' || useBlockwise(ir);
}

/** Runs `use` with a fresh isolate of `runner`, disposed afterwards whatever happens (its memory goes back). */
export async function withIsolate<T>(runner: Runner, use: (isolated: Runner) => Promise<T>): Promise<T> {
  const isolated = await runner.isolate!();
  try {
    return await use(isolated);
  } finally {
    await isolated.dispose();
  }
}
