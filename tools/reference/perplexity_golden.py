"""fixtures/golden/perplexity.json: sliding-window perplexity protocol.

Protocol (per case):
  ids = tokenize(whole text file) (no BOS, no special tokens)[:max_tokens]; n = len(ids)
  windows start at b = 0, stride, 2*stride, ...; window = ids[b : b+context] (the last one may be shorter);
  stop after the first window with b + context >= n.
  A token at absolute index t >= 1 is scored in the first window that holds it at a position > 0
  and lies after the previous window's end: window 0 scores 1..context-1, later windows score
  max(prev_end, b+1) .. end-1 (i.e. their last `stride` tokens when stride < context).
  mean_nll = mean over scored tokens of -log p(ids[t] | ids[b..t-1]) (float64); perplexity = exp(mean_nll).
  Note: when stride >= context the token at each later window's position 0 is never at a position > 0
  in any window, so it is not scored (tokens_scored < n-1). The case with stride == context therefore
  also carries an "alt_stride_context_minus_1" result (stride clamped to context-1, which scores every
  token once) so that either convention can be tested.

Usage: /usr/bin/python3 tools/reference/perplexity_golden.py [model_dir]
"""
import math
import sys

import torch

from gpt2_ref import DEFAULT_MODEL_DIR, GPT2Ref, model_info, tokenize_file, write_json

CASES = [
    ("public/data/evaluation.txt", 8192, 128, 64),
    ("public/data/evaluation.txt", 4096, 128, 127),  # stride < context: every token scored once
    ("public/data/evaluation.txt", 2048, 64, 32),
    ("public/data/calibration.txt", 4096, 128, 64),
]


def sliding_nll(model, ids, context, stride):
    """Returns (sum of -log p over scored tokens, number scored, list of scored absolute indices)."""
    n = len(ids)
    total, count, scored = 0.0, 0, []
    prev_end = 0  # exclusive end of the previous window (tokens < prev_end already had their chance)
    b = 0
    while True:
        end = min(b + context, n)
        first = max(prev_end, b + 1)  # first absolute index scored in this window
        if first < end:
            win = torch.tensor([ids[b:end]], dtype=torch.long)
            with torch.no_grad():
                lp = torch.log_softmax(model.forward(win)[0], dim=-1)  # [len, vocab], float64
            for t in range(first, end):
                total += -float(lp[t - b - 1, ids[t]])  # position t-b predicted from position t-b-1
                scored.append(t)
            count += end - first
        prev_end = end
        if b + context >= n:
            break
        b += stride
    return total, count, scored


def run(model, model_dir_arg):
    out = dict(model_info(model, model_dir_arg))
    out["cases"] = []
    for text_file, max_tokens, context, stride in CASES:
        all_ids = tokenize_file(model, text_file)
        ids = all_ids[:max_tokens]
        res = {"text_file": text_file, "max_tokens": max_tokens, "context": context, "stride": stride,
               "total_tokens": len(all_ids)}
        total, count, scored = sliding_nll(model, ids, context, stride)
        assert len(set(scored)) == len(scored)
        res.update({"tokens_scored": count, "mean_nll": total / count, "perplexity": math.exp(total / count)})
        if stride >= context:
            res["note"] = ("stride >= context: tokens at positions 0 of windows 2.. are never scored "
                           f"({len(ids) - 1 - count} tokens); see alt_stride_context_minus_1")
            t2, c2, s2 = sliding_nll(model, ids, context, context - 1)
            assert c2 == len(ids) - 1 and len(set(s2)) == c2
            res["alt_stride_context_minus_1"] = {"stride": context - 1, "tokens_scored": c2,
                                                 "mean_nll": t2 / c2, "perplexity": math.exp(t2 / c2)}
        else:
            assert count == len(ids) - 1 and scored == list(range(1, len(ids)))
        out["cases"].append(res)
        print(res)
    write_json(out, "fixtures/golden/perplexity.json")


if __name__ == "__main__":
    torch.set_num_threads(1)
    arg = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL_DIR
    run(GPT2Ref(arg), arg)
