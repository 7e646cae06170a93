"""fixtures/golden/prune.json: physically sliced (structurally pruned) models, with and without compensation.

Plans (Prune Studio plan format, written into the fixture under "plans"):
  golden-50:    layer l removes heads sorted({(l + 2k) % 8, k = 0..3}) (4 of 8) and FFN neurons
                {j : (7j + l) % 2 == 0} (512 of 1024), for l = 0..3.
  golden-layer: the same, but layer 2 is removed entirely ("removed": true, empty lists).

Slicing (a new, smaller model is built; no masks):
  head h removed  -> its q, k, v output columns h*32.. of each third of c_attn.weight [in, 3d] (Conv1D) and
                     the same c_attn.bias entries; rows h*32.. of attn.c_proj.weight [in, out] (= W_o columns).
                     attn.c_proj.bias stays. Remaining heads keep their order; scale stays 1/sqrt(32).
  neuron j removed -> column j of mlp.c_fc.weight, b_fc[j], row j of mlp.c_proj.weight. mlp.c_proj.bias stays.
  layer removed   -> the block disappears (the residual stream passes through).
  Check (asserted): sliced logits == gpt2_ref masked logits for the same plan, to 1e-9 (float64).

Compensation (from ONE forward pass of the DENSE model on the criteria.json calibration batch,
8 x 128 tokens of public/data/calibration.txt; N = 1024 tokens, N_seq = 8), applied to the dense weights
before slicing, independently per remaining layer, for o_proj (X_o = concatenated head contexts, 256
channels, S = removed heads' channels) and down_proj (X_d = gelu_new outputs, 1024 channels, S = removed
neurons). W in [out, in] convention: W_o = attn.c_proj.weight^T, W_down = mlp.c_proj.weight^T.
  none: nothing.
  bias: (FLAP) b <- b + W[:, S] @ mu_S, mu = per-channel mean of X over the N tokens.
  obs:  H = 2 X^T X / N_seq (float64, symmetrised); H_jj == 0 -> 1; H += 0.01 * mean(diag H) * I;
        Hinv = inverse(H); W[:, K] <- W[:, K] - W[:, S] inv(Hinv[S,S]) Hinv[S,K]; W[:, S] = 0; biases unchanged.
        Verified (asserted) against the damped least-squares solution W_K' = W H[:, K] inv(H[K,K]).

Metrics per case: perplexity on public/data/evaluation.txt (first 4096 tokens, context 128, stride 64:
the perplexity.json protocol, tokens_scored = 4095), logits at positions [0, 7, 31] of dense.json
input_ids[0] (= tokens 0..31 of evaluation.txt), parameter count of the sliced model (every remaining
tensor, tied LM head counted once).

Usage: /usr/bin/python3 tools/reference/prune_golden.py [model_dir]
"""
import copy
import math
import sys

import torch

from gpt2_ref import DEFAULT_MODEL_DIR, GPT2Ref, gelu_new, layer_norm, model_info, tokenize_file, write_json
from perplexity_golden import sliding_nll

CALIB_TEXT = "public/data/calibration.txt"
CALIB_SAMPLES, CALIB_SEQ = 8, 128
EVAL_TEXT = "public/data/evaluation.txt"
MAX_TOKENS, CONTEXT, STRIDE = 4096, 128, 64
POSITIONS = [0, 7, 31]
COMPENSATIONS = ["none", "bias", "obs"]
DAMP = 0.01


# ---------------------------------------------------------------------------------------------
# Plans
# ---------------------------------------------------------------------------------------------
def make_plan(name, removed_layers=()):
    layers = []
    for l in range(4):
        if l in removed_layers:
            layers.append({"index": l, "removed": True, "removedHeads": [], "removedFfn": []})
        else:
            layers.append({"index": l, "removed": False,
                           "removedHeads": sorted({(l + 2 * k) % 8 for k in range(4)}),
                           "removedFfn": [j for j in range(1024) if (j * 7 + l) % 2 == 0]})
    return {"format": "prune-studio-plan", "version": 1, "name": name,
            "model": {"name": "demo-gpt2", "numLayers": 4, "numHeads": 8, "numKvHeads": 8, "ffnSize": 1024,
                      "headDim": 32},
            "layers": layers}


