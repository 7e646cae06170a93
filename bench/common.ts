/** Shared benchmark helpers: open the demo model in Node, time things, record peak memory, write JSON. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { createStudioApi } from '../src/api/studio';
import type { Runner } from '../src/core/runner';
import { dirSource } from '../src/cli/dir-source';
import { fileGramStore } from '../src/cli/gram-file-store';
import { collectGarbage } from '../src/cli/collect-garbage';

export const DEMO = 'public/models/demo-gpt2';
export const EVAL_TEXT = readFileSync('public/data/evaluation.txt', 'utf8');
export const CALIB_TEXT = readFileSync('public/data/calibration.txt', 'utf8');

export async function openDemo(runner: Runner) {
  const api = createStudioApi({ runner, demoUrl: '', openDir: dirSource, gramStore: fileGramStore, collectGarbage });
  await api.loadModel({ kind: 'dir', path: DEMO });
  return api;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const t0 = performance.now();
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { value, ms: performance.now() - t0, peakRssMb: peak / 2 ** 20 };
  } finally {
    clearInterval(timer);
  }
}

/** The value after `--name` in `args`, if any. */
export function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

export function machine() {
  return { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', date: new Date().toISOString() };
}

/** A stored result (with the machine record it was measured on: writeResult keeps it), or {} when there is none. */
export function readResult(name: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(join('bench/results', `${name}.json`), 'utf8')) as Record<string, unknown>;
  } catch {
    return {};
  }
}

export function writeResult(name: string, data: unknown): string {
  mkdirSync('bench/results', { recursive: true });
  const path = join('bench/results', `${name}.json`);
  writeFileSync(path, `${JSON.stringify({ machine: machine(), ...(data as object) }, null, 2)}\n`);
  return path;
}
