"""Reference numbers for the demo ViT, from an independent float64 forward (vit_common.vit_forward_f64,
written from the Hugging Face ViTForImageClassification definition, reading only the shipped files).

  /usr/bin/python3 tools/vit/make_demo_vit_golden.py
Writes: public/data/fashion-mnist-test-500.bin + .json (the browser subset with the model's accuracy on it),
fixtures/golden/demo-vit-reference.json (logits of the first 16 test images, predictions, accuracy, loss,
confusion matrices), public/models/demo-vit/README.md (model card with the measured numbers).
"""
import hashlib
import json
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_fashion_mnist import export  # noqa: E402
from vit_common import CLASSES, ROOT, load_safetensors, load_split, preprocess, read_bin, vit_forward_f64  # noqa: E402

MODEL = os.path.join(ROOT, "public", "models", "demo-vit")
SUBSET = os.path.join(ROOT, "public", "data", "fashion-mnist-test-500.bin")
GOLDEN = os.path.join(ROOT, "fixtures", "golden", "demo-vit-reference.json")
N_SUBSET, N_LOGITS = 500, 16
Z95 = 1.959963984540054


def wilson(k, n, z=Z95):
    """Wilson score interval for a binomial proportion."""
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return [mid - half, mid + half]


def metrics(logits, labels):
    lse = np.log(np.exp(logits - logits.max(1, keepdims=True)).sum(1)) + logits.max(1)
    nll = lse - logits[np.arange(len(labels)), labels]
    pred = logits.argmax(1)
    k = int((pred == labels).sum())
    conf = np.zeros((10, 10), dtype=np.int64)
    np.add.at(conf, (labels, pred), 1)
    return {"count": int(len(labels)), "correct": k, "top1": k / len(labels), "top1_ci95_wilson": wilson(k, len(labels)),
            "mean_loss": float(nll.mean()), "confusion": conf.tolist()}, pred


def main():
    import argparse
    import torch
    global MODEL, SUBSET, GOLDEN
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=MODEL)
    ap.add_argument("--subset-out", default=SUBSET)
    ap.add_argument("--golden-out", default=GOLDEN)
    ap.add_argument("--limit", type=int, default=0, help="smoke test: only the first N test images")
    args = ap.parse_args()
    MODEL, SUBSET, GOLDEN = args.model, args.subset_out, args.golden_out
    torch.set_num_threads(1)
    with open(os.path.join(MODEL, "config.json")) as f:
        cfg = json.load(f)
    with open(os.path.join(MODEL, "preprocessor_config.json")) as f:
        pre = json.load(f)
    with open(os.path.join(MODEL, "training.json")) as f:
        train = json.load(f)
    st = os.path.join(MODEL, "model.safetensors")
    sha = hashlib.sha256(open(st, "rb").read()).hexdigest()
    w = load_safetensors(st)
    images, labels = load_split("t10k")
    if args.limit:
        images, labels = images[:args.limit], labels[:args.limit]
    logits = np.concatenate([vit_forward_f64(w, cfg, preprocess(images[i:i + 500], pre)) for i in range(0, len(images), 500)])
    full, pred = metrics(logits, labels.astype(np.int64))
    sub, _ = metrics(logits[:N_SUBSET], labels[:N_SUBSET].astype(np.int64))
    print(f"test top-1 {full['top1']:.4f} CI {full['top1_ci95_wilson']} loss {full['mean_loss']:.4f}; "
          f"subset-500 top-1 {sub['top1']:.4f} loss {sub['mean_loss']:.4f}")

    export(N_SUBSET, SUBSET, {"demo_vit": {"model": "public/models/demo-vit", "model_sha256": sha,
                                           "top1": sub["top1"], "correct": sub["correct"],
                                           "top1_ci95_wilson": sub["top1_ci95_wilson"], "mean_loss": sub["mean_loss"],
                                           "reference": "tools/vit/make_demo_vit_golden.py (float64)"}})
    s_img, s_lab, _ = read_bin(SUBSET)
    assert np.array_equal(s_img, images[:N_SUBSET]) and np.array_equal(s_lab, labels[:N_SUBSET])

    golden = {
        "model": "demo-vit", "model_dir": "public/models/demo-vit", "model_sha256": sha,
        "reference": "tools/vit/make_demo_vit_golden.py: float64 functional ViTForImageClassification forward",
        "preprocess": "pixel_values = (uint8 * rescale_factor - image_mean) / image_std, shape [N,1,28,28], no resize",
        "image_mean": pre["image_mean"], "image_std": pre["image_std"], "rescale_factor": pre["rescale_factor"],
        "subset_file": "public/data/fashion-mnist-test-500.bin",
        "full_test": "tools/.cache/fashion-mnist/fashion-mnist-test-10000.bin (tools/vit/export_fashion_mnist.py)",
        "logits_images": f"the first {N_LOGITS} test images (= first {N_LOGITS} of the subset)",
        "labels": labels[:N_LOGITS].astype(int).tolist(),
        "logits": logits[:N_LOGITS].tolist(),
        "subset_predictions": pred[:N_SUBSET].astype(int).tolist(),
        "subset": sub, "test": full,
        "test_top1_fp32_training_run": train.get("test_acc_fp32"),
    }
    os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
    with open(GOLDEN, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    write_card(cfg, pre, train, full, sub, sha)
    print(f"wrote {GOLDEN}, {SUBSET}, model card")


def stage_recipe(st):
    a = st["args"]
    aug = ", ".join(x for x in [f"random crop with zero padding {a['pad']}" if a["pad"] else "",
                                "random horizontal flip" if a["flip"] else ""] if x) or "none"
    start = f"from the stage-1 weights" if a.get("init") else "from scratch (HF-style init, std 0.02)"
    return (f"{a['epochs']} epochs ({st['steps']} steps) {start}: AdamW (betas 0.9/0.999, weight decay {a['wd']} on "
            f"matrices only), peak lr {a['lr']}, linear warmup {a['warmup_epochs']} epoch then cosine to {a['min_lr']}, "
            f"batch {a['batch']}, gradient clipping 1.0, augmentation: {aug}; {st['train_minutes']} min; "
            f"val top-1 at the end {st['history'][-1]['val_acc'] * 100:.2f}%.")


def stage_command(st, i, n):
    a = st["args"]
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in a.items() if k not in ("init", "threads"))
    if a.get("init"):
        flags += " --init tools/.cache/demo-vit-stage1/model.safetensors --cache tools/.cache/demo-vit-stage2"
    out = "" if i == n - 1 else " --out tools/.cache/demo-vit-stage1"
    return f"/usr/bin/python3 tools/vit/train_demo_vit.py {flags}{out}"


