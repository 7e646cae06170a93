/**
 * Shared by both onnxruntime Runners: RunnerTensor <-> ort.Tensor (int64 as BigInt64Array),
 * the RunnerSession wrapper, and RuntimeFailure messages that name the failing op and node.
 * Types only from onnxruntime-common; each Runner passes its own package's Tensor class.
 */
import type { InferenceSession, Tensor as OrtTensor, TensorConstructor } from 'onnxruntime-common';
import { RuntimeFailure } from '../core/errors';
import type { BackendInfo, Feeds, RunnerSession, RunnerTensor } from '../core/runner';

export type OrtTensorClass = TensorConstructor;

/** Builds a RuntimeFailure that quotes onnxruntime's message and names the op/node it reports. */
export function runtimeFailure(what: string, e: unknown): RuntimeFailure {
  const message = e instanceof Error ? e.message : String(e);
  const node = /running (\w+) node\. Name:'([^']*)'/.exec(message);
  const where = node ? ` (op ${node[1]}, node "${node[2]}")` : '';
  const outOfRange = /out of (data )?bounds|must be within the inclusive range/i.test(message);
  return outOfRange
    ? new RuntimeFailure(
        `${what} failed${where}: ${message}`,
        'A token id or position is out of range: keep token ids below the vocabulary size and sequences within the model context length.',
      )
    : new RuntimeFailure(`${what} failed${where}: ${message}`);
}

export function toOrtTensor(Tensor: OrtTensorClass, name: string, t: RunnerTensor): OrtTensor {
  const n = t.dims.reduce((a, b) => a * b, 1);
  if (n !== t.data.length)
    throw new RuntimeFailure(
      `Input "${name}" has ${t.data.length} values for dims [${t.dims.join(', ')}] (${n} needed).`,
      'This is a bug in the caller.',
    );
  return t.type === 'int64' ? new Tensor('int64', t.data, [...t.dims]) : new Tensor('float32', t.data, [...t.dims]);
}

export function fromOrtTensor(t: OrtTensor, name: string): RunnerTensor {
  const dims = [...t.dims];
  if (t.type === 'float32') return { type: 'float32', dims, data: t.data as Float32Array };
  if (t.type === 'int64') return { type: 'int64', dims, data: t.data as BigInt64Array };
  throw new RuntimeFailure(`Output "${name}" has element type ${t.type}; only float32 and int64 are supported.`);
}

/** Wraps an open onnxruntime session as a RunnerSession. */
export function wrapSession(session: InferenceSession, backend: BackendInfo, Tensor: OrtTensorClass): RunnerSession {
  return {
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    backend,
    async run(feeds: Feeds, outputs?: readonly string[]) {
      const ortFeeds: Record<string, OrtTensor> = {};
      for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrtTensor(Tensor, name, t);
      let result: InferenceSession.ReturnType;
      try {
        result = outputs ? await session.run(ortFeeds, [...outputs]) : await session.run(ortFeeds);
      } catch (e) {
        throw runtimeFailure(`${backend.engine} (${backend.name})`, e);
      }
      const out: Record<string, RunnerTensor> = {};
      for (const [name, t] of Object.entries(result)) out[name] = fromOrtTensor(t, name);
      return out;
    },
    async release() {
      await session.release();
    },
  };
}
