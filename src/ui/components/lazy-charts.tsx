/**
 * The chart components (recharts and its d3 / redux dependencies: about half of the page's script)
 * loaded on first use, in their own chunk, so page load neither parses nor initialises them and the
 * first render does not mount a chart (bench/ui-stalls.spec.ts measured both as main-thread tasks
 * over 100 ms at page load). Each renders nothing until its chunk is there and its transition ran.
 */
import { lazy, startTransition, Suspense, useEffect, useState, type ComponentType } from 'react';

/**
 * `load`'s component, rendered after the first commit of its place and as a transition: React
 * renders it in slices of a few ms (a chart's first render was one task of ~100-250 ms).
 */
function deferred<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  const Lazy = lazy(async () => ({ default: await load() }));
  function Deferred(props: P) {
    const [shown, setShown] = useState(false);
    useEffect(() => startTransition(() => setShown(true)), []);
    return shown ? (
      <Suspense fallback={null}>
        <Lazy {...props} />
      </Suspense>
    ) : null;
  }
  return Deferred;
}

export const LayerBars = deferred(() => import('./importance/Charts').then((m) => m.LayerBars));
export const FfnCurves = deferred(() => import('./importance/Charts').then((m) => m.FfnCurves));
export const RecoveryChart = deferred(() => import('./prune/RecoveryChart').then((m) => m.RecoveryChart));
export const SweepCurves = deferred(() => import('./teach/SweepCurves').then((m) => m.SweepCurves));
