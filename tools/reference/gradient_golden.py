"""fixtures/golden/gradients.json: loss gradients w.r.t. the structural masks and some weights (torch autograd).

Calibration batch: identical to criteria.json (public/data/calibration.txt, tokenize(whole file)[:8*128]
reshaped row-major to [8, 128]). Everything in float64.

Losses:
  L_s = mean over p = 0..126 of -log p(ids[s, p+1] | ids[s, 0..p])            (one sequence, 127 tokens)
  L   = mean over all 8*127 scored tokens = mean_s L_s                        (the batch loss)
Mask gradients: head_mask [4,8], ffn_mask [4,1024], layer_mask [4] are float64 leaf tensors (value 1 =
dense unless stated); gpt2_ref semantics (head mask on the head context before attn.c_proj, ffn mask on
gelu_new output before mlp.c_proj, layer mask on both residual branch outputs of the block).
  per-sequence g_s = dL_s/dmask; taylor = mean_s |g_s|; fisher = mean_s g_s^2.
  batch_grad = dL/dmask (asserted == mean_s g_s).
  masked_batch: heads (0,1),(2,5) and layer-1 neurons 0..99 set to 0; gradients w.r.t. ALL entries.
Weight gradients: dL/dW (dense batch loss) in [out, in] convention, W_o = attn.c_proj.weight^T [256,256],
  W_down = mlp.c_proj.weight^T [256,1024], layers 0 and 3; stored as base64 little-endian float32 (size
  budget, see fixtures/golden/README.md) plus float64 summaries (norm, sum, max, row 0).
Finite differences: central differences (eps 1e-4) of the dense batch loss for 3 head and 3 ffn mask
  entries and 2 weight entries (largest |dL/dW| of layer-0 W_o and layer-3 W_down); asserted relative
  error < 1e-6. Also asserted: batch_loss == criteria.json base_loss (same model).
SGD recovery: golden-50 plan masks (fixtures/golden/prune.json "plans"), 3 plain gradient-descent steps
  W <- W - 0.05 dL/dW on the attn.c_proj and mlp.c_proj weights of all layers (biases and everything else
  frozen); losses before and after each step. Columns of removed heads / neurons get exactly zero gradient
  (their inputs are exactly zero), which is asserted at every step.

Usage: /usr/bin/python3 tools/reference/gradient_golden.py [model_dir]
"""
import base64
import copy
import json
import os
import sys

import numpy as np
import torch

from gpt2_ref import REPO, DEFAULT_MODEL_DIR, GPT2Ref, model_info, next_token_logprob, tokenize_file, write_json
import prune_golden

TEXT = "public/data/calibration.txt"
SAMPLES, SEQ = 8, 128
FD_EPS = 1e-4
FD_HEADS = [(0, 1), (2, 5), (3, 7)]
FD_FFN = [(0, 0), (1, 100), (3, 1023)]
FD_TOL = 1e-6
MASKED_HEADS_OFF = [(0, 1), (2, 5)]
MASKED_FFN_OFF = [(1, list(range(100)))]
WEIGHT_GRAD_LAYERS = [0, 3]
SGD_PLAN, SGD_LR, SGD_STEPS = "golden-50", 0.05, 3


def calib_ids(model):
    ids_flat = tokenize_file(model, TEXT)[:SAMPLES * SEQ]
    return torch.tensor(ids_flat, dtype=torch.long).reshape(SAMPLES, SEQ)


def per_seq_losses(model, ids, hm, fm, lm):
    """[B] mean NLL over the 127 scored positions of each sequence."""
    return -next_token_logprob(model.forward(ids, head_mask=hm, ffn_mask=fm, layer_mask=lm), ids).mean(1)


def leaf_masks(model, **off):
    return [t.clone().requires_grad_(True) for t in model.masks(**off)]


def mask_grads(loss, masks, retain=False):
    g = torch.autograd.grad(loss, masks, retain_graph=retain)
    return {"heads": g[0].detach(), "ffn": g[1].detach(), "layers": g[2].detach()}


def tolist(d):
    return {k: v.tolist() for k, v in d.items()}


def with_leaf_weights(model, names):
    """Shallow model copy whose weights `names` are fresh float64 leaves (the shared model is untouched)."""
    m2 = copy.copy(model)
    m2.w = dict(model.w)
    for n in names:
        m2.w[n] = model.w[n].clone().requires_grad_(True)
    return m2


