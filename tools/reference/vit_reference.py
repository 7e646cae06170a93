#!/usr/bin/env python3
"""Independent PyTorch reference for the ViT family and the tiny random ViT fixture.

    /usr/bin/python3 tools/reference/vit_reference.py          (from the repository root, ~2 s)

Written from the Hugging Face model definition (transformers/models/vit/modeling_vit.py:
ViTEmbeddings, ViTPatchEmbeddings, ViTSelfAttention, ViTSelfOutput, ViTIntermediate, ViTOutput,
ViTLayer, ViTForImageClassification) and ViTImageProcessor (rescale, normalize); nothing under
src/ was read. Float64 throughout (float32 weights upcast exactly).

Writes (deterministic: seeded weights, sorted JSON):
  fixtures/hub/tiny/vit-tiny/   config.json, preprocessor_config.json, model.safetensors (F32)
  fixtures/golden/vit.json      logits of fixed images: dense, head mask, FFN mask, both, mean pooling,
                                per-image cross-entropy, and uint8 images through the preprocessor

Masks follow HF semantics: head_mask[l, h] multiplies head h's attention probabilities (so its
context) before attention.output.dense; ffn_mask[l, j] multiplies GELU(intermediate.dense(x))_j
before output.dense (a forward hook on ViTIntermediate in HF terms).
"""
import json
import math
import os
import struct

import numpy as np
import torch
from torch import nn

torch.set_num_threads(1)
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
OUT_DIR = os.path.join(REPO, "fixtures", "hub", "tiny", "vit-tiny")
GOLDEN = os.path.join(REPO, "fixtures", "golden", "vit.json")

CONFIG = {
    "model_type": "vit",
    "architectures": ["ViTForImageClassification"],
    "hidden_size": 16,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 32,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.0,
    "attention_probs_dropout_prob": 0.0,
    "initializer_range": 0.02,
    "layer_norm_eps": 1e-12,
    "image_size": 8,
    "patch_size": 4,
    "num_channels": 2,
    "qkv_bias": True,
    "encoder_stride": 4,
    "id2label": {"0": "circle", "1": "square", "2": "stripe"},
    "label2id": {"circle": 0, "square": 1, "stripe": 2},
    "torch_dtype": "float32",
}
PREPROCESSOR = {
    "image_processor_type": "ViTImageProcessor",
    "do_resize": True,
    "size": {"height": 8, "width": 8},
    "resample": 2,
    "do_rescale": True,
    "rescale_factor": 1 / 255,
    "do_normalize": True,
    "image_mean": [0.5, 0.25],
    "image_std": [0.5, 0.2],
}


# ---- the model, from modeling_vit.py (dropout omitted: p = 0 and eval mode) ----

class ViTEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, p, C, S = c["hidden_size"], c["patch_size"], c["num_channels"], c["image_size"]
        self.cls_token = nn.Parameter(torch.zeros(1, 1, d))
        self.projection = nn.Conv2d(C, d, kernel_size=p, stride=p)
        self.num_patches = (S // p) ** 2
        self.position_embeddings = nn.Parameter(torch.zeros(1, self.num_patches + 1, d))

    def forward(self, pixel_values):
        x = self.projection(pixel_values).flatten(2).transpose(1, 2)  # [B, N, d]
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        return torch.cat((cls, x), dim=1) + self.position_embeddings


class ViTLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, f = c["hidden_size"], c["intermediate_size"]
        self.H = c["num_attention_heads"]
        self.dh = d // self.H
        self.layernorm_before = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.query = nn.Linear(d, d, bias=c["qkv_bias"])
        self.key = nn.Linear(d, d, bias=c["qkv_bias"])
        self.value = nn.Linear(d, d, bias=c["qkv_bias"])
        self.attn_out = nn.Linear(d, d)
        self.layernorm_after = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.intermediate = nn.Linear(d, f)
        self.output = nn.Linear(f, d)

    def heads(self, x):
        B, T, _ = x.shape
        return x.view(B, T, self.H, self.dh).permute(0, 2, 1, 3)

    def forward(self, h, head_mask=None, ffn_mask=None):
        x = self.layernorm_before(h)
        q, k, v = self.heads(self.query(x)), self.heads(self.key(x)), self.heads(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.dh)
        probs = nn.functional.softmax(scores, dim=-1)
        if head_mask is not None:
            probs = probs * head_mask.view(1, -1, 1, 1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).reshape(h.shape)
        h = self.attn_out(ctx) + h
        a = nn.functional.gelu(self.intermediate(self.layernorm_after(h)))  # exact erf GELU
        if ffn_mask is not None:
            a = a * ffn_mask
        return self.output(a) + h


class ViTForImageClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = ViTEmbeddings(c)
        self.layer = nn.ModuleList([ViTLayer(c) for _ in range(c["num_hidden_layers"])])
        self.layernorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.classifier = nn.Linear(c["hidden_size"], len(c["id2label"]))

    def forward(self, pixel_values, head_mask=None, ffn_mask=None, pooling="cls"):
        h = self.embeddings(pixel_values)
        for i, layer in enumerate(self.layer):
            h = layer(h, None if head_mask is None else head_mask[i], None if ffn_mask is None else ffn_mask[i])
        seq = self.layernorm(h)
        pooled = seq[:, 0, :] if pooling == "cls" else seq[:, 1:, :].mean(dim=1)
        return self.classifier(pooled)


def hf_state_dict(m):
    """The module's parameters under ViTForImageClassification's names."""
    out = {
        "vit.embeddings.cls_token": m.embeddings.cls_token,
        "vit.embeddings.position_embeddings": m.embeddings.position_embeddings,
        "vit.embeddings.patch_embeddings.projection.weight": m.embeddings.projection.weight,
        "vit.embeddings.patch_embeddings.projection.bias": m.embeddings.projection.bias,
        "vit.layernorm.weight": m.layernorm.weight,
        "vit.layernorm.bias": m.layernorm.bias,
        "classifier.weight": m.classifier.weight,
        "classifier.bias": m.classifier.bias,
    }
    for i, l in enumerate(m.layer):
        p = f"vit.encoder.layer.{i}."
        for name, mod in [("layernorm_before", l.layernorm_before), ("attention.attention.query", l.query),
                          ("attention.attention.key", l.key), ("attention.attention.value", l.value),
                          ("attention.output.dense", l.attn_out), ("layernorm_after", l.layernorm_after),
                          ("intermediate.dense", l.intermediate), ("output.dense", l.output)]:
            out[p + name + ".weight"] = mod.weight
            if mod.bias is not None:
                out[p + name + ".bias"] = mod.bias
    return out


def safetensors_bytes(tensors):
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].detach().numpy().astype("<f4"))
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        blobs.append(a.tobytes())
        offset += a.nbytes
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    return struct.pack("<Q", len(h)) + h + b"".join(blobs)


