"""fixtures/golden/slimgpt.json: SlimGPT (layer-wise structured OBS with sequential calibration), float64.

Written from /work/shared/METHODS-BRIEF.md sections 4 (SlimGPT) and 5 (Structured OBS) and the task's
specification only.

Model: public/models/demo-gpt2 (GPT-2, L=4, H=8 heads of d_h=32, d=256, m=1024), gpt2_ref.GPT2Ref in float64.
Calibration: ids = tokenize(public/data/calibration.txt whole, no BOS)[:8*128] cut into N_seq = 8 consecutive
sequences of 128 tokens; statistics use all N = 1024 token positions.
Weights in [out, in]: W_o = attn.c_proj.weight^T (256 x 256), W_down = mlp.c_proj.weight^T (256 x 1024);
column j = input channel j; head h owns W_o columns h*32..h*32+31. Biases are never modified.
State: current weights (start = dense) and current masks head_mask [L,H], ffn_mask [L,m] (start = ones).
"Run the current model" = GPT2Ref.forward on the 8 calibration sequences with the current weights and masks.

Hessian preparation: X = tapped inputs [N, n]; H = 2 X^T X / N_seq; H = (H + H^T)/2; H_jj == 0 -> H_jj = 1;
lambda = 0.01 * mean(diag H) (after the dead fix); H += lambda I (once; never re-added). Inverses via Cholesky
(Hinv = cholesky_inverse(cholesky(H))).
Joint OBS removal of column set S: Hinv = H^-1; W <- W - W[:,S] inv(Hinv[S,S]) Hinv[S,:]; W[:,S] = 0 exactly;
H[S,:] = 0, H[:,S] = 0, H[S,S] = I.

For l = 0..L-1:
  A (heads): run the current model; X = x_o[l] as [N, 256]; prepare H; W = current W_o of layer l.
     k_heads times: Hinv = H^-1; for each not-yet-pruned head h: L_h = lower Cholesky of Hinv[h-block],
     E_h = sum_j (sum_i W[i, h*32+j]^2) / L_h[j,j]^2; h* = argmin E_h (ties -> lowest index); joint OBS removal
     of h*'s 32 columns. Store W back (attn.c_proj.weight = W^T); head_mask[l, picked] = 0.
  B (FFN): run the current model again; X = x_d[l] as [N, 1024]; prepare H; W = current W_down of layer l.
     T = k_ffn, remaining = T, b = (T - 512) // 2 (floor). While remaining > 0: cnt = min(remaining, max(b, 64),
     1024); Hinv = H^-1; e_j = (sum_i W[i,j]^2) / Hinv[j,j] for not-yet-pruned j; S = the cnt smallest
     (ties -> lower index); joint OBS removal of S; remaining -= cnt; b = (b - 512) // 2.
     Store W back (mlp.c_proj.weight = W^T); ffn_mask[l, pruned] = 0.
Cases: "uniform-50" (k_heads 4, k_ffn 512: groups 8 x 64), "heads25-ffn75" (k_heads 2, k_ffn 768: 128, 10 x 64).
Finally the model is physically sliced (prune_golden.SlicedGPT2: pruned heads' q/k/v columns + c_attn.bias
entries + attn.c_proj.weight rows; pruned neurons' c_fc columns + c_fc.bias entries + mlp.c_proj.weight rows).

Metrics per case: per-layer pick order / errors / removed sets / FFN group sizes / Frobenius norms of the final
W_o and W_down ([out,in], pruned columns 0) / trace and lambda of each prepared H (before any removal);
perplexity of the result (evaluation.txt, first 4096 tokens, context 128, stride 64, tokens_scored 4095);
sliced parameter count (tied LM head once); sliced logits at positions [0, 7, 31] of tokens 0..31 of
evaluation.txt; one_shot_obs_perplexity = the same final removed sets compensated one-shot from the DENSE
model's statistics (prune_golden "obs"). Top level: dense_perplexity under the same protocol.

Checks (asserted, printed, and stored under "checks"):
  1. head removal (layer 0, first case, picks 1 and 2): joint update == SlimGPT's permuted upper-Cholesky
     sequential update (brief section 4 steps 4-7) to 1e-9 relative;
  2. FFN groups (layer 0, groups 1 and 2 of each case): joint update == one-at-a-time sequential update in
     ascending error order (same formulas) to 1e-9 relative;
  3. sliced logits == masked logits (same weights) to 1e-9 on tokens 0..31 (and 32..63) of evaluation.txt;
  4. after every removal the pruned W columns are exactly 0 and the masked model == the unmasked model with the
     same (zero-column) weights, to 1e-9 (2 x 32 evaluation tokens).

Usage: /usr/bin/python3 tools/reference/slimgpt_golden.py [model_dir]
"""
import math
import sys
import time

