/**
 * A local imitation of the Hugging Face Hub for tests (Node only), serving fixtures/hub/<org>/<name>
 * in the Hub's URL scheme, bound to 127.0.0.1 on an ephemeral port:
 *   GET  /api/models/{repo}/revision/{rev}[?blobs=true]  {id, sha, gated, siblings[{rfilename, size, blobId, lfs}]}
 *   GET|HEAD /{repo}/resolve/{rev}/{path}   small files: 200 + ETag (git blob sha1), X-Repo-Commit;
 *        LFS files (.safetensors, .onnx, .onnx_data): 302 to /cdn/... + X-Linked-Etag (sha256), X-Linked-Size
 *   errors as the Hub sends them: 401 + X-Error-Code RepoNotFound / GatedRepo, 404 + RevisionNotFound / EntryNotFound
 * Special repositories (copies of real fixtures):
 *   gated/<name>      = tiny/<name>, files need `Authorization: Bearer ${FAKE_HUB_TOKEN}`
 *   broken/truncated  = tiny/llama-gqa-bf16 whose model.safetensors body ends cleanly at half size
 *   broken/drop       = same, but the connection is destroyed at half (Content-Length announced)
 *   broken/corrupt    = same size, one byte flipped (sha256 mismatch)
 *   broken/stall      = sends half, then nothing (until the client gives up or the server closes)
 * Revisions: "main", "v1.0" and the repo's commit sha. CORS is open (the browser e2e fetches cross-origin).
 * `api: false` imitates a static mirror without /api. Every request is logged in `requests`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, relative, sep } from 'node:path';

export const FAKE_HUB_TOKEN = 'hf_fake_test_token';
const LFS = /\.(safetensors|onnx|onnx_data|bin)$/;
const BROKEN_SOURCE = 'tiny/llama-gqa-bf16';
const EXPOSE = 'X-Repo-Commit, X-Linked-Etag, X-Linked-Size, ETag, Content-Length, X-Error-Code, X-Error-Message, Location';

export interface FakeHubOptions {
  root?: string;
  port?: number;
  /** false: no /api routes (a static mirror). */
  api?: boolean;
  /** Extra repositories: repo id -> folder (e.g. { 'local/demo-gpt2': 'public/models/demo-gpt2' }). */
  aliases?: Record<string, string>;
}

export interface FakeHub {
  url: string;
  requests: { method: string; path: string; auth: boolean }[];
  close(): Promise<void>;
}

interface RepoFile {
  path: string;
  bytes: Uint8Array;
  sha256: string;
  gitOid: string;
  lfs: boolean;
}

interface Repo {
  id: string;
  commit: string;
  gated: boolean;
  files: Map<string, RepoFile>;
  broken?: 'truncated' | 'drop' | 'corrupt' | 'stall';
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const full = join(dir, n);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
}

function loadRepo(dir: string, id: string, extra: Partial<Repo> = {}): Repo | undefined {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return undefined;
  const files = new Map<string, RepoFile>();
  for (const full of walk(dir).sort()) {
    const path = relative(dir, full).split(sep).join('/');
    const bytes = new Uint8Array(readFileSync(full));
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const gitOid = createHash('sha1').update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
    files.set(path, { path, bytes, sha256, gitOid, lfs: LFS.test(path) });
  }
  const commit = createHash('sha1')
    .update(id)
    .update([...files.values()].map((f) => f.path + f.sha256).join('\n'))
    .digest('hex');
  return { id, commit, gated: false, files, ...extra };
}

