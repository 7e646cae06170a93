/**
 * The isolated runner's browser Worker, started from the engine Worker (ort-web.ts `isolate`):
 * its own onnxruntime-web instance and wasm heap, returned to the browser when it is terminated.
 * The first message carries the runner options; every later one is a request (isolate-serve.ts).
 */
import { serveRunner } from './isolate-serve';
import { createWebRunner } from './ort-web';
import type { ChildRunnerOptions, IsolateReply, IsolateRequest } from './isolate-protocol';

const scope = self as unknown as DedicatedWorkerGlobalScope;

scope.onmessage = (first: MessageEvent<{ options: ChildRunnerOptions }>) => {
  serveRunner(createWebRunner({ ...first.data.options, isolate: false }), {
    post: (message: IsolateReply, transfer) => scope.postMessage(message, transfer),
    onMessage: (handler) => {
      scope.onmessage = (e: MessageEvent<IsolateRequest>) => handler(e.data);
    },
  });
};
