/** Glossary: the studio's words in one plain sentence each, then the precise meaning. */
export const GLOSSARY: { term: string; plain: string; precise: string }[] = [
  {
    term: 'Head',
    plain: 'One of several small "readers" in an attention layer, each free to look at different earlier words.',
    precise:
      'A slice of the query/key/value projections of width head_dim with its own softmax attention; its outputs are concatenated and mixed by the output projection.',
  },
  {
    term: 'Neuron (FFN)',
    plain: 'One unit of the feed-forward part of a block: it fires for some patterns and adds its own direction to the result.',
    precise: 'One row of the up (and gate) projection and the matching column of the down projection; removing it removes both.',
  },
  {
    term: 'Perplexity',
    plain: 'How many words the model is, on average, hesitating between: lower means better predictions.',
    precise:
      'exp of the mean negative log-likelihood of each next token of the evaluation text (sliding windows; see the protocol beside each number).',
  },
  {
    term: 'Calibration',
    plain: 'Letting the model read a small sample of text so the studio can see which parts do the work.',
    precise:
      'One pass over N sequences of the calibration text, accumulating activation statistics (means, variances, XᵀX) at each output and down projection.',
  },
  {
    term: 'Hessian',
    plain: 'A table of how the inputs of a layer move together; it tells how much the output changes if some inputs vanish.',
    precise:
      'Here H = XᵀX of a projection’s inputs over the calibration tokens, the exact Hessian of the layer’s least-squares reconstruction error (OBS, SlimGPT).',
  },
  {
    term: 'Compensation',
    plain: 'Repairing the weights that stay so the model misses the cut parts less.',
    precise:
      'bias: fold the removed units’ mean output into the next bias; OBS: re-fit the kept weights by least squares on calibration activations.',
  },
  {
    term: 'kv group',
    plain: 'In newer models several heads share one set of keys and values; such heads can only be removed together.',
    precise:
      'Grouped-query attention: numHeads / numKvHeads query heads attend with the same key/value head; structured pruning removes whole groups.',
  },
  {
    term: 'FLOPs',
    plain: 'How many multiplications and additions a forward pass needs: a rough measure of the work, not of the time.',
    precise:
      'Floating-point operations of one forward pass at the studio’s sequence length (src/prune/cost.ts); speed-up from FLOPs is an upper bound for compute-bound runs.',
  },
  {
    term: 'Residual stream',
    plain: 'The running summary every block reads from and adds to.',
    precise: 'The hidden state h: each block computes h ← h + attention(norm(h)), then h ← h + FFN(norm(h)).',
  },
  {
    term: 'Criterion',
    plain: 'A rule that gives every head and neuron a score: low scores are cut first.',
    precise: 'A map from the model (and calibration statistics) to one score per unit; see the criteria list for each formula and source.',
  },
];

export function Glossary() {
  return (
    <section className="glossary" aria-labelledby="glossary-title">
      <h3 id="glossary-title">Glossary</h3>
      <dl data-testid="glossary">
        {GLOSSARY.map((g) => (
          <div key={g.term} className="glossary-entry">
            <dt>{g.term}</dt>
            <dd>
              <span className="plain">{g.plain}</span> <span className="precise">{g.precise}</span>
            </dd>
          </div>
        ))}
      </dl>
    </section>
  );
}
