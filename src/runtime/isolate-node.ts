/**
 * Node side of ort-web's isolated Runner: a worker_threads Worker with its own onnxruntime-web
 * instance (and wasm heap); terminating it returns that memory. Reached only through a hidden
 * dynamic import in ort-web.ts, so browser bundles never see node:worker_threads.
 */
import { Worker } from 'node:worker_threads';
import type { ChildRunnerOptions, IsolateEndpoint, IsolateReply } from './isolate-protocol';

export function nodeIsolate(options: ChildRunnerOptions): IsolateEndpoint {
  // The entry registers tsx in the worker (vitest and `node --import tsx` run this TypeScript directly).
  const worker = new Worker(new URL('./isolate-node-entry.mjs', import.meta.url), { workerData: options });
  let exited = false;
  return {
    post: (message, transfer) => worker.postMessage(message, transfer as never),
    onMessage: (handler) => worker.on('message', (m: IsolateReply) => handler(m)),
    onExit: (handler) => {
      worker.on('error', (e) => handler(e instanceof Error ? e : new Error(String(e))));
      worker.on('exit', (code) => {
        exited = true;
        handler(new Error(`the isolated runner's worker exited (code ${code})`));
      });
    },
    async terminate() {
      if (!exited) await worker.terminate();
    },
  };
}
