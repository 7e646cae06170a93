/** A collapsed "what is this?" paragraph beside a method or number. */
import type { ReactNode } from 'react';

export function Explain({ children }: { children: ReactNode }) {
  return (
    <details className="explain">
      <summary>What is this?</summary>
      <div className="explain-body">{children}</div>
    </details>
  );
}
