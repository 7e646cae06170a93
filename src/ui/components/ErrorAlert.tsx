/** Alert region: the last error's message and what to do about it; the region itself is always present. */
import { useStudio } from '../../store';
import { dismissError } from '../jobs';

export function ErrorAlert() {
  const error = useStudio((s) => s.error);
  return (
    <div className={error ? 'alert' : 'alert empty'} role="alert" data-testid="error">
      {error ? (
        <>
          <div className="alert-body">
            <p className="alert-title">
              <span aria-hidden="true">⚠ </span>
              {error.context} failed
              <span className="alert-code"> ({error.code})</span>
            </p>
            <p className="alert-message">{error.message}</p>
            {error.hint ? <p className="alert-hint">What to do: {error.hint}</p> : null}
          </div>
          <button type="button" className="button secondary" onClick={dismissError}>
            Dismiss
          </button>
        </>
      ) : null}
    </div>
  );
}
