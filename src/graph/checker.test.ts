/**
 * The ONNX checker claim, auditable without python3-onnx: fixtures/onnx-checker.json records the
 * sha256 of every graph in src/test-util/checker-cases.ts that passed onnx.checker (full_check) +
 * strict shape inference. Rebuilding must give the same bytes, so changing the graph fails this
 * test until `node --import tsx tools/onnx/record-checker.ts` is re-run. Where python3-onnx is
 * installed, the checker also runs live on the freshly built bytes.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkerCases } from '../test-util/checker-cases';

interface CheckerRecord {
  checker: string;
  cases: { name: string; sha256: string; bytes: number; ok: boolean; error: string | null }[];
}

const REGENERATE = 'node --import tsx tools/onnx/record-checker.ts';
const record = JSON.parse(readFileSync('fixtures/onnx-checker.json', 'utf8')) as CheckerRecord;
const cases = checkerCases();
const hasOnnxPython = spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('ONNX checker record (fixtures/onnx-checker.json)', () => {
  it('lists every checker case, each passed', () => {
    expect(
      record.cases.map((c) => c.name),
      `the case list changed: run ${REGENERATE}`,
    ).toEqual(cases.map((c) => c.name));
    for (const c of record.cases) expect(c.ok, `${c.name}: ${c.error ?? ''}`).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s: rebuilt bytes are the ones the checker passed', async (name, c) => {
    const bytes = await c.build();
    const recorded = record.cases.find((r) => r.name === name);
    expect(sha256(bytes), `graph "${name}" changed since the ONNX checker last ran: run ${REGENERATE}`).toBe(recorded?.sha256);
  });
});

describe.runIf(hasOnnxPython)('ONNX checker, live (python3-onnx installed)', () => {
  it('tools/check_onnx.py passes every freshly built case', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onnx-check-'));
    try {
      const files = await Promise.all(
        cases.map(async (c, i) => {
          const file = join(dir, `${i}.onnx`);
          writeFileSync(file, await c.build());
          return file;
        }),
      );
      const out = execFileSync('/usr/bin/python3', ['tools/check_onnx.py', ...files], { encoding: 'utf8' });
      const lines = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { ok: boolean; error: string | null });
      expect(lines).toHaveLength(cases.length);
      lines.forEach((l, i) => expect(l.ok, `${cases[i]!.name}: ${l.error ?? ''}`).toBe(true));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
