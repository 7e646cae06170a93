/**
 * FileSource: read the files of a model folder (Hugging Face layout) from anywhere:
 * an HTTP base URL (demo model, fake Hub in tests), a local directory (Node), or
 * user-picked File objects (browser). Pure: uses only `fetch`, which Node 20 and browsers share.
 */
import { FetchError } from '../core/errors';
import { parseJsonBytes, type JsonReadOptions } from './json';

export interface FileSource {
  /** Human-readable location, e.g. "/models/demo-gpt2" or "/home/me/gpt2". */
  readonly location: string;
  /** Reads a file by its path relative to the model folder; `onBytes` reports download progress. */
  read(path: string, onBytes?: (loaded: number, total: number) => void, signal?: AbortSignal): Promise<Uint8Array>;
  has(path: string): Promise<boolean>;
  /** Every file path in the folder, where the source can list them (Hub, local files, directories). */
  list?(): Promise<string[]>;
  /** A file's size in bytes without reading it, where known (size preflight); undefined = unknown. */
  size?(path: string): Promise<number | undefined>;
  /**
   * Bytes [start, end) of a file without reading the rest, where the source can (picked files,
   * local directories): safetensors weights are then read one tensor at a time instead of whole.
   */
  readRange?(path: string, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array>;
}

/** Reads and parses a JSON file of the folder; a syntax error is a JsonFileError with the file and line:column. */
export async function readJson<T = unknown>(
  source: FileSource,
  path: string,
  options: JsonReadOptions & { signal?: AbortSignal } = {},
): Promise<T> {
  const bytes = await source.read(path, undefined, options.signal);
  return parseJsonBytes(bytes, `${path} in ${source.location}`, options) as T;
}

/** A model folder served over HTTP. */
export function urlSource(baseUrl: string, fetchImpl: typeof fetch = fetch): FileSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  return {
    location: baseUrl,
    async read(path, onBytes, signal) {
      const url = new URL(path, new URL(base, globalThis.location?.href ?? 'http://localhost/')).toString();
      let res: Response;
      try {
        res = await fetchImpl(url, signal ? { signal } : {});
      } catch (e) {
        throw new FetchError(`Could not fetch ${url}: ${(e as Error).message}`);
      }
      if (!res.ok) throw new FetchError(`Fetching ${url} failed with HTTP ${res.status}.`, res.status);
      const total = Number(res.headers.get('content-length') ?? 0);
      if (!res.body || !onBytes) return new Uint8Array(await res.arrayBuffer());
      const reader = res.body.getReader();
      const chunks: Uint8Array[] = [];
      let loaded = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        loaded += value.length;
        onBytes(loaded, total);
      }
      if (total && loaded !== total) {
        throw new FetchError(`Download of ${url} was cut off at ${loaded} of ${total} bytes.`);
      }
      const out = new Uint8Array(loaded);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      return out;
    },
    async has(path) {
      try {
        const res = await fetchImpl(new URL(path, new URL(base, globalThis.location?.href ?? 'http://localhost/')), {
          method: 'HEAD',
        });
        return res.ok;
      } catch {
        return false;
      }
    },
  };
}
