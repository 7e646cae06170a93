"""fixtures/golden/criteria.json: structured importance criteria on a fixed calibration batch.

Calibration: ids = tokenize(public/data/calibration.txt)[:samples*seq], reshaped to [samples, seq]
(8 x 128, no padding). All statistics come from ONE forward pass of the DENSE model, in float64.
Notation (see the source tags in /work/shared/METHODS-BRIEF.md):
  W_o    = attn.c_proj.weight^T   [256 out, 256 in]; head h owns input channels h*32..(h+1)*32-1
  W_down = mlp.c_proj.weight^T    [256 out, 1024 in]
  X_o    = inputs of W_o (concatenated head contexts), X_d = inputs of W_down (gelu_new outputs),
           both [N=1024 tokens, in]; N_seq = 8.
Higher score = more important for every criterion.

Usage: /usr/bin/python3 tools/reference/criteria_golden.py [model_dir]
"""
import sys

import torch

from gpt2_ref import DEFAULT_MODEL_DIR, GPT2Ref, model_info, next_token_logprob, tokenize_file, write_json

TEXT = "public/data/calibration.txt"
SAMPLES, SEQ = 8, 128


def magnitude(model, l):
    """L2 norm (with the root) of every weight/bias coupled to the unit.
    head = q,k,v rows (+ biases) and W_o columns (no o bias); neuron = W_up row + b_up + W_down column;
    layer = all weights and biases of c_attn, attn.c_proj, c_fc, mlp.c_proj (no LayerNorms)."""
    p = lambda n: model.p(f"h.{l}.{n}")  # noqa: E731
    d, dh, H = model.d, model.dh, model.H
    Wqkv, bqkv = p("attn.c_attn.weight"), p("attn.c_attn.bias")  # [in, 3d] (Conv1D)
    Wo_c = p("attn.c_proj.weight")  # Conv1D [in=256, out]: row j = W_o column j
    heads = []
    for h in range(H):
        cols = torch.cat([torch.arange(off + h * dh, off + (h + 1) * dh) for off in (0, d, 2 * d)])
        ss = (Wqkv[:, cols] ** 2).sum() + (bqkv[cols] ** 2).sum() + (Wo_c[h * dh:(h + 1) * dh] ** 2).sum()
        heads.append(float(torch.sqrt(ss)))
    Wfc, bfc, Wdn_c = p("mlp.c_fc.weight"), p("mlp.c_fc.bias"), p("mlp.c_proj.weight")  # [256,1024],[1024],[1024,256]
    ffn = torch.sqrt((Wfc ** 2).sum(0) + bfc ** 2 + (Wdn_c ** 2).sum(1)).tolist()
    names = ["attn.c_attn.weight", "attn.c_attn.bias", "attn.c_proj.weight", "attn.c_proj.bias",
             "mlp.c_fc.weight", "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias"]
    layer = float(torch.sqrt(sum((p(n) ** 2).sum() for n in names)))
    return heads, ffn, layer


def heads_sum(ch, dh):
    """Sum channel scores over each head's dh consecutive channels."""
    return ch.reshape(-1, dh).sum(1).tolist()


def wanda_sp(X, W, n_seq):
    """FLAP lib/prune.py prune_wanda_sp: s_j = sum_tokens x_j^2 / N_seq (Wanda WrappedGPT.scaler_row);
    c_j = mean_i |W_ij| * sqrt(s_j)."""
    s = (X ** 2).sum(0) / n_seq
    return W.abs().mean(0) * torch.sqrt(s)


def flap_wifv(X, W):
    """FLAP WIFV: v_j = unbiased variance of x_j over all tokens; score = v_j * ||W_:,j||^2."""
    v = X.var(0, unbiased=True)
    return v * (W ** 2).sum(0)


def obs_hinv(X, n_seq):
    """SparseGPT/SlimGPT: H = 2 X^T X / N_seq; dead H_jj=0 -> 1; damp 0.01*mean(diag H); Hinv via Cholesky."""
    H = 2.0 * X.T @ X / n_seq
    H = 0.5 * (H + H.T)
    dead = torch.diag(H) == 0
    H[dead, dead] = 1.0
    H = H + 0.01 * torch.mean(torch.diag(H)) * torch.eye(H.shape[0], dtype=H.dtype)
    Hinv = torch.cholesky_inverse(torch.linalg.cholesky(H))
    return Hinv, int(dead.sum())


