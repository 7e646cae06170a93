/** The isolated runner's Node worker: onnxruntime-web served over the parent port (isolate-serve.ts). */
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { StoredBytes } from '../core/gram-store';
import { LazyBytes } from '../core/lazy-bytes';
import type { Runner } from '../core/runner';
import type { ChildRunnerOptions, IsolateReply, IsolateRequest } from './isolate-protocol';
import { serveRunner } from './isolate-serve';
import { createWebRunner } from './ort-web';

/** Reads the external data the parent marked `stored` from its file when onnxruntime-web copies it in (core/lazy-bytes.ts). */
function readingStored(runner: Runner): Runner {
  const lazy = (s: StoredBytes) =>
    new LazyBytes(s.bytes, () => {
      const out = new Uint8Array(s.bytes);
      const fd = openSync(s.file, 'r');
      try {
        for (let done = 0; done < s.bytes;) {
          const n = readSync(fd, out, done, s.bytes - done, s.at + done);
          if (n === 0) throw new Error(`${s.file} ends before ${s.at + s.bytes}`);
          done += n;
        }
      } finally {
        closeSync(fd);
      }
      return out;
    });
  return {
    ...runner,
    open: (model, options = {}) =>
      runner.open(model, {
        ...options,
        ...(options.externalData
          ? { externalData: options.externalData.map((f) => (f.stored ? { path: f.path, data: lazy(f.stored) } : f)) }
          : {}),
      }),
  };
}

const port = parentPort!;
serveRunner(readingStored(createWebRunner({ ...(workerData as ChildRunnerOptions), isolate: false })), {
  post: (message: IsolateReply, transfer) => port.postMessage(message, transfer as never),
  onMessage: (handler) => port.on('message', (m: IsolateRequest) => handler(m)),
});
