/** The one zustand store, composed of slices. State and setters only: the work happens in src/ui/actions.ts. */
import { create } from 'zustand';
import { createEvaluationSlice, type EvaluationSlice } from './evaluation';
import { createModelSlice, type ModelSlice } from './model';
import { createUiSlice, type UiSlice } from './ui';

export type StudioStore = ModelSlice & EvaluationSlice & UiSlice;

export const useStudio = create<StudioStore>()((...a) => ({
  ...createModelSlice(...a),
  ...createEvaluationSlice(...a),
  ...createUiSlice(...a),
}));

export type { SourceKind } from './model';
export type { ErrorView, JobView } from './ui';
