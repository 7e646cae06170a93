/**
 * Runs the official ONNX checker (tools/check_onnx.py: check_model(full_check=True) +
 * infer_shapes(strict_mode=True)) on every graph in src/test-util/checker-cases.ts and writes
 * fixtures/onnx-checker.json (sha256 of the exact bytes checked + verdict). src/graph/checker.test.ts
 * fails when a rebuilt graph's hash differs, so graph changes must be re-checked:
 *
 *   node --import tsx tools/onnx/record-checker.ts        (needs /usr/bin/python3 with python3-onnx)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkerCases } from '../../src/test-util/checker-cases';

export const RECORD = 'fixtures/onnx-checker.json';

interface CheckLine {
  ok: boolean;
  error: string | null;
  onnx: string;
  sha256: string;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'onnx-checker-'));
  try {
    const cases = [];
    let version = '';
    for (const [i, c] of checkerCases().entries()) {
      const bytes = await c.build();
      const file = join(dir, `case-${i}.onnx`);
      writeFileSync(file, bytes);
      let line: string;
      try {
        line = execFileSync('/usr/bin/python3', ['tools/check_onnx.py', file], { encoding: 'utf8' });
      } catch (e) {
        line = String((e as { stdout?: string }).stdout ?? '');
      }
      const r = JSON.parse(line.trim().split('\n').pop() ?? '{}') as CheckLine;
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (r.sha256 !== sha256) throw new Error(`${c.name}: the checker read other bytes than were written`);
      version = r.onnx;
      cases.push({ name: c.name, sha256, bytes: bytes.length, ok: r.ok, error: r.error });
      console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${c.name}${r.error ? `: ${r.error}` : ''}`);
    }
    const record = {
      note: 'Written by tools/onnx/record-checker.ts; regenerate with `node --import tsx tools/onnx/record-checker.ts` after any graph change.',
      checker: `python3-onnx ${version}: onnx.checker.check_model(full_check=True) + onnx.shape_inference.infer_shapes(strict_mode=True) (tools/check_onnx.py)`,
      cases,
    };
    writeFileSync(RECORD, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`wrote ${RECORD}`);
    if (cases.some((c) => !c.ok)) process.exitCode = 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
