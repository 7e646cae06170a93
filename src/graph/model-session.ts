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
import type { BackendInfo, Feeds, Runner, RunnerSession } from '../core/runner';
import { buildModelProto, buildOnnx } from './build';
import { weightInputsAsExternal } from './external-weights';
import type { GraphOptions } from './options';
import { weightFeeds } from './weight-inputs';

/**
 * A RunnerSession whose runs get `defaults` (callers' feeds win on a name clash). A function is
 * called for every run (with that run's feeds), so the session pins no array between runs (spilled weights,
 * core/weight-residency.ts, are read when a run needs them).
 */
export function withDefaultFeeds(session: RunnerSession, defaults: Feeds | ((feeds: Feeds) => Feeds)): RunnerSession {
  const feedsOf = typeof defaults === 'function' ? defaults : () => defaults;
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    backend: session.backend,
    run: (feeds, outputs) => session.run({ ...feedsOf(feeds), ...feeds }, outputs),
    release: () => session.release(),
  };
}

/** Opens `buildOnnx(ir, options)` with the weights as inputs fed from `ir` (same outputs and numerics). */
export async function openModelSession(runner: Runner, ir: ModelIR, options: GraphOptions = {}): Promise<RunnerSession> {
  const session = await runner.open(buildOnnx(ir, { ...options, weights: 'inputs' }));
  return withDefaultFeeds(session, () => weightFeeds(ir, session.inputNames));
}

/**
 * openModelSession with the weights entering the runtime once, as the session's initializers, instead
 * of fed and copied in on every run: external data that are views of the IR's arrays, or a spilled
 * tensor's bytes read from its store one tensor at a time into one scratch buffer, freed once the
 * session is open (graph/external-weights.ts), so nothing is made resident and no copy is left for
 * the collector. Not pre-packed: a run computes as with the weights fed. `fed`: weights the caller
 * feeds itself (they stay inputs; one a run leaves out is fed from `ir`).
 */
export async function openModelSessionEmbedded(
  runner: Runner,
  ir: ModelIR,
  options: GraphOptions = {},
  fed: ReadonlySet<string> = new Set(),
): Promise<RunnerSession> {
  const model = buildModelProto(ir, { ...options, weights: 'inputs' });
  const { skeleton, externalData, release } = weightInputsAsExternal(model, ir, runner, fed);
  let session: RunnerSession;
  try {
    session = await runner.open(skeleton, { externalData, prepack: false });
  } finally {
    release();
  }
  // a fed weight the caller leaves out of a run is fed from `ir`
  const declared = session.inputNames.filter((name) => fed.has(name));
  if (declared.length === 0) return session;
  return withDefaultFeeds(session, (feeds) => {
    const missing = declared.filter((name) => !(name in feeds));
    return missing.length > 0 ? weightFeeds(ir, missing) : {};
  });
}

/**
 * Whether a provider computes off the CPU (WebGPU), where a weight fed on every run is uploaded on
 * every run: gpt2-124m's 498 MB a run made dense perplexity over 8,192 tokens take 14.5 s on an
 * H200 (bench/results/scale-node-webgpu.json, before openRunSession).
 */
export const computesOnDevice = (backend: BackendInfo): boolean => backend.name === 'webgpu';

/**
 * A session for runs of the model as it is (evaluation, the applied model, latency): openModelSession,
 * or where the provider computes on a device, the weights embedded (openModelSessionEmbedded), so they
 * are uploaded once and stay there. `backend`: the provider the model's sessions already run on (the
 * loaded model's evaluation session); without it the first session is a probe (no weights enter it).
 */
export async function openRunSession(
  runner: Runner,
  ir: ModelIR,
  options: GraphOptions = {},
  backend?: BackendInfo,
): Promise<RunnerSession> {
  if (backend) return computesOnDevice(backend) ? openModelSessionEmbedded(runner, ir, options) : openModelSession(runner, ir, options);
  const session = await openModelSession(runner, ir, options);
  if (!computesOnDevice(session.backend)) return session;
  await session.release();
  return openModelSessionEmbedded(runner, ir, options);
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
