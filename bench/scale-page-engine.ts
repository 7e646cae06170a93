/**
 * The engine of workers/studio.worker.ts (createStudioApi + the cancellable onnxruntime-web Runner +
 * the browser deps) without the host's memory budget, for bench/scale-browser.ts --no-budget: bundled
 * with esbuild and injected into the app's page, where it replaces the automation hook
 * `window.__pruneStudio` ({ run, cancel }). It runs on the page's main thread, not in a Worker, and
 * exists to measure what a model the preflight refuses (qwen2.5-0.5b) would actually take.
 */
import { createStudioApi } from '../src/api/studio';
import type { StudioApi } from '../src/api/types';
import { createWebRunner } from '../src/runtime/ort-web';
import { cancellableRunner } from '../workers/cancel';
import { browserHubDeps } from '../workers/hub-deps';

const api: StudioApi = createStudioApi({
  runner: cancellableRunner(createWebRunner({ wasmPaths: new URL('/ort/', location.href).href })),
  demoUrl: new URL('/models/demo-gpt2/', location.href).href,
  ...browserHubDeps(),
  memoryBudget: () => undefined,
});

const running = new Set<AbortController>();

(window as unknown as { __pruneStudio: unknown }).__pruneStudio = {
  // the worker's calling convention: the arguments, then { signal }
  async run(method: string, args: unknown[]) {
    const controller = new AbortController();
    running.add(controller);
    try {
      const fn = api[method as keyof StudioApi] as (...a: unknown[]) => Promise<unknown>;
      return await fn.call(api, ...args, { signal: controller.signal });
    } finally {
      running.delete(controller);
    }
  },
  cancel: () => running.forEach((c) => c.abort()),
};