import torch

from gpt2_ref import DEFAULT_MODEL_DIR, GPT2Ref, model_info, tokenize_file, write_json
from prune_golden import SlicedGPT2, compensate, perplexity, with_weights
from prune_golden import calibration as dense_calibration

CALIB_TEXT = "public/data/calibration.txt"
CALIB_SAMPLES, CALIB_SEQ = 8, 128
EVAL_TEXT = "public/data/evaluation.txt"
MAX_TOKENS, CONTEXT, STRIDE = 4096, 128, 64
POSITIONS = [0, 7, 31]
DAMP = 0.01
MIN_GROUP, MAX_GROUP, GROUP_BASE = 64, 1024, 512
CASES = [("uniform-50", 4, 512), ("heads25-ffn75", 2, 768)]
TOL = 1e-9


# ---------------------------------------------------------------------------------------------
# Hessian and OBS primitives
# ---------------------------------------------------------------------------------------------
def prepare_hessian(X, n_seq):
    """Returns (damped H, lambda, number of dead inputs)."""
    H = 2.0 * X.T @ X / n_seq
    H = 0.5 * (H + H.T)
    idx = torch.nonzero(torch.diag(H) == 0)[:, 0]
    H[idx, idx] = 1.0
    lam = DAMP * float(torch.mean(torch.diag(H)))
    H = H + lam * torch.eye(H.shape[0], dtype=H.dtype)
    return H, lam, int(idx.numel())


def chol_inv(H):
    return torch.cholesky_inverse(torch.linalg.cholesky(H))


def joint_obs_remove(W, H, S):
    """Exact block OBS removal of columns S. Returns (W', H') (new tensors)."""
    S = torch.tensor(S, dtype=torch.long)
    Hinv = chol_inv(H)
    Wn = W - W[:, S] @ torch.linalg.solve(Hinv[S][:, S], Hinv[S, :])
    Wn[:, S] = 0.0
    Hn = H.clone()
    Hn[S, :] = 0.0
    Hn[:, S] = 0.0
    Hn[S, S] = 1.0
    return Wn, Hn


def sequential_update(W, Hinv, first, rest):
    """SlimGPT/SparseGPT update (brief section 4 steps 4-7): permute columns to first + rest (pruned columns
    excluded), U = upper Cholesky of the permuted Hinv; for i < k: err_i = W'[:,i]/U_ii,
    W'[:, i:k] -= err_i U[i, i:k]; zero the first k columns; W'[:, k:] -= Err U[0:k, k:]; un-permute."""
    k = len(first)
    perm = torch.tensor(list(first) + list(rest), dtype=torch.long)
    U = torch.linalg.cholesky(Hinv[perm][:, perm], upper=True)
    Wp = W[:, perm].clone()
    Err = torch.zeros(W.shape[0], k, dtype=W.dtype)
    for i in range(k):
        err = Wp[:, i] / U[i, i]
        Wp[:, i:k] -= err[:, None] * U[i, i:k][None, :]
        Err[:, i] = err
    Wp[:, :k] = 0.0
    Wp[:, k:] -= Err @ U[:k, k:]
    Wn = W.clone()
    Wn[:, perm] = Wp
    return Wn


def rel_diff(a, b):
    return float((a - b).abs().max() / b.abs().max())


