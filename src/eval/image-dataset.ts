/**
 * The labelled image set a classifier is evaluated and calibrated on: images already preprocessed
 * to the model's input (float32 [N, C, H, W], the layout of pixel_values) and one label per image.
 * Pure; `io/image-preprocess.ts` makes one from uint8 pixels and preprocessor_config.json.
 */
import { InputError } from '../core/errors';

export interface ImageDataset {
  /** float32 [count, channels, height, width], row-major. */
  images: Float32Array;
  count: number;
  channels: number;
  height: number;
  width: number;
  /** Class index per image. */
  labels: Int32Array;
  /** Where the images come from, shown next to the accuracy (e.g. "Fashion-MNIST test, 500 images"). */
  description?: string;
}

/** Checks sizes and labels against a model's input geometry and label count; throws InputError by name. */
export function checkImageDataset(ds: ImageDataset, model: { channels: number; imageSize: number; numLabels: number }): void {
  const { count, channels, height, width } = ds;
  if (![count, channels, height, width].every((n) => Number.isInteger(n) && n > 0))
    throw new InputError(`An image set needs positive integer sizes, got ${count} x ${channels} x ${height} x ${width}.`);
  if (ds.images.length !== count * channels * height * width)
    throw new InputError(`${ds.images.length} pixel values for ${count} images of ${channels} x ${height} x ${width}.`);
  if (ds.labels.length !== count) throw new InputError(`${ds.labels.length} labels for ${count} images.`);
  if (channels !== model.channels || height !== model.imageSize || width !== model.imageSize)
    throw new InputError(
      `The images are ${channels} x ${height} x ${width}; the model reads ${model.channels} x ${model.imageSize} x ${model.imageSize}.`,
      'Preprocess the images with the model’s preprocessor_config.json.',
    );
  const bad = ds.labels.findIndex((y) => y < 0 || y >= model.numLabels);
  if (bad >= 0) throw new InputError(`Label ${ds.labels[bad]} of image ${bad} is not one of the model's ${model.numLabels} classes.`);
}

/** Images [from, from + n) as a view (no copy) with their dims, ready as pixel_values. */
export function imageBatch(ds: ImageDataset, from: number, n: number): { data: Float32Array; dims: number[]; labels: Int32Array } {
  const per = ds.channels * ds.height * ds.width;
  const end = Math.min(ds.count, from + n);
  return {
    data: ds.images.subarray(from * per, end * per),
    dims: [end - from, ds.channels, ds.height, ds.width],
    labels: ds.labels.subarray(from, end),
  };
}
