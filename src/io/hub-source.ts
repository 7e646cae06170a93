/**
 * A FileSource over a Hub repository at a revision: the repo info (commit, file list, sizes,
 * checksums) is fetched once; each read is served from the cache when a complete entry exists,
 * else downloaded, verified and then cached in one step (a cache failure never fails the load).
 * Cache keys are resolve URLs at the commit, so a moved branch never serves stale bytes.
 * A gated repo without a token is refused before any download.
 */
import { FetchError, GatedModelError } from '../core/errors';
import { HubClient, type HubFile, type HubOptions, type RepoInfo } from './hub';
import type { BlobCache } from './hub-cache';
import { resolveUrl } from './hub-ref';
import type { FileSource } from './source';

const MEMO_LIMIT = 4 << 20;

export interface HubSourceOptions extends HubOptions {
  cache?: BlobCache;
  /** Told about every cache hit / miss / failed write (UI messages, tests). */
  onCache?: (event: { path: string; hit: boolean; error?: string }) => void;
}

export interface HubSource extends FileSource {
  readonly repo: string;
  readonly revision: string;
  readonly client: HubClient;
  info(signal?: AbortSignal): Promise<RepoInfo>;
}

export function hubSource(repo: string, revision: string, options: HubSourceOptions = {}): HubSource {
  const client = new HubClient(options);
  let infoPromise: Promise<RepoInfo> | undefined;
  const probes = new Map<string, Promise<HubFile | undefined>>();
  // Small files (config.json, tokenizer.json) are read more than once per load: keep them.
  const memo = new Map<string, Uint8Array>();
  const info = (signal?: AbortSignal) => {
    infoPromise ??= client.info(repo, revision, signal).then((i) => {
      if (i.gated && !options.token) {
        throw new GatedModelError(
          `${repo} is a gated model: downloading it needs an access token.`,
          401,
          `Open ${client.endpoint}/${repo}, accept its licence while logged in, then enter a Hugging Face access token with read access.`,
        );
      }
      return i;
    });
    // A failed lookup (network, cancel) may be retried by the next call.
    infoPromise.catch(() => (infoPromise = undefined));
    return infoPromise;
  };
  const fileOf = async (path: string, signal?: AbortSignal): Promise<HubFile | undefined> => {
    const i = await info(signal);
    if (i.files) return i.files.get(path);
    let p = probes.get(path);
    if (!p) probes.set(path, (p = client.probe(i, path, signal)));
    return p;
  };
  return {
    repo,
    revision,
    client,
    info,
    location: `${client.endpoint}/${repo}@${revision}`,
    async read(path, onBytes, signal) {
      const small = memo.get(path);
      if (small) return small;
      const i = await info(signal);
      const file = await fileOf(path, signal);
      if (!file) throw new FetchError(`${repo}@${revision} has no file ${path}.`, 404, 'The repository lacks a file this model needs.');
      const key = resolveUrl(client.endpoint, repo, i.commit, path);
      const cached = await options.cache?.get(key, file.size).catch(() => undefined);
      if (cached) {
        options.onCache?.({ path, hit: true });
        onBytes?.(cached.length, cached.length);
        return cached;
      }
      const bytes = await client.download(i, file, onBytes, signal);
      if (options.cache) {
        try {
          await options.cache.put(key, bytes, file.sha256 ? { sha256: file.sha256 } : {});
          options.onCache?.({ path, hit: false });
        } catch (e) {
          options.onCache?.({ path, hit: false, error: (e as Error).message });
        }
      }
      if (bytes.length <= MEMO_LIMIT) memo.set(path, bytes);
      return bytes;
    },
    async has(path) {
      return (await fileOf(path)) !== undefined;
    },
    async list() {
      const i = await info();
      return i.files ? [...i.files.keys()] : [];
    },
    async size(path) {
      return (await fileOf(path))?.size;
    },
  };
}
