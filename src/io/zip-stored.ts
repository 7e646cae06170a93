/**
 * A stored (uncompressed) zip as a list of parts: per file its local header, its bytes (the same
 * Uint8Array, not a copy) and a data descriptor, then the central directory (fflate's streaming Zip
 * with ZipPassThrough, run synchronously). `new Blob(parts)` then makes the zip without ever holding
 * it as one more contiguous buffer (workers/zip.worker.ts).
 */
import { Zip, ZipPassThrough } from 'fflate';

/** fflate's streaming Zip collecting its output chunks as parts (`part` may stand another part for a chunk). */
function collectingZip<P>(part: (chunk: Uint8Array) => P) {
  const parts: P[] = [];
  let failure: Error | null = null;
  let ended = false;
  const zip = new Zip((err, chunk, final) => {
    if (err) failure = err;
    else parts.push(part(chunk));
    if (final) ended = true;
  });
  const addBytes = (name: string, bytes: Uint8Array) => {
    const entry = new ZipPassThrough(name);
    zip.add(entry);
    entry.push(bytes, true);
  };
  const finish = (): P[] => {
    zip.end();
    if (failure) throw failure;
    if (!ended) throw new Error('the zip stream did not finish');
    return parts;
  };
  return { zip, addBytes, finish };
}

export function storedZipParts(files: readonly { name: string; bytes: Uint8Array }[]): Uint8Array[] {
  const z = collectingZip((chunk) => chunk);
  for (const f of files) z.addBytes(f.name, f.bytes);
  return z.finish();
}

/** How much of a Blob entry is read at a time (for its CRC; the zip keeps the Blob's slices, not these). */
const BLOB_CHUNK_BYTES = 8 * 2 ** 20;

/**
 * storedZipParts with Blob entries too (a file kept in browser storage, api/streamed-export.ts),
 * written first: each is read once in chunks for its CRC (fflate's ZipPassThrough) and enters the
 * zip as slices of itself, so the zip references the stored file instead of holding its bytes.
 */
export async function storedZipPartsWithBlobs(
  files: readonly { name: string; bytes: Uint8Array }[],
  blobs: readonly { name: string; blob: Blob }[],
): Promise<BlobPart[]> {
  // chunks pushed from a Blob, by identity: fflate passes data chunks through as they are
  const slices = new Map<Uint8Array, Blob>();
  const z = collectingZip((chunk): BlobPart => {
    const slice = slices.get(chunk);
    slices.delete(chunk);
    return slice ?? (chunk as BlobPart);
  });
  for (const { name, blob } of blobs) {
    const entry = new ZipPassThrough(name);
    z.zip.add(entry);
    if (blob.size === 0) entry.push(new Uint8Array(0), true);
    for (let at = 0; at < blob.size; at += BLOB_CHUNK_BYTES) {
      const slice = blob.slice(at, Math.min(blob.size, at + BLOB_CHUNK_BYTES));
      const chunk = new Uint8Array(await slice.arrayBuffer());
      slices.set(chunk, slice);
      entry.push(chunk, at + BLOB_CHUNK_BYTES >= blob.size);
    }
  }
  for (const f of files) z.addBytes(f.name, f.bytes);
  return z.finish();
}