function findRepo(root: string, id: string, aliases: Record<string, string>): Repo | undefined {
  const [org, name] = id.split('/');
  if (!org || !name || id.includes('..')) return undefined;
  if (aliases[id]) return loadRepo(aliases[id], id);
  if (org === 'gated') return loadRepo(join(root, 'tiny', name), id, { gated: true });
  if (org === 'broken' && ['truncated', 'drop', 'corrupt', 'stall'].includes(name)) {
    return loadRepo(join(root, BROKEN_SOURCE), id, { broken: name as Repo['broken'] });
  }
  return loadRepo(join(root, id), id);
}

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function startFakeHub(options: FakeHubOptions = {}): Promise<FakeHub> {
  const root = options.root ?? 'fixtures/hub';
  const api = options.api ?? true;
  const requests: FakeHub['requests'] = [];
  const sockets = new Set<Socket>();
  const cache = new Map<string, Repo | undefined>();
  const repoOf = (id: string) => {
    if (!cache.has(id)) cache.set(id, findRepo(root, id, options.aliases ?? {}));
    return cache.get(id);
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, auth: !!req.headers.authorization });
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Access-Control-Expose-Headers', EXPOSE);
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    if (req.method === 'OPTIONS') {
      res
        .writeHead(204, {
          'Access-Control-Allow-Headers': 'Authorization, Range, Content-Type',
          'Access-Control-Allow-Methods': 'GET, HEAD',
        })
        .end();
      return;
    }
    try {
      route(req, res, url);
    } catch (e) {
      res.writeHead(500).end(String(e));
    }
  });

  function error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'Content-Type': 'application/json', 'X-Error-Code': code, 'X-Error-Message': message });
    res.end(JSON.stringify({ error: message }));
  }

  function lookup(res: ServerResponse, id: string, rev: string): Repo | undefined {
    const repo = repoOf(id);
    if (!repo) {
      error(
        res,
        401,
        'RepoNotFound',
        `Repository Not Found for url: ${id}. Please make sure you specified the correct repo_id and repo_type. If you are trying to access a private or gated repo, make sure you are authenticated.`,
      );
      return undefined;
    }
    if (rev !== 'main' && rev !== 'v1.0' && rev !== repo.commit) {
      error(res, 404, 'RevisionNotFound', `Invalid rev id: ${rev}`);
      return undefined;
    }
    return repo;
  }

  function route(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const path = url.pathname;
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(path);
    if (m && api) return apiInfo(res, decode(m[1]!), decode(m[2]!), url.searchParams.has('blobs'));
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (m) return resolve(req, res, decode(m[1]!), decode(m[2]!), m[3]!.split('/').map(decode).join('/'));
    m = /^\/cdn\/([^/]+\/[^/]+)\/([0-9a-f]{40})\/(.+)$/.exec(path);
    if (m) return cdn(req, res, decode(m[1]!), m[3]!.split('/').map(decode).join('/'));
    res.writeHead(404, { 'Content-Type': 'text/html' }).end('<!doctype html><title>404</title>');
  }

  function apiInfo(res: ServerResponse, id: string, rev: string, blobs: boolean): void {
    const repo = lookup(res, id, rev);
    if (!repo) return;
    const siblings = [...repo.files.values()].map((f) =>
      blobs
        ? {
            rfilename: f.path,
            size: f.bytes.length,
            blobId: f.lfs ? createHash('sha1').update(f.sha256).digest('hex') : f.gitOid,
            ...(f.lfs ? { lfs: { sha256: f.sha256, size: f.bytes.length, pointerSize: 134 } } : {}),
          }
        : { rfilename: f.path },
    );
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(
      JSON.stringify({
        _id: repo.commit.slice(0, 24),
        id: repo.id,
        sha: repo.commit,
        private: false,
        gated: repo.gated ? 'manual' : false,
        siblings,
      }),
    );
  }

  function resolve(req: IncomingMessage, res: ServerResponse, id: string, rev: string, filePath: string): void {
    const repo = lookup(res, id, rev);
    if (!repo) return;
    if (repo.gated && req.headers.authorization !== `Bearer ${FAKE_HUB_TOKEN}`) {
      error(
        res,
        401,
        'GatedRepo',
        `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
      );
      return;
    }
    const file = repo.files.get(filePath);
    if (!file) {
      error(res, 404, 'EntryNotFound', `${filePath} does not exist on "${rev}"`);
      return;
    }
    const common = { 'X-Repo-Commit': repo.commit };
    if (file.lfs) {
      const location = `/cdn/${repo.id}/${repo.commit}/${filePath.split('/').map(encodeURIComponent).join('/')}?expires=1`;
      res.writeHead(302, {
        ...common,
        Location: location,
        'X-Linked-Etag': `"${file.sha256}"`,
        'X-Linked-Size': String(file.bytes.length),
        ETag: `"${file.gitOid}"`,
      });
      res.end();
      return;
    }
    res.writeHead(200, {
      ...common,
      ETag: `"${file.gitOid}"`,
      'Content-Length': String(file.bytes.length),
      'Content-Type': 'application/octet-stream',
    });
    res.end(req.method === 'HEAD' ? undefined : file.bytes);
  }

  function cdn(req: IncomingMessage, res: ServerResponse, id: string, filePath: string): void {
    const repo = repoOf(id);
    const file = repo?.files.get(filePath);
    if (!repo || !file) {
      res.writeHead(404).end();
      return;
    }
    const bytes = file.bytes;
    const broken = filePath === 'model.safetensors' ? repo.broken : undefined;
    const half = Math.floor(bytes.length / 2);
    const type = { 'Content-Type': 'application/octet-stream', ETag: `"${file.sha256}"` };
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...type, 'Content-Length': String(bytes.length) }).end();
      return;
    }
    if (broken === 'truncated') {
      res.writeHead(200, type); // chunked: the body simply ends early
      res.end(bytes.subarray(0, half));
    } else if (broken === 'drop') {
      res.writeHead(200, { ...type, 'Content-Length': String(bytes.length) });
      res.write(bytes.subarray(0, half), () => setTimeout(() => res.socket?.destroy(), 20));
    } else if (broken === 'stall') {
      res.writeHead(200, { ...type, 'Content-Length': String(bytes.length) });
      res.write(bytes.subarray(0, half));
    } else if (broken === 'corrupt') {
      const copy = bytes.slice();
      copy[copy.length - 1] = copy[copy.length - 1]! ^ 0xff;
      res.writeHead(200, { ...type, 'Content-Length': String(copy.length) }).end(copy);
    } else {
      res.writeHead(200, { ...type, 'Content-Length': String(bytes.length) }).end(bytes);
    }
  }

  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((done, fail) => {
    server.once('error', fail);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      done({
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise<void>((closed) => {
            for (const s of sockets) s.destroy();
            server.close(() => closed());
          }),
      });
    });
  });
}
