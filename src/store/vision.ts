/**
 * Vision slice (image classifiers, ViT): the labelled images the model is measured on, and its
 * top-1 accuracy dense, in the live preview (plan masks) and after apply. Language models never set it.
 */
import type { StateCreator } from 'zustand';
import type { AccuracyReport, ImageDataset, RawImages } from '../api/types';

/** The images as read (uint8, for drawing) and as the model reads them (for the engine). */
export interface ImageSetView {
  raw: RawImages;
  dataset: ImageDataset;
  /** Where they came from, e.g. "fashion-mnist-test-500.json". */
  name: string;
}

export interface AccuracyPreviewView {
  plan: string;
  running: boolean;
  result: AccuracyReport | null;
}

export interface VisionSlice {
  imageSet: ImageSetView | null;
  denseAccuracy: AccuracyReport | null;
  previewAccuracy: AccuracyPreviewView | null;
  prunedAccuracy: AccuracyReport | null;
  setImageSet: (s: ImageSetView | null) => void;
  setDenseAccuracy: (r: AccuracyReport | null) => void;
  setPreviewAccuracy: (p: AccuracyPreviewView | null) => void;
  setPrunedAccuracy: (r: AccuracyReport | null) => void;
  /** A model was loaded: its images and accuracies start over. */
  resetVision: () => void;
}

export const createVisionSlice: StateCreator<VisionSlice> = (set) => ({
  imageSet: null,
  denseAccuracy: null,
  previewAccuracy: null,
  prunedAccuracy: null,
  setImageSet: (imageSet) => set({ imageSet }),
  setDenseAccuracy: (denseAccuracy) => set({ denseAccuracy }),
  setPreviewAccuracy: (previewAccuracy) => set({ previewAccuracy }),
  setPrunedAccuracy: (prunedAccuracy) => set({ prunedAccuracy }),
  resetVision: () => set({ imageSet: null, denseAccuracy: null, previewAccuracy: null, prunedAccuracy: null }),
});
