/**
 * Plan slice: the current PruningPlan with an undo/redo timeline, manual edits (toggle a head /
 * a whole layer) used by the heatmap, and the pruning controls (targets, allocation, per-layer
 * overrides and locks, compensation). Plan, timeline and controls are scoped to the loaded model
 * (name + fingerprint) and persist in localStorage per model; each timeline entry keeps its controls.
 */
import type { StateCreator } from 'zustand';
import type { PruningPlan } from '../core/plan';
import type { Allocation } from '../prune/allocate';
import type { Compensation } from '../prune/compensate';
import type { CriterionName } from '../saliency/types';
import { loadFor, samePlan, saveFor, uniqueName } from './timeline';

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
  /** Timeline of plans; `historyIndex` points at the current one. Names are unique. */
  history: PruningPlan[];
  /** The controls that made each entry of `history` (undo / redo / goTo restore them). */
  snapshots: PruneControls[];
  historyIndex: number;
  controls: PruneControls;
  /** The model (modelKey: name@fingerprint) the plans and controls belong to; '' before a load. */
  planModel: string;
  /** Adds a plan to the timeline (with the controls that made it; default the current ones). */
  setPlan: (plan: PruningPlan, controls?: PruneControls) => void;
  undo: () => void;
  redo: () => void;
  /** Jump to one entry of the timeline. */
  goTo: (index: number) => void;
  toggleHead: (layer: number, head: number) => void;
  toggleLayer: (layer: number) => void;
  setControls: (patch: Partial<PruneControls>) => void;
  clearPlans: () => void;
  /** A model was loaded: keep the current model's plans aside, bring back (or start) the new one's. */
  switchPlanModel: (model: string) => void;
}

interface Persisted {
  history: PruningPlan[];
  snapshots?: PruneControls[];
  historyIndex: number;
  controls: PruneControls;
}

function restore(model: string): Pick<PlanSlice, 'plan' | 'history' | 'snapshots' | 'historyIndex' | 'controls'> {
  const p = loadFor<Persisted>(model);
  if (!p || !Array.isArray(p.history)) return { plan: null, history: [], snapshots: [], historyIndex: -1, controls: DEFAULT_CONTROLS };
  const controls = { ...DEFAULT_CONTROLS, ...p.controls };
  const historyIndex = Math.min(p.historyIndex, p.history.length - 1);
  const snapshots = p.history.map((_, i) => ({ ...DEFAULT_CONTROLS, ...(p.snapshots?.[i] ?? controls) }));
  return { plan: p.history[historyIndex] ?? null, history: p.history, snapshots, historyIndex, controls };
}

function edited(plan: PruningPlan, layer: number, edit: (l: PruningPlan['layers'][number]) => PruningPlan['layers'][number]): PruningPlan {
  return {
    ...plan,
    name: plan.name.replace(/ \(\d+\)$/, '').endsWith(' (edited)') ? plan.name : `${plan.name} (edited)`,
    layers: plan.layers.map((l) => (l.index === layer ? edit(l) : l)),
  };
}

export const createPlanSlice: StateCreator<PlanSlice> = (set, get) => {
  const persist = () => {
    const s = get();
    if (s.planModel)
      saveFor(s.planModel, { history: s.history, snapshots: s.snapshots, historyIndex: s.historyIndex, controls: s.controls });
  };
  const update = (fn: (s: PlanSlice) => Partial<PlanSlice>) => {
    set(fn);
    persist();
  };
  const jump = (s: PlanSlice, i: number): Partial<PlanSlice> =>
    i >= 0 && i < s.history.length ? { historyIndex: i, plan: s.history[i] ?? null, controls: s.snapshots[i] ?? s.controls } : {};
  return {
    plan: null,
    history: [],
    snapshots: [],
    historyIndex: -1,
    controls: DEFAULT_CONTROLS,
    planModel: '',
    setPlan: (plan, controls) =>
      update((s) => {
        const snapshot = controls ?? s.controls;
        if (samePlan(s.plan, plan)) {
          // the same plan again (e.g. only the compensation changed): no new entry, the controls follow
          const snapshots = s.snapshots.map((c, i) => (i === s.historyIndex ? snapshot : c));
          return { snapshots, controls: snapshot };
        }
        const kept = s.history.slice(0, s.historyIndex + 1);
        const named = {
          ...plan,
          name: uniqueName(
            plan.name,
            kept.map((p) => p.name),
          ),
        };
        const history = [...kept, named].slice(-50);
        const snapshots = [...s.snapshots.slice(0, s.historyIndex + 1), snapshot].slice(-50);
        return { plan: named, history, snapshots, historyIndex: history.length - 1, controls: snapshot };
      }),
    undo: () => update((s) => jump(s, s.historyIndex - 1)),
    redo: () => update((s) => jump(s, s.historyIndex + 1)),
    goTo: (index) => update((s) => jump(s, index)),
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
    clearPlans: () => update(() => ({ plan: null, history: [], snapshots: [], historyIndex: -1 })),
    switchPlanModel: (model) => {
      if (model === get().planModel) return;
      persist();
      set({ planModel: model, ...restore(model) });
    },
  };
};