def obs_heads(W, Hinv, dh):
    """SlimGPT grouped Cholesky: L_h = chol_lower(Hinv[h,h]); E_h = sum_{j in h} sum_i W_ij^2 / (L_h)_jj^2.
    Exact block error (SparseGPT/ZipLM): 0.5 * tr(W_S [Hinv_SS]^-1 W_S^T)."""
    slim, exact = [], []
    for h in range(W.shape[1] // dh):
        S = slice(h * dh, (h + 1) * dh)
        B = Hinv[S, S]
        Lh = torch.linalg.cholesky(B)
        slim.append(float(((W[:, S] ** 2).sum(0) / torch.diag(Lh) ** 2).sum()))
        WS = W[:, S]
        exact.append(float(0.5 * torch.trace(WS @ torch.linalg.solve(B, WS.T))))
    return slim, exact


def mean_nll(model, ids, **masks):
    with torch.no_grad():
        return float(-next_token_logprob(model.forward(ids, **masks), ids).mean())


def run(model, model_dir_arg):
    L, H, dh = model.L, model.H, model.dh
    ids_flat = tokenize_file(model, TEXT)[:SAMPLES * SEQ]
    ids = torch.tensor(ids_flat, dtype=torch.long).reshape(SAMPLES, SEQ)
    hooks = {}
    with torch.no_grad():
        logits = model.forward(ids, hooks=hooks)
    base = float(-next_token_logprob(logits, ids).mean())
    N = SAMPLES * SEQ

    crit = {k: {"heads": [], "ffn": [], "layers": []} for k in ("magnitude", "wanda", "flap", "obs")}
    obs_exact, stats = [], {k: [] for k in ("x_o_mean", "x_o_sumsq", "x_o_var", "x_d_mean", "x_d_sumsq", "x_d_var")}
    dead_counts = []
    for l in range(L):
        Xo = hooks["x_o"][l].reshape(N, -1)
        Xd = hooks["x_d"][l].reshape(N, -1)
        Wo = model.p(f"h.{l}.attn.c_proj.weight").T  # [out, in]
        Wd = model.p(f"h.{l}.mlp.c_proj.weight").T  # [out=256, in=1024]
        for pre, X in (("x_o", Xo), ("x_d", Xd)):
            stats[pre + "_mean"].append(X.mean(0).tolist())
            stats[pre + "_sumsq"].append((X ** 2).sum(0).tolist())
            stats[pre + "_var"].append(X.var(0, unbiased=True).tolist())

        mh, mf, ml = magnitude(model, l)
        crit["magnitude"]["heads"].append(mh), crit["magnitude"]["ffn"].append(mf), crit["magnitude"]["layers"].append(ml)

        crit["wanda"]["heads"].append(heads_sum(wanda_sp(Xo, Wo, SAMPLES), dh))
        crit["wanda"]["ffn"].append(wanda_sp(Xd, Wd, SAMPLES).tolist())

        crit["flap"]["heads"].append(heads_sum(flap_wifv(Xo, Wo) ** 2, dh))  # attention metric squared again
        crit["flap"]["ffn"].append(flap_wifv(Xd, Wd).tolist())

        Hinv_o, dead_o = obs_hinv(Xo, SAMPLES)
        slim, exact = obs_heads(Wo, Hinv_o, dh)
        crit["obs"]["heads"].append(slim)
        obs_exact.append(exact)
        Hinv_d, dead_d = obs_hinv(Xd, SAMPLES)
        crit["obs"]["ffn"].append(((Wd ** 2).sum(0) / torch.diag(Hinv_d)).tolist())
        dead_counts.append([dead_o, dead_d])
    for k in ("wanda", "flap", "obs"):
        crit[k]["layers"] = None

    # Ablation: mean NLL with one unit masked, minus the dense mean NLL (positions 1..127 of each sequence)
    abl_heads = []
    for l in range(L):
        row = []
        for h in range(H):
            hm, _, _ = model.masks(heads_off=[(l, h)])
            row.append(mean_nll(model, ids, head_mask=hm) - base)
        abl_heads.append(row)
    abl_layers = []
    for l in range(L):
        _, _, lm = model.masks(layers_off=[l])
        abl_layers.append(mean_nll(model, ids, layer_mask=lm) - base)
    crit["ablation"] = {"heads": abl_heads, "ffn": None, "layers": abl_layers}

    # ShortGPT block influence: mean over tokens of 1 - cos(h_l, h_{l+1}), pre-ln_f residuals
    bi = []
    for l in range(L):
        a = hooks["resid"][l].reshape(N, -1)
        b = hooks["resid"][l + 1].reshape(N, -1)
        cos = (a * b).sum(-1) / (a.norm(dim=-1) * b.norm(dim=-1))
        cos = torch.nan_to_num(cos, nan=0.5)  # zero-norm cosine counts as 0.5 (ShortGPT metrics.py)
        bi.append(float((1 - cos).mean()))
    crit["block-influence"] = {"heads": None, "ffn": None, "layers": bi}

    out = dict(model_info(model, model_dir_arg))
    out["calibration"] = {"text_file": TEXT, "samples": SAMPLES, "seq": SEQ, "input_ids": ids.tolist()}
    out["base_loss"] = base
    out["criteria"] = crit
    out["obs_exact_heads"] = obs_exact
    out["stats"] = dict(stats, resid_mean_norm=[float(r.reshape(N, -1).norm(dim=-1).mean()) for r in hooks["resid"]],
                        obs_dead_inputs=dead_counts)
    write_json(out, "fixtures/golden/criteria.json")
    print("base_loss", base, "BI", bi, "ablation layers", abl_layers, "dead", dead_counts)


if __name__ == "__main__":
    torch.set_num_threads(1)
    arg = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL_DIR
    run(GPT2Ref(arg), arg)
