/**
 * State of the teaching views (model map selection, sweep points, token damage, attention, the
 * centre tab and the guided first run). A store of its own, so the studio's slices stay as they are;
 * everything here is per loaded model and cleared when the model changes (teach-actions.ts).
 */
import { create } from 'zustand';
import type { AttentionResult, NextTokenResult, SweepPoint, TokenLossResult } from '../../../api/types';
import type { Compensation } from '../../../prune/compensate';

export type CentreTab = 'architecture' | 'map' | 'importance' | 'agreement' | 'sweep' | 'tokens' | 'attention' | 'glossary';

export type MapUnit = { kind: 'head'; layer: number; head: number } | { kind: 'ffn'; layer: number; bin: number };

export interface TeachState {
  tab: CentreTab;
  /** The model the results below belong to (fingerprint). */
  modelKey: string | null;
  selected: MapUnit | null;
  sweepPoints: SweepPoint[];
  /** The sweep's settings, shown with its points. */
  sweepTokens: number;
  /** 'none': mask-based estimates; 'bias' / 'obs': exact points (compensated and sliced as Apply does). */
  sweepCompensation: Compensation;
  tokenLoss: TokenLossResult | null;
  attention: AttentionResult | null;
  /** The head the attention view shows. */
  attentionHead: { layer: number; head: number };
  divergence: { index: number; next: NextTokenResult } | null;
  /** Guided first run: the step shown, or null when dismissed. */
  guideStep: number | null;
  setTab: (tab: CentreTab) => void;
  select: (unit: MapUnit | null) => void;
  patch: (p: Partial<TeachState>) => void;
  reset: (modelKey: string | null) => void;
}

const GUIDE_KEY = 'prune-studio:guide-dismissed';
const guideDismissed = () => typeof localStorage !== 'undefined' && localStorage.getItem(GUIDE_KEY) === '1';

/** What belongs to one model: cleared when another model is loaded. */
const PER_MODEL = {
  selected: null,
  sweepPoints: [],
  sweepTokens: 0,
  sweepCompensation: 'none',
  tokenLoss: null,
  attention: null,
  attentionHead: { layer: 0, head: 0 },
  divergence: null,
} satisfies Partial<TeachState>;

export const useTeach = create<TeachState>()((set) => ({
  tab: 'architecture',
  modelKey: null,
  ...PER_MODEL,
  guideStep: guideDismissed() ? null : 0,
  setTab: (tab) => set({ tab }),
  select: (selected) => set({ selected }),
  patch: (p) => set(p),
  reset: (modelKey) => set({ modelKey, ...PER_MODEL }),
}));

export function dismissGuide(): void {
  if (typeof localStorage !== 'undefined') localStorage.setItem(GUIDE_KEY, '1');
  useTeach.setState({ guideStep: null });
}

export function restartGuide(): void {
  if (typeof localStorage !== 'undefined') localStorage.removeItem(GUIDE_KEY);
  useTeach.setState({ guideStep: 0 });
}
