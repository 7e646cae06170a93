/**
 * Runner over onnxruntime-node (native CPU execution provider): the CLI, benchmarks and Node tests.
 */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import { sessionConfigEntries, type Runner, type SessionOptions } from '../core/runner';
import { runtimeFailure, wrapSession, type OrtTensorClass } from './convert';
import { decodeModel, encodeModel } from '../io/onnx';
import { inlineExternalData } from '../io/onnx-import/source-model';

export interface NodeRunnerOptions {
  /** Intra-op threads (default: all cores). */
  threads?: number;
}

/** onnxruntime-node opens a model from bytes without external files: the data goes inline (views, then one encode). */
function inlined(model: Uint8Array, files: NonNullable<SessionOptions['externalData']>): Uint8Array {
  const byPath = new Map(files.map((f) => [f.path, f.data]));
  const read = (path: string) => {
    const data = byPath.get(path);
    if (!data) throw new Error(`external data file ${path} was not given`);
    return data;
  };
  return encodeModel(inlineExternalData(decodeModel(model), read));
}

export function createNodeRunner(defaults: NodeRunnerOptions = {}): Runner {
  return {
    async open(model: Uint8Array, options: SessionOptions = {}) {
      const threads = options.threads ?? defaults.threads ?? availableParallelism();
      const extra = sessionConfigEntries(options);
      let session: ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(options.externalData ? inlined(model, options.externalData) : model, {
          executionProviders: ['cpu'],
          intraOpNumThreads: threads,
          graphOptimizationLevel: 'all',
          logSeverityLevel: 3,
          ...(extra ? { extra } : {}),
        });
      } catch (e) {
        throw runtimeFailure('onnxruntime-node could not open the model', e);
      }
      const backend = { name: 'cpu', threads, engine: `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common}` };
      return wrapSession(session, backend, ort.Tensor as unknown as OrtTensorClass);
    },
  };
}
