#!/usr/bin/env node
// Runs every test: the layering check (dependency-cruiser, counted as one test), unit/integration
// (vitest, Node) and e2e (Playwright + Debian Chromium against the built app), then prints one
// closing line: `tests: N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

const results = 'test-results';
mkdirSync(results, { recursive: true });

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

let passed = 0;
let failed = 0;
let skipped = 0;

// 1. layering: import cycles and the room rules of .dependency-cruiser.mjs (one test)
if (run('npm', ['run', '--silent', 'lint:deps']) === 0) passed += 1;
else failed += 1;

// 2. vitest
rmSync(`${results}/unit.json`, { force: true });
const unitCode = run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}/unit.json`]);
const unit = readJson(`${results}/unit.json`);
if (unit) {
  passed += unit.numPassedTests;
  // vitest's numFailedTestSuites also counts describe blocks: add only files that failed with no failed test (load errors).
  failed += unit.numFailedTests + countFilesFailedWithoutFailedTests(unit);
  skipped += (unit.numPendingTests ?? 0) + (unit.numTodoTests ?? 0);
} else if (unitCode !== 0) failed += 1;

// 3. e2e
const onlyUnit = process.argv.includes('--unit-only');
if (!onlyUnit) {
  let e2eCode = run('node', ['tools/ensure-chromium.mjs']);
  if (e2eCode === 0) e2eCode = run('npx', ['vite', 'build', '--logLevel', 'warn']);
  rmSync(`${results}/e2e.json`, { force: true });
  if (e2eCode === 0) e2eCode = run('npx', ['playwright', 'test'], { PLAYWRIGHT_JSON_OUTPUT_NAME: `${results}/e2e.json` });
  const e2e = readJson(`${results}/e2e.json`);
  if (e2e?.stats) {
    passed += e2e.stats.expected + (e2e.stats.flaky ?? 0);
    failed += e2e.stats.unexpected;
    skipped += e2e.stats.skipped ?? 0;
  } else if (e2eCode !== 0) failed += 1;
  if (e2eCode !== 0 && e2e?.stats?.unexpected === 0) failed += 1;
}

function countFilesFailedWithoutFailedTests(report) {
  return (report.testResults ?? []).filter((s) => s.status === 'failed' && !(s.assertionResults ?? []).some((a) => a.status === 'failed'))
    .length;
}

const line = `tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
console.log(line);
process.exit(failed === 0 && existsSync(`${results}/unit.json`) ? 0 : 1);
