/**
 * Reads an HTTP response body as a stream with progress, cancellation and a stall timeout, and
 * turns every way a download can fail into a typed error that names the file and the byte count:
 * cancelled (CancelledError), connection dropped mid-body, body shorter or longer than the size
 * the server announced, no data for `stallMs`. Never resolves with a partial body.
 */
import { CancelledError, FetchError } from '../core/errors';

export interface BodyOptions {
  /** File name for messages. */
  what: string;
  /** Bytes the body must have (listing size or Content-Length); undefined = unknown. */
  expectedSize?: number;
  onBytes?: (loaded: number, total: number) => void;
  signal?: AbortSignal;
  /** Fail when no bytes arrive for this long (default 60 s). */
  stallMs?: number;
}

export const DEFAULT_STALL_MS = 60_000;

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[u]}`;
}

/** The size a response announces for its (uncompressed) body, when it can be trusted. */
export function announcedSize(res: Response): number | undefined {
  if (res.headers.get('content-encoding')) return undefined;
  const n = Number(res.headers.get('content-length') ?? NaN);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

export async function readBody(res: Response, o: BodyOptions): Promise<Uint8Array> {
  const total = o.expectedSize;
  if (!res.body) return checkSize(new Uint8Array(await res.arrayBuffer()), o);
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  try {
    for (;;) {
      const { done, value } = await withStall(reader, o);
      if (done) break;
      chunks.push(value);
      loaded += value.length;
      if (total !== undefined && loaded > total) {
        throw new FetchError(
          `${o.what} is larger than announced: more than ${total} bytes arrived.`,
          undefined,
          'The server sent a different file; retry.',
        );
      }
      o.onBytes?.(loaded, total ?? 0);
    }
  } catch (e) {
    void reader.cancel().catch(() => undefined);
    if (o.signal?.aborted) throw new CancelledError(`Downloading ${o.what}`);
    if (e instanceof FetchError) throw e;
    throw new FetchError(
      `The connection dropped while downloading ${o.what}, after ${fmtBytes(loaded)}${total !== undefined ? ` of ${fmtBytes(total)}` : ''}: ${(e as Error).message}.`,
      undefined,
      'Check your connection and retry; nothing partial was kept.',
    );
  }
  const out = new Uint8Array(loaded);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return checkSize(out, o);
}

function checkSize(bytes: Uint8Array, o: BodyOptions): Uint8Array {
  if (o.expectedSize !== undefined && bytes.length !== o.expectedSize) {
    throw new FetchError(
      `The download of ${o.what} was cut off: ${bytes.length} of ${o.expectedSize} bytes arrived.`,
      undefined,
      'Retry; nothing partial was kept.',
    );
  }
  return bytes;
}

async function withStall(reader: ReadableStreamDefaultReader<Uint8Array>, o: BodyOptions): Promise<ReadableStreamReadResult<Uint8Array>> {
  const ms = o.stallMs ?? DEFAULT_STALL_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new FetchError(
            `The download of ${o.what} stalled: no data for ${ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`}.`,
            undefined,
            'Retry later.',
          ),
        ),
      ms,
    );
    onAbort = () => reject(new CancelledError(`Downloading ${o.what}`));
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([reader.read(), stalled]);
  } finally {
    clearTimeout(timer);
    if (onAbort) o.signal?.removeEventListener('abort', onAbort);
  }
}
