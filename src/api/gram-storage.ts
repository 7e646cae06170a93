/**
 * Where a calibration's Grams live (StudioDeps.gramStore / gramStorage): for a model that runs block
 * by block (core/memory-model.ts runsBlockwise) in a GramStore the host injects (Node: a temp file,
 * the engine Worker: OPFS), each layer's written as soon as its block is calibrated and read back one
 * projection at a time by OBS, compensation and redistribution (core/stats.ts `packedGram`); small
 * models keep them in memory. A store that cannot be opened or refuses a write leaves the Grams in
 * memory with a warning in the calibration summary (nothing is lost); one that fails on read gives a
 * GramStoreError. The store is disposed when the statistics are replaced or the model is unloaded.
 */
import type { GramStore } from '../core/gram-store';
import { storageReason } from '../core/gram-store';
import type { ModelIR } from '../core/ir';
import { runsBlockwise } from '../core/model-shape';
import { storeGram, type CalibrationStats } from '../core/stats';
import type { StudioDeps } from './state';

/** Whether a calibration of `ir` with Hessians keeps its Grams in the host's store. */
export function storesGrams(deps: Pick<StudioDeps, 'gramStore' | 'gramStorage'>, ir: ModelIR): boolean {
  const policy = deps.gramStorage ?? 'auto';
  if (!deps.gramStore || policy === 'never') return false;
  return policy === 'always' || runsBlockwise(ir.spec, ir.layers);
}

/** The Grams of one calibration on their way to a store: `afterBlock` stores a finished layer's, `finish` the rest. */
export interface GramSpill {
  store: GramStore | undefined;
  afterBlock: (layer: number, stats: CalibrationStats) => void;
  /** Stores what is still in memory (a whole-graph calibration), then returns the warnings. */
  finish: (stats: CalibrationStats) => string[];
}

function fallbackWarning(where: string, reason: string): string {
  return (
    `The Hessian statistics are kept in memory: ${where} refused them (${reason}). Calibration is complete, ` +
    'but it holds more memory than predicted; free disk or browser storage before calibrating a large model again.'
  );
}

/** Opens the store when this calibration should use one; a store that fails to open means memory, with a warning. */
export async function openGramSpill(deps: StudioDeps, ir: ModelIR, withHessians: boolean): Promise<GramSpill> {
  const warnings: string[] = [];
  let store: GramStore | undefined;
  if (withHessians && deps.gramStore && storesGrams(deps, ir)) {
    try {
      store = await deps.gramStore();
    } catch (e) {
      warnings.push(fallbackWarning('the storage for statistics', storageReason(e)));
    }
  }
  let failed = false;
  const put = (stats: CalibrationStats, l: number) => {
    const st = stats.layers[l];
    if (!store || failed || !st) return;
    for (const kind of ['attnIn', 'ffnIn'] as const) {
      const reason = storeGram(st[kind], `${l}.${kind}`, store);
      if (reason !== undefined) {
        failed = true;
        warnings.push(fallbackWarning(store.where, reason));
        return;
      }
    }
  };
  return {
    store,
    afterBlock: (l, stats) => put(stats, l),
    finish(stats) {
      stats.layers.forEach((_, l) => put(stats, l));
      return warnings;
    },
  };
}
