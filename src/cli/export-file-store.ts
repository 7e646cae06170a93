/**
 * Node's ExportFileStore (core/export-file-store.ts): a temp file with positioned synchronous writes
 * and reads; `finish` gives it as a Blob read from the file (fs.openAsBlob). Used by the tests of the
 * streamed export (api/streamed-export.ts), which the browser's engine Worker runs on OPFS.
 */
import { closeSync, mkdtempSync, openAsBlob, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExportFileStore, ExportFileStoreFactory } from '../core/export-file-store';

export function openExportFileStore(root = tmpdir()): ExportFileStore {
  const dir = mkdtempSync(join(root, 'prune-studio-export-'));
  const path = join(dir, 'model.onnx');
  let fd: number | undefined = openSync(path, 'w+');
  const where = `temp file ${path}`;
  const open = () => {
    if (fd === undefined) throw new Error(`${where} is closed`);
    return fd;
  };
  return {
    where,
    write(bytes, at) {
      const f = open();
      for (let done = 0; done < bytes.length;) done += writeSync(f, bytes, done, bytes.length - done, at + done);
    },
    read(into, at) {
      const f = open();
      for (let done = 0; done < into.length;) {
        const n = readSync(f, into, done, into.length - done, at + done);
        if (n === 0) throw new Error(`${where} ends before byte ${at + into.length}`);
        done += n;
      }
    },
    async finish(size) {
      closeSync(open());
      fd = undefined;
      const blob = await openAsBlob(path);
      if (blob.size !== size) throw new Error(`${where} has ${blob.size} bytes, not ${size}`);
      return blob;
    },
    async dispose() {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const fileExportFileStore: ExportFileStoreFactory = async () => openExportFileStore();
