"""Train the demo Vision Transformer (Hugging Face ViTForImageClassification layout) on Fashion-MNIST.

Reproducible: fixed seed, fixed epoch count, data order and augmentation drawn from per-epoch seeded
generators (so a resumed run sees the same batches). Run from the repo root:
  nohup /usr/bin/python3 tools/vit/train_demo_vit.py > tools/.cache/demo-vit/nohup.out 2>&1 &
Needs Debian's python3-torch (CPU), libopenblas0-openmp and dataset-fashion-mnist.
Trains on the first 55,000 training images, monitors on the last 5,000 (validation, used for nothing
but the log), reports the final weights on the 10,000-image test split once at the end.
Writes public/models/demo-vit/ (model.safetensors, config.json, preprocessor_config.json,
training.json); checkpoints and the log under tools/.cache/demo-vit/ (resumes from ckpt.pt).
The model card (README.md) and the goldens are written by tools/vit/make_demo_vit_golden.py.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vit_common import CLASSES, ROOT, load_split, save_safetensors  # noqa: E402

OUT = os.path.join(ROOT, "public", "models", "demo-vit")
CACHE = os.path.join(ROOT, "tools", ".cache", "demo-vit")
# Training-set pixel statistics (pixel/255), rounded; the browser preprocessor uses exactly these.
MEAN, STD = 0.286, 0.353
N_VAL = 5000


class Attention(nn.Module):
    def __init__(self, d, nh):
        super().__init__()
        self.nh = nh
        self.attention = nn.Module()
        self.attention.query, self.attention.key, self.attention.value = (nn.Linear(d, d) for _ in range(3))
        self.output = nn.Module()
        self.output.dense = nn.Linear(d, d)

    def forward(self, x):
        n, s, d = x.shape
        a = self.attention
        q, k, v = (f(x).view(n, s, self.nh, d // self.nh).transpose(1, 2) for f in (a.query, a.key, a.value))
        probs = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.nh), dim=-1)
        return self.output.dense((probs @ v).transpose(1, 2).reshape(n, s, d))


class Layer(nn.Module):
    """HF ViTLayer: pre-norm attention and MLP blocks with residuals, exact-erf GELU."""

    def __init__(self, d, nh, m, eps):
        super().__init__()
        self.layernorm_before = nn.LayerNorm(d, eps=eps)
        self.attention = Attention(d, nh)
        self.layernorm_after = nn.LayerNorm(d, eps=eps)
        self.intermediate = nn.Module()
        self.intermediate.dense = nn.Linear(d, m)
        self.output = nn.Module()
        self.output.dense = nn.Linear(m, d)

    def forward(self, x):
        x = x + self.attention(self.layernorm_before(x))
        h = F.gelu(self.intermediate.dense(self.layernorm_after(x)))
        return x + self.output.dense(h)


class ViTForImageClassification(nn.Module):
    """Parameter names match transformers' ViTForImageClassification state_dict exactly."""

    def __init__(self, cfg):
        super().__init__()
        d, p = cfg["hidden_size"], cfg["patch_size"]
        n_patches = (cfg["image_size"] // p) ** 2
        self.vit = nn.Module()
        emb = self.vit.embeddings = nn.Module()
        emb.cls_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        emb.position_embeddings = nn.Parameter(torch.randn(1, n_patches + 1, d) * 0.02)
        emb.patch_embeddings = nn.Module()
        emb.patch_embeddings.projection = nn.Conv2d(cfg["num_channels"], d, p, stride=p)
        self.vit.encoder = nn.Module()
        self.vit.encoder.layer = nn.ModuleList(
            Layer(d, cfg["num_attention_heads"], cfg["intermediate_size"], cfg["layer_norm_eps"])
            for _ in range(cfg["num_hidden_layers"]))
        self.vit.layernorm = nn.LayerNorm(d, eps=cfg["layer_norm_eps"])
        self.classifier = nn.Linear(d, cfg["num_labels"])
        for mod in self.modules():  # HF init: trunc-normal-ish 0.02 for weights, zero biases
            if isinstance(mod, (nn.Linear, nn.Conv2d)):
                nn.init.trunc_normal_(mod.weight, std=0.02)
                nn.init.zeros_(mod.bias)

    def forward(self, x):
        emb = self.vit.embeddings
        conv = emb.patch_embeddings.projection
        p, g = conv.stride[0], x.shape[-1] // conv.stride[0]
        # Non-overlapping patch conv as one matmul (same math, much faster than the CPU conv here):
        # [N,C,g*p,g*p] -> [N, g*g patches row-major, C*p*p] in the conv weight's (c, ky, kx) order.
        patches = x.reshape(x.shape[0], x.shape[1], g, p, g, p).permute(0, 2, 4, 1, 3, 5).reshape(x.shape[0], g * g, -1)
        h = F.linear(patches, conv.weight.reshape(conv.weight.shape[0], -1), conv.bias)
        h = torch.cat([emb.cls_token.expand(h.shape[0], -1, -1), h], dim=1) + emb.position_embeddings
        for layer in self.vit.encoder.layer:
            h = layer(h)
        return self.classifier(self.vit.layernorm(h)[:, 0])


def make_config(args):
    return {
        "model_type": "vit", "architectures": ["ViTForImageClassification"],
        "hidden_size": args.d, "num_hidden_layers": args.layers, "num_attention_heads": args.heads,
        "intermediate_size": args.ffn, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
        "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "initializer_range": 0.02,
        "image_size": 28, "patch_size": args.patch, "num_channels": 1, "qkv_bias": True,
        "encoder_stride": args.patch, "num_labels": len(CLASSES),
        "id2label": {str(i): c for i, c in enumerate(CLASSES)}, "label2id": {c: i for i, c in enumerate(CLASSES)},
        "problem_type": "single_label_classification", "torch_dtype": "float32",
    }


def normalise(u8):
    return ((torch.from_numpy(u8).float() / 255.0 - MEAN) / STD).unsqueeze(1)


def augment(raw_u8_batch, gen, pad, flip):
    """Random crop with zero padding (in pixel space, i.e. black) and horizontal flip; uint8 in, uint8 out."""
    b = raw_u8_batch.shape[0]
    x = F.pad(raw_u8_batch, (pad, pad, pad, pad)) if pad else raw_u8_batch
    if pad:
        dy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
        dx = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
        ar = torch.arange(28)
        rows = (dy[:, None] + ar)[:, :, None]
        cols = (dx[:, None] + ar)[:, None, :]
        x = x[torch.arange(b)[:, None, None], rows, cols]
    if flip:
        m = torch.rand(b, generator=gen) < 0.5
        x = torch.where(m[:, None, None], x.flip(-1), x)
    return x


@torch.no_grad()
def evaluate(model, x, y, bs=1000):
    model.eval()
    correct, loss = 0, 0.0
    for i in range(0, len(x), bs):
        logits = model(x[i:i + bs])
        correct += (logits.argmax(-1) == y[i:i + bs]).sum().item()
        loss += F.cross_entropy(logits, y[i:i + bs], reduction="sum").item()
    model.train()
    return correct / len(x), loss / len(x)


def lr_at(step, total, warmup, peak, floor):
    if step < warmup:
        return peak * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return floor + 0.5 * (peak - floor) * (1 + math.cos(math.pi * t))


def log(msg, fh):
    line = f"{time.strftime('%H:%M:%S')} {msg}"
    print(line, flush=True)
    fh.write(line + "\n")
    fh.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-lr", type=float, default=1e-5)
    ap.add_argument("--wd", type=float, default=0.05)
    ap.add_argument("--warmup-epochs", type=float, default=0.5)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=512)
    ap.add_argument("--patch", type=int, default=7)
    ap.add_argument("--pad", type=int, default=1, help="random-crop padding (0 = off)")
    ap.add_argument("--flip", type=int, default=1, help="random horizontal flip (1/0)")
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--threads", type=int, default=1, help="1 is much faster than 2 on a loaded shared machine")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (timing probe)")
    ap.add_argument("--init", default="", help="start from these weights (a model.safetensors): a second stage")
    ap.add_argument("--cache", default=CACHE)
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    os.makedirs(args.cache, exist_ok=True)
    fh = open(os.path.join(args.cache, "train.log"), "a")
    log(f"args {vars(args)}", fh)

    tr_u8, tr_y = load_split("train")
    te_u8, te_y = load_split("t10k")
    log(f"train pixel mean {tr_u8.mean() / 255:.4f} std {(tr_u8 / 255).std():.4f} (using {MEAN}, {STD})", fh)
    fit_u8, fit_y = torch.from_numpy(tr_u8[:-N_VAL]), torch.from_numpy(tr_y[:-N_VAL].astype(np.int64))
    val_x, val_y = normalise(tr_u8[-N_VAL:]), torch.from_numpy(tr_y[-N_VAL:].astype(np.int64))

    cfg = make_config(args)
    model = ViTForImageClassification(cfg)
    if args.init:
        from vit_common import load_safetensors
        model.load_state_dict({k: torch.from_numpy(v) for k, v in load_safetensors(args.init).items()})
        log(f"initialised from {args.init}", fh)
    n_params = sum(p.numel() for p in model.parameters())
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2 and "position_embeddings" not in n and "cls_token" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.ndim >= 2 and "position_embeddings" not in n and "cls_token" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.wd}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.999))
    steps_per_epoch = len(fit_u8) // args.batch  # drop the last partial batch
    total = steps_per_epoch * args.epochs
    warmup = int(args.warmup_epochs * steps_per_epoch)
    ckpt_path = os.path.join(args.cache, "ckpt.pt")
    ckpt_args = {k: v for k, v in vars(args).items() if k != "threads" and not (k == "init" and not v)}
    start_epoch, history, train_seconds = 0, [], 0.0
    if os.path.exists(ckpt_path) and not args.max_steps:
        ck = torch.load(ckpt_path)
        if ck["args"] == ckpt_args:
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["opt"])
            start_epoch, history, train_seconds = ck["epoch"], ck["history"], ck["train_seconds"]
            log(f"resumed from epoch {start_epoch}", fh)
        else:
            log("checkpoint args differ: starting from scratch", fh)
    log(f"params {n_params}, steps/epoch {steps_per_epoch}, total {total}, warmup {warmup}", fh)

    model.train()
    for epoch in range(start_epoch, args.epochs):
        t0 = time.time()
        gen = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        perm = torch.randperm(len(fit_u8), generator=gen)
        run_loss, run_correct, seen = 0.0, 0, 0
        for it in range(steps_per_epoch):
            step = epoch * steps_per_epoch + it
            idx = perm[it * args.batch:(it + 1) * args.batch]
            xb = normalise(augment(fit_u8[idx], gen, args.pad, bool(args.flip)).numpy())
            yb = fit_y[idx]
            for g in opt.param_groups:
                g["lr"] = lr_at(step, total, warmup, args.lr, args.min_lr)
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            run_loss += loss.item() * len(yb)
            run_correct += (logits.argmax(-1) == yb).sum().item()
            seen += len(yb)
            if (it + 1) % 100 == 0:
                log(f"epoch {epoch} step {it + 1}/{steps_per_epoch} loss {run_loss / seen:.4f} "
                    f"acc {run_correct / seen:.4f} lr {opt.param_groups[0]['lr']:.2e} "
                    f"{(time.time() - t0) / (it + 1) * 1000:.0f} ms/step", fh)
            if args.max_steps and step + 1 >= args.max_steps:
                log(f"timing probe: {(time.time() - t0) / (it + 1) * 1000:.1f} ms/step, "
                    f"epoch ~{(time.time() - t0) / (it + 1) * steps_per_epoch / 60:.2f} min", fh)
                return
        train_seconds += time.time() - t0
        val_acc, val_loss = evaluate(model, val_x, val_y)
        history.append({"epoch": epoch + 1, "train_loss": run_loss / seen, "train_acc": run_correct / seen,
                        "val_acc": val_acc, "val_loss": val_loss, "seconds": time.time() - t0})
        log(f"EPOCH {epoch + 1}/{args.epochs} train loss {run_loss / seen:.4f} acc {run_correct / seen:.4f} | "
            f"val loss {val_loss:.4f} acc {val_acc:.4f} | {time.time() - t0:.0f}s", fh)
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "epoch": epoch + 1, "history": history,
                    "train_seconds": train_seconds,
                    "args": ckpt_args}, ckpt_path + ".tmp")
        os.replace(ckpt_path + ".tmp", ckpt_path)

    test_acc, test_loss = evaluate(model, normalise(te_u8), torch.from_numpy(te_y.astype(np.int64)))
    log(f"FINAL test acc {test_acc:.4f} loss {test_loss:.4f}", fh)
    os.makedirs(args.out, exist_ok=True)
    save_safetensors(os.path.join(args.out, "model.safetensors"),
                     {k: v.detach().float().numpy() for k, v in model.state_dict().items()})
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    pre = {"image_processor_type": "ViTImageProcessor", "do_resize": False, "size": {"height": 28, "width": 28},
           "do_rescale": True, "rescale_factor": 1 / 255, "do_normalize": True,
           "image_mean": [MEAN], "image_std": [STD], "resample": 2}
    with open(os.path.join(args.out, "preprocessor_config.json"), "w") as f:
        json.dump(pre, f, indent=2)
        f.write("\n")
    train = {"args": {k: v for k, v in vars(args).items() if k not in ("cache", "out", "max_steps", "threads")},
             "params": n_params, "train_images": len(fit_u8), "val_images": N_VAL,
             "steps": total, "train_minutes": round(train_seconds / 60, 1),
             "test_acc_fp32": test_acc, "test_loss_fp32": test_loss, "history": history}
    prev = os.path.join(os.path.dirname(os.path.abspath(args.init)), "training.json") if args.init else ""
    if prev and os.path.exists(prev):
        with open(prev) as f:
            train["previous_stage"] = json.load(f)  # the stage these weights started from
    with open(os.path.join(args.out, "training.json"), "w") as f:
        json.dump(train, f, indent=2)
        f.write("\n")
    log(f"wrote {args.out}", fh)


if __name__ == "__main__":
    main()
