/**
 * The one zustand store, composed of slices. State and setters only: the work happens in the UI's
 * action modules (src/ui/*-actions.ts). Each slice sees only its own state, so no slice imports this file.
 */
import { create } from 'zustand';
import { createEvaluationSlice, type EvaluationSlice } from './evaluation';
import { createModelSlice, type ModelSlice } from './model';
import { createUiSlice, type UiSlice } from './ui';
import { createImportanceSlice, type ImportanceSlice } from './importance';
import { createPlanSlice, type PlanSlice } from './plan';
import { createResultsSlice, type ResultsSlice } from './results';
import { createVisionSlice, type VisionSlice } from './vision';

export type StudioStore = ModelSlice & EvaluationSlice & UiSlice & ImportanceSlice & PlanSlice & ResultsSlice & VisionSlice;

export const useStudio = create<StudioStore>()((...a) => ({
  ...createModelSlice(...a),
  ...createEvaluationSlice(...a),
  ...createUiSlice(...a),
  ...createImportanceSlice(...a),
  ...createPlanSlice(...a),
  ...createResultsSlice(...a),
  ...createVisionSlice(...a),
}));

export type { SourceKind } from './model';
export type { ErrorView, JobView } from './ui';
