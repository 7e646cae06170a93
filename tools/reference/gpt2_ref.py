"""Independent PyTorch reference of the demo GPT-2 model (written from the model definition only).

Definition (HF GPT-2, pre-LN):
    x0 = wte[ids] + wpe[pos]
    block i:  x = x + layer_mask[i] * attn(ln_1(x))
              x = x + layer_mask[i] * mlp(ln_2(x))
    logits = ln_f(x) @ wte^T                       (tied LM head)
  attn: q|k|v = ln_1(x) @ c_attn.weight + c_attn.bias   (Conv1D layout [in,out], q|k|v along out)
        ctx_h = softmax(q_h k_h^T / sqrt(d_h) + causal) v_h
        ctx_h *= head_mask[i, h]                           (before the output projection)
        out   = concat_h(ctx_h) @ c_proj.weight + c_proj.bias
  mlp:  a = gelu_new(ln_2(x) @ c_fc.weight + c_fc.bias) * ffn_mask[i]
        out = a @ mlp.c_proj.weight + mlp.c_proj.bias
  gelu_new(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))   (tanh approximation)
  LayerNorm: biased variance, eps = layer_norm_epsilon.

Everything runs in float64 by default (weights are F32 in the file and are upcast exactly).
"""
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import torch

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "demo-model"))
from bpe import Bpe  # noqa: E402  (Python GPT-2 BPE, independent of the TS tokenizer)

DEFAULT_MODEL_DIR = "public/models/demo-gpt2"


def repo_path(p):
    """Resolve p against the cwd first, then against the repository root."""
    return p if os.path.isabs(p) or os.path.exists(p) else os.path.join(REPO, p)


# ---------------------------------------------------------------------------------------------
# safetensors: 8-byte little-endian u64 header length, JSON header, then the raw tensor bytes.
# ---------------------------------------------------------------------------------------------
_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        arr = np.frombuffer(data[a:b], dtype=np.dtype(_DTYPES[info["dtype"]]).newbyteorder("<"))
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    return out


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------
def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3))))


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)  # biased variance, as torch.nn.LayerNorm
    return (x - mu) / torch.sqrt(var + eps) * w + b


