/**
 * Hugging Face Hub client (pure; `fetch` only): repository info at a revision (commit sha, files with
 * sizes and checksums, gating) from `${endpoint}/api/models/${repo}/revision/${rev}?blobs=true`, and
 * verified file downloads from `${endpoint}/${repo}/resolve/${commit}/${path}` (redirects followed).
 * Every HTTP failure becomes a typed error read from the status and the Hub's X-Error-Code header:
 * GatedRepo / 401 / 403 -> GatedModelError, RepoNotFound, RevisionNotFound, EntryNotFound -> FetchError.
 * Endpoints without the API (static mirrors) fall back to HEAD requests on resolve URLs.
 */
import { CancelledError, FetchError, GatedModelError } from '../core/errors';
import { gitBlobSha1, sha256Hex } from './digest';
import { announcedSize, readBody } from './download';
import { normalizeEndpoint, resolveUrl } from './hub-ref';

export interface HubOptions {
  /** Default https://huggingface.co. */
  endpoint?: string;
  /** Access token (hf_...) for gated or private repositories. */
  token?: string;
  fetch?: typeof fetch;
  /** Stall timeout per download (default 60 s). */
  stallMs?: number;
}

export interface HubFile {
  path: string;
  size?: number;
  /** LFS files: sha256 of the content. */
  sha256?: string;
  /** Small files: git blob sha1. */
  gitOid?: string;
}

export interface RepoInfo {
  repo: string;
  revision: string;
  /** The commit the revision resolved to (downloads and cache keys use it). */
  commit: string;
  /** undefined when the endpoint has no API (files are then probed one by one). */
  files: Map<string, HubFile> | undefined;
  gated: boolean;
}

interface Sibling {
  rfilename?: unknown;
  size?: unknown;
  blobId?: unknown;
  lfs?: { sha256?: unknown; size?: unknown } | null;
}

