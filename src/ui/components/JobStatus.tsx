/** Progress of the running job (stage + percentage + time left + engine message) with its Cancel button. */
import { useEffect, useRef, useState } from 'react';
import type { Progress } from '../../api/types';
import { formatEta, nextEta, type Eta } from '../../core/eta';
import { useStudio } from '../../store';
import { cancelJob } from '../jobs';
import { percent } from '../format';

/** Seconds left of the job's current stage (core/eta.ts), re-estimated on every progress report. */
function useEta(jobId: string | undefined, p: Progress | null | undefined): number | undefined {
  const eta = useRef<Eta | undefined>(undefined);
  const [left, setLeft] = useState<number | undefined>(undefined);
  useEffect(() => {
    eta.current = p && jobId ? nextEta(eta.current, { ...p, stage: `${jobId}:${p.stage}` }, performance.now()) : undefined;
    setLeft(eta.current?.remainingS);
  }, [jobId, p]);
  return left;
}

export function JobStatus() {
  const job = useStudio((s) => s.job);
  const notice = useStudio((s) => s.notice);
  const p = job?.progress;
  const left = useEta(job?.id, p);
  const pct = p ? percent(p.done, p.total) : 0;
  const determinate = !!p && p.total > 0;
  return (
    <div className="job-status" role="status" aria-live="polite">
      {job ? (
        <>
          <div className="job-text">
            <strong>{job.label}</strong>
            <span className="job-stage">{p ? `${p.stage}${determinate ? ` · ${pct}%` : ''}` : 'starting…'}</span>
            {left !== undefined && left > 0 ? (
              <span className="job-stage" data-testid="eta">
                about {formatEta(left)} left
              </span>
            ) : null}
            {p?.message ? <span className="job-message">{p.message}</span> : null}
          </div>
          <div
            className={`progress${determinate ? '' : ' indeterminate'}`}
            data-testid="progress"
            role="progressbar"
            aria-label={`${job.label} progress`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={determinate ? pct : undefined}
            aria-valuetext={p ? `${p.stage} ${determinate ? `${pct}%` : ''}`.trim() : 'starting'}
          >
            <div className="progress-fill" style={{ width: determinate ? `${pct}%` : undefined }} />
          </div>
          <button type="button" className="button secondary" data-testid="cancel" onClick={() => cancelJob(job.id)}>
            Cancel
          </button>
        </>
      ) : (
        <span className="job-idle">{notice ?? 'Ready.'}</span>
      )}
    </div>
  );
}
