"""Why magnitude loses to random selection on the demo model's FFN neurons (docs/METHODS.md).

Independent of the TypeScript engine (gpt2_ref.py forward, float32). Prints, for 50% of the FFN
neurons of every layer removed (uniform, no compensation; perplexity on evaluation.txt, first 8192
tokens, ctx 128, stride 64):
  - several fixed weight-norm orders and their reverses, against random selections;
  - 50% of one layer's FFN neurons at a time: magnitude vs random;
  - per layer, on 16 x 128 calibration tokens: corr(weight norms, activation) and the mean squared
    norm of the removed part of the down projection's output, magnitude half vs a random half.
Usage: /usr/bin/python3 tools/reference/magnitude_study.py   (~2 min on 2 threads)
"""
import math
import sys

import torch

from gpt2_ref import GPT2Ref, tokenize_file

CTX, STRIDE, MAX_TOKENS, RATIO = 128, 64, 8192, 0.5


def windows(n):
    out, begin, prev_end = [], 0, 0
    while True:
        end = min(begin + CTX, n)
        out.append((begin, end, max(prev_end, begin + 1)))
        prev_end = end
        if begin + CTX >= n:
            return out
        begin += STRIDE


def perplexity(model, ids, ffn_mask):
    nll, count = 0.0, 0
    wins = windows(len(ids))
    with torch.no_grad():
        for i in range(0, len(wins), 32):
            group = [w for w in wins[i:i + 32]]
            by_len = {}
            for w in group:
                by_len.setdefault(w[1] - w[0], []).append(w)
            for _, ws in by_len.items():
                x = torch.tensor([ids[a:e] for a, e, _ in ws])
                lp = torch.log_softmax(model.forward(x, ffn_mask=ffn_mask).double(), -1)
                for k, (a, e, first) in enumerate(ws):
                    for t in range(first, e):
                        nll -= float(lp[k, t - a - 1, ids[t]])
                        count += 1
    return math.exp(nll / count)


def lowest_mask(model, scores, layers=None):
    L, F = model.L, model.m
    fm = torch.ones(L, F)
    for l in layers if layers is not None else range(L):
        fm[l, torch.argsort(scores[l])[: int(round(RATIO * F))]] = 0
    return fm


def main():
    torch.set_num_threads(2)
    model = GPT2Ref("public/models/demo-gpt2", dtype=torch.float32)
    L = model.L
    w = lambda l, n: model.p(f"h.{l}.{n}")
    stack = lambda f: torch.stack([f(l) for l in range(L)])
    up_sq = lambda l: (w(l, "mlp.c_fc.weight") ** 2).sum(0)  # Conv1D [in, out]: column j = up row j
    down_sq = lambda l: (w(l, "mlp.c_proj.weight") ** 2).sum(1)  # row j = down column j
    orders = {
        "up row + bias + down column (L2, the criterion)": stack(lambda l: up_sq(l) + w(l, "mlp.c_fc.bias") ** 2 + down_sq(l)),
        "up row only": stack(up_sq),
        "down column only (FLAP mag_sp)": stack(down_sq),
        "product of up and down norms": stack(lambda l: (up_sq(l) * down_sq(l)).sqrt()),
        "up row with ln_2 gain folded in": stack(lambda l: ((w(l, "ln_2.weight")[:, None] * w(l, "mlp.c_fc.weight")) ** 2).sum(0)),
    }
    ids = tokenize_file(model, "public/data/evaluation.txt")[:MAX_TOKENS]
    print(f"dense {perplexity(model, ids, None):.2f}")
    gen = torch.Generator().manual_seed(0)
    rand = [perplexity(model, ids, lowest_mask(model, torch.rand(L, model.m, generator=gen))) for _ in range(4)]
    print("random (4 seeds)", " ".join(f"{r:.2f}" for r in rand))
    for name, s in orders.items():
        print(f"{name}: {perplexity(model, ids, lowest_mask(model, s)):.2f}  reversed: {perplexity(model, ids, lowest_mask(model, -s)):.2f}")
    mag = orders["up row + bias + down column (L2, the criterion)"]
    for l in range(L):
        r = [perplexity(model, ids, lowest_mask(model, torch.rand(L, model.m, generator=gen), [l])) for _ in range(3)]
        print(f"layer {l} only: magnitude {perplexity(model, ids, lowest_mask(model, mag, [l])):.2f}  random {' '.join(f'{x:.2f}' for x in r)}")
    cal = torch.tensor(tokenize_file(model, "public/data/calibration.txt")[: 16 * 128]).reshape(16, 128)
    hooks = {}
    with torch.no_grad():
        model.forward(cal, hooks=hooks)
    for l in range(L):
        act = hooks["x_d"][l].reshape(-1, model.m).double()
        down = w(l, "mlp.c_proj.weight").double()
        corr = float(torch.corrcoef(torch.stack([up_sq(l).sqrt().double(), act.mean(0)]))[0, 1])
        removed_err = lambda P: float(((act[:, P] @ down[P]) ** 2).sum(1).mean())
        half = int(round(RATIO * model.m))
        pm = torch.argsort(mag[l])[:half]
        pr = torch.randperm(model.m, generator=torch.Generator().manual_seed(l))[:half]
        print(f"layer {l}: corr(|up row|, mean activation) {corr:+.2f}; removed output ||.||^2 magnitude {removed_err(pm):.1f} random {removed_err(pr):.1f}")


if __name__ == "__main__":
    sys.exit(main())
