/**
 * `prune-studio eval --images` on the tiny ViT fixture, as a user runs it: IDX files (one gzipped)
 * and an image set v1 manifest give the accuracy, loss and confusion matrix of the independent
 * PyTorch reference's logits (fixtures/golden/vit.json); a missing --labels is a named error.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { classifierAccuracy } from '../eval/accuracy';

const golden = JSON.parse(readFileSync('fixtures/golden/vit.json', 'utf8')) as {
  uint8: { images_hwc: number[][][][]; logits: number[][] };
};
const pixels = golden.uint8.images_hwc.flat(3);
const labels = [2, 0];

function idx(dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, 8, dims.length]);
  dims.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function cli(...args: string[]) {
  const r = spawnSync('node', ['--import', 'tsx', 'src/cli/main.ts', 'eval', '--model', 'fixtures/hub/tiny/vit-tiny', ...args, '--json'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { code: r.status, stderr: r.stderr, json: (last ? JSON.parse(last) : {}) as Record<string, unknown> };
}

describe('cli eval --images', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vit-cli-'));
  const want = classifierAccuracy(golden.uint8.logits.flat(), labels, 3);

  it('IDX images (gzipped) and labels', () => {
    writeFileSync(join(dir, 'images-idx3-ubyte.gz'), gzipSync(idx([2, 8, 8, 2], pixels)));
    writeFileSync(join(dir, 'labels-idx1-ubyte'), idx([2], labels));
    const r = cli('--images', join(dir, 'images-idx3-ubyte.gz'), '--labels', join(dir, 'labels-idx1-ubyte'));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ metric: 'accuracy', images: 2, correct: want.correct, confusion: want.confusion });
    expect(r.json.meanLoss as number).toBeCloseTo(want.meanLoss, 4);
    expect(r.json.protocol).toMatchObject({ dataset: 'images-idx3-ubyte.gz', images: 2 });
  });

  it('an image set v1 manifest with --limit', () => {
    writeFileSync(join(dir, 'set.bin'), Uint8Array.from([...pixels, ...labels]));
    writeFileSync(
      join(dir, 'set.json'),
      JSON.stringify({ file: 'set.bin', count: 2, shape: [8, 8], channels: 2, images: { offset: 0 }, labels: { offset: 256 } }),
    );
    const r = cli('--images', join(dir, 'set.json'), '--limit', '1');
    expect(r.code).toBe(0);
    const one = classifierAccuracy(golden.uint8.logits[0]!, [labels[0]!], 3);
    expect(r.json).toMatchObject({ images: 1, correct: one.correct });
    expect(r.json.meanLoss as number).toBeCloseTo(one.meanLoss, 4);
    expect((r.json.protocol as { dataset: string }).dataset).toBe('set.json, first 1 of 2');
  });

  it('refuses IDX images without labels by name', () => {
    const r = cli('--images', join(dir, 'images-idx3-ubyte.gz'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/InputError.*its labels are a second file[\s\S]*hint: Pass --labels/);
  });
});
