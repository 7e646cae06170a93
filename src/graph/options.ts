/**
 * What the ONNX graph builder can add on top of the plain logits graph.
 *
 * Graph contract (all names are exact):
 *   inputs   input_ids   int64   [batch, seq]
 *            labels      int64   [batch, seq]        (only with `tokenLoss`)
 *            head_mask   float32 [numLayers, numHeads] (only with `masks`; multiplies each head's
 *                        attention context before the output projection)
 *            ffn_mask    float32 [numLayers, ffnSize]  (only with `masks`; multiplies each FFN
 *                        activation before the down projection)
 *            layer_mask  float32 [numLayers]           (only with `masks`; multiplies both residual
 *                        branches of a block, biases included; 0 = block removed)
 *   outputs  logits      float32 [batch, seq, vocab]   (unless `logits: false`)
 *            token_nll   float32 [batch, seq]          (only with `tokenLoss`: -log p(labels[t] | ids[..t]);
 *                        callers shift labels themselves and ignore positions they do not score)
 *            taps (only with `taps`), for every layer i:
 *              attn_in.i   [batch, seq, numHeads*headDim]  input of the output projection (o_proj)
 *              ffn_in.i    [batch, seq, ffnSize]            input of the down projection (after act/gate)
 *              hidden.i    [batch, seq, hidden]             residual stream entering block i
 *            and hidden.L (L = numLayers): residual stream after the last block, before the final norm.
 *            grams (only with `taps` and `grams`), for every layer i with a non-empty sublayer:
 *              gram.attn_in.i  [numHeads*headDim, numHeads*headDim]  Σ over batch and seq of x xᵀ of attn_in.i
 *              gram.ffn_in.i   [ffnSize, ffnSize]                    Σ over batch and seq of x xᵀ of ffn_in.i
 *            (float32 MatMul in the graph: onnxruntime's threads instead of a JS loop; callers fetch
 *            only the ones they need). With `grams: 'packed'` each is 1-D, the upper block trapezoid
 *            of the same matrix (core/packed-gram.ts: about half the values and half the products).
 *            attn_probs.i [batch, numHeads, seq, seq] (only with `attentionProbs`, layers with heads):
 *              softmax attention probabilities per query head (rows: queries, columns: keys).
 * Masks require a model whose layers all have the same shape (the original model).
 * Patch-input classifiers (ViT, spec.input 'patches', graph/patches.ts) differ only at the ends:
 *   input    pixel_values float32 [batch, C, S, S] instead of input_ids (seq = 1 + (S/p)² below)
 *            labels / loss_weights int64 / float32 [batch] (one label per image)
 *   outputs  logits float32 [batch, labels]; token_nll [batch] (-log p(label | image))
 * Masks, taps, grams, attention probabilities, weight inputs and gradients are as above.
 */
export interface GradientOptions {
  /** Gradients with respect to head_mask, ffn_mask and layer_mask. */
  masks?: boolean;
  /** Gradients with respect to every weight input (o / down, or all of them with weightInputs 'all'). */
  weights?: boolean;
  /**
   * Backpropagation block by block (a layer range that reads `hidden_in`): also the gradient with
   * respect to hidden_in (output grad.hidden_in). With the head (a range ending at the last layer, or
   * the head alone, L..L) the scalar is the graph's weighted mean token NLL; a range that stops before
   * the head reads `grad_out` float32 [batch, seq, hidden] (the loss gradient of the stream it gives)
   * and its scalar is Σ hidden.to ⊙ grad_out, so every gradient is the range's vector-Jacobian product
   * with it (the chain rule through the following ranges).
   */
  stream?: boolean;
}

