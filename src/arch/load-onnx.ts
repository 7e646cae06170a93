/**
 * Loads an ONNX decoder from a model folder (FileSource): finds the .onnx file, reads it and its
 * external data (paths confined to the folder), runs the checker rules and the operator allow-list,
 * imports the graph into a ModelIR (the family is the first registered adapter whose block structure
 * the graph shows; config.json's `prune_studio.attention_scale_folded` says the query projection
 * carries 1/sqrt(head_dim)), checks every weight is finite, and reconciles config.json, per-layer
 * shapes included (or has the adapter write one). The importer finds the Hub / transformers.js
 * layout (onnx/model.onnx) as well as a top-level model.onnx, and the quantized variants Prune Studio
 * writes (model_fp16 / model_quantized / model_q4.onnx, dequantized to float32 by
 * io/onnx-import/dequantize.ts); `findOnnxModel(source, variant)` picks one.
 * It also returns the file as a runnable model (`onnxSource`): the api checks the import numerically
 * against it (api/verify-import.ts) before the model is used.
 */
import { ConfigError, FetchError, InputError, throwIfAborted } from '../core/errors';
import type { ModelIR } from '../core/ir';
import { decodeModel } from '../io/onnx/proto';
import { readJson, type FileSource } from '../io/source';
import { checkModel, checkSupportedOps, QUANTIZED_OPS } from '../io/onnx-import/check';
import { dequantizeModel } from '../io/onnx-import/dequantize';
import { importHints, reconcileConfig } from '../io/onnx-import/config';
import { GraphIndex } from '../io/onnx-import/graph';
import { importDecoder } from '../io/onnx-import/import';
import { externalFiles } from '../io/onnx-import/initializers';
import { inlineExternalData, type OnnxImportSource } from '../io/onnx-import/source-model';
import { normalizeConfig } from './config';
import { adapterFor, adapters } from './registry';
import { checkFinite } from './tensors';

export interface OnnxLoadOptions {
  onProgress?: (p: { stage: string; done: number; total: number; message?: string }) => void;
  signal?: AbortSignal;
  name: string;
}

/** Where exporters put the model, in order of preference (optimum root, Hub "onnx/" folder, legacy names). */
export const ONNX_CANDIDATES = ['model.onnx', 'onnx/model.onnx', 'decoder_model.onnx', 'onnx/decoder_model.onnx'];
const MERGED = /decoder_model_merged(_quantized)?\.onnx$|_quantized\.onnx$|_q4|_int8|_uint8|_fp16|_bnb4/;

/**
 * The files of each weight variant, in the transformers.js / Optimum names (root or onnx/). Without a
 * requested variant the float32 file wins, then the most precise quantized one (fp16, int8, int4).
 */
export const ONNX_VARIANTS = {
  fp32: ONNX_CANDIDATES,
  fp16: ['model_fp16.onnx', 'onnx/model_fp16.onnx', 'decoder_model_fp16.onnx', 'onnx/decoder_model_fp16.onnx'],
  int8: [
    'model_quantized.onnx',
    'onnx/model_quantized.onnx',
    'model_int8.onnx',
    'onnx/model_int8.onnx',
    'decoder_model_quantized.onnx',
    'onnx/decoder_model_quantized.onnx',
  ],
  int4: ['model_q4.onnx', 'onnx/model_q4.onnx', 'decoder_model_q4.onnx', 'onnx/decoder_model_q4.onnx'],
} as const;
export type OnnxVariant = keyof typeof ONNX_VARIANTS;

/** Variant names accepted from users: the studio's dtypes and transformers.js's (q8, q4). */
const VARIANT_ALIASES: Readonly<Record<string, OnnxVariant>> = {
  fp32: 'fp32',
  fp16: 'fp16',
  int8: 'int8',
  q8: 'int8',
  quantized: 'int8',
  int4: 'int4',
  'int4-rtn': 'int4',
  'int4-gptq': 'int4',
  q4: 'int4',
};

/** The variant a user-given name stands for (named error for an unknown one). */
export function onnxVariant(name: string): OnnxVariant {
  const v = VARIANT_ALIASES[name.trim().toLowerCase()];
  if (!v)
    throw new InputError(
      `Unknown model variant "${name}".`,
      `Choose one of ${Object.keys(VARIANT_ALIASES).join(', ')} (fp32 = onnx/model.onnx, fp16 = model_fp16.onnx, int8 / q8 = model_quantized.onnx, int4 / q4 = model_q4.onnx).`,
    );
  return v;
}

const ORDER: readonly string[] = [...ONNX_VARIANTS.fp32, ...ONNX_VARIANTS.fp16, ...ONNX_VARIANTS.int8, ...ONNX_VARIANTS.int4];

/**
 * The .onnx file of a folder, or undefined when it has none. `variant`: that weight variant's file
 * (a named error when the folder has none); default: float32 first, then fp16, int8, int4.
 */
