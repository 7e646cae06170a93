/**
 * Api operations that show what pruning does to single tokens and heads (the studio's teaching
 * views): per-token loss dense vs pruned, attention probabilities of every head on a short text with
 * the next-token distribution when heads are knocked out, and the top next tokens of the dense and
 * pruned models after a shared prefix (compare-text divergence). Short texts only: one window.
 */
import { InputError } from '../core/errors';
import { asFloat32, int64Tensor, type Feeds, type RunnerSession } from '../core/runner';
import { openModelSession } from '../graph/model-session';
import { validatePlan } from '../core/plan';
import { planMasks } from '../prune/masks';
import { checkTextSize } from './text-guard';
import { denseFeeds, denseMaskSet, hasMaskInputs, logitsSession, maskFeeds } from './evaluation';
import { requirePruned, type LoadedModel, type StudioState } from './state';
import type {
  AttentionRequest,
  AttentionResult,
  JobOptions,
  NextTokenRequest,
  NextTokenResult,
  TokenLossRequest,
  TokenLossResult,
  TopToken,
} from './types';

/** Most tokens the teaching views evaluate (one window; attention maps are seq x seq per head). */
export const TEACH_MAX_TOKENS = 128;

/** The k most probable next tokens of one logits row (softmax in float64), most probable first. */
export function topTokens(row: ArrayLike<number>, k: number, decode: (id: number) => string): TopToken[] {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let z = 0;
  for (let i = 0; i < row.length; i++) z += Math.exp(row[i]! - max);
  const best: number[] = [];
  for (let i = 0; i < row.length; i++) {
    if (best.length < k || row[i]! > row[best[best.length - 1]!]!) {
      best.push(i);
      best.sort((a, b) => row[b]! - row[a]!);
      if (best.length > k) best.pop();
    }
  }
  return best.map((id) => ({ id, text: decode(id), prob: Math.exp(row[id]! - max) / z }));
}

/** KL(p || q) in nats between the softmax distributions of two logits rows. */
export function klDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  const logSoftmax = (r: ArrayLike<number>) => {
    let max = -Infinity;
    for (let i = 0; i < r.length; i++) max = Math.max(max, r[i]!);
    let z = 0;
    for (let i = 0; i < r.length; i++) z += Math.exp(r[i]! - max);
    const lz = max + Math.log(z);
    return Array.from({ length: r.length }, (_, i) => r[i]! - lz);
  };
  const lp = logSoftmax(p);
  const lq = logSoftmax(q);
  return lp.reduce((s, v, i) => s + Math.exp(v) * (v - lq[i]!), 0);
}

function shortIds(m: LoadedModel, text: string, max: number): number[] {
  checkTextSize(text, 'the text', max);
  const ids = m.tokenizer.encode(text).slice(0, Math.min(max, TEACH_MAX_TOKENS, m.ir.spec.maxPositions));
  if (ids.length < 2) throw new InputError('The text is too short: it needs at least two tokens.', 'Type a sentence.');
  return ids;
}

const pieceOf = (m: LoadedModel) => (id: number) => m.tokenizer.decode([id]);

/** token_nll of one window: nll[t] = -log p(ids[t] | ids[..t]); nll[0] = NaN (no context). */
async function windowNll(session: RunnerSession, ids: number[], extra: Feeds): Promise<number[]> {
  const n = ids.length;
  const labels = [...ids.slice(1), 0];
  const out = await session.run({ input_ids: int64Tensor(ids, [1, n]), labels: int64Tensor(labels, [1, n]), ...extra }, ['token_nll']);
  const nll = asFloat32(out.token_nll, 'token_nll');
  return [NaN, ...Array.from(nll.subarray(0, n - 1))];
}

/** Per-token loss of the dense model and of the pruned one (the plan's masks, else the applied model). */
export async function tokenLosses(m: LoadedModel, req: TokenLossRequest, options: JobOptions): Promise<TokenLossResult> {
  const ids = shortIds(m, req.text, req.maxTokens ?? TEACH_MAX_TOKENS);
  options.onProgress?.({ stage: 'token-loss', done: 0, total: 2, message: 'Dense model' });
  const dense = await windowNll(m.evalSession, ids, denseFeeds(m.ir));
  options.onProgress?.({ stage: 'token-loss', done: 1, total: 2, message: 'Pruned model' });
  const pruned = req.plan
    ? await windowNll(m.evalSession, ids, maskFeeds(m.ir, planMasks(validatePlan(req.plan, m.ir))))
    : await windowNll(requirePruned(m).session, ids, {});
  options.onProgress?.({ stage: 'token-loss', done: 2, total: 2 });
  return { ids, pieces: ids.map(pieceOf(m)), dense, pruned, prunedFrom: req.plan ? 'plan' : 'applied' };
}

