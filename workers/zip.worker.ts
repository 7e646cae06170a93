/**
 * Zips the exported bundle off the UI thread: deflating a model's bytes takes seconds for the
 * demo model and minutes for 124M, a main-thread stall (bench/ui-stalls.spec.ts). Receives the
 * files transferred and answers the zip as a Blob (one message per export). A stored zip (level 0,
 * large bundles) is streamed (src/io/zip-stored.ts): its parts are the headers and the files' own
 * buffers, so the zip is never a second contiguous copy of the model in this worker; a file in browser
 * storage (a Blob) enters it as slices of itself.
 */
import { zipSync } from 'fflate';
import { storedZipParts, storedZipPartsWithBlobs } from '../src/io/zip-stored';

export interface ZipRequest {
  files: { name: string; bytes: Uint8Array }[];
  level: 0 | 6;
  /** Files in browser storage (Blobs), zipped stored whatever `level` says. */
  stored?: { name: string; blob: Blob }[];
}

self.onmessage = async (ev: MessageEvent<ZipRequest>) => {
  try {
    const { files, level, stored = [] } = ev.data;
    const parts: BlobPart[] =
      stored.length > 0
        ? await storedZipPartsWithBlobs(files, stored)
        : level === 0
          ? (storedZipParts(files) as BlobPart[])
          : [zipSync(Object.fromEntries(files.map((f) => [f.name, f.bytes])), { level }) as BlobPart];
    (self as unknown as Worker).postMessage({ zip: new Blob(parts, { type: 'application/zip' }) });
  } catch (e) {
    (self as unknown as Worker).postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
};
