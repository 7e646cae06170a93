/**
 * `prune-studio prune --images` on the tiny ViT fixture, as a user runs it: calibrates on the
 * labelled images, prunes 50% of heads and FFN neurons with OBS, writes the verified bundle
 * (onnx/model.onnx, config.json, preprocessor_config.json, plan.json, README.md), and
 * `eval --model <bundle> --images` on the same images gives the pruned accuracy and mean loss that
 * the command and the bundle's README report.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function idx(dims: number[], data: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out.set([0, 0, 8, dims.length]);
  dims.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

function cli(...args: string[]) {
  const r = spawnSync('node', ['--import', 'tsx', 'src/cli/main.ts', ...args, '--json'], { encoding: 'utf8', timeout: 180_000 });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  return { code: r.status, stderr: r.stderr, json: (last ? JSON.parse(last) : {}) as Record<string, unknown> };
}

interface Brief {
  accuracy: number;
  meanLoss: number;
  correct: number;
}

describe('cli prune --images', () => {
  it('writes a ViT bundle whose re-loaded accuracy is the one the command and the README report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vit-prune-'));
    const count = 24;
    const pixels = Array.from({ length: count * 128 }, (_, i) => (i * 97 + Math.floor(i / 128) * 31) % 256);
    writeFileSync(join(dir, 'images-idx3-ubyte'), idx([count, 8, 8, 2], pixels));
    writeFileSync(
      join(dir, 'labels-idx1-ubyte'),
      idx(
        [count],
        Array.from({ length: count }, (_, i) => (i * 5) % 3),
      ),
    );
    const images = ['--images', join(dir, 'images-idx3-ubyte'), '--labels', join(dir, 'labels-idx1-ubyte')];
    const out = join(dir, 'bundle');
    const r = cli(
      'prune',
      '--model',
      'fixtures/hub/tiny/vit-tiny',
      '--criterion',
      'wanda',
      '--heads',
      '0.5',
      '--ffn',
      '0.5',
      '--allocation',
      'global',
      '--compensate',
      'obs',
      '--samples',
      '16',
      ...images,
      '--out',
      out,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const f of ['onnx/model.onnx', 'config.json', 'preprocessor_config.json', 'plan.json', 'README.md'])
      expect(existsSync(join(out, f)), f).toBe(true);
    const acc = r.json.accuracy as { dense: Brief; pruned: Brief };
    expect(acc.dense.accuracy).toBeGreaterThanOrEqual(0);
    const readme = readFileSync(join(out, 'README.md'), 'utf8');
    const pct = `${(100 * acc.pruned.accuracy).toFixed(2)}%`;
    expect(readme).toContain(`- pruned: **${pct}**`);
    expect(readme).toContain(`measured after writing on the same images: **${pct}**`);

    const reloaded = cli('eval', '--model', out, ...images);
    expect(reloaded.code, reloaded.stderr).toBe(0);
    expect(reloaded.json.correct).toBe(acc.pruned.correct);
    expect(Math.abs((reloaded.json.meanLoss as number) - acc.pruned.meanLoss)).toBeLessThan(1e-4);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')) as { prune_studio: { layers: { num_heads: number }[] } };
    expect(config.prune_studio.layers.reduce((n, l) => n + l.num_heads, 0)).toBe(2);
  });

  it('--train-images + --recover-steps: calibrates and trains on the training images, reports on --images', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vit-recover-'));
    const write = (name: string, count: number, seed: number) => {
      const pixels = Array.from({ length: count * 128 }, (_, i) => (i * 89 + seed * 13 + Math.floor(i / 128) * 29) % 256);
      writeFileSync(join(dir, `${name}-images`), idx([count, 8, 8, 2], pixels));
      writeFileSync(
        join(dir, `${name}-labels`),
        idx(
          [count],
          Array.from({ length: count }, (_, i) => (i * 7 + seed) % 3),
        ),
      );
    };
    write('train', 32, 1);
    write('test', 12, 2);
    const out = join(dir, 'bundle');
    const r = cli(
      'prune',
      '--model',
      'fixtures/hub/tiny/vit-tiny',
      '--criterion',
      'magnitude',
      '--heads',
      '0.5',
      '--ffn',
      '0.5',
      '--compensate',
      'obs',
      '--images',
      join(dir, 'test-images'),
      '--labels',
      join(dir, 'test-labels'),
      '--train-images',
      join(dir, 'train-images'),
      '--train-labels',
      join(dir, 'train-labels'),
      '--recover-steps',
      '4',
      '--recover-batch',
      '8',
      '--out',
      out,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Recovery step 4\/4/);
    expect(r.stderr).not.toMatch(/warning/);
    const rec = r.json.recoveryTraining as { training: { steps: number; samples: number }; curve: unknown[] };
    expect(rec.training).toMatchObject({ steps: 4, samples: 32 });
    expect(rec.curve).toHaveLength(4);
    const acc = r.json.accuracy as { pruned: Brief };
    expect(acc.pruned).toBeDefined();
    const reloaded = cli('eval', '--model', out, '--images', join(dir, 'test-images'), '--labels', join(dir, 'test-labels'));
    expect(reloaded.code, reloaded.stderr).toBe(0);
    expect(reloaded.json.correct).toBe(acc.pruned.correct);
    expect(Math.abs((reloaded.json.meanLoss as number) - acc.pruned.meanLoss)).toBeLessThan(1e-4);
  });
});
