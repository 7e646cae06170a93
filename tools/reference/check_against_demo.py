"""Sanity check: this reference vs tools/demo-model/gpt2_torch.py (the training code's model).

Loads the HF-named safetensors into both, runs the dense.json inputs (dense + the three masked
cases) and prints the max |logit difference|: ours in float32 vs theirs (float32), and ours in
float64 vs theirs. Also checks the OBS exact block-error identity on random data.
Usage: /usr/bin/python3 tools/reference/check_against_demo.py [model_dir]
"""
import os
import sys

import torch

from dense_golden import CASES
from gpt2_ref import DEFAULT_MODEL_DIR, REPO, GPT2Ref, repo_path, tokenize_file

sys.path.insert(0, os.path.join(REPO, "tools", "demo-model"))
import gpt2_torch  # noqa: E402


def main(model_dir):
    torch.set_num_threads(1)
    ours64 = GPT2Ref(model_dir, torch.float64)
    ours32 = GPT2Ref(model_dir, torch.float32)
    theirs = gpt2_torch.GPT2(ours32.cfg)
    theirs.load_hf_state(gpt2_torch.load_safetensors(os.path.join(repo_path(model_dir), "model.safetensors")))
    theirs.eval()
    ids_all = tokenize_file(ours64, "public/data/evaluation.txt")
    ids = torch.tensor([ids_all[0:32], ids_all[32:64]])
    worst32 = worst64 = 0.0
    for ci, case in enumerate([{"heads_off": [], "ffn_off": [], "layers_off": []}] + CASES):
        hm, fm, lm = ours32.masks(case["heads_off"], case["ffn_off"], case["layers_off"])
        with torch.no_grad():
            t = theirs(ids, head_mask=hm, ffn_mask=fm, layer_mask=lm).double()
            a = ours32.forward(ids, hm, fm, lm).double()
            b = ours64.forward(ids, hm.double(), fm.double(), lm.double())
        d32, d64 = float((a - t).abs().max()), float((b - t).abs().max())
        worst32, worst64 = max(worst32, d32), max(worst64, d64)
        print(f"case {ci} heads_off={case['heads_off']} layers_off={case['layers_off']} ffn_layers={[f[0] for f in case['ffn_off']]}: max|ours_f32 - demo_f32| = {d32:.3e}   max|ours_f64 - demo_f32| = {d64:.3e}")
    print(f"WORST: f32 vs f32 {worst32:.3e}; f64 vs f32 {worst64:.3e}")

    # OBS identity: min_{W_R'} 0.5 tr(dW H dW^T) with dW_S = W_S equals 0.5 tr(W_S [Hinv_SS]^-1 W_S^T)
    g = torch.Generator().manual_seed(0)
    X = torch.randn(300, 64, generator=g, dtype=torch.float64)
    W = torch.randn(16, 64, generator=g, dtype=torch.float64)
    H = X.T @ X + torch.eye(64, dtype=torch.float64)
    S, R = slice(0, 8), slice(8, 64)
    Hinv = torch.linalg.inv(H)
    closed = 0.5 * torch.trace(W[:, S] @ torch.linalg.solve(Hinv[S, S], W[:, S].T))
    dR = -W[:, S] @ H[S, R] @ torch.linalg.inv(H[R, R])  # optimal change of the kept columns
    dW = torch.cat([W[:, S], dR], 1)
    direct = 0.5 * torch.trace(dW @ H @ dW.T)
    print(f"OBS block identity: closed form {float(closed):.12g} vs direct {float(direct):.12g}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL_DIR)
