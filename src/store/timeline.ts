/**
 * Pure helpers of the plan timeline: unique entry names, identical-plan detection, and the
 * per-model persistence (localStorage, one key per model name + fingerprint).
 */
import type { PruningPlan } from '../core/plan';

/** Same name and the same removals: moving a control back and forth without changing the plan. */
export function samePlan(a: PruningPlan | null | undefined, b: PruningPlan): boolean {
  return !!a && a.name === b.name && JSON.stringify(a.layers) === JSON.stringify(b.layers);
}

/** `name`, or `name (2)`, `name (3)`… : the first that no entry of `taken` has. */
export function uniqueName(name: string, taken: readonly string[]): string {
  if (!taken.includes(name)) return name;
  const base = name.replace(/ \(\d+\)$/, '');
  for (let i = 2; ; i++) {
    const candidate = `${base} (${i})`;
    if (!taken.includes(candidate)) return candidate;
  }
}

const PREFIX = 'prune-studio:plan:v2:';

export function loadFor<T>(model: string): T | null {
  try {
    const raw = typeof localStorage !== 'undefined' ? localStorage.getItem(PREFIX + model) : null;
    return raw ? (JSON.parse(raw) as T) : null;
  } catch {
    return null;
  }
}

export function saveFor(model: string, value: unknown): void {
  try {
    localStorage.setItem(PREFIX + model, JSON.stringify(value));
  } catch {
    // Storage full or unavailable: the session still works, it just is not remembered.
  }
}