export async function findOnnxModel(source: FileSource, variant?: string): Promise<string | undefined> {
  const wanted = variant === undefined ? undefined : onnxVariant(variant);
  const listed = await source.list?.();
  const has = listed && listed.length > 0 ? async (p: string) => listed.includes(p) : (p: string) => source.has(p);
  if (wanted) {
    for (const c of ONNX_VARIANTS[wanted]) if (await has(c)) return c;
    const present: string[] = [];
    for (const c of ORDER) if (await has(c)) present.push(c);
    throw new InputError(
      `The folder has no ${wanted} model file (${ONNX_VARIANTS[wanted].filter((c) => c.startsWith('onnx/')).join(' or ')}).`,
      present.length > 0 ? `It has ${present.join(', ')}; choose that variant.` : 'Export the variant first (CLI --quantize).',
    );
  }
  if (listed && listed.length > 0) {
    const onnx = listed.filter((p) => p.endsWith('.onnx'));
    const preferred =
      ONNX_CANDIDATES.find((c) => onnx.includes(c)) ?? onnx.find((p) => !MERGED.test(p)) ?? ORDER.find((c) => onnx.includes(c));
    if (preferred) return preferred;
    if (onnx.length > 0) {
      throw new InputError(
        `The folder has only ${onnx.join(', ')}: merged (with If subgraphs) exports and quantized files other than model_fp16 / model_quantized / model_q4 cannot be imported.`,
        'Use the plain float export (model.onnx or decoder_model.onnx) or one of the variants Prune Studio writes.',
      );
    }
    return undefined;
  }
  for (const c of ORDER) if (await source.has(c)) return c;
  return undefined;
}

function dirOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? '' : path.slice(0, i + 1);
}

export async function loadOnnxIR(
  source: FileSource,
  onnxPath: string,
  options: OnnxLoadOptions,
): Promise<{ ir: ModelIR; config: unknown; onnxSource: OnnxImportSource }> {
  const { onProgress, signal } = options;
  const message = `Downloading ${onnxPath}`;
  const bytes = await source.read(
    onnxPath,
    (done, total) => onProgress?.({ stage: 'download', done, total: total || done, message }),
    signal,
  );
  throwIfAborted(signal, 'Loading the model');
  const model = decodeModel(bytes);
  checkModel(model);
  checkSupportedOps(model, QUANTIZED_OPS);
  const external = new Map<string, Uint8Array>();
  for (const rel of externalFiles(model.graph.initializer ?? [])) {
    const path = dirOf(onnxPath) + rel;
    if (!(await source.has(path))) {
      throw new InputError(
        `${onnxPath} keeps its weights in ${path}, which is missing from ${source.location}.`,
        'Pick the external data file together with the .onnx file.',
      );
    }
    const msg = `Downloading ${path}`;
    external.set(
      rel,
      await source.read(path, (done, total) => onProgress?.({ stage: 'download', done, total: total || done, message: msg }), signal),
    );
    throwIfAborted(signal, 'Loading the model');
  }
  onProgress?.({ stage: 'weights', done: 0, total: 1, message: 'Importing the ONNX graph' });
  const readExternal = (rel: string) => {
    const b = external.get(rel);
    if (!b) throw new FetchError(`External data file ${rel} was not read.`);
    return b;
  };
  // Quantized weights (fp16 / int8 / int4 files) become float32 constants; the walk reads plain MatMuls.
  const { model: plain, summary } = dequantizeModel(model, readExternal);
  checkSupportedOps(plain);
  const g = new GraphIndex(plain.graph, readExternal);
  const given = await readConfigJson(source, signal);
  const imported = importDecoder(g, options.name, adapters(), importHints(given));
  let { ir } = imported;
  forEachWeight(ir, checkFinite);
  let config: unknown = given;
  if (given !== undefined) {
    const normalized = normalizeConfig(given);
    ir = { ...reconcileConfig(ir, normalized, onnxPath), originalLayerIndex: normalized.originalLayerIndex };
  } else {
    config = adapterFor(ir.spec).writeConfig(ir);
  }
  onProgress?.({ stage: 'weights', done: 1, total: 1, message: 'Weights ready' });
  const fake = summary.matMulInteger > 0 ? dequantizeModel(model, readExternal, true) : undefined;
  const onnxSource: OnnxImportSource = {
    model: inlineExternalData(model, readExternal),
    hidden: imported.hidden,
    ...(fake
      ? {
          dequantized: {
            float: inlineExternalData(plain, readExternal),
            fakeQuantized: inlineExternalData(fake.model, readExternal),
            rederived: fake.rederived,
          },
        }
      : {}),
  };
  return { ir, config, onnxSource };
}

async function readConfigJson(source: FileSource, signal?: AbortSignal): Promise<unknown> {
  if (!(await source.has('config.json'))) return undefined;
  return readJson(source, 'config.json', { error: ConfigError, ...(signal ? { signal } : {}) });
}

function forEachWeight(ir: ModelIR, f: (t: { shape: readonly number[]; data: Float32Array }, name: string) => void): void {
  const w = ir.weights;
  if (w.tokenEmbedding) f(w.tokenEmbedding, 'token embedding');
  if (w.positionEmbedding) f(w.positionEmbedding, 'position embedding');
  if (w.lmHead) f(w.lmHead, 'lm head');
  f(w.finalNorm.weight, 'final norm weight');
  w.layers.forEach((l, i) => {
    for (const [k, lin] of Object.entries({ q: l.q, k: l.k, v: l.v, o: l.o, up: l.up, gate: l.gate, down: l.down })) {
      if (!lin) continue;
      f(lin.weight, `layer ${i} ${k}.weight`);
      if (lin.bias) f(lin.bias, `layer ${i} ${k}.bias`);
    }
    f(l.attnNorm.weight, `layer ${i} attention norm`);
    f(l.mlpNorm.weight, `layer ${i} MLP norm`);
  });
}
