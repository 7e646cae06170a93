"""Train the built-in demo model (GPT-2 architecture) on the shipped public-domain corpus.

Reproducible: fixed seed, fixed step count, fixed data order. Run from the repo root:
  OMP_NUM_THREADS=2 /usr/bin/python3 tools/demo-model/train.py [--steps 3000]
Needs Debian's python3-torch and libopenblas0-openmp. Writes public/models/demo-gpt2/
(config.json, model.safetensors, model card) and checkpoints under tools/.cache/.
"""
import argparse
import json
import math
import os
import shutil
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bpe import Bpe  # noqa: E402
from gpt2_torch import GPT2, save_safetensors  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "public", "models", "demo-gpt2")
CACHE = os.path.join(ROOT, "tools", ".cache")
CONFIG = {
    "model_type": "gpt2", "architectures": ["GPT2LMHeadModel"], "n_layer": 4, "n_head": 8, "n_embd": 256,
    "n_inner": 1024, "n_positions": 128, "n_ctx": 128, "vocab_size": 4096, "activation_function": "gelu_new",
    "layer_norm_epsilon": 1e-5, "bos_token_id": 4095, "eos_token_id": 4095, "tie_word_embeddings": True,
    "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0, "torch_dtype": "float32",
}


def tokens(bpe, name):
    path = os.path.join(CACHE, f"{name}.ids.npy")
    if os.path.exists(path):
        return np.load(path)
    src = os.path.join(CACHE, "train.txt") if name == "train" else os.path.join(ROOT, "public", "data", f"{name}.txt")
    with open(src, encoding="utf-8") as f:
        ids = np.array(bpe.encode(f.read()), dtype=np.int32)
    np.save(path, ids)
    return ids


@torch.no_grad()
def eval_ppl(model, ids, ctx=128, stride=64, max_tokens=None):
    """Sliding-window perplexity; each token after the first is scored exactly once."""
    model.eval()
    ids = torch.from_numpy(ids[: max_tokens or len(ids)].astype(np.int64))
    nll, count, prev_end = 0.0, 0, 0
    for begin in range(0, len(ids), stride):
        end = min(begin + ctx, len(ids))
        window = ids[begin:end].unsqueeze(0)
        logp = model(window).log_softmax(-1)[0]
        first = max(prev_end, begin + 1)  # absolute index of the first token scored here
        for_t = torch.arange(first, end)
        nll -= logp[for_t - begin - 1, ids[for_t]].double().sum().item()
        count += len(for_t)
        prev_end = end
        if end == len(ids):
            break
    model.train()
    return math.exp(nll / count), count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=1234)
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    os.makedirs(CACHE, exist_ok=True)
    bpe = Bpe.load(os.path.join(OUT, "tokenizer.json"))
    t0 = time.time()
    train_ids = tokens(bpe, "train")
    eval_ids = tokens(bpe, "evaluation")
    print(f"tokenised: train {len(train_ids)} eval {len(eval_ids)} in {time.time()-t0:.0f}s", flush=True)
    ctx = CONFIG["n_positions"]
    model = GPT2(CONFIG, dropout=0.1)
    model.init_weights(args.seed)
    decay = [p for n, p in model.named_parameters() if not (n.endswith("_b") or "ln_" in n or n.endswith(".bias"))]
    no_decay = [p for n, p in model.named_parameters() if n.endswith("_b") or "ln_" in n or n.endswith(".bias")]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.95))
    rng = np.random.default_rng(args.seed)
    warmup = 100
    start = time.time()
    for step in range(1, args.steps + 1):
        lr = args.lr * min(step / warmup, 0.5 * (1 + math.cos(math.pi * min(1.0, (step - warmup) / (args.steps - warmup)))) if step > warmup else step / warmup)
        for g in opt.param_groups:
            g["lr"] = lr
        starts = rng.integers(0, len(train_ids) - ctx - 1, size=args.batch)
        batch = torch.from_numpy(np.stack([train_ids[s:s + ctx + 1] for s in starts]).astype(np.int64))
        logits = model(batch[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), batch[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0:
            print(f"step {step} loss {loss.item():.4f} lr {lr:.2e} {(time.time()-start)/step:.2f}s/step", flush=True)
        if step % 500 == 0 or step == args.steps:
            ppl, n = eval_ppl(model, eval_ids, max_tokens=16384)
            print(f"step {step} eval ppl (first 16384 tokens) {ppl:.2f}", flush=True)
            save(model, os.path.join(CACHE, f"ckpt-{step}"))
    minutes = (time.time() - start) / 60
    save(model, OUT)
    ppl, n = eval_ppl(model, eval_ids)
    counts = np.bincount(train_ids, minlength=CONFIG["vocab_size"]) + 1
    unigram = np.exp(-(np.log(counts / counts.sum())[eval_ids[1:]]).mean())
    stats = {"steps": args.steps, "batch": args.batch, "context": ctx, "train_tokens": int(len(train_ids)),
             "eval_tokens": int(len(eval_ids)), "train_minutes": round(minutes, 1), "eval_ppl": round(ppl, 3),
             "eval_tokens_scored": n, "unigram_ppl": round(float(unigram), 1), "final_train_loss": round(loss.item(), 4),
             "params": sum(p.numel() for p in model.parameters()), "seed": args.seed, "lr": args.lr}
    with open(os.path.join(OUT, "training.json"), "w") as f:
        json.dump(stats, f, indent=2)
    print(json.dumps(stats), flush=True)


def save(model, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    save_safetensors(os.path.join(out_dir, "model.safetensors"), model.hf_state())
    with open(os.path.join(out_dir, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2)
    if out_dir != OUT:
        for n in ("tokenizer.json", "tokenizer_config.json"):
            shutil.copy(os.path.join(OUT, n), os.path.join(out_dir, n))


if __name__ == "__main__":
    main()
