/**
 * The tensor-by-tensor read (FileSource.readRange) against the whole-file read, whose validation
 * follows the reference safetensors reader (src/io/safetensors.test.ts): same tensors bit for bit
 * on the fixtures (f32, f16, bf16, sharded), same errors on broken files, and never a range larger
 * than the header or one tensor.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { dirSource } from '../cli/dir-source';
import { blobSource } from '../io/blob-source';
import type { FileSource } from '../io/source';
import { allocatingShared } from '../core/tensor';
import { readCheckpoint } from './checkpoint';

const TINY = 'fixtures/hub/tiny';

/** The same folder without range reads: the whole-file path. */
function wholeOnly(source: FileSource): FileSource {
  const { readRange: _r, ...rest } = source;
  return rest;
}

/** Records the largest range asked for. */
function recording(source: FileSource): FileSource & { largest: () => number } {
  let largest = 0;
  return {
    ...source,
    readRange: (path, start, end, signal) => {
      largest = Math.max(largest, end - start);
      return source.readRange!(path, start, end, signal);
    },
    largest: () => largest,
  };
}

/** Every tensor of the checkpoint, or the error asking for it gives (non-float buffers such as GPT-2's attn.bias). */
async function tensors(source: FileSource): Promise<Map<string, { shape: readonly number[]; data: Float32Array } | string>> {
  const c = await readCheckpoint(source);
  const out = new Map<string, { shape: readonly number[]; data: Float32Array } | string>();
  for (const n of c.names) {
    try {
      out.set(n, c.get(n)!);
    } catch (e) {
      out.set(n, (e as Error).message);
    }
  }
  return out;
}

async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return `${(e as Error).name}: ${(e as Error).message}`;
  }
  return 'no error';
}

describe('safetensors read tensor by tensor', () => {
  for (const model of ['gpt2-untied-f16', 'llama-gqa-bf16', 'llama-tied', 'qwen2-f16', 'gpt2-sharded', 'vit-tiny']) {
    it(`${model}: the same tensors as the whole-file read, one tensor per range`, async () => {
      const ranged = recording(dirSource(join(TINY, model)));
      const a = await tensors(ranged);
      const b = await tensors(wholeOnly(dirSource(join(TINY, model))));
      expect([...a.keys()].sort()).toEqual([...b.keys()].sort());
      let largestTensor = 0;
      for (const [name, t] of b) {
        const r = a.get(name)!;
        if (typeof t === 'string' || typeof r === 'string') {
          expect(r, name).toBe(t);
          continue;
        }
        expect(r.shape).toEqual(t.shape);
        expect(
          Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).equals(
            Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength),
          ),
        ).toBe(true);
        largestTensor = Math.max(largestTensor, t.data.length * 4);
      }
      expect(ranged.largest()).toBeGreaterThan(0);
      // bytes on disk per element are at most 4 (f32), and the header is small
      expect(ranged.largest()).toBeLessThanOrEqual(Math.max(largestTensor, 64 * 1024));
    });
  }

  it('keeps an F32 tensor in the buffer its range was read into (no copy), and copies into shared memory when asked', async () => {
    const reads: ArrayBufferLike[] = [];
    const source = dirSource(join(TINY, 'llama-tied'));
    const keeping: FileSource = {
      ...source,
      readRange: async (path, start, end, signal) => {
        const bytes = await source.readRange!(path, start, end, signal);
        reads.push(bytes.buffer);
        return bytes;
      },
    };
    const names = (c: Awaited<ReturnType<typeof readCheckpoint>>) => c.names.filter((n) => /proj|embed/.test(n));
    const plain = await readCheckpoint(keeping);
    expect(names(plain).length).toBeGreaterThan(3);
    for (const n of names(plain)) expect(reads).toContain(plain.get(n)!.data.buffer);
    const shared = await allocatingShared(() => readCheckpoint(keeping));
    const whole = await readCheckpoint(wholeOnly(source));
    for (const n of names(shared)) {
      const t = shared.get(n)!;
      expect(t.data.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(Array.from(t.data)).toEqual(Array.from(whole.get(n)!.data));
    }
  });

  it('refuses a broken file with the whole-file read’s message (truncated, bad header length, trailing bytes)', async () => {
    const good = readFileSync(join(TINY, 'llama-tied', 'model.safetensors'));
    const headerLength = Number(good.readBigUInt64LE(0));
    const broken: Record<string, Uint8Array> = {
      truncated: good.subarray(0, good.length - 10),
      shortFile: good.subarray(0, 5),
      headerPastEnd: (() => {
        const b = Buffer.from(good.subarray(0, 8 + headerLength));
        b.writeBigUInt64LE(BigInt(good.length), 0);
        return b;
      })(),
      trailing: Buffer.concat([good, Buffer.alloc(4)]),
    };
    const config = readFileSync(join(TINY, 'llama-tied', 'config.json'));
    for (const [what, bytes] of Object.entries(broken)) {
      const source = blobSource([
        { path: 'config.json', file: new Blob([config]) },
        { path: 'model.safetensors', file: new Blob([bytes as Uint8Array<ArrayBuffer>]) },
      ]);
      const ranged = await errorOf(readCheckpoint(source));
      const whole = await errorOf(readCheckpoint(wholeOnly(source)));
      expect(ranged, what).toMatch(/^SafetensorsError/);
      expect(ranged, what).toBe(whole);
    }
  });
});
