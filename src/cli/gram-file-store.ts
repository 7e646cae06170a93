/**
 * Node's GramStore (core/gram-store.ts): one temp file per calibration (a fresh folder under the OS
 * temp dir), values appended with positioned synchronous writes and read back with positioned reads,
 * deleted on dispose and, should the process end first, on exit. Used by the CLI, the benches and
 * the Node tests (StudioDeps.gramStore).
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkByteRange, type GramStore, type GramStoreFactory } from '../core/gram-store';

/** Folders of stores not yet disposed, removed at exit. */
const live = new Set<string>();
let exitHook = false;

function removeAtExit(dir: string): void {
  live.add(dir);
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const d of live) rmSync(d, { recursive: true, force: true });
  });
}

function bytesOf(v: Float32Array): Uint8Array {
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** A store in a new temp file under `root` (default: the OS temp dir). */
export function openFileGramStore(root = tmpdir()): GramStore {
  const dir = mkdtempSync(join(root, 'prune-studio-grams-'));
  const path = join(dir, 'grams.bin');
  let fd: number | undefined = openSync(path, 'w+');
  removeAtExit(dir);
  const where = `temp file ${path}`;
  const index = new Map<string, { at: number; length: number }>();
  let end = 0;
  const open = () => {
    if (fd === undefined) throw new Error(`${where} is closed`);
    return fd;
  };
  const readAt = (key: string, at: number, bytes: Uint8Array) => {
    const f = open();
    for (let done = 0; done < bytes.length;) {
      const n = readSync(f, bytes, done, bytes.length - done, at + done);
      if (n === 0) throw new Error(`${where} ends before Gram "${key}"`);
      done += n;
    }
  };
  const entry = (key: string) => {
    const e = index.get(key);
    if (!e) throw new Error(`no Gram "${key}" in ${where}`);
    return e;
  };
  const readInto = (key: string, out: Float32Array) => {
    const e = entry(key);
    if (out.length !== e.length) throw new Error(`Gram "${key}" has ${e.length} values, not ${out.length}`);
    readAt(key, e.at, bytesOf(out));
  };
  const readBytes = (key: string, at: number, into: Uint8Array) => {
    const e = entry(key);
    checkByteRange(key, e.length, at, into.length);
    readAt(key, e.at + at, into);
  };
  return {
    where,
    put(key, values) {
      const bytes = bytesOf(values);
      const f = open();
      for (let done = 0; done < bytes.length;) done += writeSync(f, bytes, done, bytes.length - done, end + done);
      index.set(key, { at: end, length: values.length });
      end += bytes.length;
    },
    get(key) {
      const out = new Float32Array(index.get(key)?.length ?? 0);
      readInto(key, out);
      return out;
    },
    readInto,
    readBytes,
    drop: (key) => void index.delete(key),
    locate(key) {
      const e = index.get(key);
      return e && { file: path, at: e.at, bytes: 4 * e.length };
    },
    async dispose() {
      index.clear();
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      rmSync(dir, { recursive: true, force: true });
      live.delete(dir);
    },
  };
}

/** StudioDeps.gramStore for Node hosts. */
export const fileGramStore: GramStoreFactory = async () => openFileGramStore();
