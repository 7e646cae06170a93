/** Header: current plan name, Undo / Redo (also Ctrl+Z / Ctrl+Shift+Z, Ctrl+Y) and Export (zip). */
import { useEffect } from 'react';
import { useStudio } from '../../../store';
import { exportZip } from '../../plan-files';

function editable(t: EventTarget | null): boolean {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === 'INPUT' || el.tagName === 'TEXTAREA' || el.isContentEditable);
}

export function PlanHeaderControls() {
  const plan = useStudio((s) => s.plan);
  const canUndo = useStudio((s) => s.historyIndex > 0);
  const canRedo = useStudio((s) => s.historyIndex < s.history.length - 1);
  const undo = useStudio((s) => s.undo);
  const redo = useStudio((s) => s.redo);
  const canExport = useStudio((s) => s.applied !== null && (s.job === null || s.job.id.startsWith('preview-')));
  const verification = useStudio((s) => s.exportVerification);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey) || editable(e.target)) return;
      const k = e.key.toLowerCase();
      if (k === 'z' && !e.shiftKey) useStudio.getState().undo();
      else if ((k === 'z' && e.shiftKey) || k === 'y') useStudio.getState().redo();
      else return;
      e.preventDefault();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  return (
    <div className="plan-header" role="group" aria-label="Plan">
      <span className="plan-name" data-testid="plan-name" title="Current plan">
        {plan?.name ?? 'no plan'}
      </span>
      <button
        type="button"
        className="button secondary"
        data-testid="undo"
        disabled={!canUndo}
        onClick={undo}
        aria-keyshortcuts="Control+Z"
        title="Undo (Ctrl+Z)"
      >
        Undo
      </button>
      <button
        type="button"
        className="button secondary"
        data-testid="redo"
        disabled={!canRedo}
        onClick={redo}
        aria-keyshortcuts="Control+Shift+Z"
        title="Redo (Ctrl+Shift+Z)"
      >
        Redo
      </button>
      <button
        type="button"
        className="button"
        data-testid="export"
        disabled={!canExport}
        onClick={() => void exportZip()}
        title={canExport ? 'Download the pruned model as a zip' : 'Apply a plan first'}
      >
        Export
      </button>
      {verification ? (
        <span className="verification" data-testid="export-verification" title={verification.reference}>
          verified: max |Δlogit| {verification.maxAbsLogitDiff.toExponential(1)} over {verification.positions} positions
        </span>
      ) : null}
    </div>
  );
}
