/**
 * Hidden samples of the text styles the page shows only once a model is loaded or measured (table
 * headers, bold labels, the big perplexity number), laid out with the first render. Chromium on Linux
 * fetches each new font size / weight from the browser process with a synchronous call on the first
 * layout that uses it; after a load the engine's threads (and V8 compiling the runtime's wasm) kept the
 * cores busy and that call made the first layout of the loaded model a 100-950 ms main-thread task
 * (bench/ui-stalls.spec.ts, traced). At page start the same calls take about a millisecond each.
 * Uses the real classes, so the samples follow styles.css.
 */
/** Each table class with the row group its header cells sit in (styles.css may style them apart). */
const TABLES: [className: string, header: boolean][] = [
  ['kv-table', false],
  ['data-table', true],
  ['compact-table', true],
];

function SampleTable({ className, header }: { className: string; header: boolean }) {
  const row = (
    <tr>
      <th>0</th>
    </tr>
  );
  return <table className={className}>{header ? <thead>{row}</thead> : <tbody>{row}</tbody>}</table>;
}

export function FontWarmup() {
  return (
    <div className="visually-hidden" aria-hidden="true" data-testid="font-warmup">
      {TABLES.map(([className, header]) => (
        <SampleTable key={className} className={className} header={header} />
      ))}
      <strong>0</strong>
      <p className="big-number">0</p>
    </div>
  );
}
