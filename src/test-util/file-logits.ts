/** Logits of written ONNX bytes opened through graph/open-file.ts (tests of that path). */
import { asFloat32, type Feeds, type Runner } from '../core/runner';
import { openFileBytes, type OpenFileOptions } from '../graph/open-file';

export async function fileLogits(runner: Runner, bytes: Uint8Array, options: OpenFileOptions, feeds: Feeds): Promise<Float32Array> {
  const s = await openFileBytes(runner, bytes, options);
  try {
    return asFloat32((await s.run(feeds, ['logits'])).logits, 'logits');
  } finally {
    await s.release();
  }
}