class GPT2Ref:
    def __init__(self, model_dir=DEFAULT_MODEL_DIR, dtype=torch.float64):
        model_dir = repo_path(model_dir)
        self.model_dir = model_dir
        with open(os.path.join(model_dir, "config.json")) as f:
            self.cfg = json.load(f)
        c = self.cfg
        self.L, self.H, self.d = c["n_layer"], c["n_head"], c["n_embd"]
        self.dh = self.d // self.H
        self.m = c.get("n_inner") or 4 * self.d
        self.eps = c["layer_norm_epsilon"]
        assert c.get("activation_function", "gelu_new") == "gelu_new"
        st = os.path.join(model_dir, "model.safetensors")
        self.sha256 = sha256_file(st)
        w = read_safetensors(st)
        # accept an optional "transformer." prefix (HF GPT2LMHeadModel layout)
        self.w = {k[len("transformer."):] if k.startswith("transformer.") else k: v.to(dtype) for k, v in w.items()}
        self.dtype = dtype

    def p(self, name):
        return self.w[name]

    def tokenizer(self):
        tj = os.path.join(self.model_dir, "tokenizer.json")
        if not os.path.exists(tj):
            tj = repo_path(os.path.join(DEFAULT_MODEL_DIR, "tokenizer.json"))
        return Bpe.load(tj)

    def forward(self, ids, head_mask=None, ffn_mask=None, layer_mask=None, hooks=None):
        """ids: LongTensor [B,T]. Masks: [L,H], [L,m], [L] (None = all ones).
        hooks (optional dict) is filled with per-layer tensors:
          resid[l] = residual stream entering block l (resid[L] = leaving the last block, before ln_f)
          x_o[l]   = input of attn.c_proj (concatenated, masked head contexts) [B,T,d]
          x_d[l]   = input of mlp.c_proj (masked gelu_new outputs)             [B,T,m]
        Returns logits [B,T,vocab]."""
        B, T = ids.shape
        L, H, dh = self.L, self.H, self.dh
        x = self.p("wte.weight")[ids] + self.p("wpe.weight")[torch.arange(T)][None]
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        if hooks is not None:
            hooks.setdefault("resid", []), hooks.setdefault("x_o", []), hooks.setdefault("x_d", [])
        for i in range(L):
            pre = f"h.{i}."
            if hooks is not None:
                hooks["resid"].append(x)
            lm = 1.0 if layer_mask is None else layer_mask[i]
            # --- attention ---
            a_in = layer_norm(x, self.p(pre + "ln_1.weight"), self.p(pre + "ln_1.bias"), self.eps)
            qkv = a_in @ self.p(pre + "attn.c_attn.weight") + self.p(pre + "attn.c_attn.bias")
            q, k, v = qkv.split(self.d, dim=-1)
            q, k, v = (t.reshape(B, T, H, dh).transpose(1, 2) for t in (q, k, v))  # [B,H,T,dh]
            s = (q @ k.transpose(-1, -2)) / math.sqrt(dh)
            s = s.masked_fill(~causal, float("-inf"))
            ctx = torch.softmax(s, dim=-1) @ v  # [B,H,T,dh]
            if head_mask is not None:
                ctx = ctx * head_mask[i].to(ctx.dtype)[None, :, None, None]
            ctx = ctx.transpose(1, 2).reshape(B, T, self.d)  # head h -> features h*dh..(h+1)*dh
            if hooks is not None:
                hooks["x_o"].append(ctx)
            attn_out = ctx @ self.p(pre + "attn.c_proj.weight") + self.p(pre + "attn.c_proj.bias")
            x = x + lm * attn_out
            # --- MLP ---
            m_in = layer_norm(x, self.p(pre + "ln_2.weight"), self.p(pre + "ln_2.bias"), self.eps)
            act = gelu_new(m_in @ self.p(pre + "mlp.c_fc.weight") + self.p(pre + "mlp.c_fc.bias"))
            if ffn_mask is not None:
                act = act * ffn_mask[i].to(act.dtype)
            if hooks is not None:
                hooks["x_d"].append(act)
            mlp_out = act @ self.p(pre + "mlp.c_proj.weight") + self.p(pre + "mlp.c_proj.bias")
            x = x + lm * mlp_out
        if hooks is not None:
            hooks["resid"].append(x)
        x = layer_norm(x, self.p("ln_f.weight"), self.p("ln_f.bias"), self.eps)
        return x @ self.p("wte.weight").T

    def masks(self, heads_off=(), ffn_off=(), layers_off=()):
        """Build (head_mask, ffn_mask, layer_mask) with the listed units set to 0."""
        hm = torch.ones(self.L, self.H, dtype=self.dtype)
        fm = torch.ones(self.L, self.m, dtype=self.dtype)
        lm = torch.ones(self.L, dtype=self.dtype)
        for l, h in heads_off:
            hm[l, h] = 0
        for l, idx in ffn_off:
            fm[l, list(idx)] = 0
        for l in layers_off:
            lm[l] = 0
        return hm, fm, lm


def next_token_logprob(logits, ids):
    """log p(ids[:, t+1] | ids[:, :t+1]) for t = 0..T-2 -> [B, T-1]."""
    lp = torch.log_softmax(logits[:, :-1], dim=-1)
    return lp.gather(-1, ids[:, 1:, None])[..., 0]


def read_text(path):
    # exact bytes, no newline translation
    with open(repo_path(path), "r", encoding="utf-8", newline="") as f:
        return f.read()


_TOK_CACHE = {}


def tokenize_file(model, path):
    """Whole-file ids (no BOS / special tokens), memoised per (tokenizer, file)."""
    key = (model.model_dir, path)
    if key not in _TOK_CACHE:
        _TOK_CACHE[key] = model.tokenizer().encode(read_text(path))
    return _TOK_CACHE[key]


def write_json(obj, rel_path):
    path = os.path.join(REPO, rel_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f)  # default float repr = shortest round-trip (full float64 precision)
    print(f"wrote {rel_path} ({os.path.getsize(path) / 1e6:.2f} MB)")


def model_info(model, model_dir_arg):
    return {"model": "demo-gpt2", "model_dir": model_dir_arg, "model_sha256": model.sha256}