def preprocess(images_u8):
    """ViTImageProcessor without a resize (the images already have the model's size): HWC uint8 -> CHW float."""
    x = images_u8.astype(np.float64) * PREPROCESSOR["rescale_factor"]
    x = (x - np.array(PREPROCESSOR["image_mean"])) / np.array(PREPROCESSOR["image_std"])
    return torch.from_numpy(x.transpose(0, 3, 1, 2).copy())


def main():
    torch.manual_seed(16)
    model = ViTForImageClassification(CONFIG).double()
    with torch.no_grad():
        for name, p in hf_state_dict(model).items():
            if "layernorm" in name and name.endswith(".weight"):
                p.copy_(1 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
        # Exactly representable in float32, so the F32 file holds the same model.
        for p in model.parameters():
            p.copy_(p.float().double())
    model.eval()

    os.makedirs(OUT_DIR, exist_ok=True)
    with open(os.path.join(OUT_DIR, "config.json"), "w") as f:
        json.dump(CONFIG, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(OUT_DIR, "preprocessor_config.json"), "w") as f:
        json.dump(PREPROCESSOR, f, indent=2, sort_keys=True)
        f.write("\n")
    with open(os.path.join(OUT_DIR, "model.safetensors"), "wb") as f:
        f.write(safetensors_bytes(hf_state_dict(model)))

    g = torch.Generator().manual_seed(7)
    S, C = CONFIG["image_size"], CONFIG["num_channels"]
    pixels = torch.randn(3, C, S, S, generator=g, dtype=torch.float64).float().double()
    labels = [0, 2, 1]
    L, H, F = CONFIG["num_hidden_layers"], CONFIG["num_attention_heads"], CONFIG["intermediate_size"]
    head_mask = torch.ones(L, H, dtype=torch.float64)
    head_mask[0, 1] = 0
    head_mask[1, 0] = 0
    ffn_mask = torch.ones(L, F, dtype=torch.float64)
    ffn_mask[0, :10] = 0
    ffn_mask[1, ::3] = 0
    rng = np.random.default_rng(3)
    images_u8 = rng.integers(0, 256, size=(2, S, S, C), dtype=np.uint8)

    with torch.no_grad():
        dense = model(pixels)
        cases = {
            "dense": dense,
            "head_mask": model(pixels, head_mask=head_mask),
            "ffn_mask": model(pixels, ffn_mask=ffn_mask),
            "both_masks": model(pixels, head_mask=head_mask, ffn_mask=ffn_mask),
            "mean_pooling": model(pixels, pooling="mean"),
        }
        nll = nn.functional.cross_entropy(dense, torch.tensor(labels), reduction="none")
        u8_pixels = preprocess(images_u8)
        u8_logits = model(u8_pixels)

    golden = {
        "note": "Written by tools/reference/vit_reference.py (float64, from the HF ViT definition).",
        "repo": "tiny/vit-tiny",
        "pixel_values": pixels.tolist(),
        "labels": labels,
        "head_mask": head_mask.tolist(),
        "ffn_mask": ffn_mask.tolist(),
        "logits": {k: v.tolist() for k, v in cases.items()},
        "nll": nll.tolist(),
        "uint8": {"images_hwc": images_u8.tolist(), "pixel_values": u8_pixels.tolist(), "logits": u8_logits.tolist()},
    }
    with open(GOLDEN, "w") as f:
        json.dump(golden, f, sort_keys=True)
        f.write("\n")
    print("dense logits", dense.tolist())


if __name__ == "__main__":
    main()
