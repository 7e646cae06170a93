/**
 * Guided first run: a dismissible, non-modal step-by-step panel (load -> calibrate -> score ->
 * prune -> compare -> export) that outlines each step's control, scrolls it into view and ticks a
 * step once the studio shows it done. Dismissal is remembered (localStorage).
 */
import { useEffect } from 'react';
import { useStudio, type StudioStore } from '../../../store';
import { watchTeachModel } from './teach-actions';
import { dismissGuide, useTeach } from './teach-store';

interface Step {
  title: string;
  text: string;
  /** The control to outline. */
  target: () => Element | null;
  done: (s: StudioStore) => boolean;
}

const byTestId = (id: string) => () => document.querySelector(`[data-testid="${id}"]`);

export const GUIDE_STEPS: Step[] = [
  {
    title: 'Load a model',
    text: 'The demo model loads by itself. Its size and its baseline perplexity (how well it predicts text) appear on the left.',
    target: () =>
      [...document.querySelectorAll('button')].find((b) => /Load model|Reload and re-measure/.test(b.textContent ?? '')) ?? null,
    done: (s) => s.model !== null,
  },
  {
    title: 'Calibrate',
    text: 'Let the model read a little sample text, so the studio can see which parts do the work.',
    target: byTestId('calibrate'),
    done: (s) => s.calibration !== null,
  },
  {
    title: 'Score the parts',
    text: 'Compute a criterion: every head and neuron gets a score. Open the Model map tab to see them in colour.',
    target: byTestId('compute-all'),
    done: (s) => Object.keys(s.scores).length > 0,
  },
  {
    title: 'Prune',
    text: 'Move the slider: the plan cuts the lowest-scored parts and the preview shows the new perplexity within seconds.',
    target: byTestId('global-slider'),
    done: (s) => s.plan !== null,
  },
  {
    title: 'Compare',
    text: 'Apply the plan, then generate text from the same prompt with the dense and the pruned model side by side.',
    target: byTestId('generate'),
    done: (s) => s.generated.pruned !== null,
  },
  {
    title: 'Export',
    text: 'Download the smaller model. The studio re-loads what it wrote and checks it gives the same numbers.',
    target: byTestId('export'),
    done: (s) => s.exportVerification !== null,
  },
];

export function Guide() {
  const step = useTeach((s) => s.guideStep);
  const patch = useTeach((s) => s.patch);
  const state = useStudio();
  useEffect(() => watchTeachModel(), []);
  useEffect(() => {
    if (step === null) return;
    const el = GUIDE_STEPS[step]?.target();
    el?.classList.add('guide-highlight');
    return () => el?.classList.remove('guide-highlight');
  }, [step, state.model, state.calibration]);
  if (step === null) return null;
  const current = GUIDE_STEPS[step]!;
  const show = () => {
    const el = current.target();
    el?.scrollIntoView({ block: 'center', behavior: 'smooth' });
    if (el instanceof HTMLElement) el.focus();
  };
  return (
    <aside className="guide" role="dialog" aria-modal="false" aria-labelledby="guide-title" data-testid="guide">
      <p className="guide-count">
        Guided first run · step {step + 1} of {GUIDE_STEPS.length}
      </p>
      <ol className="guide-steps">
        {GUIDE_STEPS.map((s, i) => (
          <li key={s.title} className={i === step ? 'current' : ''} aria-current={i === step ? 'step' : undefined}>
            {s.done(state) ? <span aria-label="done">✓ </span> : null}
            {s.title}
          </li>
        ))}
      </ol>
      <h3 id="guide-title" data-testid="guide-title">
        {current.title}
        {current.done(state) ? ' ✓' : ''}
      </h3>
      <p>{current.text}</p>
      <div className="guide-buttons">
        <button type="button" className="button small secondary" disabled={step === 0} onClick={() => patch({ guideStep: step - 1 })}>
          Back
        </button>
        <button type="button" className="button small secondary" data-testid="guide-show" onClick={show}>
          Show me
        </button>
        {step < GUIDE_STEPS.length - 1 ? (
          <button type="button" className="button small" data-testid="guide-next" onClick={() => patch({ guideStep: step + 1 })}>
            Next
          </button>
        ) : null}
        <button type="button" className="button small secondary" data-testid="guide-dismiss" onClick={dismissGuide}>
          {step < GUIDE_STEPS.length - 1 ? 'Dismiss' : 'Finish'}
        </button>
      </div>
    </aside>
  );
}