def head_errors(W, Hinv, active_heads, dh):
    E = {}
    for h in active_heads:
        sl = slice(h * dh, (h + 1) * dh)
        Lh = torch.linalg.cholesky(Hinv[sl, sl])
        E[h] = float(((W[:, sl] ** 2).sum(0) / torch.diagonal(Lh) ** 2).sum())
    return E


def group_sizes(T):
    sizes, remaining, b = [], T, (T - GROUP_BASE) // 2
    while remaining > 0:
        cnt = min(remaining, max(b, MIN_GROUP), MAX_GROUP)
        sizes.append(cnt)
        remaining -= cnt
        b = (b - GROUP_BASE) // 2
    return sizes


# ---------------------------------------------------------------------------------------------
# SlimGPT
# ---------------------------------------------------------------------------------------------
class State:
    def __init__(self, model):
        self.model = with_weights(model, dict(model.w))  # own weight dict; dense tensors never mutated
        self.hm = torch.ones(model.L, model.H, dtype=model.dtype)
        self.fm = torch.ones(model.L, model.m, dtype=model.dtype)

    def hooks(self, ids):
        hooks = {}
        with torch.no_grad():
            self.model.forward(ids, head_mask=self.hm, ffn_mask=self.fm, hooks=hooks)
        return hooks


def check_masking(state, l, wname, W, hm, fm, pruned_cols, check_ids, checks):
    """Check 4: pruned columns exactly zero; masked == unmasked with the same weights."""
    assert bool((W[:, pruned_cols] == 0).all()), "pruned columns not exactly zero"
    w = dict(state.model.w)
    w[wname] = W.T.contiguous()
    m2 = with_weights(state.model, w)
    with torch.no_grad():
        a = m2.forward(check_ids, head_mask=hm, ffn_mask=fm)
        b = m2.forward(check_ids)
    d = float((a - b).abs().max())
    assert d < TOL, (l, wname, d)
    checks["mask_vs_zero_columns_max_abs"] = max(checks["mask_vs_zero_columns_max_abs"], d)
    checks["mask_vs_zero_columns_count"] += 1


