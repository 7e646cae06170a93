/** The teaching tabs of the centre panel: model map, sweep curves, token damage, attention, glossary. */
import { AttentionView } from './AttentionView';
import { Glossary } from './Glossary';
import { ModelMap } from './ModelMap';
import { SweepCurves } from '../lazy-charts';
import { restartGuide, useTeach, type CentreTab } from './teach-store';
import { TokenDamage } from './TokenDamage';
import './teach.css';
import { useStudio } from '../../../store';
import { textOnlyReason } from '../../vision-actions';

/** Tabs that read text (token sequences): off for image classifiers. */
const TEXT_ONLY: CentreTab[] = ['sweep', 'tokens', 'attention'];

export const TEACH_TABS: { id: CentreTab; label: string }[] = [
  { id: 'map', label: 'Model map' },
  { id: 'sweep', label: 'Sweep' },
  { id: 'tokens', label: 'Tokens' },
  { id: 'attention', label: 'Attention' },
  { id: 'glossary', label: 'Glossary' },
];

export function TeachPanel({ tab }: { tab: CentreTab }) {
  const guide = useTeach((s) => s.guideStep);
  const textOff = useStudio((s) => textOnlyReason(s.model));
  const body =
    textOff && TEXT_ONLY.includes(tab) ? (
      <p className="placeholder" data-testid="text-only-reason">
        {textOff}
      </p>
    ) : tab === 'map' ? (
      <ModelMap />
    ) : tab === 'sweep' ? (
      <SweepCurves />
    ) : tab === 'tokens' ? (
      <TokenDamage />
    ) : tab === 'attention' ? (
      <AttentionView />
    ) : tab === 'glossary' ? (
      <>
        <Glossary />
        {guide === null ? (
          <button type="button" className="button secondary" data-testid="guide-restart" onClick={restartGuide}>
            Start the guided first run again
          </button>
        ) : null}
      </>
    ) : null;
  if (!body) return null;
  const label = TEACH_TABS.find((t) => t.id === tab)?.label ?? tab;
  return (
    <main id="main" className="centre panel teach" aria-label={label}>
      {body}
    </main>
  );
}
