/** FileSource over a local directory (Node only; used by the CLI, benchmarks and tests). */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { resolve, relative, isAbsolute, join, sep } from 'node:path';
import { InputError } from '../core/errors';
import type { FileSource } from '../api';

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const full = join(dir, n);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

export function dirSource(dir: string): FileSource {
  const root = resolve(dir);
  if (!existsSync(root))
    throw new InputError(
      `Model folder ${root} does not exist.`,
      'Pass --model the folder that holds config.json and model.safetensors (or an ONNX export), e.g. public/models/demo-gpt2.',
    );
  if (!statSync(root).isDirectory())
    throw new InputError(
      `${root} is a file, not a model folder.`,
      'Pass --model the folder that holds config.json and the weights (model.safetensors or model.onnx), not one of its files.',
    );
  const inside = (path: string) => {
    const full = resolve(root, path);
    const rel = relative(root, full);
    if (rel.startsWith('..') || isAbsolute(rel)) throw new InputError(`Path ${path} leaves the model folder ${root}.`);
    return full;
  };
  return {
    location: root,
    async read(path) {
      const full = inside(path);
      if (!existsSync(full) || statSync(full).isDirectory())
        throw new InputError(
          `The model folder ${root} has no file ${path}.`,
          `Put ${path} from the same checkpoint into the folder (Hugging Face layout: config.json, tokenizer.json, weights).`,
        );
      const buf = readFileSync(full);
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
    },
    async has(path) {
      const full = inside(path);
      return existsSync(full) && !statSync(full).isDirectory();
    },
    async list() {
      return walk(root).map((f) => relative(root, f).split(sep).join('/'));
    },
    async size(path) {
      const full = inside(path);
      return existsSync(full) ? statSync(full).size : undefined;
    },
    async readRange(path, start, end) {
      const handle = await open(inside(path), 'r');
      try {
        const out = new Uint8Array(Math.max(0, end - start));
        let done = 0;
        while (done < out.length) {
          const { bytesRead } = await handle.read(out, done, out.length - done, start + done);
          if (bytesRead === 0) break;
          done += bytesRead;
        }
        return done === out.length ? out : out.subarray(0, done);
      } finally {
        await handle.close();
      }
    },
  };
}
