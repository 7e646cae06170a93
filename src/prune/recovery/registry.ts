/** Recovery registry: name -> method (one file per method in this folder). */
import { InputError } from '../../core/errors';
import type { MethodInfo } from '../method';
import { distill } from './distill';
import { none } from './none';
import { obs } from './obs';
import { obsDistill } from './obs-distill';
import { obsSgd } from './obs-sgd';
import { redistribute, redistributeDistill } from './redistribute';
import { sgd } from './sgd';
import type { RecoveryMethod } from './types';

export const RECOVERY_METHODS = {
  none,
  obs,
  sgd,
  'obs+sgd': obsSgd,
  distill,
  'obs+distill': obsDistill,
  redistribute,
  'redistribute+distill': redistributeDistill,
} satisfies Record<string, RecoveryMethod>;

export type Recovery = keyof typeof RECOVERY_METHODS;
export const RECOVERIES = Object.keys(RECOVERY_METHODS) as readonly Recovery[];

export function getRecovery(name: string): RecoveryMethod {
  const m = (RECOVERY_METHODS as Record<string, RecoveryMethod>)[name];
  if (!m) throw new InputError(`Unknown recovery "${name}".`, `Choose one of: ${RECOVERIES.join(', ')}.`);
  return m;
}

/** The recovery re-fits with OBS (needs Hessians) / takes gradient steps (needs gradients). */
export const usesObs = (r: Recovery) => !!(RECOVERY_METHODS as Record<string, RecoveryMethod>)[r]?.needs.hessians;
export const usesSgd = (r: Recovery) => !!(RECOVERY_METHODS as Record<string, RecoveryMethod>)[r]?.needs.gradients;
/** The compensation a recovery's rounds apply (recorded on the applied model). */
export const recoveryCompensation = (r: Recovery): 'redistribute' | 'obs' | 'none' =>
  r.startsWith('redistribute') ? 'redistribute' : usesObs(r) ? 'obs' : 'none';
/** The recovery trains every block linear weight (the engine then feeds all of them to every graph). */
export const usesTraining = (r: Recovery) => !!(RECOVERY_METHODS as Record<string, RecoveryMethod>)[r]?.needs.training;

export function recoveryInfos(): (MethodInfo & { name: Recovery })[] {
  return RECOVERIES.map((name) => {
    const { apply: _apply, ...info } = RECOVERY_METHODS[name];
    return { ...info, name };
  });
}
