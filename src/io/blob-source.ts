/**
 * A FileSource over files the user picked or dropped (browser File objects; any Blob in Node).
 * Paths are the files' relative paths (webkitRelativePath for a folder pick); a top folder that
 * every path shares is stripped, so "gpt2/config.json" reads as "config.json". Paths that climb
 * out of the folder or repeat are refused.
 */
import { FetchError, InputError } from '../core/errors';
import type { FileSource } from './source';

export interface LocalFile {
  /** Relative path inside the picked folder, or the bare file name. */
  path: string;
  file: Blob;
}

export function normalizeRelativePath(path: string): string {
  const parts = path
    .replace(/\\/g, '/')
    .split('/')
    .filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..') || /^[a-zA-Z]:/.test(path) || path.startsWith('/')) {
    throw new InputError(`The path "${path}" leaves the model folder.`, 'Pick the files of one model folder.');
  }
  return parts.join('/');
}

/** The top folder every (normalised) path shares: ["gpt2/config.json", "gpt2/onnx/m.onnx"] -> "gpt2"; else undefined. */
export function commonTopFolder(paths: readonly string[]): string | undefined {
  if (paths.length === 0 || !paths.every((p) => p.includes('/'))) return undefined;
  const first = paths[0]!.split('/')[0]!;
  return paths.every((p) => p.split('/')[0] === first) ? first : undefined;
}

function stripCommonFolder(paths: string[]): string[] {
  const top = commonTopFolder(paths);
  return top === undefined ? paths : stripCommonFolder(paths.map((p) => p.slice(top.length + 1)));
}

/** Display name of a pick: the folder every file shares, else the picked .onnx file's name without extension. */
export function pickedName(files: readonly LocalFile[]): string | undefined {
  const paths = files.map((f) => normalizeRelativePath(f.path));
  return commonTopFolder(paths) ?? paths.find((p) => p.endsWith('.onnx'))?.replace(/\.onnx$/, '');
}

export function blobSource(files: readonly LocalFile[], location = 'local files'): FileSource {
  if (files.length === 0)
    throw new InputError('No files were picked.', 'Pick a model folder, or its config.json, tokenizer.json and weights.');
  const paths = stripCommonFolder(files.map((f) => normalizeRelativePath(f.path)));
  const byPath = new Map<string, Blob>();
  paths.forEach((p, i) => {
    if (byPath.has(p)) throw new InputError(`"${p}" was picked twice.`, 'Pick each file once.');
    byPath.set(p, files[i]!.file);
  });
  const blob = (path: string) => byPath.get(normalizeRelativePath(path));
  return {
    location,
    async read(path, onBytes) {
      const b = blob(path);
      if (!b)
        throw new FetchError(
          `${path} is not among the picked files (${[...byPath.keys()].join(', ')}).`,
          404,
          'Pick it together with the other model files.',
        );
      const bytes = new Uint8Array(await b.arrayBuffer());
      onBytes?.(bytes.length, bytes.length);
      return bytes;
    },
    async has(path) {
      return blob(path) !== undefined;
    },
    async list() {
      return [...byPath.keys()];
    },
    async size(path) {
      return blob(path)?.size;
    },
    async readRange(path, start, end) {
      const b = blob(path);
      if (!b) throw new FetchError(`${path} is not among the picked files.`, 404, 'Pick it together with the other model files.');
      return new Uint8Array(await b.slice(start, end).arrayBuffer());
    },
  };
}
