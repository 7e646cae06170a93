/**
 * Model sessions: the one way the api opens a graph of a ModelIR for its own use. The graph reads
 * every weight as an input (`weights: 'inputs'`, graph/weight-inputs.ts) and the session merges
 * views of the IR's arrays into every run, so all sessions of a model share the IR's one copy of
 * the weights instead of holding one each (onnxruntime-web copies inputs into the wasm heap for a
 * run and frees them after it; onnxruntime-node reads them in place). A caller's feed of the same
 * name (e.g. recovered weight.o.i) overrides the default. The ONNX bytes are small and dropped once
 * the session is open. The exported graph (embedded initializers) is written by src/exporters, not here.
 */
import type { ModelIR } from '../core/ir';
import type { Feeds, Runner, RunnerSession } from '../core/runner';
import { buildOnnx } from './build';
import type { GraphOptions } from './options';
import { weightFeeds } from './weight-inputs';

/**
 * A RunnerSession whose runs get `defaults` (callers' feeds win on a name clash). A function is
 * called for every run, so the session pins no array between runs (spilled weights,
 * core/weight-residency.ts, are read when a run needs them).
 */
export function withDefaultFeeds(session: RunnerSession, defaults: Feeds | (() => Feeds)): RunnerSession {
  const feedsOf = typeof defaults === 'function' ? defaults : () => defaults;
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    backend: session.backend,
    run: (feeds, outputs) => session.run({ ...feedsOf(), ...feeds }, outputs),
    release: () => session.release(),
  };
}

/** Opens `buildOnnx(ir, options)` with the weights as inputs fed from `ir` (same outputs and numerics). */
export async function openModelSession(runner: Runner, ir: ModelIR, options: GraphOptions = {}): Promise<RunnerSession> {
  const session = await runner.open(buildOnnx(ir, { ...options, weights: 'inputs' }));
  return withDefaultFeeds(session, () => weightFeeds(ir, session.inputNames));
}

/** Runs `use` on a model session and releases it afterwards, whatever happens. */
export async function withModelSession<T>(
  runner: Runner,
  ir: ModelIR,
  options: GraphOptions,
  use: (session: RunnerSession) => Promise<T>,
): Promise<T> {
  const session = await openModelSession(runner, ir, options);
  try {
    return await use(session);
  } finally {
    await session.release();
  }
}
