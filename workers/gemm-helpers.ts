/**
 * The browser's helper threads for the multi-threaded float64 GEMM (core/gemm-threads.ts): nested
 * dedicated Workers started from a Blob of the helper's source (same origin, so they inherit the
 * engine Worker's cross-origin isolation and can share its WebAssembly memory).
 */
import type { GemmHelperSpawner } from '../src/core/gemm-threads';

let scriptUrl: string | undefined;

export const blobGemmSpawner: GemmHelperSpawner = (source, data) => {
  scriptUrl ??= URL.createObjectURL(
    new Blob([`${source}\nself.onmessage = function (e) { gemmHelper(e.data); };`], { type: 'text/javascript' }),
  );
  const worker = new Worker(scriptUrl, { name: `gemm helper ${data.index}` });
  worker.postMessage(data);
  return { terminate: () => worker.terminate() };
};
