/**
 * A seeded mutation fuzzer over the studio's inputs (issue 13): safetensors (byte flips, truncation,
 * header text edits), ONNX (byte flips, rewired / retyped / dropped nodes, edited dims), config.json
 * (values of every type in every key, raw text edits), tokenizer.json (structural and text edits)
 * and plans. Each case's outcome must be a named StudioError or a loaded model; loads after
 * semantics-preserving mutations must equal the source exactly, and ONNX loads pass the numeric
 * check against the mutated file itself. Anything else (a raw TypeError, a RangeError, a hang) is a
 * finding. Used by src/io/fuzz.test.ts (a few hundred cases per format) and bench/fuzz.ts (more).
 */
import { readFileSync } from 'node:fs';
import { StudioError } from '../core/errors';
import { tokenEmbeddingOf } from '../core/ir';
import type { ModelIR } from '../core/ir';
import type { Runner } from '../core/runner';
import { emptyPlan, validatePlan } from '../core/plan';
import { loadModelIR } from '../arch/load';
import { loadOnnxIR } from '../arch/load-onnx';
import { decodeModel, encodeModel } from '../io/onnx';
import { loadTokenizer } from '../io/tokenizer';
import { verifyOnnxImport } from '../api/verify-import';
import { memSource, TINY_CONFIG, tinyGpt2Tensors } from './tiny-gpt2';
import { writeSafetensors } from '../io/safetensors';
import { randomIR } from './random-ir';

export type Format = 'safetensors' | 'onnx' | 'config' | 'tokenizer' | 'plan';
export const FORMATS: readonly Format[] = ['safetensors', 'onnx', 'config', 'tokenizer', 'plan'];

export interface Outcome {
  format: Format;
  seed: number;
  mutation: string;
  /** 'loaded' | 'refused' (named StudioError) | 'finding' (anything else). */
  result: 'loaded' | 'refused' | 'finding';
  detail?: string;
}

export interface FuzzSummary {
  cases: number;
  loaded: number;
  refused: number;
  findings: Outcome[];
  /** Refusals by error class. */
  errors: Record<string, number>;
}

/** mulberry32: a seeded PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
const pick = <T>(r: Rng, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
const int = (r: Rng, n: number) => Math.floor(r() * n);

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Byte-level mutations: flips, random runs, truncation, insertion, deletion. */
function mutateBytes(r: Rng, src: Uint8Array, focus = src.length): { bytes: Uint8Array; what: string } {
  const b = src.slice();
  const at = int(r, Math.max(1, focus));
  switch (int(r, 5)) {
    case 0:
      b[at] = b[at]! ^ (1 << int(r, 8));
      return { bytes: b, what: `flip bit at ${at}` };
    case 1:
      for (let i = 0; i < 8 && at + i < b.length; i++) b[at + i] = int(r, 256);
      return { bytes: b, what: `random run at ${at}` };
    case 2:
      return { bytes: b.subarray(0, at), what: `truncate to ${at}` };
    case 3: {
      const out = new Uint8Array(b.length + 4);
      out.set(b.subarray(0, at));
      out.set([int(r, 256), int(r, 256), 0, 0xff], at);
      out.set(b.subarray(at), at + 4);
      return { bytes: out, what: `insert 4 bytes at ${at}` };
    }
    default: {
      const out = new Uint8Array(b.length - Math.min(4, b.length - at));
      out.set(b.subarray(0, at));
      out.set(b.subarray(at + 4), at);
      return { bytes: out, what: `delete 4 bytes at ${at}` };
    }
  }
}

const ODD_VALUES: readonly unknown[] = [null, true, false, -1, 0, 1.5, 1e9, 1e308, -0, '1', '', 'gpt2', [], [1], {}, { a: 1 }, 2 ** 53 + 2];