export interface GraphOptions {
  masks?: boolean;
  taps?: boolean;
  /**
   * With taps: X^T X of each attn_in / ffn_in tap as extra outputs (gram.attn_in.i, gram.ffn_in.i);
   * 'packed': their upper block trapezoids (core/packed-gram.ts), as calibration stores them.
   */
  grams?: boolean | 'packed';
  /**
   * With grams: only the Grams of this kind of tap (onnxruntime runs every node of a graph whatever
   * outputs are fetched, so a Gram nobody reads still costs its MatMuls; SlimGPT's engine asks for one
   * kind per run). Default: both.
   */
  gramsOf?: 'attn_in' | 'ffn_in';
  tokenLoss?: boolean;
  logits?: boolean;
  /**
   * With logits: also the output `logits_max` float32 [...logits dims but the last, 1], each row's
   * largest logit: a small output a caller that only times the run fetches instead of the logits
   * (fetching them copies batch x seq x vocab floats out of the runtime on every run, 26 MB per
   * 128-token run of a 50k vocabulary, left as garbage).
   */
  logitsMax?: boolean;
  /** ONNX opset for the default domain; 17 unless stated. */
  opset?: number;
  /**
   * Projection weights as graph inputs instead of initializers ([out, in], as in the IR): `true` = the
   * o / down projections (weight.o.i, weight.down.i); `'all'` = every linear weight of the blocks
   * (also weight.q.i, weight.k.i, weight.v.i, weight.up.i and, gated MLPs, weight.gate.i).
   */
  weightInputs?: boolean | 'all';
  /**
   * 'inputs': every weight of the IR is a graph input (names and feeds in weight-inputs.ts), so
   * sessions share the IR's one copy; default 'initializers' (embedded, as exported).
   */
  weights?: 'initializers' | 'inputs';
  /** Adds loss_weights, the scalar loss and its gradients (reverse-mode, src/graph/grad). */
  gradients?: GradientOptions;
  /**
   * Adds attn_probs.i [batch, numHeads, seq, seq] for every layer i with heads: the attention
   * probabilities (softmax output, query rows, key columns) of every query head; under grouped-query
   * attention each query head's row of its kv group. Not with the with-past graph.
   */
  attentionProbs?: boolean;
  /**
   * With gradients: distillation. Adds the input teacher_probs float32 [batch, seq, vocab] (the dense
   * model's next-token distribution; a classifier: [batch, labels], one per image) and makes the scalar loss
   * Σ w ⊙ (lm · nll + kl · cross) / Σ w with cross = −Σ_v p_v log q_v (= KL(p‖q) + H(p)); the two
   * weighted means are also outputs `loss.lm` and `loss.cross`.
   */
  distill?: { lm: number; kl: number };
  /**
   * Only blocks from..to-1 (sequential calibration, one block at a time): with from > 0 the graph
   * reads the residual stream entering block `from` as the input `hidden_in` float32 [batch, seq,
   * hidden] instead of embedding input_ids (still an input: it gives the positions); the head (logits,
   * token_nll) only when to = numLayers; the taps of those blocks and hidden.to (hidden.to also without
   * taps when to < numLayers: the stream handed to the next range). With gradients only as
   * GradientOptions.stream (no weight gradients).
   * `embedded`: with from = 0, the graph also reads `hidden_in` (the embedded stream, computed by the
   * caller with graph/embed-rows.ts) instead of embedding input_ids, so the token embedding enters
   * the runtime only with a (tied) head (block-run.ts: one vocabulary matrix in the wasm heap, not two).
   * `head: false`: a range ending at the last block stops before the final norm and the head, and gives
   * hidden.to like a middle range (graph/head-chunks.ts then runs the head in vocabulary chunks). A range
   * from = to = numLayers is the head alone (final norm + head on `hidden_in`).
   */
  layerRange?: { from: number; to: number; embedded?: boolean; head?: boolean };
  /**
   * With tokenLoss and no logits (language models): adds the input `loss_from` int64 [1], and the head
   * and token_nll cover only positions loss_from..seq-1 (token_nll [batch, seq - loss_from]). A
   * perplexity window scores only its last stride positions, so the LM head (a third of GPT-2's
   * FLOPs) runs on those rows alone (api/evaluation.ts, block by block). Each value is bitwise the
   * full graph's at the same position.
   */
  lossFrom?: boolean;
  /**
   * With tokenLoss and no logits (a language model): instead of token_nll, the outputs loss.lse
   * [batch, seq] (log Σ_v exp of the logits) and loss.picked [batch, seq] (the logit at each label; the
   * labels must lie within the vocabulary), so token losses over vocabulary chunks run one chunk at a
   * time combine outside the graph (graph/head-chunks.ts).
   */
  lossParts?: boolean;
}
