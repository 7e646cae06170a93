/**
 * Browser-only StudioDeps for Hub loading: the download cache over the Cache API (self.caches) and
 * the memory budget from what this browser reports (navigator.deviceMemory,
 * performance.memory.jsHeapSizeLimit, capped by WebAssembly's 4 GiB). Used by the engine worker:
 *   createStudioApi({ runner, demoUrl, ...browserHubDeps() })
 * and by the e2e engine harness (e2e/harness/engine.ts), which runs the same code in the page.
 */
import type { StudioDeps } from '../src/api/state';
import { cacheStorageCache } from '../src/io/hub-cache';
import { browserMemoryBudget } from '../src/io/memory-budget';

export const HUB_CACHE_NAME = 'prune-studio-hub-v1';

export function browserHubDeps(): Pick<StudioDeps, 'hubCache' | 'memoryBudget'> {
  const scope = globalThis as typeof globalThis & { caches?: CacheStorage };
  const nav = globalThis.navigator as (Navigator & { deviceMemory?: number }) | undefined;
  const perf = globalThis.performance as Performance & { memory?: { jsHeapSizeLimit?: number } };
  return {
    ...(scope.caches ? { hubCache: cacheStorageCache(scope.caches, HUB_CACHE_NAME) } : {}),
    memoryBudget: () =>
      browserMemoryBudget({
        ...(nav?.deviceMemory ? { deviceMemory: nav.deviceMemory } : {}),
        ...(perf?.memory?.jsHeapSizeLimit ? { jsHeapSizeLimit: perf.memory.jsHeapSizeLimit } : {}),
      }),
  };
}
