/**
 * Dense vs pruned for image classifiers (bottom row, in place of the text compare): a grid of test
 * images drawn from their uint8 pixels with the dense and pruned predictions, flipped ones first and
 * highlighted, and a confusion matrix (true x predicted heat table with class names).
 */
import { useEffect, useMemo, useRef, useState } from 'react';
import type { AccuracyReport, RawImages } from '../../../api/types';
import { useStudio } from '../../../store';
import { gridCells, imageRgba, shownCells, type GridCell } from './image-grid';
import { Explain } from '../Explain';

const LIMIT = 48;

function ImageCanvas({ raw, index, label }: { raw: RawImages; index: number; label: string }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    ctx.putImageData(new ImageData(imageRgba(raw, index), raw.width, raw.height), 0, 0);
  }, [raw, index]);
  return <canvas ref={ref} width={raw.width} height={raw.height} className="image-canvas" aria-label={label} role="img" />;
}

const FLIP_TEXT: Record<NonNullable<GridCell['flip']>, string> = {
  fixed: 'pruned model right, dense wrong',
  broken: 'pruned model wrong, dense right',
  changed: 'both wrong, different answers',
};

function ImageGrid({ raw, dense, pruned }: { raw: RawImages; dense: AccuracyReport; pruned: AccuracyReport | null }) {
  const [onlyFlipped, setOnlyFlipped] = useState(false);
  const cells = useMemo(() => gridCells(raw.labels, dense.predictions, pruned?.predictions ?? null), [raw, dense, pruned]);
  const flipped = cells.filter((c) => c.flip !== null).length;
  const shown = shownCells(cells, onlyFlipped, LIMIT);
  const name = (k: number) => dense.labels[k] ?? String(k);
  return (
    <div>
      <p className="hint" data-testid="flipped-count">
        {pruned
          ? `${flipped} of ${cells.length} images changed prediction after pruning (outlined; shown first).`
          : 'Apply a plan to compare its predictions with the dense model’s.'}
      </p>
      <label className="inline">
        <input type="checkbox" checked={onlyFlipped} onChange={(e) => setOnlyFlipped(e.target.checked)} disabled={!pruned} /> Only flipped
        images
      </label>
      <ul className="image-grid" data-testid="image-grid" aria-label="Test images with dense and pruned predictions">
        {shown.map((c) => {
          const text = `Image ${c.index + 1}: true ${name(c.label)}; dense says ${name(c.dense)}; pruned says ${name(c.pruned)}${
            c.flip ? ` (${FLIP_TEXT[c.flip]})` : ''
          }`;
          return (
            <li
              key={c.index}
              className={`image-cell${c.flip ? ` flip flip-${c.flip}` : ''}`}
              data-testid={c.flip ? 'image-flipped' : 'image-cell'}
              tabIndex={0}
              title={text}
              aria-label={text}
            >
              <ImageCanvas raw={raw} index={c.index} label={`image ${c.index + 1}`} />
              <span className="image-caption">
                <span className={c.dense === c.label ? 'ok' : 'bad'}>{name(c.dense)}</span>
                {pruned ? (
                  <>
                    {' → '}
                    <span className={c.pruned === c.label ? 'ok' : 'bad'}>{name(c.pruned)}</span>
                  </>
                ) : null}
              </span>
            </li>
          );
        })}
      </ul>
    </div>
  );
}

function ConfusionMatrix({ r, title }: { r: AccuracyReport; title: string }) {
  const max = Math.max(1, ...r.confusion.flatMap((row, t) => row.filter((_, p) => p !== t)));
  return (
    <div className="table-scroll">
      <table
        className="confusion"
        data-testid="confusion-matrix"
        aria-label={`Confusion matrix, ${title}: rows true class, columns predicted`}
      >
        <thead>
          <tr>
            <th scope="col" title="Rows: true class · columns: predicted class">
              true \ pred
            </th>
            {r.labels.map((l, p) => (
              <th scope="col" key={p} title={`predicted ${l}`} className="confusion-col">
                {l}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {r.confusion.map((row, t) => {
            const total = row.reduce((a, b) => a + b, 0);
            return (
              <tr key={t}>
                <th scope="row">{r.labels[t] ?? t}</th>
                {row.map((n, p) => {
                  const heat = p === t ? (total ? n / total : 0) : n / max;
                  const style = { background: p === t ? `rgba(0, 158, 115, ${heat * 0.7})` : `rgba(213, 94, 0, ${heat * 0.8})` };
                  return (
                    <td key={p} style={style} title={`${n} of ${total} ${r.labels[t] ?? t} images predicted ${r.labels[p] ?? p}`}>
                      {n || ''}
                    </td>
                  );
                })}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

export function VisionCompare() {
  const images = useStudio((s) => s.imageSet);
  const dense = useStudio((s) => s.denseAccuracy);
  const pruned = useStudio((s) => s.prunedAccuracy);
  const applied = useStudio((s) => s.applied);
  const [which, setWhich] = useState<'pruned' | 'dense'>('pruned');
  const matrix = which === 'pruned' && pruned ? pruned : dense;
  return (
    <section className="card vision-compare" aria-labelledby="vision-compare-title">
      <h3 id="vision-compare-title">Predictions: dense vs {applied ? applied.plan.name : 'pruned'}</h3>
      {!images || !dense ? (
        <p className="placeholder">Measure the dense accuracy on test images first.</p>
      ) : (
        <>
          <ImageGrid raw={images.raw} dense={dense} pruned={pruned} />
          <h4>Confusion matrix</h4>
          <div className="field inline">
            <label htmlFor="confusion-model">Model</label>
            <select id="confusion-model" value={which} onChange={(e) => setWhich(e.target.value as 'pruned' | 'dense')}>
              <option value="pruned" disabled={!pruned}>
                applied model
              </option>
              <option value="dense">dense</option>
            </select>
          </div>
          {matrix ? <ConfusionMatrix r={matrix} title={matrix === pruned ? 'applied model' : 'dense'} /> : null}
        </>
      )}
      <Explain plain="Each picture shows what the full model and the pruned model think it is; outlined pictures changed their answer.">
        The grid draws the test images from their raw pixels, with the dense model&apos;s prediction and the applied model&apos;s (green:
        right, red: wrong); images whose prediction changed are outlined and listed first. The confusion matrix counts, for each true class
        (rows), how often each class was predicted (columns): the diagonal (green, shaded by the row&apos;s share) is correct, the rest
        (orange, shaded by the largest error) are mistakes.
      </Explain>
    </section>
  );
}