def slimgpt(model, calib_ids, k_heads, k_ffn, check_ids, checks, do_equiv):
    st = State(model)
    L, Hn, dh, m = model.L, model.H, model.dh, model.m
    N = calib_ids.numel()
    layers = []
    for l in range(L):
        pre = f"h.{l}."
        rec = {"index": l}
        # ---- step A: heads ----
        X = st.hooks(calib_ids)["x_o"][l].reshape(N, -1)
        H, lam, dead_o = prepare_hessian(X, CALIB_SAMPLES)
        rec["attn_hessian_trace"], rec["attn_damping"], rec["attn_dead_inputs"] = float(torch.trace(H)), lam, dead_o
        wname = pre + "attn.c_proj.weight"
        W = st.model.w[wname].T.clone()
        order, errs, margins = [], [], []
        for it in range(k_heads):
            Hinv = chol_inv(H)
            active = [h for h in range(Hn) if h not in order]
            E = head_errors(W, Hinv, active, dh)
            hstar = min(active, key=lambda h: (E[h], h))
            if len(active) > 1:  # relative gap to the runner-up (how robust the pick is to rounding)
                second = sorted(E[h] for h in active)[1]
                margins.append((second - E[hstar]) / second)
            S = list(range(hstar * dh, (hstar + 1) * dh))
            W_new, H = joint_obs_remove(W, H, S)
            if do_equiv and l == 0 and it < 2:  # check 1
                rest_heads = sorted((h for h in active if h != hstar), key=lambda h: (E[h], h))
                rest = [h * dh + i for h in rest_heads for i in range(dh)]
                r = rel_diff(sequential_update(W, Hinv, S, rest), W_new)
                print(f"  check 1: layer 0 head pick {it + 1} (head {hstar}): joint vs permuted-Cholesky "
                      f"sequential rel diff {r:.2e}")
                assert r < TOL, r
                checks["head_joint_vs_sequential_rel"].append(r)
            W = W_new
            order.append(hstar)
            errs.append(E[hstar])
            hm = st.hm.clone()
            hm[l, order] = 0
            check_masking(st, l, wname, W, hm, st.fm,
                          [h * dh + i for h in order for i in range(dh)], check_ids, checks)
        st.model.w[wname] = W.T.contiguous()
        st.hm[l, order] = 0
        rec["head_order"], rec["head_errors"], rec["removed_heads"] = order, errs, sorted(order)
        rec["head_pick_margins"] = margins
        rec["o_weight_fro"] = float(torch.linalg.norm(W))
        # ---- step B: FFN neurons ----
        X = st.hooks(calib_ids)["x_d"][l].reshape(N, -1)
        H, lam, dead_d = prepare_hessian(X, CALIB_SAMPLES)
        rec["ffn_hessian_trace"], rec["ffn_damping"], rec["ffn_dead_inputs"] = float(torch.trace(H)), lam, dead_d
        wname = pre + "mlp.c_proj.weight"
        W = st.model.w[wname].T.clone()
        pruned, groups, gmargins = [], [], []
        remaining, b = k_ffn, (k_ffn - GROUP_BASE) // 2
        while remaining > 0:
            cnt = min(remaining, max(b, MIN_GROUP), MAX_GROUP)
            Hinv = chol_inv(H)
            pset = set(pruned)
            active = [j for j in range(m) if j not in pset]
            e = ((W ** 2).sum(0) / torch.diagonal(Hinv)).tolist()
            ranked = sorted(active, key=lambda j: (e[j], j))
            S = ranked[:cnt]
            if cnt < len(ranked):  # relative gap between the last kept-in-S and the first left-out error
                gmargins.append((e[ranked[cnt]] - e[ranked[cnt - 1]]) / e[ranked[cnt]])
            W_new, H = joint_obs_remove(W, H, sorted(S))
            if do_equiv and l == 0 and len(groups) < 2:  # check 2
                r = rel_diff(sequential_update(W, Hinv, S, ranked[cnt:]), W_new)
                print(f"  check 2: layer 0 FFN group {len(groups) + 1} ({cnt} columns): joint vs one-at-a-time "
                      f"sequential rel diff {r:.2e}")
                assert r < TOL, r
                checks["ffn_joint_vs_sequential_rel"].append(r)
            W = W_new
            pruned += S
            groups.append(cnt)
            remaining -= cnt
            b = (b - GROUP_BASE) // 2
            fm = st.fm.clone()
            fm[l, pruned] = 0
            check_masking(st, l, wname, W, st.hm, fm, pruned, check_ids, checks)
        assert groups == group_sizes(k_ffn)
        st.model.w[wname] = W.T.contiguous()
        st.fm[l, pruned] = 0
        rec["ffn_groups"], rec["removed_ffn"] = groups, sorted(pruned)
        rec["ffn_group_margins"] = gmargins
        rec["down_weight_fro"] = float(torch.linalg.norm(W))
        layers.append(rec)
        print(f"  layer {l}: heads {order} (E {', '.join(f'{x:.4g}' for x in errs)}), ffn groups {groups}; "
              f"min rel margin heads {min(margins):.2e}, ffn {min(gmargins):.2e}")
    return st, layers


def plan_of(name, layers):
    return {"format": "prune-studio-plan", "version": 1, "name": name,
            "model": {"name": "demo-gpt2", "numLayers": 4, "numHeads": 8, "numKvHeads": 8, "ffnSize": 1024,
                      "headDim": 32},
            "layers": [{"index": r["index"], "removed": False, "removedHeads": r["removed_heads"],
                        "removedFfn": r["removed_ffn"]} for r in layers]}


