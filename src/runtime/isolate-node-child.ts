/** The isolated runner's Node worker: onnxruntime-web served over the parent port (isolate-serve.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import type { ChildRunnerOptions, IsolateReply, IsolateRequest } from './isolate-protocol';
import { serveRunner } from './isolate-serve';
import { createWebRunner } from './ort-web';

const port = parentPort!;
serveRunner(createWebRunner({ ...(workerData as ChildRunnerOptions), isolate: false }), {
  post: (message: IsolateReply, transfer) => port.postMessage(message, transfer as never),
  onMessage: (handler) => port.on('message', (m: IsolateRequest) => handler(m)),
});
