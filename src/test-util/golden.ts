/** Test helper: golden fixtures from the independent PyTorch reference, checked against the model they were made from. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { StudioApi } from '../api/types';

export const DEMO_DIR = 'public/models/demo-gpt2';

export function readGolden<T>(name: string): T & { model_sha256: string } {
  const golden = JSON.parse(readFileSync(`fixtures/golden/${name}`, 'utf8')) as T & { model_sha256: string };
  const sha = createHash('sha256')
    .update(readFileSync(`${DEMO_DIR}/model.safetensors`))
    .digest('hex');
  if (golden.model_sha256 !== sha) {
    throw new Error(
      `fixtures/golden/${name} was made from another model.safetensors (sha256 ${golden.model_sha256.slice(0, 12)}…, current ${sha.slice(0, 12)}…). ` +
        'Regenerate: /usr/bin/python3 tools/reference/make_goldens.py public/models/demo-gpt2',
    );
  }
  return golden;
}

export function maxRelativeError(actual: ArrayLike<number>, expected: readonly number[]): number {
  let worst = 0;
  expected.forEach((e, i) => {
    const a = actual[i]!;
    worst = Math.max(worst, Math.abs(a - e) / Math.max(Math.abs(e), 1e-12));
  });
  return worst;
}

/** Loads the demo model into `api` and calibrates it on calibration.txt as a golden fixture did. */
export async function loadDemoCalibrated(
  api: Pick<StudioApi, 'loadModel' | 'calibrate'>,
  calibration: { samples: number; seq: number },
  withHessians: boolean,
): Promise<void> {
  await api.loadModel({ kind: 'dir', path: DEMO_DIR });
  await api.calibrate({
    text: readFileSync('public/data/calibration.txt', 'utf8'),
    textName: 'calibration.txt',
    samples: calibration.samples,
    seq: calibration.seq,
    withHessians,
  });
}