def run(model, model_dir_arg):
    t0 = time.time()
    calib_flat = tokenize_file(model, CALIB_TEXT)[:CALIB_SAMPLES * CALIB_SEQ]
    assert len(calib_flat) == CALIB_SAMPLES * CALIB_SEQ
    calib_ids = torch.tensor(calib_flat, dtype=torch.long).reshape(CALIB_SAMPLES, CALIB_SEQ)
    ids_all = tokenize_file(model, EVAL_TEXT)
    eval_ids = ids_all[:MAX_TOKENS]
    logit_ids = torch.tensor([ids_all[0:32]], dtype=torch.long)
    check_ids = torch.tensor([ids_all[0:32], ids_all[32:64]], dtype=torch.long)

    dense_nll, dense_cnt = perplexity(model, eval_ids)
    print(f"slimgpt: dense ppl {math.exp(dense_nll):.6f}")
    d_ids, X_o_dense, X_d_dense = dense_calibration(model)  # one-shot OBS baseline statistics (dense model)
    assert d_ids.tolist() == calib_ids.tolist()

    out = dict(model_info(model, model_dir_arg))
    out["calibration"] = {"text": CALIB_TEXT, "samples": CALIB_SAMPLES, "seq": CALIB_SEQ}
    out["damp"] = DAMP
    out["protocol"] = {"text_file": EVAL_TEXT, "max_tokens": MAX_TOKENS, "context": CONTEXT, "stride": STRIDE,
                       "logits_input_ids": logit_ids[0].tolist(), "logits_positions": POSITIONS}
    out["dense_perplexity"] = math.exp(dense_nll)
    out["dense_mean_nll"] = dense_nll
    checks = {"head_joint_vs_sequential_rel": [], "ffn_joint_vs_sequential_rel": [],
              "slice_vs_mask_max_abs": 0.0, "mask_vs_zero_columns_max_abs": 0.0, "mask_vs_zero_columns_count": 0}
    out["cases"] = []
    for ci, (name, k_heads, k_ffn) in enumerate(CASES):
        print(f"case {name}: k_heads {k_heads}, k_ffn {k_ffn}")
        st, layers = slimgpt(model, calib_ids, k_heads, k_ffn, check_ids, checks, do_equiv=True)
        plan = plan_of(name, layers)
        sliced = SlicedGPT2(st.model.w, model.cfg, plan)
        with torch.no_grad():
            a = sliced.forward(check_ids)
            b = st.model.forward(check_ids, head_mask=st.hm, ffn_mask=st.fm)
        diff = float((a - b).abs().max())
        print(f"  check 3: sliced vs masked logits max abs {diff:.2e}")
        assert diff < TOL, diff
        checks["slice_vs_mask_max_abs"] = max(checks["slice_vs_mask_max_abs"], diff)
        nll, cnt = perplexity(sliced, eval_ids)
        with torch.no_grad():
            logits = sliced.forward(logit_ids)[0, POSITIONS]
        # one-shot OBS from the dense statistics with the same removed sets
        w1, r1 = compensate(model, plan, "obs", X_o_dense, X_d_dense)
        assert r1 < 1e-8, r1
        nll1, cnt1 = perplexity(SlicedGPT2(w1, model.cfg, plan), eval_ids)
        case = {"name": name, "heads_per_layer": k_heads, "ffn_per_layer": k_ffn, "layers": layers,
                "perplexity": math.exp(nll), "mean_nll": nll, "tokens_scored": cnt,
                "parameters": sliced.num_parameters(), "logits_positions": POSITIONS, "logits": logits.tolist(),
                "one_shot_obs_perplexity": math.exp(nll1), "one_shot_obs_mean_nll": nll1, "plan": plan}
        out["cases"].append(case)
        print(f"  ppl {case['perplexity']:.6f} (one-shot OBS {case['one_shot_obs_perplexity']:.6f}, dense "
              f"{out['dense_perplexity']:.6f}), params {case['parameters']}, tokens {cnt}")
    print(f"  check 4: masked == zero-column unmasked after {checks['mask_vs_zero_columns_count']} removals, "
          f"max abs {checks['mask_vs_zero_columns_max_abs']:.2e}")
    out["checks"] = checks
    write_json(out, "fixtures/golden/slimgpt.json")
    print(f"slimgpt: {time.time() - t0:.1f} s")


if __name__ == "__main__":
    torch.set_num_threads(2)
    arg = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL_DIR
    run(GPT2Ref(arg), arg)
