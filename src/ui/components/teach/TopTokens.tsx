/** The top next tokens of a model as a small table (token, probability, optionally a bar): compare-text and attention views. */
import type { TopToken } from '../../../api/types';

/** A token piece as shown: newlines visible. */
export const showPiece = (piece: string) => piece.replace(/\n/g, '⏎');

export function TopTokensTable({
  caption,
  tokens,
  testId,
  bars = false,
}: {
  caption: string;
  tokens: TopToken[];
  testId: string;
  bars?: boolean;
}) {
  return (
    <table data-testid={testId}>
      <caption>{caption}</caption>
      <tbody>
        {tokens.map((t) => (
          <tr key={t.id}>
            <th scope="row">
              <code>{showPiece(t.text)}</code>
            </th>
            <td>
              {bars ? <span className="prob-bar" style={{ width: `${Math.round(t.prob * 100)}%` }} aria-hidden="true" /> : null}
              {(t.prob * 100).toFixed(1)}%
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