PLANS = [make_plan("golden-50"), make_plan("golden-layer", removed_layers=(2,))]


def plan_masks(model, plan):
    heads_off, ffn_off, layers_off = [], [], []
    for e in plan["layers"]:
        if e["removed"]:
            layers_off.append(e["index"])
        heads_off += [(e["index"], h) for h in e["removedHeads"]]
        if e["removedFfn"]:
            ffn_off.append((e["index"], e["removedFfn"]))
    return model.masks(heads_off, ffn_off, layers_off)


# ---------------------------------------------------------------------------------------------
# Calibration statistics (dense model) and compensation
# ---------------------------------------------------------------------------------------------
def calibration(model):
    ids_flat = tokenize_file(model, CALIB_TEXT)[:CALIB_SAMPLES * CALIB_SEQ]
    ids = torch.tensor(ids_flat, dtype=torch.long).reshape(CALIB_SAMPLES, CALIB_SEQ)
    hooks = {}
    with torch.no_grad():
        model.forward(ids, hooks=hooks)
    N = CALIB_SAMPLES * CALIB_SEQ
    X_o = [x.reshape(N, -1) for x in hooks["x_o"]]
    X_d = [x.reshape(N, -1) for x in hooks["x_d"]]
    return ids, X_o, X_d


def damped_hessian(X, n_seq):
    H = 2.0 * X.T @ X / n_seq
    H = 0.5 * (H + H.T)
    dead = torch.diag(H) == 0
    idx = torch.nonzero(dead)[:, 0]
    H[idx, idx] = 1.0
    H = H + DAMP * torch.mean(torch.diag(H)) * torch.eye(H.shape[0], dtype=H.dtype)
    return H


def obs_update(W, H, S):
    """W [out, in]; S = removed input channels. Returns (W', residual vs damped least squares)."""
    n = W.shape[1]
    S = torch.tensor(sorted(S), dtype=torch.long)
    keep = torch.ones(n, dtype=torch.bool)
    keep[S] = False
    K = torch.nonzero(keep)[:, 0]
    Hinv = torch.linalg.inv(H)
    Wn = W.clone()
    Wn[:, K] = W[:, K] - W[:, S] @ torch.linalg.solve(Hinv[S][:, S], Hinv[S][:, K])
    Wn[:, S] = 0.0
    # damped least squares: min ||(W' - W) X^T||^2 (with the damped H) s.t. W'_S = 0
    W_ls = W @ H[:, K] @ torch.linalg.inv(H[K][:, K])
    resid = float((Wn[:, K] - W_ls).abs().max())
    return Wn, resid


def compensate(model, plan, method, X_o, X_d):
    """Return (dict of modified dense weights, max OBS-vs-least-squares residual)."""
    w = dict(model.w)
    worst = 0.0
    if method == "none":
        return w, worst
    dh = model.dh
    for e in plan["layers"]:
        if e["removed"]:
            continue
        l = e["index"]
        pre = f"h.{l}."
        S_o = [h * dh + i for h in e["removedHeads"] for i in range(dh)]
        S_d = list(e["removedFfn"])
        for wname, bname, X, S in ((pre + "attn.c_proj.weight", pre + "attn.c_proj.bias", X_o[l], S_o),
                                   (pre + "mlp.c_proj.weight", pre + "mlp.c_proj.bias", X_d[l], S_d)):
            if not S:
                continue
            W = w[wname].T  # [out, in]
            if method == "bias":
                mu = X.mean(0)
                w[bname] = w[bname] + W[:, S] @ mu[S]
            elif method == "obs":
                Wn, r = obs_update(W, damped_hessian(X, CALIB_SAMPLES), S)
                worst = max(worst, r)
                w[wname] = Wn.T.contiguous()
            else:
                raise ValueError(method)
    return w, worst


