"""A from-the-definition PyTorch GPT-2 (pre-LN, learned positions, gelu_new MLP, tied LM head).

Written from the GPT-2 paper / OpenAI's model definition, with Hugging Face's tensor names and
Conv1D layout ([in, out]) so the saved safetensors load in transformers' GPT2LMHeadModel.
Shared by train.py and the golden-fixture scripts; never imports anything from the TS code.
"""
import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Block(nn.Module):
    def __init__(self, d, n_head, d_ff, eps, dropout):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(d, eps=eps)
        self.c_attn_w = nn.Parameter(torch.empty(d, 3 * d))
        self.c_attn_b = nn.Parameter(torch.zeros(3 * d))
        self.c_proj_w = nn.Parameter(torch.empty(d, d))
        self.c_proj_b = nn.Parameter(torch.zeros(d))
        self.ln_2 = nn.LayerNorm(d, eps=eps)
        self.c_fc_w = nn.Parameter(torch.empty(d, d_ff))
        self.c_fc_b = nn.Parameter(torch.zeros(d_ff))
        self.mlp_proj_w = nn.Parameter(torch.empty(d_ff, d))
        self.mlp_proj_b = nn.Parameter(torch.zeros(d))
        self.drop = nn.Dropout(dropout)

    def attention(self, x, head_mask=None):
        b, t, d = x.shape
        h = self.n_head
        qkv = x @ self.c_attn_w + self.c_attn_b
        q, k, v = qkv.split(d, dim=2)
        q = q.view(b, t, h, d // h).transpose(1, 2)
        k = k.view(b, t, h, d // h).transpose(1, 2)
        v = v.view(b, t, h, d // h).transpose(1, 2)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(d // h)
        causal = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
        att = att.masked_fill(~causal, float("-inf")).softmax(-1)
        ctx = att @ v  # [b, h, t, dh]
        if head_mask is not None:
            ctx = ctx * head_mask.view(1, h, 1, 1)
        return ctx.transpose(1, 2).reshape(b, t, d)

    def forward(self, x, head_mask=None, ffn_mask=None, layer_mask=None):
        a = self.attention(self.ln_1(x), head_mask)
        a = a @ self.c_proj_w + self.c_proj_b
        x = x + self.drop(a) * (1.0 if layer_mask is None else layer_mask)
        hdn = gelu_new(self.ln_2(x) @ self.c_fc_w + self.c_fc_b)
        if ffn_mask is not None:
            hdn = hdn * ffn_mask
        m = hdn @ self.mlp_proj_w + self.mlp_proj_b
        return x + self.drop(m) * (1.0 if layer_mask is None else layer_mask)


class GPT2(nn.Module):
    def __init__(self, cfg, dropout=0.0):
        super().__init__()
        self.cfg = cfg
        d = cfg["n_embd"]
        self.wte = nn.Parameter(torch.empty(cfg["vocab_size"], d))
        self.wpe = nn.Parameter(torch.empty(cfg["n_positions"], d))
        self.blocks = nn.ModuleList(
            Block(d, cfg["n_head"], cfg["n_inner"], cfg["layer_norm_epsilon"], dropout) for _ in range(cfg["n_layer"])
        )
        self.ln_f = nn.LayerNorm(d, eps=cfg["layer_norm_epsilon"])
        self.drop = nn.Dropout(dropout)

    def init_weights(self, seed):
        g = torch.Generator().manual_seed(seed)
        std = 0.02
        resid_std = std / math.sqrt(2 * self.cfg["n_layer"])
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("_b") or "ln_" in name:
                    continue
                s = resid_std if name.endswith("c_proj_w") or name.endswith("mlp_proj_w") else std
                p.copy_(torch.randn(p.shape, generator=g) * s)

    def forward(self, ids, **masks):
        t = ids.shape[1]
        x = self.drop(self.wte[ids] + self.wpe[:t])
        for i, blk in enumerate(self.blocks):
            x = blk(x, **{k: v[i] for k, v in masks.items() if v is not None})
        return self.ln_f(x) @ self.wte.T

    # --- Hugging Face layout -------------------------------------------------------------
    def hf_state(self):
        s = {"wte.weight": self.wte, "wpe.weight": self.wpe, "ln_f.weight": self.ln_f.weight, "ln_f.bias": self.ln_f.bias}
        for i, b in enumerate(self.blocks):
            p = f"h.{i}."
            s.update({
                p + "ln_1.weight": b.ln_1.weight, p + "ln_1.bias": b.ln_1.bias,
                p + "attn.c_attn.weight": b.c_attn_w, p + "attn.c_attn.bias": b.c_attn_b,
                p + "attn.c_proj.weight": b.c_proj_w, p + "attn.c_proj.bias": b.c_proj_b,
                p + "ln_2.weight": b.ln_2.weight, p + "ln_2.bias": b.ln_2.bias,
                p + "mlp.c_fc.weight": b.c_fc_w, p + "mlp.c_fc.bias": b.c_fc_b,
                p + "mlp.c_proj.weight": b.mlp_proj_w, p + "mlp.c_proj.bias": b.mlp_proj_b,
            })
        return s

    def load_hf_state(self, tensors):
        with torch.no_grad():
            for k, p in self.hf_state().items():
                p.copy_(tensors[k])


def save_safetensors(path, tensors):
    """Write F32 tensors in the safetensors format (8-byte LE header length, JSON header, data)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        arr = tensors[name].detach().contiguous().to(torch.float32).numpy().tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(arr)]}
        blobs.append(arr)
        offset += len(arr)
    header["__metadata__"] = {"format": "pt"}
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    import numpy as np
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        assert info["dtype"] == "F32"
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[a:b], dtype=np.float32).copy()).view(info["shape"])
    return out


def load_model(model_dir):
    with open(f"{model_dir}/config.json") as f:
        cfg = json.load(f)
    m = GPT2(cfg)
    m.load_hf_state(load_safetensors(f"{model_dir}/model.safetensors"))
    m.eval()
    return m
