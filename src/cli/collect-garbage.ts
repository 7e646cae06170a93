/**
 * StudioDeps.collectGarbage for Node hosts: a full V8 collection on request, so weight arrays the
 * engine evicted (core/weight-residency.ts) give their memory back before a whole-model session or
 * an export's verification opens, instead of whenever V8 next collects (it counts no pressure from
 * onnxruntime's wasm heap). Uses V8's gc exposed at runtime (node:v8 flags + node:vm); a no-op if
 * that is unavailable.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}
