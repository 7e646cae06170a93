/**
 * `prune-studio eval` for image classifiers: reads a labelled image file (IDX images + --labels,
 * optionally .gz, or the studio's image set v1 manifest .json beside its .bin), preprocesses it
 * with the model's preprocessor_config.json and prints top-1 accuracy with its 95% interval,
 * mean loss and the confusion matrix.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { InputError } from '../core/errors';
import { firstImages, parseIdx, rawImagesFromIdx, rawImagesFromImageSet, type RawImages, type StudioApi } from '../api';
import { numberFlag, stringFlag, type ParsedArgs } from './args';
import { readJsonFile } from './files';

export const IMAGES_USAGE = `  prune-studio eval --model <vit dir> --images <set.json | images-idx3-ubyte[.gz] --labels labels-idx1-ubyte[.gz]> [--limit N] [--batch 64] [--json]`;

function readBytes(path: string, flag: string): Uint8Array {
  const full = resolve(path);
  if (!existsSync(full) || statSync(full).isDirectory())
    throw new InputError(`--${flag}: ${full} is not a file.`, `Pass --${flag} the path of an existing file.`);
  const bytes = new Uint8Array(readFileSync(full));
  return path.endsWith('.gz') ? new Uint8Array(gunzipSync(bytes)) : bytes;
}

/** The labelled images named by --images (and --labels for IDX). */
export function readImages(args: ParsedArgs, flag = 'images', labelsFlag = 'labels'): RawImages {
  const path = stringFlag(args, flag);
  if (path.endsWith('.json')) {
    const manifest = readJsonFile(path, flag) as { file?: unknown };
    const file = typeof manifest.file === 'string' ? manifest.file : basename(path).replace(/\.json$/, '.bin');
    return rawImagesFromImageSet(manifest, readBytes(join(dirname(path), file), flag), basename(path));
  }
  if (!args.flags.has(labelsFlag))
    throw new InputError(`--${flag} names an IDX file; its labels are a second file.`, `Pass --${labelsFlag} <labels-idx1-ubyte[.gz]>.`);
  const labelsPath = stringFlag(args, labelsFlag);
  return rawImagesFromIdx(
    parseIdx(readBytes(path, flag), basename(path)),
    parseIdx(readBytes(labelsPath, 'labels'), basename(labelsPath)),
    basename(path),
  );
}

export async function imageEvalCommand(api: StudioApi, model: string, args: ParsedArgs): Promise<unknown> {
  const all = readImages(args);
  const limit = numberFlag(args, 'limit', 0);
  const raw = limit > 0 ? firstImages(all, limit) : all;
  const dataset = await api.prepareImages({
    ...raw,
    description: `${raw.description ?? 'images'}${raw.count < all.count ? `, first ${raw.count} of ${all.count}` : ''}`,
  });
  const r = await api.evaluateAccuracy({ dataset, batchSize: numberFlag(args, 'batch', 64) });
  const { predictions: _predictions, ...rest } = r;
  return { model, metric: 'accuracy', ...rest };
}
