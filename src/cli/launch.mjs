/**
 * The CLI's launcher (`npm run cli -- ...`): runs src/cli/main.ts under tsx in a child Node with
 * glibc's mmap threshold fixed at 128 KiB (MALLOC_MMAP_THRESHOLD_, read by glibc when a process
 * starts, so it cannot be set from inside). Left dynamic, glibc raises the threshold after the first
 * large free, and the model's many 2-32 MB tensor buffers (loading, per-run streams) are then served
 * from the heap and kept after they are freed: gpt2-124m's load held 1,061 MB RSS for 476 MB of
 * weights, 739 MB with the fixed threshold (issue 11; bench/scale.ts runs its children the same way).
 * A value the user already set wins; other platforms ignore the variable.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const MALLOC_ENV = { MALLOC_MMAP_THRESHOLD_: String(128 * 1024) };

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...process.argv.slice(2)], {
  stdio: 'inherit',
  env: { ...MALLOC_ENV, ...process.env },
});
if (r.error) throw r.error;
process.exit(r.status ?? 1);
