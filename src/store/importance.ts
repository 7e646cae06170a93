/** Importance slice: calibration summary, computed scores per criterion, the selected criterion. */
import type { StateCreator } from 'zustand';
import type { CalibrationSummary } from '../api/types';
import type { CriterionInfo, CriterionName, UnitScores } from '../saliency/types';

export interface ImportanceSlice {
  criteria: CriterionInfo[];
  calibration: CalibrationSummary | null;
  scores: Partial<Record<CriterionName, UnitScores>>;
  selectedCriterion: CriterionName;
  setCriteria: (criteria: CriterionInfo[]) => void;
  setCalibration: (calibration: CalibrationSummary | null) => void;
  setScores: (name: CriterionName, scores: UnitScores) => void;
  clearScores: () => void;
  selectCriterion: (name: CriterionName) => void;
}

export const createImportanceSlice: StateCreator<ImportanceSlice> = (set) => ({
  criteria: [],
  calibration: null,
  scores: {},
  selectedCriterion: 'magnitude',
  setCriteria: (criteria) => set({ criteria }),
  setCalibration: (calibration) => set({ calibration }),
  setScores: (name, scores) => set((s) => ({ scores: { ...s.scores, [name]: scores } })),
  clearScores: () => set({ scores: {}, selectedCriterion: 'magnitude' }),
  selectCriterion: (selectedCriterion) => set({ selectedCriterion }),
});
