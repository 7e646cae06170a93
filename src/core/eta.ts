/**
 * Remaining time of a job from its progress reports (pure): the rate measured since the first
 * report of the current stage (done/total units over elapsed time), smoothed exponentially against
 * the previous estimate (counted down by the time since), so one slow or fast unit does not make
 * the number jump. A new stage, a new total or a step back restarts the measurement.
 */
import type { Progress } from './job';

export interface Eta {
  stage: string;
  total: number;
  /** Clock (ms) and units done at the first report of this stage. */
  startMs: number;
  startDone: number;
  /** Clock (ms) and units done at the latest report. */
  lastMs: number;
  done: number;
  /** Seconds left; undefined until a unit has been timed. */
  remainingS: number | undefined;
}

/** Weight of the newest raw estimate in the smoothed one. */
export const ETA_SMOOTHING = 0.3;

export function nextEta(prev: Eta | undefined, p: Progress, nowMs: number, alpha = ETA_SMOOTHING): Eta {
  const same = prev !== undefined && prev.stage === p.stage && prev.total === p.total && p.done >= prev.done;
  if (!same)
    return { stage: p.stage, total: p.total, startMs: nowMs, startDone: p.done, lastMs: nowMs, done: p.done, remainingS: undefined };
  const units = p.done - prev.startDone;
  const elapsedS = (nowMs - prev.startMs) / 1000;
  const raw = p.total > 0 && units > 0 && elapsedS > 0 ? (elapsedS * Math.max(0, p.total - p.done)) / units : undefined;
  const prior = prev.remainingS === undefined ? undefined : Math.max(0, prev.remainingS - (nowMs - prev.lastMs) / 1000);
  const remainingS = raw === undefined ? prior : prior === undefined ? raw : alpha * raw + (1 - alpha) * prior;
  return { ...prev, lastMs: nowMs, done: p.done, remainingS: p.done >= p.total ? 0 : remainingS };
}

/** "12 s", "1 min 05 s", "1 h 02 min" (rounded up to whole seconds). */
export function formatEta(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}
