/**
 * Test helper: a tiny random GPT-2 checkpoint in Hugging Face layout (Conv1D weights [in, out])
 * and an in-memory FileSource over a folder of files. Deterministic; no node:fs.
 */
import { tensor, type Tensor } from '../core/tensor';
import type { FileSource } from '../io/source';
import { writeSafetensors } from '../io/safetensors';

export const TINY = { layers: 2, heads: 2, hidden: 8, ffn: 12, positions: 6, vocab: 10 } as const;

export const TINY_CONFIG = {
  model_type: 'gpt2',
  n_layer: TINY.layers,
  n_head: TINY.heads,
  n_embd: TINY.hidden,
  n_inner: TINY.ffn,
  n_positions: TINY.positions,
  vocab_size: TINY.vocab,
  activation_function: 'gelu_new',
  layer_norm_epsilon: 1e-5,
  tie_word_embeddings: true,
};

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

/** HF tensors of a GPT-2 with per-layer [heads, ffn] (default: uniform TINY). */
export function tinyGpt2Tensors(seed = 7, shapes?: readonly (readonly [number, number])[]): Record<string, Tensor> {
  const rnd = random(seed);
  const t = (...shape: number[]) => tensor(shape, Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, rnd));
  const d = TINY.hidden;
  const dh = d / TINY.heads;
  const out: Record<string, Tensor> = {
    'wte.weight': t(TINY.vocab, d),
    'wpe.weight': t(TINY.positions, d),
    'ln_f.weight': t(d),
    'ln_f.bias': t(d),
  };
  const layerShapes = shapes ?? Array.from({ length: TINY.layers }, () => [TINY.heads, TINY.ffn] as const);
  layerShapes.forEach(([heads, ffn], i) => {
    const p = `h.${i}.`;
    const inner = heads * dh;
    Object.assign(out, {
      [`${p}ln_1.weight`]: t(d),
      [`${p}ln_1.bias`]: t(d),
      [`${p}attn.c_attn.weight`]: t(d, 3 * inner),
      [`${p}attn.c_attn.bias`]: t(3 * inner),
      [`${p}attn.c_proj.weight`]: t(inner, d),
      [`${p}attn.c_proj.bias`]: t(d),
      [`${p}ln_2.weight`]: t(d),
      [`${p}ln_2.bias`]: t(d),
      [`${p}mlp.c_fc.weight`]: t(d, ffn),
      [`${p}mlp.c_fc.bias`]: t(ffn),
      [`${p}mlp.c_proj.weight`]: t(ffn, d),
      [`${p}mlp.c_proj.bias`]: t(d),
    });
  });
  return out;
}

export function withPrefix(tensors: Record<string, Tensor>, prefix: string): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(tensors).map(([k, v]) => [k === 'lm_head.weight' ? k : prefix + k, v]));
}

export interface MemSource extends FileSource {
  /** Paths read so far, in order. */
  readonly reads: string[];
}

/** A FileSource over an in-memory folder; JSON values are serialised on the fly. */
export function memSource(files: Record<string, Uint8Array | object>, location = 'mem/tiny-gpt2'): MemSource {
  const reads: string[] = [];
  const bytes = (v: Uint8Array | object) => (v instanceof Uint8Array ? v : new TextEncoder().encode(JSON.stringify(v)));
  return {
    location,
    reads,
    async read(path, onBytes) {
      reads.push(path);
      const v = files[path];
      if (v === undefined) throw new Error(`memSource: no file ${path}`);
      const b = bytes(v);
      onBytes?.(b.length, b.length);
      return b;
    },
    async has(path) {
      return path in files;
    },
  };
}

/** A model folder: config.json + model.safetensors. */
export function tinyFolder(tensors = tinyGpt2Tensors(), config: object = TINY_CONFIG): MemSource {
  return memSource({ 'config.json': config, 'model.safetensors': writeSafetensors(tensors, { format: 'pt', producer: 'prune-studio' }) });
}