# ---------------------------------------------------------------------------------------------
# Physically sliced model
# ---------------------------------------------------------------------------------------------
class SlicedGPT2:
    """A GPT-2 whose blocks have per-layer head / FFN counts (any may be 0) and whose removed blocks are gone."""

    def __init__(self, w, cfg, plan):
        self.eps = cfg["layer_norm_epsilon"]
        d, H = cfg["n_embd"], cfg["n_head"]
        self.dh = dh = d // H
        m = cfg.get("n_inner") or 4 * d
        self.d = d
        self.top = {k: w[k] for k in ("wte.weight", "wpe.weight", "ln_f.weight", "ln_f.bias")}
        self.blocks = []
        for e in plan["layers"]:
            if e["removed"]:
                continue
            pre = f"h.{e['index']}."
            kh = [h for h in range(H) if h not in set(e["removedHeads"])]
            kf = torch.tensor([j for j in range(m) if j not in set(e["removedFfn"])], dtype=torch.long)
            qkv_cols = torch.tensor([off + h * dh + i for off in (0, d, 2 * d) for h in kh for i in range(dh)],
                                    dtype=torch.long)
            o_rows = torch.tensor([h * dh + i for h in kh for i in range(dh)], dtype=torch.long)
            blk = {
                "n_head": len(kh),
                "ln_1.weight": w[pre + "ln_1.weight"], "ln_1.bias": w[pre + "ln_1.bias"],
                "attn.c_attn.weight": w[pre + "attn.c_attn.weight"][:, qkv_cols].contiguous(),
                "attn.c_attn.bias": w[pre + "attn.c_attn.bias"][qkv_cols].contiguous(),
                "attn.c_proj.weight": w[pre + "attn.c_proj.weight"][o_rows].contiguous(),
                "attn.c_proj.bias": w[pre + "attn.c_proj.bias"],
                "ln_2.weight": w[pre + "ln_2.weight"], "ln_2.bias": w[pre + "ln_2.bias"],
                "mlp.c_fc.weight": w[pre + "mlp.c_fc.weight"][:, kf].contiguous(),
                "mlp.c_fc.bias": w[pre + "mlp.c_fc.bias"][kf].contiguous(),
                "mlp.c_proj.weight": w[pre + "mlp.c_proj.weight"][kf].contiguous(),
                "mlp.c_proj.bias": w[pre + "mlp.c_proj.bias"],
            }
            self.blocks.append(blk)

    def num_parameters(self):
        n = sum(t.numel() for t in self.top.values())  # wte counted once (tied LM head)
        for b in self.blocks:
            n += sum(t.numel() for k, t in b.items() if k != "n_head")
        return n

    def forward(self, ids):
        B, T = ids.shape
        dh = self.dh
        x = self.top["wte.weight"][ids] + self.top["wpe.weight"][torch.arange(T)][None]
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        for b in self.blocks:
            nh = b["n_head"]
            a_in = layer_norm(x, b["ln_1.weight"], b["ln_1.bias"], self.eps)
            if nh > 0:
                qkv = a_in @ b["attn.c_attn.weight"] + b["attn.c_attn.bias"]
                q, k, v = qkv.split(nh * dh, dim=-1)
                q, k, v = (t.reshape(B, T, nh, dh).transpose(1, 2) for t in (q, k, v))
                s = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
                s = s.masked_fill(~causal, float("-inf"))
                ctx = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(B, T, nh * dh)
                x = x + ctx @ b["attn.c_proj.weight"] + b["attn.c_proj.bias"]
            else:  # empty attention sublayer: only its output bias remains
                x = x + b["attn.c_proj.bias"]
            m_in = layer_norm(x, b["ln_2.weight"], b["ln_2.bias"], self.eps)
            if b["mlp.c_fc.bias"].numel() > 0:
                act = gelu_new(m_in @ b["mlp.c_fc.weight"] + b["mlp.c_fc.bias"])
                x = x + act @ b["mlp.c_proj.weight"] + b["mlp.c_proj.bias"]
            else:
                x = x + b["mlp.c_proj.bias"]
        x = layer_norm(x, self.top["ln_f.weight"], self.top["ln_f.bias"], self.eps)
        return x @ self.top["wte.weight"].T


def with_weights(model, w):
    m2 = copy.copy(model)
    m2.w = w
    return m2