export class HubClient {
  readonly endpoint: string;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: HubOptions = {}) {
    this.endpoint = normalizeEndpoint(options.endpoint);
    this.fetchImpl = options.fetch ?? ((...a) => fetch(...a));
  }

  private headers(): Record<string, string> {
    return this.options.token ? { authorization: `Bearer ${this.options.token}` } : {};
  }

  private async get(url: string, signal: AbortSignal | undefined, method = 'GET'): Promise<Response> {
    try {
      return await this.fetchImpl(url, { method, headers: this.headers(), redirect: 'follow', ...(signal ? { signal } : {}) });
    } catch (e) {
      if (signal?.aborted) throw new CancelledError('The download');
      throw new FetchError(
        `Could not reach ${this.endpoint} (${url}): ${(e as Error).message}.`,
        undefined,
        'Check the Hub endpoint and your connection.',
      );
    }
  }

  async info(repo: string, revision: string, signal?: AbortSignal): Promise<RepoInfo> {
    const url = `${this.endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
    const res = await this.get(url, signal);
    if (res.status === 404 && !res.headers.get('x-error-code')) return this.infoWithoutApi(repo, revision, signal);
    if (!res.ok) throw this.httpError(res, repo, revision);
    let json: { sha?: unknown; siblings?: unknown; gated?: unknown };
    try {
      json = (await res.json()) as typeof json;
    } catch (e) {
      throw new FetchError(`The Hub answered ${url} with something that is not JSON: ${(e as Error).message}.`);
    }
    const files = new Map<string, HubFile>();
    for (const s of Array.isArray(json.siblings) ? (json.siblings as Sibling[]) : []) {
      if (typeof s.rfilename !== 'string') continue;
      const lfs = s.lfs ?? undefined;
      const size = typeof lfs?.size === 'number' ? lfs.size : typeof s.size === 'number' ? s.size : undefined;
      files.set(s.rfilename, {
        path: s.rfilename,
        ...(size !== undefined ? { size } : {}),
        ...(typeof lfs?.sha256 === 'string' ? { sha256: lfs.sha256 } : {}),
        ...(!lfs && typeof s.blobId === 'string' ? { gitOid: s.blobId } : {}),
      });
    }
    const commit = typeof json.sha === 'string' && /^[0-9a-f]{40}$/.test(json.sha) ? json.sha : revision;
    return { repo, revision, commit, files, gated: json.gated !== undefined && json.gated !== false };
  }

  /** Static mirrors: no listing; the revision stays as given; config.json must exist. */
  private async infoWithoutApi(repo: string, revision: string, signal?: AbortSignal): Promise<RepoInfo> {
    const res = await this.get(resolveUrl(this.endpoint, repo, revision, 'config.json'), signal, 'HEAD');
    if (!res.ok) throw this.httpError(res, repo, revision, 'config.json');
    const commit = res.headers.get('x-repo-commit');
    return { repo, revision, commit: commit && /^[0-9a-f]{40}$/.test(commit) ? commit : revision, files: undefined, gated: false };
  }

  /** HEAD on a file: whether it exists and its size (API-less endpoints). */
  async probe(info: RepoInfo, path: string, signal?: AbortSignal): Promise<HubFile | undefined> {
    const res = await this.get(resolveUrl(this.endpoint, info.repo, info.commit, path), signal, 'HEAD');
    if (res.status === 404) return undefined;
    if (!res.ok) throw this.httpError(res, info.repo, info.revision, path);
    const size = Number(res.headers.get('x-linked-size') ?? NaN);
    return { path, ...(Number.isSafeInteger(size) ? { size } : announcedSize(res) !== undefined ? { size: announcedSize(res)! } : {}) };
  }

  /** Downloads one file and verifies its size and checksum; never returns partial or unverified bytes. */
  async download(
    info: RepoInfo,
    file: HubFile,
    onBytes?: (loaded: number, total: number) => void,
    signal?: AbortSignal,
  ): Promise<Uint8Array> {
    const what = `${file.path} (${info.repo}@${info.revision})`;
    const res = await this.get(resolveUrl(this.endpoint, info.repo, info.commit, file.path), signal);
    if (!res.ok) throw this.httpError(res, info.repo, info.revision, file.path);
    const linked = Number(res.headers.get('x-linked-size') ?? NaN);
    const expectedSize = file.size ?? (Number.isSafeInteger(linked) ? linked : announcedSize(res));
    const bytes = await readBody(res, {
      what,
      ...(expectedSize !== undefined ? { expectedSize } : {}),
      ...(onBytes ? { onBytes } : {}),
      ...(signal ? { signal } : {}),
      ...(this.options.stallMs ? { stallMs: this.options.stallMs } : {}),
    });
    await verify(bytes, file, what);
    return bytes;
  }

  httpError(res: Response, repo: string, revision: string, path?: string): Error {
    const code = res.headers.get('x-error-code') ?? '';
    const where = `${this.endpoint}/${repo}`;
    const s = res.status;
    if (code === 'GatedRepo' || ((s === 401 || s === 403) && code !== 'RepoNotFound')) {
      const withToken = this.options.token !== undefined;
      return new GatedModelError(
        `${repo} is a gated model (HTTP ${s}): ${withToken ? 'this access token has not been granted access' : 'downloading it needs an access token'}.`,
        s,
        `Open ${where}, accept its licence while logged in, then enter a Hugging Face access token with read access.`,
      );
    }
    if (code === 'RepoNotFound') {
      return new FetchError(
        `There is no model repository "${repo}" on ${this.endpoint} (HTTP ${s}).`,
        s,
        'Check the repo id; a private repo also needs an access token.',
      );
    }
    if (code === 'RevisionNotFound') {
      return new FetchError(`${repo} has no revision "${revision}" (HTTP ${s}).`, s, 'Use a branch, tag or commit that exists, e.g. main.');
    }
    if (s === 404) {
      return new FetchError(
        `${repo}@${revision} has no file ${path ?? ''} (HTTP 404).`,
        s,
        'The repository lacks a file this model needs.',
      );
    }
    if (s === 429)
      return new FetchError(
        `The Hub rate-limited the request for ${path ?? repo} (HTTP 429).`,
        s,
        'Wait a minute and retry, or use an access token.',
      );
    return new FetchError(`The Hub answered HTTP ${s} for ${path ?? repo} (${repo}@${revision}).`, s);
  }
}

async function verify(bytes: Uint8Array, file: HubFile, what: string): Promise<void> {
  if (file.sha256) {
    const got = await sha256Hex(bytes);
    if (got !== undefined && got !== file.sha256.toLowerCase()) {
      throw new FetchError(
        `${what} is corrupt: its sha256 is ${got}, the Hub lists ${file.sha256}.`,
        undefined,
        'Retry the download; nothing was cached.',
      );
    }
  } else if (file.gitOid) {
    const got = await gitBlobSha1(bytes);
    if (got !== undefined && got !== file.gitOid.toLowerCase()) {
      throw new FetchError(
        `${what} is corrupt: its git blob id is ${got}, the Hub lists ${file.gitOid}.`,
        undefined,
        'Retry the download; nothing was cached.',
      );
    }
  }
}