/** Text edits of a JSON document: a character replaced / dropped / duplicated. */
function mutateText(r: Rng, text: string): { text: string; what: string } {
  const at = int(r, text.length);
  const ch = pick(r, ['{', '}', '[', ']', ',', ':', '"', '0', '-', 'e', '\\', '\u0000', ' ', 'x']);
  switch (int(r, 3)) {
    case 0:
      return { text: text.slice(0, at) + ch + text.slice(at + 1), what: `text: replace ${at} by ${JSON.stringify(ch)}` };
    case 1:
      return { text: text.slice(0, at) + text.slice(at + 1), what: `text: drop ${at}` };
    default:
      return { text: text.slice(0, at) + ch + text.slice(at), what: `text: insert ${JSON.stringify(ch)} at ${at}` };
  }
}

/** Paths to every value of a JSON document (bounded). */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = [], limit = 4000): (string | number)[][] {
  if (out.length >= limit) return out;
  out.push(prefix);
  if (Array.isArray(v)) v.slice(0, 40).forEach((x, i) => paths(x, [...prefix, i], out, limit));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...prefix, k], out, limit);
  return out;
}

function setPath(root: unknown, path: (string | number)[], value: unknown, remove: boolean): unknown {
  if (path.length === 0) return value;
  const copy = structuredClone(root) as Record<string | number, unknown>;
  let o = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (remove && !Array.isArray(o)) delete o[last];
  else o[last] = value;
  return copy;
}

/** A structural JSON edit: a value set to an odd value, removed, or (semantics-preserving) the document re-indented. */
function mutateJson(r: Rng, doc: unknown): { doc: unknown; what: string; same: boolean } {
  const ps = paths(doc);
  const p = pick(r, ps);
  const k = int(r, 10);
  if (k === 0) return { doc, what: 're-indent', same: true };
  if (k <= 2) return { doc: setPath(doc, p, undefined, true), what: `remove ${p.join('.')}`, same: false };
  const value = pick(r, ODD_VALUES);
  return { doc: setPath(doc, p, value, false), what: `set ${p.join('.')} = ${JSON.stringify(value)}`, same: false };
}

function jsonBytes(r: Rng, doc: unknown, same: boolean): Uint8Array {
  return enc.encode(same ? JSON.stringify(doc, null, int(r, 4) + 1) : JSON.stringify(doc));
}

async function classify(format: Format, seed: number, mutation: string, run: () => Promise<unknown>): Promise<Outcome> {
  try {
    const detail = await run();
    return { format, seed, mutation, result: 'loaded', ...(typeof detail === 'string' ? { detail } : {}) };
  } catch (e) {
    if (e instanceof Finding) return { format, seed, mutation, result: 'finding', detail: e.message };
    if (e instanceof StudioError) return { format, seed, mutation, result: 'refused', detail: `${e.name}: ${e.message}` };
    return {
      format,
      seed,
      mutation,
      result: 'finding',
      detail: `raw ${(e as Error)?.name ?? typeof e}: ${(e as Error)?.message ?? String(e)}`,
    };
  }
}

/** A loaded model that breaks a promise (e.g. differs from the source after a semantics-preserving edit). */
class Finding extends Error {}

function sameWeights(a: ModelIR, b: ModelIR): boolean {
  const flat = (ir: ModelIR) => [
    tokenEmbeddingOf(ir).data,
    ...ir.weights.layers.flatMap((l) => [
      l.q.weight.data,
      l.k.weight.data,
      l.v.weight.data,
      l.o.weight.data,
      l.up.weight.data,
      l.down.weight.data,
    ]),
  ];
  const fa = flat(a);
  const fb = flat(b);
  return fa.length === fb.length && fa.every((x, i) => x.length === fb[i]!.length && x.every((v, j) => Object.is(v, fb[i]![j])));
}

interface Bases {
  safetensors: Uint8Array;
  sourceIR: ModelIR;
  onnx: Uint8Array;
  tokenizer: unknown;
  tokenizerConfig: unknown;
}