def perplexity(fwd_model, ids):
    total, count, scored = sliding_nll(fwd_model, ids, CONTEXT, STRIDE)
    assert count == len(ids) - 1 and scored == list(range(1, len(ids)))
    return total / count, count


def run(model, model_dir_arg):
    ids_all = tokenize_file(model, EVAL_TEXT)
    eval_ids = ids_all[:MAX_TOKENS]
    logit_ids = torch.tensor([ids_all[0:32]], dtype=torch.long)  # == dense.json input_ids[0]
    check_ids = torch.tensor([ids_all[0:32], ids_all[32:64]], dtype=torch.long)
    calib_ids, X_o, X_d = calibration(model)

    no_op = {"layers": [{"index": l, "removed": False, "removedHeads": [], "removedFfn": []} for l in range(model.L)]}
    dense_sliced = SlicedGPT2(model.w, model.cfg, no_op)
    dense_params = dense_sliced.num_parameters()
    assert dense_params == sum(t.numel() for t in model.w.values()), dense_params
    nll, cnt = perplexity(model, eval_ids)
    out = dict(model_info(model, model_dir_arg))
    out["calibration"] = {"text_file": CALIB_TEXT, "samples": CALIB_SAMPLES, "seq": CALIB_SEQ,
                          "input_ids": calib_ids.tolist()}
    out["protocol"] = {"text_file": EVAL_TEXT, "max_tokens": MAX_TOKENS, "context": CONTEXT, "stride": STRIDE,
                       "logits_input": "dense.json input_ids[0] = tokens 0..31 of the whole-file tokenization",
                       "logits_input_ids": logit_ids[0].tolist(), "logits_positions": POSITIONS,
                       "statistics": "dense model, one forward pass over the calibration batch (not sequential)",
                       "obs_damp": DAMP}
    out["dense"] = {"perplexity": math.exp(nll), "mean_nll": nll, "tokens_scored": cnt, "parameters": dense_params}
    print(f"dense: ppl {math.exp(nll):.6f} params {dense_params}")
    out["cases"] = []
    checks = {"slice_vs_mask_max_abs": 0.0, "obs_vs_lstsq_max_abs": 0.0}
    for plan in PLANS:
        hm, fm, lm = plan_masks(model, plan)
        for comp in COMPENSATIONS:
            w, r_obs = compensate(model, plan, comp, X_o, X_d)
            assert r_obs < 1e-8, r_obs
            sliced = SlicedGPT2(w, model.cfg, plan)
            with torch.no_grad():
                a = sliced.forward(check_ids)
                b = with_weights(model, w).forward(check_ids, head_mask=hm, ffn_mask=fm, layer_mask=lm)
            diff = float((a - b).abs().max())
            assert diff < 1e-9, (plan["name"], comp, diff)
            checks["slice_vs_mask_max_abs"] = max(checks["slice_vs_mask_max_abs"], diff)
            checks["obs_vs_lstsq_max_abs"] = max(checks["obs_vs_lstsq_max_abs"], r_obs)
            nll, cnt = perplexity(sliced, eval_ids)
            with torch.no_grad():
                logits = sliced.forward(logit_ids)[0, POSITIONS]
            case = {"plan": plan["name"], "compensation": comp, "perplexity": math.exp(nll), "mean_nll": nll,
                    "tokens_scored": cnt, "parameters": sliced.num_parameters(),
                    "head_counts": [blk["n_head"] for blk in sliced.blocks],
                    "ffn_counts": [blk["mlp.c_fc.bias"].numel() for blk in sliced.blocks],
                    "logits_positions": POSITIONS, "logits": logits.tolist()}
            out["cases"].append(case)
            print(f"{plan['name']:13s} {comp:5s} ppl {case['perplexity']:.6f} params {case['parameters']} "
                  f"slice-vs-mask {diff:.2e} obs-vs-lstsq {r_obs:.2e}")
    out["checks"] = checks
    out["plans"] = {p["name"]: p for p in PLANS}
    write_json(out, "fixtures/golden/prune.json")


if __name__ == "__main__":
    torch.set_num_threads(1)
    arg = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL_DIR
    run(GPT2Ref(arg), arg)
