/** Identity of a loaded model for everything scoped to it (plans, results, caches): name + weight fingerprint. */
import type { ModelSummary } from '../api/types';

export function modelKey(m: Pick<ModelSummary, 'name' | 'fingerprint'> | null | undefined): string {
  return m ? `${m.name}@${m.fingerprint}` : '';
}