let bases: Promise<Bases> | undefined;
function loadBases(): Promise<Bases> {
  bases ??= (async () => {
    const safetensors = writeSafetensors(tinyGpt2Tensors(), { format: 'pt' });
    const { ir } = await loadModelIR(memSource({ 'config.json': TINY_CONFIG, 'model.safetensors': safetensors }));
    const dir = 'fixtures/hub/tiny-onnx/gpt2-past';
    return {
      safetensors,
      sourceIR: ir,
      onnx: new Uint8Array(readFileSync(`${dir}/model.onnx`)),
      tokenizer: JSON.parse(readFileSync(`${dir}/tokenizer.json`, 'utf8')) as unknown,
      tokenizerConfig: JSON.parse(readFileSync(`${dir}/tokenizer_config.json`, 'utf8')) as unknown,
    };
  })();
  return bases;
}

async function safetensorsCase(r: Rng, seed: number, b: Bases): Promise<Outcome> {
  const headerLen = Number(new DataView(b.safetensors.buffer, b.safetensors.byteOffset).getBigUint64(0, true));
  const k = int(r, 3);
  let bytes: Uint8Array;
  let what: string;
  let same = false;
  if (k === 0) ({ bytes, what } = mutateBytes(r, b.safetensors, 8 + headerLen));
  else if (k === 1) ({ bytes, what } = mutateBytes(r, b.safetensors));
  else {
    // Header JSON edited and re-framed (data kept): structural edits and re-indentation.
    const header = JSON.parse(dec.decode(b.safetensors.subarray(8, 8 + headerLen))) as unknown;
    const m = mutateJson(r, header);
    const text = jsonBytes(r, m.doc, m.same);
    bytes = new Uint8Array(8 + text.length + b.safetensors.length - 8 - headerLen);
    new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
    bytes.set(text, 8);
    bytes.set(b.safetensors.subarray(8 + headerLen), 8 + text.length);
    ({ what, same } = m);
  }
  return classify('safetensors', seed, what, async () => {
    const { ir } = await loadModelIR(memSource({ 'config.json': TINY_CONFIG, 'model.safetensors': bytes }));
    if (same && !sameWeights(ir, b.sourceIR)) throw new Finding('a re-indented header loads different weights');
  });
}

const OPS = ['Add', 'Mul', 'Sub', 'Div', 'MatMul', 'Identity', 'Sqrt', 'Softmax', 'Reshape', 'Transpose'];

async function onnxCase(r: Rng, seed: number, b: Bases, runner: Runner): Promise<Outcome> {
  let bytes: Uint8Array;
  let what: string;
  if (int(r, 3) === 0) ({ bytes, what } = mutateBytes(r, b.onnx));
  else {
    const m = decodeModel(b.onnx);
    const nodes = m.graph.node;
    const n = pick(r, nodes);
    const k = int(r, 5);
    if (k === 0 && n.input.length > 1) {
      n.input = [...n.input].reverse();
      what = `reverse inputs of ${n.name}`;
    } else if (k === 1) {
      const other = pick(r, nodes);
      const slot = int(r, Math.max(1, n.input.length));
      n.input = n.input.map((x, i) => (i === slot ? (other.output[0] ?? x) : x));
      what = `rewire ${n.name} input ${slot} to ${other.output[0]}`;
    } else if (k === 2) {
      n.op_type = pick(r, OPS);
      what = `retype ${n.name} to ${n.op_type}`;
    } else if (k === 3) {
      const t = pick(r, m.graph.initializer ?? [{ dims: [] }]);
      t.dims = (t.dims ?? []).map((d) => (r() < 0.5 ? d : d + int(r, 3) - 1));
      what = `edit dims of ${t.name}`;
    } else {
      const i = nodes.indexOf(n);
      nodes.splice(i, 1);
      what = `drop ${n.name}`;
    }
    bytes = encodeModel(m);
  }
  return classify('onnx', seed, what, async () => {
    const { ir, onnxSource } = await loadOnnxIR(memSource({ 'model.onnx': bytes }, 'mem/fuzz'), 'model.onnx', { name: 'fuzz' });
    await verifyOnnxImport(runner, ir, onnxSource);
  });
}

