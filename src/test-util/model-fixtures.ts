/**
 * Test helper: the tiny model fixtures of tools/fixtures/make_fixtures.py (fixtures/manifest.json,
 * fixtures/hub/<org>/<name>) and their golden logits from the independent PyTorch reference
 * (fixtures/golden/models.json), plus the largest logit error of ONNX bytes through a Runner.
 * Imports nothing from the graph builder, so Playwright specs can use it.
 */
import { readFileSync } from 'node:fs';
import { asFloat32, int64Tensor, type Runner } from '../core/runner';

export const HUB_ROOT = 'fixtures/hub';
export const BAD_ROOT = 'fixtures/bad';

export interface FixtureModel {
  repo: string;
  family: 'gpt2' | 'llama';
  model_type: string;
  format: 'safetensors' | 'onnx';
  dtype?: string;
  layout?: string;
  tied?: boolean;
  onnx?: string;
  external_data?: string | null;
  options?: Record<string, unknown>;
  /** Repo whose golden logits this fixture must reproduce. */
  golden: string;
}

export interface GoldenCase {
  name: string;
  ids: number[];
  /** [seq][vocab] */
  logits: number[][];
}

interface Manifest {
  models: FixtureModel[];
  bad: Record<string, string>;
}

interface Goldens {
  text: string;
  text_ids: number[];
  models: Record<string, { cases: GoldenCase[] }>;
}

let manifest: Manifest | undefined;
let goldens: Goldens | undefined;

export function fixtureModels(format?: FixtureModel['format']): FixtureModel[] {
  manifest ??= JSON.parse(readFileSync('fixtures/manifest.json', 'utf8')) as Manifest;
  return manifest.models.filter((m) => !format || m.format === format);
}

export function fixtureDir(repo: string): string {
  return `${HUB_ROOT}/${repo}`;
}

export function goldenData(): Goldens {
  goldens ??= JSON.parse(readFileSync('fixtures/golden/models.json', 'utf8')) as Goldens;
  return goldens;
}

export function goldenCases(repo: string): GoldenCase[] {
  const g = goldenData().models[repo];
  if (!g) throw new Error(`no golden logits for ${repo}: run /usr/bin/python3 tools/fixtures/make_fixtures.py`);
  return g.cases;
}

/** Largest |logit - golden| over every case, running `onnx` (a logits graph) on each case's ids. */
export async function maxGoldenDiff(runner: Runner, onnx: Uint8Array, repo: string): Promise<number> {
  const session = await runner.open(onnx, { threads: 1 });
  try {
    let worst = 0;
    for (const c of goldenCases(repo)) {
      const out = await session.run({ input_ids: int64Tensor(c.ids, [1, c.ids.length]) }, ['logits']);
      const got = asFloat32(out.logits, 'logits');
      const want = c.logits.flat();
      if (got.length !== want.length) throw new Error(`${repo}/${c.name}: ${got.length} logits, golden has ${want.length}`);
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
    }
    return worst;
  } finally {
    await session.release();
  }
}
