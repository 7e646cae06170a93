/**
 * Runner over onnxruntime-node (native CPU execution provider): the CLI, benchmarks and Node tests.
 */
import { availableParallelism } from 'node:os';
import * as ort from 'onnxruntime-node';
import type { Runner, SessionOptions } from '../core/runner';
import { runtimeFailure, wrapSession, type OrtTensorClass } from './convert';

export interface NodeRunnerOptions {
  /** Intra-op threads (default: all cores). */
  threads?: number;
}

export function createNodeRunner(defaults: NodeRunnerOptions = {}): Runner {
  return {
    async open(model: Uint8Array, options: SessionOptions = {}) {
      const threads = options.threads ?? defaults.threads ?? availableParallelism();
      let session: ort.InferenceSession;
      try {
        session = await ort.InferenceSession.create(model, {
          executionProviders: ['cpu'],
          intraOpNumThreads: threads,
          graphOptimizationLevel: 'all',
          logSeverityLevel: 3,
        });
      } catch (e) {
        throw runtimeFailure('onnxruntime-node could not open the model', e);
      }
      const backend = { name: 'cpu', threads, engine: `onnxruntime-node ${ort.env.versions.node ?? ort.env.versions.common}` };
      return wrapSession(session, backend, ort.Tensor as unknown as OrtTensorClass);
    },
  };
}