async function configCase(r: Rng, seed: number, b: Bases): Promise<Outcome> {
  let config: Uint8Array;
  let what: string;
  let same = false;
  if (int(r, 3) === 0) {
    const m = mutateText(r, JSON.stringify(TINY_CONFIG, null, 2));
    config = enc.encode(m.text);
    what = m.what;
  } else {
    const m = mutateJson(r, TINY_CONFIG);
    config = jsonBytes(r, m.doc, m.same);
    ({ what, same } = m);
  }
  return classify('config', seed, what, async () => {
    const { ir } = await loadModelIR(memSource({ 'config.json': config, 'model.safetensors': b.safetensors }));
    if (same && !sameWeights(ir, b.sourceIR)) throw new Finding('a re-indented config.json loads a different model');
  });
}

async function tokenizerCase(r: Rng, seed: number, b: Bases): Promise<Outcome> {
  let tok: Uint8Array;
  let cfg: Uint8Array = enc.encode(JSON.stringify(b.tokenizerConfig));
  let what: string;
  const k = int(r, 4);
  if (k === 0) {
    const m = mutateText(r, JSON.stringify(b.tokenizer));
    tok = enc.encode(m.text);
    what = m.what;
  } else if (k === 3) {
    const m = mutateJson(r, b.tokenizerConfig);
    cfg = jsonBytes(r, m.doc, m.same);
    tok = enc.encode(JSON.stringify(b.tokenizer));
    what = `tokenizer_config: ${m.what}`;
  } else {
    const m = mutateJson(r, b.tokenizer);
    tok = jsonBytes(r, m.doc, m.same);
    what = m.what;
  }
  return classify('tokenizer', seed, what, async () => {
    const t = await loadTokenizer(memSource({ 'tokenizer.json': tok, 'tokenizer_config.json': cfg }), 'fuzz', 4096);
    const ids = t.encode('The quick brown fox, 12 jumps.\n');
    t.decode(ids);
  });
}

const PLAN_IR = randomIR({ layers: 2, heads: 4, kvHeads: 2, ffn: 8 });

async function planCase(r: Rng, seed: number): Promise<Outcome> {
  const m = mutateJson(r, emptyPlan(PLAN_IR));
  return classify('plan', seed, m.what, async () => {
    const plan = validatePlan(m.doc, PLAN_IR);
    for (const l of plan.layers) {
      if (typeof l.removed !== 'boolean' || !l.removedHeads.every(Number.isInteger) || !l.removedFfn.every(Number.isInteger))
        throw new Finding('validatePlan returned a plan with mistyped fields');
    }
  });
}

/** Runs `cases` cases of a format from `seed`; a finding is any outcome that is neither a load nor a named refusal. */
export async function fuzzFormat(format: Format, cases: number, runner: Runner, seed = 1): Promise<FuzzSummary> {
  const b = await loadBases();
  const summary: FuzzSummary = { cases, loaded: 0, refused: 0, findings: [], errors: {} };
  for (let i = 0; i < cases; i++) {
    const s = seed * 100_003 + i;
    const r = prng(s);
    const o =
      format === 'safetensors'
        ? await safetensorsCase(r, s, b)
        : format === 'onnx'
          ? await onnxCase(r, s, b, runner)
          : format === 'config'
            ? await configCase(r, s, b)
            : format === 'tokenizer'
              ? await tokenizerCase(r, s, b)
              : await planCase(r, s);
    if (o.result === 'loaded') summary.loaded++;
    else if (o.result === 'refused') {
      summary.refused++;
      const name = o.detail?.split(':')[0] ?? '?';
      summary.errors[name] = (summary.errors[name] ?? 0) + 1;
    } else summary.findings.push(o);
  }
  return summary;
}
