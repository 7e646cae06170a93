/** Step 3: the importance criteria, each with its explanation, a compute button and its state. */
import { useStudio } from '../../../store';
import { computeAll, computeCriterion } from '../../importance-actions';

export function CriteriaStep() {
  const criteria = useStudio((s) => s.criteria);
  const scores = useStudio((s) => s.scores);
  const calibration = useStudio((s) => s.calibration);
  const busy = useStudio((s) => s.job !== null);
  const model = useStudio((s) => s.model);
  return (
    <div className="criteria">
      <ul className="criteria-list">
        {criteria.map((c) => {
          const needsCalibration = c.needs.stats || c.needs.maskedLoss;
          const missing =
            needsCalibration && !calibration
              ? 'needs calibration (step 2)'
              : c.needs.gram && !calibration?.withHessians
                ? 'needs Hessians'
                : null;
          return (
            <li key={c.name}>
              <button
                type="button"
                className="button small"
                data-testid={`criterion-compute-${c.name}`}
                disabled={busy || !model || missing !== null}
                onClick={() => void computeCriterion(c.name)}
              >
                {scores[c.name] ? 'Recompute' : 'Compute'}
              </button>{' '}
              <details className="criterion-info">
                <summary>
                  {c.label} {scores[c.name] ? <span aria-label="computed">✓</span> : null}
                </summary>
                <p className="plain">{c.plain}</p>
                <p>{c.what}</p>
                <p>
                  <strong>Cost:</strong> {c.cost}
                </p>
                <p>
                  <strong>Source:</strong> {c.source}
                </p>
              </details>
              {missing ? <span className="help"> — {missing}</span> : null}
            </li>
          );
        })}
      </ul>
      <button type="button" className="button" data-testid="compute-all" disabled={busy || !model} onClick={() => void computeAll()}>
        Compute all available
      </button>
    </div>
  );
}
