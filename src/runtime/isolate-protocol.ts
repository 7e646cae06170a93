/**
 * Messages between an isolated Runner (isolate-client.ts, in the caller's realm) and the Runner it
 * drives in a child realm (isolate-serve.ts, in a Node worker thread). Float32
 * feeds on SharedArrayBuffers cross without a copy; outputs come back transferred.
 */
import type { SerializedError } from '../core/errors';
import type { BackendInfo, Feeds, SessionOptions } from '../core/runner';

export type IsolateRequest =
  | { id: number; op: 'open'; model: Uint8Array; options: SessionOptions }
  | { id: number; op: 'run'; session: number; feeds: Feeds; outputs?: readonly string[] }
  | { id: number; op: 'release'; session: number };

export interface OpenedSession {
  session: number;
  inputNames: string[];
  outputNames: string[];
  backend: BackendInfo;
}

export type IsolateReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

/** The child's createWebRunner options (ort-web.ts WebRunnerOptions without functions or the isolate switch). */
export interface ChildRunnerOptions {
  wasmPaths?: string;
  preferWebGpu?: boolean;
  allowSoftwareGpu?: boolean;
  threads?: number;
}

/** One side's view of the channel (a worker, a worker's parent port). */
export interface IsolatePort<In, Out> {
  post(message: Out, transfer: Transferable[]): void;
  onMessage(handler: (message: In) => void): void;
}

/** The parent's handle on a child realm. */
export interface IsolateEndpoint extends IsolatePort<IsolateReply, IsolateRequest> {
  /** Called once when the child dies (crash, out of memory) so pending calls fail. */
  onExit(handler: (error: Error) => void): void;
  terminate(): Promise<void>;
}
