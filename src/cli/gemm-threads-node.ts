/**
 * Node's helper threads for the multi-threaded float64 GEMM (core/gemm-threads.ts): worker_threads
 * evaluating the helper's source, unref'd so they never keep the process alive.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { helpersFor, setGemmThreads, type GemmHelperSpawner } from '../core/gemm-threads';

export const nodeGemmSpawner: GemmHelperSpawner = (source, data) => {
  const worker = new Worker(`${source}\nrequire('node:worker_threads').parentPort.once('message', gemmHelper);`, { eval: true });
  worker.unref();
  // a helper that dies is noticed by the caller's wait (core/gemm-threads.ts), not here
  worker.on('error', () => undefined);
  worker.postMessage(data);
  return { terminate: () => void worker.terminate() };
};

/** One helper per core beside this thread (at most 7), or `helpers`. */
export function useNodeGemmThreads(helpers = helpersFor(availableParallelism())): void {
  setGemmThreads(nodeGemmSpawner, helpers);
}
