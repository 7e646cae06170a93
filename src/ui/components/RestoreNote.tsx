/** After a model load: what this browser restored for the model, and what must be recomputed. */
import { useStudio } from '../../store';

export function RestoreNote() {
  const note = useStudio((s) => s.restoreNote);
  const dismiss = useStudio((s) => s.setRestoreNote);
  if (!note) return null;
  return (
    <section className="restore-note" role="status" aria-label="Restored session" data-testid="restore-note">
      <p>
        <strong>{note.model.split('@')[0]}</strong>: this browser kept some of your earlier work.
      </p>
      {note.restored.length ? <p data-testid="restore-restored">Restored: {note.restored.join('; ')}.</p> : null}
      {note.missing.length ? <p data-testid="restore-missing">Not restored, recompute: {note.missing.join('; ')}.</p> : null}
      <button type="button" className="link" onClick={() => dismiss(null)}>
        Dismiss
      </button>
    </section>
  );
}