def encode_matrix(G):
    """G [out, in] float64 -> base64 little-endian float32 (row-major) + float64 summaries."""
    arr = G.numpy().astype("<f4")
    back = torch.from_numpy(arr.astype(np.float64))
    idx = int(G.abs().argmax())
    return {"shape": list(G.shape), "dtype": "float32", "byte_order": "little", "encoding": "base64",
            "layout": "row-major [out][in]",
            "data": base64.b64encode(arr.tobytes()).decode("ascii"),
            "fro_norm": float(G.norm()), "sum": float(G.sum()), "max_abs": float(G.abs().max()),
            "max_abs_index": [idx // G.shape[1], idx % G.shape[1]],
            "row0": G[0].tolist(),
            "f32_max_abs_rounding_err": float((back - G).abs().max())}


def load_plan(name):
    path = os.path.join(REPO, "fixtures", "golden", "prune.json")
    ref = {p["name"]: p for p in prune_golden.PLANS}[name]
    if os.path.exists(path):
        with open(path) as f:
            plan = json.load(f)["plans"][name]
        assert plan == ref, "prune.json plan differs from prune_golden.PLANS"
        return plan
    return ref


def run(model, model_dir_arg):
    L, H = model.L, model.H
    ids = calib_ids(model)
    out = dict(model_info(model, model_dir_arg))
    out["calibration"] = {"text_file": TEXT, "samples": SAMPLES, "seq": SEQ, "scored_positions": SEQ - 1,
                          "input_ids": ids.tolist()}

    # ---- dense: per-sequence and batch mask gradients -------------------------------------------
    masks = leaf_masks(model)
    ls = per_seq_losses(model, ids, *masks)
    per_seq = [mask_grads(ls[s], masks, retain=True) for s in range(SAMPLES)]
    batch_loss = ls.mean()  # equal token counts per sequence -> = mean over all 8*127 tokens
    batch = mask_grads(batch_loss, masks)
    for k in ("heads", "ffn", "layers"):
        mean_g = torch.stack([g[k] for g in per_seq]).mean(0)
        assert torch.allclose(mean_g, batch[k], rtol=0, atol=1e-14), k
    out["per_sequence"] = {
        "losses": ls.detach().tolist(),
        "heads": [g["heads"].tolist() for g in per_seq],
        "layers": [g["layers"].tolist() for g in per_seq],
        "ffn_seq0": per_seq[0]["ffn"].tolist(),
    }
    out["taylor"] = {k: torch.stack([g[k].abs() for g in per_seq]).mean(0).tolist() for k in ("heads", "ffn", "layers")}
    out["fisher"] = {k: torch.stack([g[k] ** 2 for g in per_seq]).mean(0).tolist() for k in ("heads", "ffn", "layers")}
    out["batch_loss"] = float(batch_loss)
    out["batch_grad"] = tolist(batch)
    cpath = os.path.join(REPO, "fixtures", "golden", "criteria.json")
    if os.path.exists(cpath):
        with open(cpath) as f:
            crit = json.load(f)
        if crit.get("model_sha256") == model.sha256:
            assert crit["calibration"]["input_ids"] == ids.tolist()
            assert abs(crit["base_loss"] - float(batch_loss)) < 1e-12, (crit["base_loss"], float(batch_loss))
    print("batch_loss", float(batch_loss), "per-seq", [round(float(x), 6) for x in ls])
    print("batch_grad heads[0]", batch["heads"][0].tolist(), "layers", batch["layers"].tolist())

    # ---- masked batch ---------------------------------------------------------------------------
    mmasks = leaf_masks(model, heads_off=MASKED_HEADS_OFF, ffn_off=MASKED_FFN_OFF)
    mloss = per_seq_losses(model, ids, *mmasks).mean()
    mgrad = mask_grads(mloss, mmasks)
    out["masked_batch"] = {"heads_off": [list(x) for x in MASKED_HEADS_OFF],
                           "ffn_off": [[l, idx] for l, idx in MASKED_FFN_OFF], "layers_off": [],
                           "loss": float(mloss), "grad": tolist(mgrad)}
    print("masked loss", float(mloss), "grad at zeroed heads", [float(mgrad["heads"][l, h]) for l, h in MASKED_HEADS_OFF])

    # ---- weight gradients (dense batch loss) ----------------------------------------------------
    names = [f"h.{l}.{n}" for l in WEIGHT_GRAD_LAYERS for n in ("attn.c_proj.weight", "mlp.c_proj.weight")]
    mw = with_leaf_weights(model, names)
    wloss = per_seq_losses(mw, ids, None, None, None).mean()
    assert abs(float(wloss) - float(batch_loss)) < 1e-13
    gw = torch.autograd.grad(wloss, [mw.w[n] for n in names])
    wg, gw_exact = {}, {}
    for i, l in enumerate(WEIGHT_GRAD_LAYERS):
        Go, Gd = gw[2 * i].T.contiguous(), gw[2 * i + 1].T.contiguous()  # Conv1D [in,out] -> [out,in]
        wg[str(l)] = {"o": encode_matrix(Go), "down": encode_matrix(Gd)}
        gw_exact[(l, "o")], gw_exact[(l, "down")] = Go, Gd
        print(f"layer {l}: |dL/dW_o| {float(Go.norm()):.9g} dL/dW_o[0,0] {float(Go[0, 0]):.9g}  "
              f"|dL/dW_down| {float(Gd.norm()):.9g} dL/dW_down[0,0] {float(Gd[0, 0]):.9g}")
    out["weight_grad"] = wg

    # ---- finite differences (dense batch loss) --------------------------------------------------
    def loss_at(kind, idx, delta):
        hm, fm, lm = model.masks()
        (hm if kind == "head" else fm)[idx] += delta
        with torch.no_grad():
            return float(per_seq_losses(model, ids, hm, fm, lm).mean())

    fd = []
    for kind, entries, key in (("head", FD_HEADS, "heads"), ("ffn", FD_FFN, "ffn")):
        for idx in entries:
            num = (loss_at(kind, idx, FD_EPS) - loss_at(kind, idx, -FD_EPS)) / (2 * FD_EPS)
            ad = float(batch[key][idx])
            rel = abs(num - ad) / abs(ad)
            fd.append({"kind": kind, "index": list(idx), "autograd": ad, "central_difference": num,
                       "abs_err": abs(num - ad), "rel_err": rel})
            print(f"FD {kind} {idx}: autograd {ad:.12g} fd {num:.12g} rel {rel:.3g}")
            assert rel < FD_TOL, (kind, idx, rel)
    # one weight entry per stored matrix kind (largest |gradient| of layer 0 W_o and layer 3 W_down)
    for l, kind, conv in ((0, "o", "attn.c_proj.weight"), (3, "down", "mlp.c_proj.weight")):
        i, j = wg[str(l)][kind]["max_abs_index"]  # [out, in] -> Conv1D weight[j, i]
        name = f"h.{l}.{conv}"
        vals = []
        for delta in (FD_EPS, -FD_EPS):
            m2 = copy.copy(model)
            m2.w = dict(model.w)
            m2.w[name] = model.w[name].clone()
            m2.w[name][j, i] += delta
            with torch.no_grad():
                vals.append(float(per_seq_losses(m2, ids, None, None, None).mean()))
        num = (vals[0] - vals[1]) / (2 * FD_EPS)
        ad = float(gw_exact[(l, kind)][i, j])
        rel = abs(num - ad) / abs(ad)
        fd.append({"kind": "weight_" + kind, "layer": l, "index": [i, j], "autograd": ad, "central_difference": num,
                   "abs_err": abs(num - ad), "rel_err": rel})
        print(f"FD W_{kind} layer {l} [{i},{j}]: autograd {ad:.12g} fd {num:.12g} rel {rel:.3g}")
        assert rel < FD_TOL, (kind, l, rel)
    out["fd_check"] = {"loss": "dense batch loss", "eps": FD_EPS, "tolerance_rel": FD_TOL, "entries": fd,
                       "max_rel_err": max(e["rel_err"] for e in fd)}

    # ---- SGD recovery on the golden-50 plan -----------------------------------------------------
    plan = load_plan(SGD_PLAN)
    hm, fm, lm = prune_golden.plan_masks(model, plan)
    names = [f"h.{l}.{n}" for l in range(L) for n in ("attn.c_proj.weight", "mlp.c_proj.weight")]
    ms = with_leaf_weights(model, names)
    params = [ms.w[n] for n in names]
    losses, gnorms, zero_cols = [], [], []
    for step in range(SGD_STEPS + 1):
        loss = per_seq_losses(ms, ids, hm, fm, lm).mean()
        losses.append(float(loss))
        if step == SGD_STEPS:
            break
        grads = torch.autograd.grad(loss, params)
        gnorms.append(float(torch.sqrt(sum((g ** 2).sum() for g in grads))))
        zmax = 0.0
        for l in range(L):
            go, gd = grads[2 * l], grads[2 * l + 1]  # Conv1D: row j = input channel j (= [out,in] column j)
            rows_o = [h * model.dh + c for h in range(H) if hm[l, h] == 0 for c in range(model.dh)]
            rows_d = torch.nonzero(fm[l] == 0)[:, 0]
            zmax = max(zmax, float(go[rows_o].abs().max()) if rows_o else 0.0,
                       float(gd[rows_d].abs().max()) if len(rows_d) else 0.0)
        zero_cols.append(zmax)
        assert zmax == 0.0, zmax
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= SGD_LR * g
    out["sgd_recovery"] = {"plan": SGD_PLAN, "lr": SGD_LR, "steps": SGD_STEPS,
                           "params": "attn.c_proj.weight and mlp.c_proj.weight of every layer (W_o, W_down)",
                           "losses": losses, "grad_norms": gnorms,
                           "removed_columns_grad_max_abs": zero_cols}
    print("SGD losses", losses, "grad norms", gnorms)
    write_json(out, "fixtures/golden/gradients.json")


if __name__ == "__main__":
    torch.set_num_threads(2)
    arg = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL_DIR
    run(GPT2Ref(arg), arg)
