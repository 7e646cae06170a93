/**
 * Hub loading against the local fake Hub (src/test-util/fake-hub.ts): repo ids and URLs, revision
 * pinning to the commit, redirects to the CDN, size + sha256 / git-sha1 verification, the cache
 * (hits, no half entries), gated repos with and without a token, and every HTTP failure mode
 * (401 RepoNotFound, 404 revision / file, truncated body, connection drop, corrupt bytes, stall,
 * cancellation), plus a mirror without the /api routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CancelledError, FetchError, GatedModelError, InputError } from '../core/errors';
import { loadModelIR } from '../arch/load';
import { FAKE_HUB_TOKEN, startFakeHub, type FakeHub } from '../test-util/fake-hub';
import { cacheStorageCache, memoryCache, type CacheLike, type CacheStorageLike } from './hub-cache';
import { parseModelRef, resolveUrl } from './hub-ref';
import { hubSource } from './hub-source';

let hub: FakeHub;
let mirror: FakeHub;
beforeAll(async () => {
  hub = await startFakeHub();
  mirror = await startFakeHub({ api: false });
});
afterAll(async () => {
  await hub.close();
  await mirror.close();
});

async function rejects(p: Promise<unknown>, cls: new (...a: never[]) => Error, fragment: RegExp): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e, String(e)).toBeInstanceOf(cls);
  expect((e as Error).message).toMatch(fragment);
  return e as Error;
}

describe('model references', () => {
  it('parses repo ids, revisions and Hub URLs', () => {
    expect(parseModelRef('openai-community/gpt2')).toEqual({ repo: 'openai-community/gpt2', revision: 'main' });
    expect(parseModelRef(' gpt2 ')).toEqual({ repo: 'gpt2', revision: 'main' });
    expect(parseModelRef('Qwen/Qwen2.5-0.5B@refs/pr/3')).toEqual({ repo: 'Qwen/Qwen2.5-0.5B', revision: 'refs/pr/3' });
    expect(parseModelRef('https://huggingface.co/meta-llama/Llama-3.2-1B')).toEqual({
      repo: 'meta-llama/Llama-3.2-1B',
      revision: 'main',
      endpoint: 'https://huggingface.co',
    });
    expect(parseModelRef('https://hf-mirror.com/org/m/tree/v1.0')).toEqual({
      repo: 'org/m',
      revision: 'v1.0',
      endpoint: 'https://hf-mirror.com',
    });
    expect(parseModelRef('https://huggingface.co/org/m/resolve/abc123/config.json')).toMatchObject({ repo: 'org/m', revision: 'abc123' });
    expect(resolveUrl('https://h.co', 'org/m', 'refs/pr/1', 'onnx/model.onnx')).toBe(
      'https://h.co/org/m/resolve/refs%2Fpr%2F1/onnx/model.onnx',
    );
  });

  it('refuses what is not a model repo id', () => {
    expect(() => parseModelRef('')).toThrow(InputError);
    expect(() => parseModelRef('a/b/c')).toThrow(/more than one "\/"/);
    expect(() => parseModelRef('org/na me')).toThrow(/only letters, digits/);
    expect(() => parseModelRef('org/x--y')).toThrow(/"--" and ".." are not allowed/);
    expect(() => parseModelRef('org/m@')).toThrow(/not a valid revision/);
    expect(() => parseModelRef('https://huggingface.co/datasets/org/d')).toThrow(/is a dataset, not a model/);
  });
});

describe('downloads from the fake Hub', () => {
  it('pins the revision to its commit, follows redirects and verifies every file', async () => {
    const source = hubSource('tiny/llama-gqa-bf16', 'main', { endpoint: hub.url });
    const info = await source.info();
    expect(info.commit).toMatch(/^[0-9a-f]{40}$/);
    expect(info.files?.get('model.safetensors')).toMatchObject({ size: 81288, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(info.files?.get('config.json')?.gitOid).toMatch(/^[0-9a-f]{40}$/);
    const start = hub.requests.length;
    const progress: number[] = [];
    const bytes = await source.read('model.safetensors', (loaded) => progress.push(loaded));
    expect(bytes.length).toBe(81288);
    expect(progress.at(-1)).toBe(81288);
    const paths = hub.requests.slice(start).map((r) => r.path);
    expect(paths[0]).toBe(`/tiny/llama-gqa-bf16/resolve/${info.commit}/model.safetensors`);
    expect(paths[1]).toMatch(/^\/cdn\/tiny\/llama-gqa-bf16\/[0-9a-f]{40}\/model.safetensors/);
  });

  it('serves a second load from the cache without downloading the weights again', async () => {
    const cache = memoryCache();
    const events: string[] = [];
    const open = () =>
      hubSource('tiny/qwen2-f16', 'main', { endpoint: hub.url, cache, onCache: (e) => events.push(`${e.hit ? 'hit' : 'put'} ${e.path}`) });
    const first = await loadModelIR(open());
    const start = hub.requests.length;
    const second = await loadModelIR(open());
    expect(second.ir.weights).toEqual(first.ir.weights);
    expect(hub.requests.slice(start).filter((r) => r.path.includes('/resolve/') || r.path.startsWith('/cdn/'))).toEqual([]);
    expect(events).toContain('put model.safetensors');
    expect(events).toContain('hit model.safetensors');
    expect([...cache.entries.keys()].some((k) => k.endsWith('/model.safetensors'))).toBe(true);
  });

  it('drops a cache entry whose size is wrong and downloads again', async () => {
    const cache = memoryCache();
    const source = hubSource('tiny/qwen2-f16', 'main', { endpoint: hub.url, cache });
    const info = await source.info();
    const key = resolveUrl(hub.url, 'tiny/qwen2-f16', info.commit, 'model.safetensors');
    cache.entries.set(key, new Uint8Array(10));
    expect((await source.read('model.safetensors')).length).toBe(info.files?.get('model.safetensors')?.size);
    expect(cache.entries.get(key)?.length).toBe(info.files?.get('model.safetensors')?.size);
  });

  it('works with a mirror that has no /api (HEAD probes, X-Repo-Commit)', async () => {
    const { ir } = await loadModelIR(hubSource('tiny/gpt2-sharded', 'main', { endpoint: mirror.url }));
    expect(ir.layers).toHaveLength(2);
    expect(mirror.requests.some((r) => r.method === 'HEAD')).toBe(true);
  });
});

describe('Hub failures', () => {
  const cacheKeys = (c: ReturnType<typeof memoryCache>) => [...c.entries.keys()].filter((k) => k.endsWith('model.safetensors'));

  it('unknown repository: 401 RepoNotFound', async () => {
    await rejects(
      hubSource('nobody/nothing', 'main', { endpoint: hub.url }).read('config.json'),
      FetchError,
      /There is no model repository "nobody\/nothing" on http:\/\/127.0.0.1:\d+ \(HTTP 401\)/,
    );
  });

  it('unknown revision and missing file: 404', async () => {
    await rejects(
      hubSource('tiny/llama-tied', 'no-such-branch', { endpoint: hub.url }).read('config.json'),
      FetchError,
      /tiny\/llama-tied has no revision "no-such-branch" \(HTTP 404\)/,
    );
    const e = await rejects(
      hubSource('tiny/llama-tied', 'main', { endpoint: hub.url }).read('pytorch_model.bin'),
      FetchError,
      /tiny\/llama-tied@main has no file pytorch_model.bin/,
    );
    expect((e as FetchError).status).toBe(404);
  });

  it('gated repository: refused before downloading without a token, with a wrong token, accepted with the right one', async () => {
    const start = hub.requests.length;
    await rejects(
      loadModelIR(hubSource('gated/llama-tied', 'main', { endpoint: hub.url })),
      GatedModelError,
      /gated\/llama-tied is a gated model: downloading it needs an access token/,
    );
    expect(hub.requests.slice(start).filter((r) => r.path.includes('/resolve/'))).toEqual([]);
    const wrong = await rejects(
      loadModelIR(hubSource('gated/llama-tied', 'main', { endpoint: hub.url, token: 'hf_wrong' })),
      GatedModelError,
      /is a gated model \(HTTP 401\): this access token has not been granted access/,
    );
    expect(wrong).toMatchObject({ code: 'GATED_MODEL', status: 401 });
    expect((wrong as GatedModelError).hint).toMatch(/accept its licence/);
    const { ir } = await loadModelIR(hubSource('gated/llama-tied', 'main', { endpoint: hub.url, token: FAKE_HUB_TOKEN }));
    expect(ir.layers).toHaveLength(3);
  });

  it('truncated body: named, and nothing cached', async () => {
    const cache = memoryCache();
    await rejects(
      hubSource('broken/truncated', 'main', { endpoint: hub.url, cache }).read('model.safetensors'),
      FetchError,
      /download of model.safetensors \(broken\/truncated@main\) was cut off: 40644 of 81288 bytes arrived/,
    );
    expect(cacheKeys(cache)).toEqual([]);
  });

  it('network drop mid-download: named, and nothing cached', async () => {
    const cache = memoryCache();
    await rejects(
      hubSource('broken/drop', 'main', { endpoint: hub.url, cache }).read('model.safetensors'),
      FetchError,
      /connection dropped while downloading model.safetensors \(broken\/drop@main\), after .* of 79.4 KB/,
    );
    expect(cacheKeys(cache)).toEqual([]);
  });

  it('corrupt bytes: the sha256 check fails, nothing cached', async () => {
    const cache = memoryCache();
    await rejects(
      hubSource('broken/corrupt', 'main', { endpoint: hub.url, cache }).read('model.safetensors'),
      FetchError,
      /model.safetensors \(broken\/corrupt@main\) is corrupt: its sha256 is [0-9a-f]{64}, the Hub lists [0-9a-f]{64}/,
    );
    expect(cacheKeys(cache)).toEqual([]);
  });

  it('a stalled download times out instead of hanging', async () => {
    await rejects(
      hubSource('broken/stall', 'main', { endpoint: hub.url, stallMs: 300 }).read('model.safetensors'),
      FetchError,
      /download of model.safetensors \(broken\/stall@main\) stalled: no data for 300 ms/,
    );
  });

  it('cancel during a download: CancelledError, nothing cached', async () => {
    const cache = memoryCache();
    const controller = new AbortController();
    const source = hubSource('broken/stall', 'main', { endpoint: hub.url, cache });
    setTimeout(() => controller.abort(), 200);
    await rejects(
      source.read('model.safetensors', undefined, controller.signal),
      CancelledError,
      /Downloading model.safetensors \(broken\/stall@main\) was cancelled/,
    );
    expect(cacheKeys(cache)).toEqual([]);
  });

  it('an unreachable endpoint is a FetchError naming it', async () => {
    await rejects(
      hubSource('tiny/x', 'main', { endpoint: 'http://127.0.0.1:9' }).read('config.json'),
      FetchError,
      /Could not reach http:\/\/127.0.0.1:9/,
    );
  });
});

describe('Cache API adapter', () => {
  function fakeStorage(): CacheStorageLike & { store: Map<string, Response> } {
    const store = new Map<string, Response>();
    const cache: CacheLike = {
      async match(k) {
        return store.get(k)?.clone();
      },
      async put(k, r) {
        store.set(k, r);
      },
      async delete(k) {
        return store.delete(k);
      },
    };
    return { store, open: async () => cache };
  }

  it('stores verified bytes in one put, reads them back, and drops entries of the wrong size', async () => {
    const storage = fakeStorage();
    const cache = cacheStorageCache(storage);
    const key = 'http://h/org/m/resolve/abc/model.safetensors';
    await cache.put(key, Uint8Array.of(1, 2, 3), { sha256: 'ab' });
    expect(Array.from((await cache.get(key, 3))!)).toEqual([1, 2, 3]);
    expect(await cache.get(key, 4)).toBeUndefined();
    expect(storage.store.has(key)).toBe(false);
  });

  it('a failing put leaves no entry behind', async () => {
    const storage = fakeStorage();
    const cache = cacheStorageCache({
      open: async () => ({
        ...(await storage.open('x')),
        put: async (k: string, r: Response) => {
          storage.store.set(k, r);
          throw new Error('QuotaExceededError');
        },
      }),
    });
    await expect(cache.put('http://h/k', Uint8Array.of(1))).rejects.toThrow(/Quota/);
    expect(storage.store.size).toBe(0);
  });
});