def write_card(cfg, pre, train, full, sub, sha):
    stages, t = [], train
    while t:  # oldest stage first
        stages.insert(0, t)
        t = t.get("previous_stage")
    recipe = "\n".join(f"{i + 1}. {stage_recipe(st)}" for i, st in enumerate(stages))
    minutes = sum(st["train_minutes"] for st in stages)
    seed = stages[0]["args"]["seed"]
    val_use = ("The validation split fed this log and one decision, fixed before stage 1 ended: add a short second "
               "stage without the crop augmentation if stage 1 ended below 89% validation top-1 (it was underfitting: "
               "augmented train top-1 below validation top-1)." if len(stages) > 1 else "The validation split only fed this log.")
    cmds = "\n".join(stage_command(st, i, len(stages)) for i, st in enumerate(stages))
    lo, hi = full["top1_ci95_wilson"]
    slo, shi = sub["top1_ci95_wilson"]
    per_class = [full["confusion"][c][c] / sum(full["confusion"][c]) for c in range(10)]
    rows = "\n".join(f"| {c} | {CLASSES[c]} | {per_class[c] * 100:.1f}% |" for c in range(10))
    hist = "\n".join(f"| {si + 1} | {h['epoch']} | {h['train_loss']:.4f} | {h['train_acc'] * 100:.2f}% | {h['val_loss']:.4f} | "
                     f"{h['val_acc'] * 100:.2f}% |" for si, st in enumerate(stages) for h in st["history"])
    card = f"""# demo-vit: a small Vision Transformer trained on Fashion-MNIST

The studio's built-in image classifier, for trying structured pruning (heads, FFN neurons, embedding
channels) on a Vision Transformer in the browser. Hugging Face `ViTForImageClassification` layout
(`model_type: "vit"`), float32 `model.safetensors` ({train['params']:,} parameters).

## Result

| split | images | top-1 | 95% CI (Wilson) | mean loss (nats) |
|---|---|---|---|---|
| Fashion-MNIST test | {full['count']:,} | **{full['top1'] * 100:.2f}%** | {lo * 100:.2f}–{hi * 100:.2f}% | {full['mean_loss']:.4f} |
| shipped subset (first 500 test images) | {sub['count']} | {sub['top1'] * 100:.2f}% | {slo * 100:.2f}–{shi * 100:.2f}% | {sub['mean_loss']:.4f} |

Measured with an independent float64 forward written from the HF definition
(`tools/vit/make_demo_vit_golden.py`), reading only the files in this folder; the fp32 PyTorch training
run measured {train['test_acc_fp32'] * 100:.2f}% on the test split. No model selection or early stopping on the
test split: the recipe (and whether to add a second stage) was decided on the validation split. Reference logits:
`fixtures/golden/demo-vit-reference.json`. model.safetensors sha256 `{sha}`.

Per-class test accuracy:

| label | class | top-1 |
|---|---|---|
{rows}

## Architecture

Pre-norm ViT exactly as `transformers`' ViT: {cfg['image_size']}x{cfg['image_size']}x{cfg['num_channels']} input,
patch {cfg['patch_size']} (Conv2d stride {cfg['patch_size']}, {(cfg['image_size'] // cfg['patch_size']) ** 2} patches, row-major)
+ CLS token, learned position embeddings (CLS included, {(cfg['image_size'] // cfg['patch_size']) ** 2 + 1} positions),
{cfg['num_hidden_layers']} layers, hidden size {cfg['hidden_size']}, {cfg['num_attention_heads']} heads
(head dim {cfg['hidden_size'] // cfg['num_attention_heads']}), FFN {cfg['intermediate_size']} with exact (erf) GELU,
q/k/v biases, LayerNorm eps {cfg['layer_norm_eps']}, classifier on the final-LayerNorm CLS output, no dropout.

## Data and preprocessing

Fashion-MNIST (Zalando Research; MIT licence) from the Debian package `dataset-fashion-mnist`
(`/usr/share/datasets/fashion-mnist`). Training: the first {train['train_images']:,} training images;
the last {train['val_images']:,} are a validation split used only for the training log. Preprocessing
(`preprocessor_config.json`): no resize, `pixel / 255`, then `(x - {pre['image_mean'][0]}) / {pre['image_std'][0]}`
(the training set's mean and std, rounded).

## Training recipe

{recipe}

Seed {seed}; trained on a shared CPU (1 thread) in {minutes:.1f} minutes in all. {val_use}

| stage | epoch | train loss | train top-1 | val loss | val top-1 |
|---|---|---|---|---|---|
{hist}

## Reproduce

```
apt-get install python3-torch libopenblas0-openmp dataset-fashion-mnist
{cmds}
/usr/bin/python3 tools/vit/make_demo_vit_golden.py    # model card, goldens, shipped test subset
/usr/bin/python3 tools/vit/export_fashion_mnist.py    # full test split for the CLI/bench (tools/.cache/fashion-mnist)
```

## Evaluate in the studio's CLI and bench

```
npm run cli -- eval --model public/models/demo-vit --images public/data/fashion-mnist-test-500.json   # shipped 500: 89.00% (85.95-91.45%)
/usr/bin/python3 tools/vit/export_fashion_mnist.py                          # full test split -> tools/.cache/fashion-mnist/
npm run cli -- eval --model public/models/demo-vit --images tools/.cache/fashion-mnist/fashion-mnist-test-10000.json
/usr/bin/python3 tools/vit/export_fashion_mnist.py --split train --count 1024   # calibration images for the bench
npm run bench -- --only vit                                                 # bench/results/vit-node-wasm.json
```

The CLI prints top-1 accuracy with its Wilson 95% interval, mean loss and the confusion matrix (JSON).
The bench evaluates on the full test split when exported (else on shipped images 250..499) and
calibrates on training images (else on shipped images 0..249), never on the evaluation images.
`src/api/demo-vit.test.ts` checks the api against the float64 reference on the shipped 500 images.

## Licence

Weights: same licence as the studio. Training and test data: Fashion-MNIST, MIT licence,
Copyright (c) 2017 Zalando SE.
"""
    with open(os.path.join(MODEL, "README.md"), "w") as f:
        f.write(card)


if __name__ == "__main__":
    main()
