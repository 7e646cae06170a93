/**
 * Plan slice: the current PruningPlan with an undo/redo timeline, and manual edits
 * (toggle a head / a whole layer) used by the heatmap and the per-layer controls.
 */
import type { StateCreator } from 'zustand';
import type { PruningPlan } from '../core/plan';
import type { StudioStore } from './index';

export interface PlanSlice {
  plan: PruningPlan | null;
  /** Timeline of plans; `historyIndex` points at the current one. */
  history: PruningPlan[];
  historyIndex: number;
  setPlan: (plan: PruningPlan) => void;
  undo: () => void;
  redo: () => void;
  toggleHead: (layer: number, head: number) => void;
  toggleLayer: (layer: number) => void;
}

function edited(plan: PruningPlan, layer: number, edit: (l: PruningPlan['layers'][number]) => PruningPlan['layers'][number]): PruningPlan {
  return { ...plan, name: plan.name.endsWith(' (edited)') ? plan.name : `${plan.name} (edited)`, layers: plan.layers.map((l) => (l.index === layer ? edit(l) : l)) };
}

export const createPlanSlice: StateCreator<StudioStore, [], [], PlanSlice> = (set, get) => ({
  plan: null,
  history: [],
  historyIndex: -1,
  setPlan: (plan) =>
    set((s) => {
      const history = [...s.history.slice(0, s.historyIndex + 1), plan].slice(-50);
      return { plan, history, historyIndex: history.length - 1 };
    }),
  undo: () => set((s) => (s.historyIndex > 0 ? { historyIndex: s.historyIndex - 1, plan: s.history[s.historyIndex - 1] ?? null } : {})),
  redo: () => set((s) => (s.historyIndex < s.history.length - 1 ? { historyIndex: s.historyIndex + 1, plan: s.history[s.historyIndex + 1] ?? null } : {})),
  toggleHead: (layer, head) => {
    const plan = get().plan;
    if (!plan) return;
    get().setPlan(
      edited(plan, layer, (l) => ({
        ...l,
        removedHeads: l.removedHeads.includes(head) ? l.removedHeads.filter((h) => h !== head) : [...l.removedHeads, head].sort((a, b) => a - b),
      })),
    );
  },
  toggleLayer: (layer) => {
    const plan = get().plan;
    if (!plan) return;
    get().setPlan(edited(plan, layer, (l) => ({ ...l, removed: !l.removed })));
  },
});
