/**
 * Memory preflight on the memory model (core/memory-model.ts): does a planned step fit the host's
 * budget, the wasm32 heap and the largest ArrayBuffer? If not, a ModelTooLargeError with the
 * numbers, the part that dominates, and the nearest setting that would fit (batch 1, a shorter
 * context or calibration sequence, Hessians off, one layer of Hessians at a time, fewer tokens).
 */
import { ModelTooLargeError } from '../core/errors';
import { DEFAULT_MEMORY_CONSTANTS, type MemoryConstants } from '../core/memory-constants';
import { estimateMemory, type MemoryEstimate, type MemoryPhase, type MemorySettings } from '../core/memory-model';
import type { ModelShape } from '../core/model-shape';
import { fmtBytes } from './download';
import type { MemoryBudget } from './memory-budget';

export interface MemoryProblem {
  needed: number;
  available: number;
  /** Sentence naming the limit and the phase, e.g. "calibration needs 5.2 GB; 3.9 GB is available (…)". */
  what: string;
}

/** The first limit the estimate breaks in the given phases, or undefined when it fits. */
export function memoryProblem(est: MemoryEstimate, budget: MemoryBudget, phases: readonly MemoryPhase[]): MemoryProblem | undefined {
  const checked = est.phases.filter((p) => phases.includes(p.phase));
  for (const p of checked) {
    if (p.bytes > budget.bytes) {
      return {
        needed: p.bytes,
        available: budget.bytes,
        what: `${p.phase} needs about ${fmtBytes(p.bytes)}, but only about ${fmtBytes(budget.bytes)} is available (${budget.source})`,
      };
    }
    if (budget.wasmHeapLimit !== undefined && p.wasmBytes > budget.wasmHeapLimit) {
      return {
        needed: p.wasmBytes,
        available: budget.wasmHeapLimit,
        what: `${p.phase} needs about ${fmtBytes(p.wasmBytes)} inside onnxruntime's wasm32 heap, which holds at most ${fmtBytes(budget.wasmHeapLimit)}`,
      };
    }
  }
  const alive = est.buffers.filter((b) => b.phases.some((p) => phases.includes(p)));
  const big = alive.reduce<(typeof alive)[number] | undefined>((a, b) => (!a || b.bytes > a.bytes ? b : a), undefined);
  if (big && budget.arrayBufferLimit !== undefined && big.bytes > budget.arrayBufferLimit) {
    return {
      needed: big.bytes,
      available: budget.arrayBufferLimit,
      what: `the ${big.label} would be one buffer of ${fmtBytes(big.bytes)}, over the browser's ${fmtBytes(budget.arrayBufferLimit)} per ArrayBuffer`,
    };
  }
  return undefined;
}

interface Candidate {
  settings: MemorySettings;
  constants: MemoryConstants;
  says: string;
}

function halvings(from: number, min: number): number[] {
  const out: number[] = [];
  for (let v = Math.floor(from / 2); v >= min; v = Math.floor(v / 2)) out.push(v);
  return out;
}

/** Settings that change only what the checked phases use, least intrusive first. */
export function candidates(s: MemorySettings, c: MemoryConstants, phases: readonly MemoryPhase[]): Candidate[] {
  const out: Candidate[] = [];
  const add = (settings: MemorySettings, says: string, constants = c) => out.push({ settings, constants, says });
  const ppl = s.perplexity;
  if (phases.includes('perplexity')) {
    if (ppl.batchSize > 1) add({ ...s, perplexity: { ...ppl, batchSize: 1 } }, 'a perplexity batch size of 1');
    for (const ctx of halvings(ppl.contextLength, 16)) {
      add({ ...s, perplexity: { contextLength: ctx, batchSize: 1 } }, `a context length of ${ctx} tokens (batch size 1)`);
    }
  }
  const cal = s.calibration;
  if (cal && phases.includes('calibration')) {
    if (cal.withHessians && c.hessianLayers === 'all')
      add(s, 'Hessians kept for one layer at a time (per-layer streaming)', { ...c, hessianLayers: 'one' });
    const batch = Math.min(cal.samples, cal.batchSize ?? 4);
    for (const seq of halvings(cal.seq, 16)) add({ ...s, calibration: { ...cal, seq } }, `calibration sequences of ${seq} tokens`);
    if (batch > 1)
      add(
        { ...s, calibration: { ...cal, samples: Math.min(cal.samples, 1), batchSize: 1 } },
        'one calibration sample per batch (fewer samples)',
      );
    if (cal.withHessians)
      add({ ...s, calibration: { ...cal, withHessians: false } }, 'calibration without Hessians (OBS criteria then unavailable)');
  }
  const gen = s.generation;
  if (gen && phases.includes('generation')) {
    for (const tokens of halvings(gen.tokens, 16)) add({ ...s, generation: { tokens } }, `generation of at most ${tokens} tokens`);
  }
  return out;
}

/** The nearest setting that fits, in words, or undefined when none of the candidates does. */
export function suggestFit(
  shape: ModelShape,
  settings: MemorySettings,
  budget: MemoryBudget,
  phases: readonly MemoryPhase[],
  constants: MemoryConstants = DEFAULT_MEMORY_CONSTANTS,
): string | undefined {
  for (const cand of candidates(settings, constants, phases)) {
    const est = estimateMemory(shape, cand.settings, cand.constants);
    if (!memoryProblem(est, budget, phases)) return `${cand.says} would fit (about ${fmtBytes(est.peak.bytes)} at the peak)`;
  }
  return undefined;
}

/** Throws ModelTooLargeError when the phases do not fit the budget; returns the estimate otherwise. */
export function checkMemory(
  name: string,
  shape: ModelShape,
  settings: MemorySettings,
  budget: MemoryBudget | undefined,
  phases: readonly MemoryPhase[],
  constants: MemoryConstants = DEFAULT_MEMORY_CONSTANTS,
): MemoryEstimate {
  const est = estimateMemory(shape, settings, constants);
  const problem = budget && memoryProblem(est, budget, phases);
  if (!budget || !problem) return est;
  const alive = est.parts.filter((p) => p.phases.some((ph) => phases.includes(ph)));
  const dominant = alive.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const fit = suggestFit(shape, settings, budget, phases, constants);
  throw new ModelTooLargeError(
    `${name} does not fit: ${problem.what}. The largest part is ${dominant.label} (${fmtBytes(dominant.bytes)}).`,
    problem.needed,
    problem.available,
    fit ? `${fit[0]!.toUpperCase()}${fit.slice(1)}.` : 'Pick a smaller model (or a machine with more memory).',
  );
}
