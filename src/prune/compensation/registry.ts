/** Compensation registry: name -> method (one file per method in this folder). */
import { InputError } from '../../core/errors';
import type { MethodInfo } from '../method';
import { bias } from './bias';
import { none } from './none';
import { obs } from './obs';
import { redistribute } from './redistribute';
import type { CompensationMethod } from './types';

export const COMPENSATION_METHODS = { none, bias, obs, redistribute } satisfies Record<string, CompensationMethod>;

export type Compensation = keyof typeof COMPENSATION_METHODS;
export const COMPENSATIONS = Object.keys(COMPENSATION_METHODS) as readonly Compensation[];

export function getCompensation(name: string): CompensationMethod {
  const m = (COMPENSATION_METHODS as Record<string, CompensationMethod>)[name];
  if (!m) throw new InputError(`Unknown compensation "${name}".`, `Choose one of: ${COMPENSATIONS.join(', ')}.`);
  return m;
}

/** `name` as a Compensation, or an InputError naming the known ones. */
export function asCompensation(name: string): Compensation {
  return getCompensation(name).name as Compensation;
}

export function compensationInfos(): (MethodInfo & { name: Compensation })[] {
  return COMPENSATIONS.map((name) => {
    const { apply: _apply, ...info } = COMPENSATION_METHODS[name];
    return { ...info, name };
  });
}
