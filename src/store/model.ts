/** Model slice: which source is selected and the summary of the loaded model. */
import type { StateCreator } from 'zustand';
import type { ModelSummary } from '../api/types';

export type SourceKind = 'demo' | 'hub' | 'files';

export interface ModelSlice {
  sourceKind: SourceKind;
  model: ModelSummary | null;
  setSourceKind: (kind: SourceKind) => void;
  setModel: (model: ModelSummary | null) => void;
}

export const createModelSlice: StateCreator<ModelSlice> = (set) => ({
  sourceKind: 'demo',
  model: null,
  setSourceKind: (sourceKind) => set({ sourceKind }),
  setModel: (model) => set({ model }),
});
