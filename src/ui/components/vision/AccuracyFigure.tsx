/**
 * One accuracy number as the studio shows it for image classifiers: top-1 with its Wilson 95%
 * interval, the mean loss and how many images, with the protocol in the tooltip.
 */
import type { AccuracyReport } from '../../../api/types';
import { fixed } from '../../format';

export function pct(x: number, digits = 1): string {
  return `${fixed(x * 100, digits)} %`;
}

export function protocolText(r: AccuracyReport): string {
  const p = r.protocol;
  return `${p.dataset}, ${p.images} images, ${p.preprocessing}, batch ${p.batchSize}, ${p.target}${p.masked ? ' (plan masks)' : ''}`;
}

export function AccuracyFigure({ r, testId, dense }: { r: AccuracyReport; testId: string; dense?: AccuracyReport | null }) {
  const [lo, hi] = r.interval95;
  const drop = dense ? (r.accuracy - dense.accuracy) * 100 : null;
  return (
    <span className="accuracy-figure" title={protocolText(r)}>
      <strong data-testid={testId}>{pct(r.accuracy)}</strong> top-1{' '}
      <span className="band" data-testid={`${testId}-ci`}>
        (95% CI {pct(lo)} – {pct(hi)})
      </span>{' '}
      · mean loss <span data-testid={`${testId}-loss`}>{fixed(r.meanLoss, 3)}</span> · {r.images} images
      {drop !== null ? ` · ${drop >= 0 ? '+' : ''}${fixed(drop, 1)} points vs dense` : ''}
    </span>
  );
}
