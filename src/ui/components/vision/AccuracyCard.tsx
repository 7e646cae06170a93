/**
 * Dense baseline of an image classifier (replaces the perplexity card): top-1 accuracy with its 95%
 * interval and mean loss on the test images, and a file picker for images when none came with the model.
 */
import { useStudio } from '../../../store';
import { pickImages, runDenseAccuracy } from '../../vision-actions';
import { Explain } from '../Explain';
import { AccuracyFigure, protocolText } from './AccuracyFigure';

export function AccuracyCard() {
  const acc = useStudio((s) => s.denseAccuracy);
  const images = useStudio((s) => s.imageSet);
  const canRun = useStudio((s) => s.job === null && s.model !== null);
  return (
    <section className="card" aria-labelledby="acc-title">
      <h3 id="acc-title">Accuracy</h3>
      {acc ? (
        <>
          <p className="accuracy-line">
            <AccuracyFigure r={acc} testId="dense-accuracy" />
          </p>
          <p className="protocol-line" data-testid="accuracy-protocol">
            {protocolText(acc)}
          </p>
        </>
      ) : (
        <p className="placeholder">{images ? 'Not measured yet.' : 'Pick labelled test images to measure the accuracy.'}</p>
      )}
      {images ? (
        <button type="button" className="button secondary" disabled={!canRun} onClick={() => void runDenseAccuracy()}>
          {acc ? 'Measure again' : 'Measure accuracy'}
        </button>
      ) : null}
      <label className="file-pick" title="An image set (.json manifest + .bin) or IDX images + IDX labels (.gz allowed)">
        {images ? `Images: ${images.name} (${images.raw.count})` : 'Test images'}
        <input
          type="file"
          multiple
          data-testid="images-input"
          accept=".json,.bin,.gz,.idx,application/octet-stream,application/json"
          disabled={!canRun}
          onChange={(e) => {
            const files = Array.from(e.currentTarget.files ?? []);
            if (files.length) void pickImages(files);
          }}
        />
      </label>
      <Explain plain="Accuracy is the share of test images the model labels correctly: higher is better.">
        Top-1 accuracy: the share of the test images whose highest logit is their label, with a Wilson 95% confidence interval (a few
        hundred images give a band of a few points, so small differences between plans are noise). Mean loss is the cross-entropy of the
        true label, averaged over images. Images are scaled and normalised as the model&apos;s preprocessor_config.json says.
      </Explain>
    </section>
  );
}
