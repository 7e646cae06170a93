/** Model slice: which source is selected and the summary of the loaded model. */
import type { StateCreator } from 'zustand';
import type { ModelSummary } from '../api/types';

/** demo-vit: the demo image classifier (public/models/demo-vit, test images in public/data). */
export type SourceKind = 'demo' | 'demo-vit' | 'hub' | 'files';

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
