/**
 * Content checksums the Hub serves, computed with WebCrypto (browsers, workers and Node alike):
 * sha256 of LFS files (their lfs.oid / X-Linked-Etag) and git's blob sha1 of small files
 * (their blobId / ETag: sha1("blob <size>\0" + content)).
 */

function subtle(): SubtleCrypto | undefined {
  return (globalThis as { crypto?: Crypto }).crypto?.subtle;
}

function hex(buf: ArrayBuffer): string {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** undefined where WebCrypto is unavailable (insecure context): callers fall back to size checks. */
export async function sha256Hex(bytes: Uint8Array): Promise<string | undefined> {
  const s = subtle();
  return s ? hex(await s.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>)) : undefined;
}

export async function gitBlobSha1(bytes: Uint8Array): Promise<string | undefined> {
  const s = subtle();
  if (!s) return undefined;
  const head = new TextEncoder().encode(`blob ${bytes.length}\0`);
  const all = new Uint8Array(head.length + bytes.length);
  all.set(head);
  all.set(bytes, head.length);
  return hex(await s.digest('SHA-1', all));
}