async function attentionSession(state: StudioState, m: LoadedModel): Promise<RunnerSession> {
  m.attentionSession ??= await openModelSession(state.deps.runner, m.ir, {
    masks: hasMaskInputs(m.ir),
    logits: true,
    attentionProbs: true,
  });
  return m.attentionSession;
}

/** Attention probabilities of every head on a short text, and the next-token distribution with heads knocked out. */
export async function attentionPatterns(
  state: StudioState,
  m: LoadedModel,
  req: AttentionRequest,
  options: JobOptions,
): Promise<AttentionResult> {
  const ids = shortIds(m, req.text, req.maxTokens ?? 48);
  const session = await attentionSession(state, m);
  const n = ids.length;
  const V = m.ir.spec.vocabSize;
  const k = req.topK ?? 5;
  const masked = hasMaskInputs(m.ir);
  if (req.knockout?.length && !masked) {
    throw new InputError('Knocking out heads needs a model whose layers share one shape.', 'Load the original (unpruned) model.');
  }
  const probsNames = m.ir.layers.flatMap((l, i) => (l.numHeads > 0 ? [`attn_probs.${i}`] : []));
  options.onProgress?.({ stage: 'attention', done: 0, total: 2, message: 'Dense model' });
  const out = await session.run({ input_ids: int64Tensor(ids, [1, n]), ...denseFeeds(m.ir) }, ['logits', ...probsNames]);
  const lastRow = (t: Parameters<typeof asFloat32>[0]) => asFloat32(t, 'logits').slice((n - 1) * V, n * V);
  const dense = lastRow(out.logits);
  const probs = m.ir.layers.map((l, i) =>
    l.numHeads > 0 ? asFloat32(out[`attn_probs.${i}`], `attn_probs.${i}`).slice() : new Float32Array(),
  );
  const result: AttentionResult = {
    ids,
    pieces: ids.map(pieceOf(m)),
    heads: m.ir.layers.map((l) => l.numHeads),
    probs,
    next: topTokens(dense, k, pieceOf(m)),
  };
  if (req.knockout?.length) {
    options.onProgress?.({ stage: 'attention', done: 1, total: 2, message: 'With the heads knocked out' });
    const set = denseMaskSet(m.ir);
    const H = m.ir.layers[0]?.numHeads ?? 0;
    for (const { layer, head } of req.knockout) {
      if (!(layer >= 0 && layer < m.ir.layers.length && head >= 0 && head < H))
        throw new InputError(`There is no head ${head} in layer ${layer}.`);
      set.heads[layer * H + head] = 0;
    }
    const ko = await session.run({ input_ids: int64Tensor(ids, [1, n]), ...maskFeeds(m.ir, set) }, ['logits']);
    const row = lastRow(ko.logits);
    result.knockedOut = {
      heads: req.knockout,
      next: topTokens(row, k, pieceOf(m)),
      denseTopNow: result.next.map((t) => ({ ...t, prob: topProb(row, t.id) })),
      kl: klDivergence(dense, row),
    };
  }
  options.onProgress?.({ stage: 'attention', done: 2, total: 2 });
  return result;
}

function topProb(row: Float32Array, id: number): number {
  let max = -Infinity;
  for (const v of row) max = Math.max(max, v);
  let z = 0;
  for (const v of row) z += Math.exp(v - max);
  return Math.exp(row[id]! - max) / z;
}

/** Top next tokens of the dense and / or pruned model after prompt + continuation ids. */
export async function nextTokens(state: StudioState, m: LoadedModel, req: NextTokenRequest): Promise<NextTokenResult> {
  checkTextSize(req.prompt, 'the prompt', TEACH_MAX_TOKENS);
  const encoded = m.tokenizer.encode(req.prompt);
  const all = [...(encoded.length ? encoded : [m.tokenizer.eosId ?? 0]), ...req.continuation];
  const result: NextTokenResult = {};
  for (const target of req.targets) {
    const { session, ir } = await logitsSession(state, m, target);
    const ids = all.slice(-ir.spec.maxPositions);
    const V = ir.spec.vocabSize;
    const out = await session.run({ input_ids: int64Tensor(ids, [1, ids.length]) }, ['logits']);
    const row = asFloat32(out.logits, 'logits').slice((ids.length - 1) * V, ids.length * V);
    result[target] = topTokens(row, req.k ?? 5, pieceOf(m));
  }
  return result;
}
