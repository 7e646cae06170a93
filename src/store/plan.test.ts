/**
 * Plan slice: undo / redo restore the controls that made each plan, timeline names are unique,
 * the same plan again (only the compensation changed) adds no entry, and plans are scoped per model.
 */
import { describe, expect, it } from 'vitest';
import { createStore } from 'zustand/vanilla';
import type { PruningPlan } from '../core/plan';
import { createPlanSlice, DEFAULT_CONTROLS, type PlanSlice } from './plan';
import { uniqueName } from './timeline';

const plan = (name: string, heads: number[]): PruningPlan => ({
  format: 'prune-studio-plan',
  version: 1,
  name,
  model: { name: 'm', numLayers: 1, numHeads: 4, numKvHeads: 4, ffnSize: 8, headDim: 2 },
  layers: [{ index: 0, removed: false, removedHeads: heads, removedFfn: [] }],
});

describe('plan slice', () => {
  it('undo / redo restore the controls; names stay unique; a repeated plan adds no entry', () => {
    const s = createStore<PlanSlice>()(createPlanSlice);
    s.getState().switchPlanModel('m@1');
    s.getState().setPlan(plan('p', [0]), { ...DEFAULT_CONTROLS, heads: 0.3 });
    s.getState().setPlan(plan('q', [0, 1]), { ...DEFAULT_CONTROLS, heads: 0.5 });
    s.getState().undo();
    expect(s.getState().plan?.name).toBe('p');
    expect(s.getState().controls.heads).toBe(0.3);
    s.getState().redo();
    expect(s.getState().controls.heads).toBe(0.5);

    // same plan, other compensation: the entry's controls follow, no new entry
    s.getState().setPlan(plan('q', [0, 1]), { ...DEFAULT_CONTROLS, heads: 0.5, compensation: 'bias' });
    expect(s.getState().history).toHaveLength(2);
    s.getState().undo();
    s.getState().redo();
    expect(s.getState().controls.compensation).toBe('bias');

    // a different plan under a name already taken gets a suffix
    s.getState().setPlan(plan('p', [2]));
    s.getState().setPlan(plan('p', [3]));
    expect(s.getState().history.map((p) => p.name)).toEqual(['p', 'q', 'p (2)', 'p (3)']);
  });

  it('keeps each model’s plans apart', () => {
    const s = createStore<PlanSlice>()(createPlanSlice);
    s.getState().switchPlanModel('a@1');
    s.getState().setPlan(plan('a-plan', [0]));
    s.getState().switchPlanModel('b@2');
    expect(s.getState().plan).toBeNull();
    expect(s.getState().history).toEqual([]);
  });

  it('uniqueName', () => {
    expect(uniqueName('x', [])).toBe('x');
    expect(uniqueName('x', ['x'])).toBe('x (2)');
    expect(uniqueName('x (2)', ['x', 'x (2)'])).toBe('x (3)');
  });
});
