/**
 * Importance actions: calibration and criteria as cancellable worker jobs. Scores are cached in
 * IndexedDB per (model, calibration key, criterion) and restored after a reload.
 */
import { get, set } from 'idb-keyval';
import type { CalibrationSummary } from '../api/types';
import { modelKey } from '../store/model-key';
import type { CriterionName, UnitScores } from '../saliency/types';
import { useStudio } from '../store';
import { engine, job, report } from './jobs';
import type { ImageDataset } from '../api/types';

export interface CalibrationParams {
  text: string;
  textName: string;
  samples: number;
  seq: number;
  withHessians: boolean;
  /** Image classifiers: the prepared test images (text and seq are then not read). */
  images?: ImageDataset;
}

const cacheKey = (model: string, calibration: string, criterion: string) => `prune-studio:scores:${model}|${calibration}|${criterion}`;
const calibrationKey = (model: string) => `prune-studio:calibration:${model}`;

/** The calibration summary saved for this model in an earlier session (its statistics are not: memory only). */
export async function storedCalibration(model: string): Promise<CalibrationSummary | null> {
  return (await get<CalibrationSummary>(calibrationKey(model)).catch(() => undefined)) ?? null;
}

export async function loadCriteria(): Promise<void> {
  if (useStudio.getState().criteria.length) return;
  try {
    useStudio.getState().setCriteria(await engine().run('criteria', []));
  } catch {
    /* the list reappears on the next model load */
  }
}

let calibrationText: Promise<string> | undefined;
export function fetchCalibrationText(): Promise<string> {
  calibrationText ??= fetch(`${import.meta.env.BASE_URL}data/calibration.txt`).then((r) => r.text());
  return calibrationText;
}

export async function runCalibration(params: CalibrationParams): Promise<void> {
  const summary = await job('Calibration', 'calibrate', [params]);
  if (!summary) return;
  const s = useStudio.getState();
  // scores that read no calibration (e.g. magnitude) stay valid: keep them, in the engine too
  const kept = Object.values(s.scores).filter((sc): sc is UnitScores => !!sc && keyFor(sc.criterion, null) === 'none');
  s.setCalibration(summary);
  s.clearScores();
  for (const sc of kept) {
    try {
      await engine().run('restoreScores', [sc]);
      useStudio.getState().setScores(sc.criterion, sc);
    } catch (e) {
      report(`Keeping the ${sc.criterion} scores`, e);
    }
  }
  await set(calibrationKey(modelKey(s.model)), summary).catch(() => undefined);
}

/** Criteria that need no calibration use the key "none" in the cache. */
function keyFor(name: CriterionName, calibration: CalibrationSummary | null): string | undefined {
  const info = useStudio.getState().criteria.find((c) => c.name === name);
  if (!info) return undefined;
  const needs = info.needs.stats || info.needs.maskedLoss || info.needs.gram;
  return needs ? calibration?.key : 'none';
}

export async function computeCriterion(name: CriterionName): Promise<boolean> {
  const s = useStudio.getState();
  const scores = await job(`Importance: ${name}`, 'computeImportance', [name]);
  if (!scores) return false;
  s.setScores(name, scores);
  s.selectCriterion(name);
  await cacheScores(name, scores);
  return true;
}

/** Keeps scores in IndexedDB for this model (and calibration, when the criterion reads one) across reloads. */
export async function cacheScores(name: CriterionName, scores: UnitScores): Promise<void> {
  const s = useStudio.getState();
  const key = keyFor(name, s.calibration);
  if (key) await set(cacheKey(modelKey(s.model), key, name), scores).catch(() => undefined);
}

export async function computeAll(): Promise<void> {
  for (const c of useStudio.getState().criteria) {
    const needsCalibration = c.needs.stats || c.needs.maskedLoss;
    if (needsCalibration && !useStudio.getState().calibration) continue;
    if (c.needs.gram && !useStudio.getState().calibration?.withHessians) continue;
    if (!(await computeCriterion(c.name))) return;
  }
}

/**
 * After a reload: shows the cached scores of the current model (same name and weight fingerprint)
 * and hands them to the engine, so allocation works without recomputing them.
 */
export async function restoreCachedScores(): Promise<CriterionName[]> {
  const s = useStudio.getState();
  const model = modelKey(s.model);
  const restored: CriterionName[] = [];
  if (!model) return restored;
  const calibration = await storedCalibration(model);
  for (const c of s.criteria) {
    const key = keyFor(c.name, calibration);
    if (!key) continue;
    const cached = await get<UnitScores>(cacheKey(model, key, c.name)).catch(() => undefined);
    if (!cached) continue;
    try {
      await engine().run('restoreScores', [cached]);
      useStudio.getState().setScores(c.name, cached);
      restored.push(c.name);
    } catch (e) {
      report(`Restoring cached ${c.label} scores`, e);
    }
  }
  return restored;
}
