/**
 * Criterion registry: name -> implementation (one file per criterion under criteria/).
 * Adding a criterion = one file in criteria/ + one line in CRITERIA; the names, the CLI flags and
 * the UI list follow from this object.
 */
import type { Criterion, CriterionInfo, CriterionName } from './types';
import { magnitude } from './criteria/magnitude';
import { wanda } from './criteria/wanda';
import { flap } from './criteria/flap';
import { ablation } from './criteria/ablation';
import { obs } from './criteria/obs';
import { blockInfluence } from './criteria/block-influence';
import { taylor } from './criteria/taylor';
import { fisher } from './criteria/fisher';
import { nvit } from './criteria/nvit';
import { InputError } from '../core/errors';

export const CRITERIA = {
  magnitude,
  wanda,
  flap,
  ablation,
  obs,
  'block-influence': blockInfluence,
  taylor,
  fisher,
  nvit,
} satisfies Record<CriterionName, Criterion>;

/** Every registered criterion name, in registry order. */
export const CRITERION_NAMES: readonly CriterionName[] = Object.keys(CRITERIA);

export function getCriterion(name: string): Criterion {
  const c = (CRITERIA as Record<string, Criterion>)[name];
  if (!c) throw new InputError(`Unknown criterion "${name}".`, `Choose one of: ${Object.keys(CRITERIA).join(', ')}.`);
  return c;
}

export function criterionInfos(): CriterionInfo[] {
  return Object.values(CRITERIA).map(({ compute: _compute, ...info }) => info);
}
