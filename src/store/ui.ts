/** UI slice: the running job (progress), the last error (message + hint), short notices, the restore note. */
import type { StateCreator } from 'zustand';
import type { Progress } from '../api/types';

export interface JobView {
  id: string;
  /** What the user started, e.g. "Loading model". */
  label: string;
  progress: Progress | null;
}

export interface ErrorView {
  /** What was being done, e.g. "Loading model". */
  context: string;
  code: string;
  message: string;
  hint: string | undefined;
}

/** What a model load brought back from this browser, and what has to be recomputed. */
export interface RestoreNote {
  model: string;
  restored: string[];
  missing: string[];
}

export interface UiSlice {
  restoreNote: RestoreNote | null;
  setRestoreNote: (n: RestoreNote | null) => void;
  job: JobView | null;
  error: ErrorView | null;
  notice: string | null;
  /**
   * A job starts. It clears the last error / notice unless `keepMessages` (the automatic live preview,
   * ids preview-*, and the baseline jobs that follow a load keep what the person was just told).
   */
  startJob: (id: string, label: string, keepMessages?: boolean) => void;
  setProgress: (id: string, progress: Progress) => void;
  endJob: (id: string) => void;
  setError: (error: ErrorView | null) => void;
  setNotice: (notice: string | null) => void;
}

export const createUiSlice: StateCreator<UiSlice> = (set) => ({
  restoreNote: null,
  setRestoreNote: (restoreNote) => set({ restoreNote }),
  job: null,
  error: null,
  notice: null,
  startJob: (id, label, keepMessages = id.startsWith('preview-')) =>
    set(keepMessages ? { job: { id, label, progress: null } } : { job: { id, label, progress: null }, notice: null, error: null }),
  setProgress: (id, progress) => set((s) => (s.job?.id === id ? { job: { ...s.job, progress } } : {})),
  endJob: (id) => set((s) => (s.job?.id === id ? { job: null } : {})),
  setError: (error) => set({ error }),
  setNotice: (notice) => set({ notice }),
});
