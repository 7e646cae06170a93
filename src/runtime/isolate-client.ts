/**
 * The parent side of an isolated Runner: a Runner whose sessions live in a child realm reached
 * through an IsolateEndpoint (isolate-node.ts: a Node worker thread). Float32 feeds on
 * SharedArrayBuffers (core/shared-weights.ts) cross as they are; a large feed on a plain buffer (a
 * sliced model's weights) is copied onto one once per isolate and reused by later runs; external data
 * marked `owned` (a copy made for the session) is transferred. `dispose`
 * terminates the child, which returns its whole memory (wasm heap included) to the system.
 */
import { RuntimeFailure, type SerializedError } from '../core/errors';
import type { Feeds, IsolatedRunner, RunnerSession, RunnerTensor, SessionOptions } from '../core/runner';
import { isShared, toShared } from '../core/shared-weights';
import type { IsolateEndpoint, IsolateRequest, OpenedSession } from './isolate-protocol';

/** Plain float32 feeds at least this large are moved to shared memory once and reused. */
const SHARE_MIN_BYTES = 1 << 20;

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };
type Request = IsolateRequest extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

function failure(e: SerializedError): Error {
  return e.code === 'RUNTIME_FAILED' || e.code === 'UNKNOWN'
    ? new RuntimeFailure(e.message, ...(e.hint ? [e.hint] : []))
    : Object.assign(new Error(e.message), { name: e.name, code: e.code, hint: e.hint });
}

/** A view that posts without dragging along the rest of its buffer (structured clone copies whole buffers). */
function compact<T extends Float32Array | BigInt64Array | Uint8Array>(data: T): T {
  if (isShared(data) || data.byteLength === data.buffer.byteLength) return data;
  return data.slice() as T;
}

export function isolatedRunner(endpoint: IsolateEndpoint): IsolatedRunner {
  const pending = new Map<number, Pending>();
  const sharedCopies = new WeakMap<Float32Array, Float32Array>();
  let nextId = 1;
  let dead: Error | undefined;
  endpoint.onMessage((reply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (reply.ok) p.resolve(reply.value);
    else p.reject(failure(reply.error));
  });
  endpoint.onExit((error) => {
    dead ??= error;
    for (const p of pending.values()) p.reject(error);
    pending.clear();
  });
  const call = <T>(req: Request, transfer: Transferable[] = []): Promise<T> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      endpoint.post({ ...req, id } as IsolateRequest, transfer);
    });
  };
  const crossing = (t: RunnerTensor): RunnerTensor => {
    if (t.type !== 'float32' || isShared(t.data) || t.data.byteLength < SHARE_MIN_BYTES)
      return { ...t, data: compact(t.data) } as RunnerTensor;
    let shared = sharedCopies.get(t.data);
    if (!shared) sharedCopies.set(t.data, (shared = toShared(t.data)));
    return { ...t, data: shared };
  };
  const session = (o: OpenedSession): RunnerSession => ({
    inputNames: o.inputNames,
    outputNames: o.outputNames,
    backend: o.backend,
    run(feeds: Feeds, outputs?: readonly string[]) {
      const crossed: Feeds = {};
      for (const [name, t] of Object.entries(feeds)) crossed[name] = crossing(t);
      return call<Record<string, RunnerTensor>>({ op: 'run', session: o.session, feeds: crossed, ...(outputs ? { outputs } : {}) });
    },
    release: () => (dead ? Promise.resolve() : call<void>({ op: 'release', session: o.session })),
  });
  return {
    async open(model: Uint8Array, options: SessionOptions = {}) {
      // owned bytes (a copy made for this session) move to the child instead of being copied
      const owned = (f: { data: Uint8Array; owned?: boolean }) =>
        f.owned === true && !isShared(f.data) && f.data.byteLength === f.data.buffer.byteLength;
      const externalData = options.externalData?.map((f) => ({
        path: f.path,
        data: owned(f) ? f.data : compact(f.data),
        ...(f.stored ? { stored: f.stored } : {}),
      }));
      const transfer = (options.externalData ?? []).filter(owned).map((f) => f.data.buffer as ArrayBuffer);
      const opened = await call<OpenedSession>(
        { op: 'open', model: compact(model), options: { ...options, ...(externalData ? { externalData } : {}) } },
        transfer,
      );
      return session(opened);
    },
    async dispose() {
      dead ??= new RuntimeFailure('This isolated runner was disposed.');
      for (const p of pending.values()) p.reject(dead);
      pending.clear();
      await endpoint.terminate();
    },
  };
}
