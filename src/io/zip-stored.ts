/**
 * A stored (uncompressed) zip as a list of parts: per file its local header, its bytes (the same
 * Uint8Array, not a copy) and a data descriptor, then the central directory (fflate's streaming Zip
 * with ZipPassThrough, run synchronously). `new Blob(parts)` then makes the zip without ever holding
 * it as one more contiguous buffer (workers/zip.worker.ts).
 */
import { Zip, ZipPassThrough } from 'fflate';

export function storedZipParts(files: readonly { name: string; bytes: Uint8Array }[]): Uint8Array[] {
  const parts: Uint8Array[] = [];
  let failure: Error | null = null;
  let ended = false;
  const zip = new Zip((err, chunk, final) => {
    if (err) failure = err;
    else parts.push(chunk);
    if (final) ended = true;
  });
  for (const f of files) {
    const entry = new ZipPassThrough(f.name);
    zip.add(entry);
    entry.push(f.bytes, true);
  }
  zip.end();
  if (failure) throw failure;
  if (!ended) throw new Error('the zip stream did not finish');
  return parts;
}
