/**
 * Compare-text addition: where the dense and pruned generations first part ways, and the top-5
 * next-token probabilities of both models at that point, side by side.
 */
import { useEffect } from 'react';
import { showPiece, TopTokensTable } from './TopTokens';
import { useStudio } from '../../../store';
import { runDivergence } from './teach-actions';
import { useTeach } from './teach-store';

const show = showPiece;

export function Divergence({ prompt }: { prompt: string }) {
  const generated = useStudio((s) => s.generated);
  const divergence = useTeach((s) => s.divergence);
  const patch = useTeach((s) => s.patch);
  const { dense, pruned } = generated;
  useEffect(() => {
    patch({ divergence: null });
    if (dense && pruned) void runDivergence(prompt, dense, pruned);
    // the prompt is read when both generations are in, not on every keystroke
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [dense, pruned, patch]);
  if (!dense || !pruned || !divergence) return null;
  if (divergence.index < 0)
    return (
      <p className="hint" data-testid="divergence">
        The dense and pruned models generated the same {dense.newTokens} tokens.
      </p>
    );
  const before = (dense.pieces ?? []).slice(0, divergence.index).join('');
  return (
    <div className="divergence" data-testid="divergence">
      <p>
        First divergence at generated token {divergence.index + 1}: after “…{before.slice(-40)}” the dense model wrote{' '}
        <mark className="dense-token">{show(dense.pieces?.[divergence.index] ?? '(end)')}</mark>, the pruned one{' '}
        <mark className="pruned-token">{show(pruned.pieces?.[divergence.index] ?? '(end)')}</mark>.
      </p>
      <div className="next-tokens">
        <TopTokensTable bars caption="Dense: top-5 next tokens" tokens={divergence.next.dense ?? []} testId="divergence-dense" />
        <TopTokensTable bars caption="Pruned: top-5 next tokens" tokens={divergence.next.pruned ?? []} testId="divergence-pruned" />
      </div>
    </div>
  );
}
