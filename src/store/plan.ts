/**
 * Plan slice: the current PruningPlan with an undo/redo timeline, manual edits (toggle a head /
 * a whole layer) used by the heatmap, and the pruning controls (targets, allocation, per-layer
 * overrides and locks, compensation). Plan, timeline and controls persist in localStorage.
 */
import type { StateCreator } from 'zustand';
import type { PruningPlan } from '../core/plan';
import type { Allocation } from '../prune/allocate';
import type { Compensation } from '../prune/compensate';
import type { CriterionName } from '../saliency/types';

export type GlobalMetric = 'units' | 'parameters' | 'flops';

export interface PruneControls {
  /**
   * Global target: the fraction of the model's parameters or FLOPs to remove (the engine solves for
   * one heads / FFN ratio), or of the prunable units; moving it drives heads and ffn together.
   */
  global: number;
  globalMetric: GlobalMetric;
  /** The heads / FFN ratios follow the global target (false once a per-part slider moved). */
  useGlobal: boolean;
  heads: number;
  ffn: number;
  layers: number;
  allocation: Allocation;
  criterion: CriterionName | null;
  compensation: Compensation;
  overrides: Record<number, { heads?: number; ffn?: number }>;
  locked: number[];
}

export const DEFAULT_CONTROLS: PruneControls = {
  global: 0,
  globalMetric: 'parameters',
  useGlobal: false,
  heads: 0,
  ffn: 0,
  layers: 0,
  allocation: 'uniform',
  criterion: null,
  compensation: 'none',
  overrides: {},
  locked: [],
};

export interface PlanSlice {
  plan: PruningPlan | null;
  /** Timeline of plans; `historyIndex` points at the current one. */
  history: PruningPlan[];
  historyIndex: number;
  controls: PruneControls;
  setPlan: (plan: PruningPlan) => void;
  undo: () => void;
  redo: () => void;
  /** Jump to one entry of the timeline. */
  goTo: (index: number) => void;
  toggleHead: (layer: number, head: number) => void;
  toggleLayer: (layer: number) => void;
  setControls: (patch: Partial<PruneControls>) => void;
  clearPlans: () => void;
}

const KEY = 'prune-studio:plan:v1';

interface Persisted {
  history: PruningPlan[];
  historyIndex: number;
  controls: PruneControls;
}

function load(): Persisted | null {
  try {
    const raw = typeof localStorage !== 'undefined' ? localStorage.getItem(KEY) : null;
    if (!raw) return null;
    const p = JSON.parse(raw) as Persisted;
    if (!Array.isArray(p.history)) return null;
    return {
      history: p.history,
      historyIndex: Math.min(p.historyIndex, p.history.length - 1),
      controls: { ...DEFAULT_CONTROLS, ...p.controls },
    };
  } catch {
    return null;
  }
}

function save(s: Persisted): void {
  try {
    localStorage.setItem(KEY, JSON.stringify({ history: s.history, historyIndex: s.historyIndex, controls: s.controls }));
  } catch {
    // Storage full or unavailable: the session still works, it just is not remembered.
  }
}

function edited(plan: PruningPlan, layer: number, edit: (l: PruningPlan['layers'][number]) => PruningPlan['layers'][number]): PruningPlan {
  return {
    ...plan,
    name: plan.name.endsWith(' (edited)') ? plan.name : `${plan.name} (edited)`,
    layers: plan.layers.map((l) => (l.index === layer ? edit(l) : l)),
  };
}

export const createPlanSlice: StateCreator<PlanSlice> = (set, get) => {
  const restored = load();
  const persist = () => {
    const s = get();
    save({ history: s.history, historyIndex: s.historyIndex, controls: s.controls });
  };
  const update = (fn: (s: PlanSlice) => Partial<PlanSlice>) => {
    set(fn);
    persist();
  };
  return {
    plan: restored ? (restored.history[restored.historyIndex] ?? null) : null,
    history: restored?.history ?? [],
    historyIndex: restored?.historyIndex ?? -1,
    controls: restored?.controls ?? DEFAULT_CONTROLS,
    setPlan: (plan) =>
      update((s) => {
        const history = [...s.history.slice(0, s.historyIndex + 1), plan].slice(-50);
        return { plan, history, historyIndex: history.length - 1 };
      }),
    undo: () =>
      update((s) => (s.historyIndex > 0 ? { historyIndex: s.historyIndex - 1, plan: s.history[s.historyIndex - 1] ?? null } : {})),
    redo: () =>
      update((s) =>
        s.historyIndex < s.history.length - 1 ? { historyIndex: s.historyIndex + 1, plan: s.history[s.historyIndex + 1] ?? null } : {},
      ),
    goTo: (index) => update((s) => (index >= 0 && index < s.history.length ? { historyIndex: index, plan: s.history[index] ?? null } : {})),
    toggleHead: (layer, head) => {
      const plan = get().plan;
      if (!plan) return;
      get().setPlan(
        edited(plan, layer, (l) => ({
          ...l,
          removedHeads: l.removedHeads.includes(head)
            ? l.removedHeads.filter((h) => h !== head)
            : [...l.removedHeads, head].sort((a, b) => a - b),
        })),
      );
    },
    toggleLayer: (layer) => {
      const plan = get().plan;
      if (!plan) return;
      get().setPlan(edited(plan, layer, (l) => ({ ...l, removed: !l.removed })));
    },
    setControls: (patch) => update((s) => ({ controls: { ...s.controls, ...patch } })),
    clearPlans: () => update(() => ({ plan: null, history: [], historyIndex: -1 })),
  };
};
