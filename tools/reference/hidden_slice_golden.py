"""Hidden-size (embedding-channel) pruning reference: numpy, float64, written from the Hugging Face
model definitions (GPT2LMHeadModel, LlamaForCausalLM / Qwen2ForCausalLM), not from src/.

For each tiny fixture in fixtures/hub/tiny it
  1. checks its own dense forward against fixtures/golden/models.json (independent PyTorch goldens),
  2. slices the checkpoint tensors to a fixed kept set of d_model channels (embeddings' columns,
     every norm's entries, q/k/v/up/gate/c_attn/c_fc input dims, o/down/c_proj output dims + biases,
     the tied or untied LM head's columns; head_dim unchanged) and runs the same forward,
and writes fixtures/golden/hidden-slice.json (removed channels, ids, sliced logits).

    /usr/bin/python3 tools/reference/hidden_slice_golden.py
"""
import json
import math
import os
import struct

import numpy as np

HUB = 'fixtures/hub'
OUT = 'fixtures/golden/hidden-slice.json'
REPOS = ['tiny/gpt2-sharded', 'tiny/gpt2-untied-f16', 'tiny/llama-tied', 'tiny/llama-gqa-bf16', 'tiny/qwen2-f16']


def read_safetensors(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    header = json.loads(b[8:8 + n])
    data = b[8 + n:]
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        s, e = t['data_offsets']
        raw = data[s:e]
        if t['dtype'] == 'F32':
            a = np.frombuffer(raw, '<f4')
        elif t['dtype'] == 'F16':
            a = np.frombuffer(raw, '<f2')
        elif t['dtype'] == 'BF16':
            a = (np.frombuffer(raw, '<u2').astype(np.uint32) << 16).view('<f4')
        else:
            continue  # buffers (GPT-2's BOOL causal mask) are not weights
        out[name] = a.astype(np.float64).reshape(t['shape'])
    return out


def read_model(repo):
    d = os.path.join(HUB, repo)
    config = json.load(open(os.path.join(d, 'config.json')))
    tensors = {}
    if os.path.exists(os.path.join(d, 'model.safetensors')):
        tensors = read_safetensors(os.path.join(d, 'model.safetensors'))
    else:
        index = json.load(open(os.path.join(d, 'model.safetensors.index.json')))
        for shard in sorted(set(index['weight_map'].values())):
            tensors.update(read_safetensors(os.path.join(d, shard)))
    return config, {k.removeprefix('transformer.'): v for k, v in tensors.items()}


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def attention(q, k, v):
    """q: [H, T, dh], k/v: [K, T, dh] (GQA: each kv head serves H/K query heads), causal."""
    H, T, dh = q.shape
    k = np.repeat(k, H // k.shape[0], axis=0)
    v = np.repeat(v, H // v.shape[0], axis=0)
    s = q @ k.transpose(0, 2, 1) / math.sqrt(dh)
    s = np.where(np.tril(np.ones((T, T), bool)), s, -np.inf)
    return softmax(s) @ v  # [H, T, dh]


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu_new(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def gpt2_forward(c, t, ids, dh):
    n_layer, H, eps = c['n_layer'], c['n_head'], c.get('layer_norm_epsilon', 1e-5)
    T = len(ids)
    h = t['wte.weight'][ids] + t['wpe.weight'][np.arange(T)]
    for i in range(n_layer):
        p = f'h.{i}.'
        a = layer_norm(h, t[p + 'ln_1.weight'], t[p + 'ln_1.bias'], eps)
        qkv = a @ t[p + 'attn.c_attn.weight'] + t[p + 'attn.c_attn.bias']  # Conv1D: x @ W[in, out]
        inner = H * dh
        q, k, v = (qkv[:, j * inner:(j + 1) * inner].reshape(T, H, dh).transpose(1, 0, 2) for j in range(3))
        o = attention(q, k, v).transpose(1, 0, 2).reshape(T, inner)
        h = h + o @ t[p + 'attn.c_proj.weight'] + t[p + 'attn.c_proj.bias']
        m = layer_norm(h, t[p + 'ln_2.weight'], t[p + 'ln_2.bias'], eps)
        h = h + gelu_new(m @ t[p + 'mlp.c_fc.weight'] + t[p + 'mlp.c_fc.bias']) @ t[p + 'mlp.c_proj.weight'] + t[p + 'mlp.c_proj.bias']
    h = layer_norm(h, t['ln_f.weight'], t['ln_f.bias'], eps)
    head = t.get('lm_head.weight', t['wte.weight'])
    return h @ head.T


def gpt2_slice(t, keep):
    out = {}
    for name, a in t.items():
        if name in ('wte.weight', 'wpe.weight', 'lm_head.weight'):
            out[name] = a[:, keep]
        elif '.ln_' in name or name.startswith('ln_f.'):
            out[name] = a[keep]
        elif name.endswith(('attn.c_attn.weight', 'mlp.c_fc.weight')):
            out[name] = a[keep, :]  # Conv1D [in, out]: input rows
        elif name.endswith(('attn.c_proj.weight', 'mlp.c_proj.weight')):
            out[name] = a[:, keep]  # output columns
        elif name.endswith(('attn.c_proj.bias', 'mlp.c_proj.bias')):
            out[name] = a[keep]
        else:
            out[name] = a
    return out


def rms_norm(x, w, eps):
    return x / np.sqrt((x ** 2).mean(-1, keepdims=True) + eps) * w


def rope(x, theta, dh):
    T = x.shape[1]
    inv = 1.0 / theta ** (np.arange(0, dh, 2) / dh)
    f = np.outer(np.arange(T), inv)
    emb = np.concatenate([f, f], -1)
    half = dh // 2
    rot = np.concatenate([-x[..., half:], x[..., :half]], -1)
    return x * np.cos(emb) + rot * np.sin(emb)


def llama_forward(c, t, ids, dh):
    H, K, eps = c['num_attention_heads'], c.get('num_key_value_heads', c['num_attention_heads']), c['rms_norm_eps']
    theta = c.get('rope_theta', 10000.0)
    T = len(ids)
    h = t['model.embed_tokens.weight'][ids]

    def lin(x, name):
        y = x @ t[name + '.weight'].T
        return y + t[name + '.bias'] if name + '.bias' in t else y

    for i in range(c['num_hidden_layers']):
        p = f'model.layers.{i}.'
        a = rms_norm(h, t[p + 'input_layernorm.weight'], eps)
        q = lin(a, p + 'self_attn.q_proj').reshape(T, H, dh).transpose(1, 0, 2)
        k = lin(a, p + 'self_attn.k_proj').reshape(T, K, dh).transpose(1, 0, 2)
        v = lin(a, p + 'self_attn.v_proj').reshape(T, K, dh).transpose(1, 0, 2)
        o = attention(rope(q, theta, dh), rope(k, theta, dh), v).transpose(1, 0, 2).reshape(T, H * dh)
        h = h + lin(o, p + 'self_attn.o_proj')
        m = rms_norm(h, t[p + 'post_attention_layernorm.weight'], eps)
        g = lin(m, p + 'mlp.gate_proj')
        h = h + lin(g / (1 + np.exp(-g)) * lin(m, p + 'mlp.up_proj'), p + 'mlp.down_proj')
    h = rms_norm(h, t['model.norm.weight'], eps)
    head = t.get('lm_head.weight', t['model.embed_tokens.weight'])
    return h @ head.T


def llama_slice(t, keep):
    out = {}
    for name, a in t.items():
        if name in ('model.embed_tokens.weight', 'lm_head.weight'):
            out[name] = a[:, keep]
        elif name.endswith('layernorm.weight') or name == 'model.norm.weight':
            out[name] = a[keep]
        elif name.endswith(('q_proj.weight', 'k_proj.weight', 'v_proj.weight', 'gate_proj.weight', 'up_proj.weight')):
            out[name] = a[:, keep]  # [out, in]: input columns
        elif name.endswith(('o_proj.weight', 'down_proj.weight')):
            out[name] = a[keep, :]
        elif name.endswith(('o_proj.bias', 'down_proj.bias')):
            out[name] = a[keep]
        else:
            out[name] = a
    return out


def main():
    goldens = json.load(open('fixtures/golden/models.json'))
    ids = goldens['text_ids']
    rng = np.random.default_rng(16)
    result = {'note': 'tools/reference/hidden_slice_golden.py (numpy float64)', 'ids': ids, 'models': {}}
    for repo in REPOS:
        c, t = read_model(repo)
        gpt2 = c['model_type'] == 'gpt2'
        d = c['n_embd'] if gpt2 else c['hidden_size']
        H = c['n_head'] if gpt2 else c['num_attention_heads']
        dh = c.get('head_dim') or d // H
        forward, slicer = (gpt2_forward, gpt2_slice) if gpt2 else (llama_forward, llama_slice)
        case = next(x for x in goldens['models'][repo]['cases'] if x['ids'] == ids)
        dense_err = np.abs(forward(c, t, ids, dh) - np.array(case['logits'])).max()
        assert dense_err < 1e-3, (repo, dense_err)
        removed = sorted(rng.choice(d, d // 4, replace=False).tolist())
        keep = [i for i in range(d) if i not in removed]
        logits = forward(c, slicer(t, keep), ids, dh)
        print(f'{repo}: dense vs models.json {dense_err:.2e}; removed {removed}')
        result['models'][repo] = {'removed_hidden': removed, 'hidden_size': len(keep), 'logits': logits.tolist()}
    json.dump(result, open(OUT, 'w'))


if __name__ == '__main__':
    main()
