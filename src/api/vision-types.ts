/**
 * The api's types for image classifiers (ViT): the accuracy request, protocol and report.
 * Re-exported by types.ts (which also holds `ModelMetric` and the `VisionApi` methods).
 */
import type { PruningPlan } from '../core/plan';
import type { AccuracyResult } from '../eval/accuracy';
import type { ImageDataset } from '../eval/image-dataset';

export type { ImageDataset } from '../eval/image-dataset';
export type { RawImages } from '../io/image-preprocess';

export interface AccuracyRequest {
  /** Preprocessed images with labels (api.prepareImages makes one from uint8 pixels). */
  dataset: ImageDataset;
  /** Images per run (default 64). */
  batchSize?: number;
  /** 'dense' (default) or the applied model. */
  target?: 'dense' | 'pruned';
  /** Dense only: evaluate with this plan's masks (the live preview); the baseline is not replaced. */
  plan?: PruningPlan;
}

/** Everything needed to reproduce an accuracy number; always shown next to it. */
export interface AccuracyProtocol {
  dataset: string;
  images: number;
  /** e.g. "uint8 / 255, mean [0.286], std [0.353], 28 x 28 x 1". */
  preprocessing: string;
  batchSize: number;
  target: 'dense' | 'pruned';
  masked: boolean;
}

export interface AccuracyReport extends AccuracyResult {
  labels: string[];
  protocol: AccuracyProtocol;
}
