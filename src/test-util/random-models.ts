/** Small random models and calibration sets shared by the block-by-block equivalence tests. */
import type { ModelIR } from '../core/ir';
import type { CalibrationSet } from '../saliency/calibrate';
import { randomIR, seededRandom } from './random-ir';
import { randomLlamaIR } from './random-llama';

/** `samples` random sequences of `seq` token ids below `vocab` (seeded). */
export function randomCalibrationSet(vocab: number, samples: number, seq: number, seed: number): CalibrationSet {
  const rnd = seededRandom(seed);
  const sequences = Array.from({ length: samples }, () => Array.from({ length: seq }, () => Math.floor(rnd() * vocab)));
  return { textName: 'random', samples, seq, sequences };
}

/** A random 3-layer GPT-2 (FFN width `ffn`) and a random Llama (GQA, untied head), vocabulary 50. */
export function randomGpt2AndLlama(ffn: number): [string, () => ModelIR][] {
  return [
    ['random GPT-2 (3 layers)', () => randomIR({ layers: 3, hidden: 16, heads: 4, ffn, vocab: 50 })],
    ['random Llama (GQA, untied head)', () => randomLlamaIR({ vocab: 50 })],
  ];
}
