/**
 * A collapsed "what is this?" paragraph beside a method or number. `plain` is the one sentence a
 * student understands; it opens the explanation, before the precise text and its source.
 */
import type { ReactNode } from 'react';

export function Explain({ plain, children }: { plain?: string; children: ReactNode }) {
  return (
    <details className="explain">
      <summary>What is this?</summary>
      <div className="explain-body">
        {plain ? (
          <p className="plain" data-testid="explain-plain">
            {plain}
          </p>
        ) : null}
        {children}
      </div>
    </details>
  );
}
