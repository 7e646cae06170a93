/**
 * A latency measurement whose runs spread widely (p90 / p10 above 1.5) is not a number to quote:
 * says so, with the ratio, and offers to measure again.
 */
import type { LatencyResult } from '../../api/types';
import { fixed } from '../format';

export const WIDE_SPREAD = 1.5;

export function spreadRatio(r: LatencyResult): number {
  return r.p10Ms > 0 ? r.p90Ms / r.p10Ms : Infinity;
}

export function SpreadWarning(props: { results: LatencyResult[]; onAgain: () => void; disabled: boolean; testId: string }) {
  const worst = Math.max(...props.results.map(spreadRatio));
  if (!(worst > WIDE_SPREAD)) return null;
  return (
    <div className="warning-line" role="note" data-testid={props.testId}>
      <p>
        Wide spread: p90 / p10 = {Number.isFinite(worst) ? fixed(worst) : '∞'} (above {WIDE_SPREAD}). The machine was busy while measuring,
        so this median is not reliable; close other tabs or programs and measure again.
      </p>
      <button type="button" className="button secondary small" disabled={props.disabled} onClick={props.onAgain}>
        Measure again
      </button>
    </div>
  );
}
