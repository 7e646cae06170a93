#!/usr/bin/env python3
"""Hidden-size (embedding-channel) pruning reference for the tiny ViT: numpy, float64, written from
the Hugging Face ViT definition (transformers/models/vit/modeling_vit.py: ViTEmbeddings,
ViTPatchEmbeddings, ViTSelfAttention, ViTSelfOutput, ViTIntermediate, ViTOutput, ViTLayer,
ViTForImageClassification), not from src/.

  1. checks its own dense forward, and its head / FFN slicing against the masked logits, against
     fixtures/golden/vit.json (tools/reference/vit_reference.py, the independent PyTorch reference),
  2. slices the checkpoint tensors of fixtures/hub/tiny/vit-tiny to a fixed kept set of d_model
     channels: patch-embedding output channels + bias, cls token, position embeddings, every
     LayerNorm's weight / bias, q/k/v and intermediate input columns, attention.output.dense and
     output.dense output rows + biases, classifier input columns (head_dim unchanged), optionally
     also removing heads (q/k/v rows + biases, attention.output.dense columns) and FFN neurons
     (intermediate rows + bias, output.dense columns) in the same plan,
  3. runs the HF forward on the physically smaller tensors (so every LayerNorm normalises over the
     kept channels, as an exported smaller model does) on vit.json's fixed images,
and writes fixtures/golden/hidden-slice-vit.json (plans, sliced logits, parameter counts).

    /usr/bin/python3 tools/reference/vit_hidden_slice_golden.py     (from the repository root)
"""
import json
import math
import os
import struct

import numpy as np

REPO = 'fixtures/hub/tiny/vit-tiny'
OUT = 'fixtures/golden/hidden-slice-vit.json'
EMB = 'vit.embeddings.'


def read_safetensors(path):
    b = open(path, 'rb').read()
    n = struct.unpack('<Q', b[:8])[0]
    header = json.loads(b[8:8 + n])
    data = b[8 + n:]
    out = {}
    for name, t in header.items():
        if name == '__metadata__':
            continue
        assert t['dtype'] == 'F32', (name, t['dtype'])
        s, e = t['data_offsets']
        out[name] = np.frombuffer(data[s:e], '<f4').astype(np.float64).reshape(t['shape'])
    return out


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


_erf = np.vectorize(math.erf)


def gelu(x):
    """ACT2FN['gelu']: the exact erf GELU."""
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def linear(x, t, name):
    return x @ t[name + '.weight'].T + t[name + '.bias']


def patch_embed(pixels, w, b, p):
    """nn.Conv2d(C, d, kernel=p, stride=p) then flatten(2).transpose(1, 2): [B, N, d]."""
    B, C, S, _ = pixels.shape
    g = S // p
    patches = pixels.reshape(B, C, g, p, g, p).transpose(0, 2, 4, 1, 3, 5).reshape(B, g * g, C * p * p)
    return patches @ w.reshape(w.shape[0], -1).T + b


def forward(c, t, pixels, dh):
    """ViTForImageClassification (eval, no masks), CLS pooling. Head count and widths come from the
    tensors' shapes, so a physically sliced checkpoint runs as the smaller model it is."""
    eps = c['layer_norm_eps']
    x = patch_embed(pixels, t[EMB + 'patch_embeddings.projection.weight'], t[EMB + 'patch_embeddings.projection.bias'], c['patch_size'])
    B = x.shape[0]
    cls = np.broadcast_to(t[EMB + 'cls_token'], (B, 1, x.shape[2]))
    h = np.concatenate([cls, x], 1) + t[EMB + 'position_embeddings']
    T = h.shape[1]
    for i in range(c['num_hidden_layers']):
        p = f'vit.encoder.layer.{i}.'
        a = layer_norm(h, t[p + 'layernorm_before.weight'], t[p + 'layernorm_before.bias'], eps)
        q, k, v = (linear(a, t, p + 'attention.attention.' + n) for n in ('query', 'key', 'value'))
        H = q.shape[-1] // dh
        q, k, v = (y.reshape(B, T, H, dh).transpose(0, 2, 1, 3) for y in (q, k, v))
        probs = softmax(q @ k.transpose(0, 1, 3, 2) / math.sqrt(dh))
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(B, T, H * dh)
        h = linear(ctx, t, p + 'attention.output.dense') + h
        m = layer_norm(h, t[p + 'layernorm_after.weight'], t[p + 'layernorm_after.bias'], eps)
        h = linear(gelu(linear(m, t, p + 'intermediate.dense')), t, p + 'output.dense') + h
    seq = layer_norm(h, t['vit.layernorm.weight'], t['vit.layernorm.bias'], eps)
    return linear(seq[:, 0, :], t, 'classifier')


def slice_hidden(t, keep):
    out = {}
    for name, a in t.items():
        if name.startswith(EMB + 'patch_embeddings.projection.'):
            out[name] = a[keep]  # Conv2d weight [d, C, p, p] / bias [d]: output channels
        elif name in (EMB + 'cls_token', EMB + 'position_embeddings'):
            out[name] = a[..., keep]  # [1, 1, d] / [1, N + 1, d]
        elif 'layernorm' in name:
            out[name] = a[keep]
        elif name.endswith(('attention.attention.query.weight', 'attention.attention.key.weight',
                            'attention.attention.value.weight', 'intermediate.dense.weight')) or name == 'classifier.weight':
            out[name] = a[:, keep]  # nn.Linear [out, in]: input columns
        elif name.endswith(('attention.output.dense.weight', 'output.dense.weight')):
            out[name] = a[keep, :]  # output rows
        elif name.endswith(('attention.output.dense.bias', 'output.dense.bias')):
            out[name] = a[keep]
        else:
            out[name] = a  # q/k/v / intermediate / classifier biases
    return out


def slice_heads_ffn(t, layers, dh):
    """layers: [{'removed_heads': [...], 'removed_ffn': [...]}] per layer (HF prune_heads semantics)."""
    out = dict(t)
    for i, l in enumerate(layers):
        p = f'vit.encoder.layer.{i}.'
        H = t[p + 'attention.attention.query.weight'].shape[0] // dh
        rows = [h * dh + j for h in range(H) if h not in l['removed_heads'] for j in range(dh)]
        for n in ('query', 'key', 'value'):
            for s in ('.weight', '.bias'):
                out[p + 'attention.attention.' + n + s] = t[p + 'attention.attention.' + n + s][rows]
        out[p + 'attention.output.dense.weight'] = t[p + 'attention.output.dense.weight'][:, rows]
        F = t[p + 'intermediate.dense.weight'].shape[0]
        neurons = [j for j in range(F) if j not in l['removed_ffn']]
        out[p + 'intermediate.dense.weight'] = t[p + 'intermediate.dense.weight'][neurons]
        out[p + 'intermediate.dense.bias'] = t[p + 'intermediate.dense.bias'][neurons]
        out[p + 'output.dense.weight'] = t[p + 'output.dense.weight'][:, neurons]
    return out


def main():
    c = json.load(open(os.path.join(REPO, 'config.json')))
    t = read_safetensors(os.path.join(REPO, 'model.safetensors'))
    vit = json.load(open('fixtures/golden/vit.json'))
    pixels = np.array(vit['pixel_values'], dtype=np.float64)
    d, L = c['hidden_size'], c['num_hidden_layers']
    dh = d // c['num_attention_heads']
    dense_err = np.abs(forward(c, t, pixels, dh) - np.array(vit['logits']['dense'])).max()
    assert dense_err < 1e-9, dense_err
    # Head / FFN slicing checked against the PyTorch reference's masks (a zero mask == a removed unit).
    masked = [{'removed_heads': [h for h, m in enumerate(hm) if m == 0], 'removed_ffn': [j for j, m in enumerate(fm) if m == 0]}
              for hm, fm in zip(vit['head_mask'], vit['ffn_mask'])]
    units_err = np.abs(forward(c, slice_heads_ffn(t, masked, dh), pixels, dh) - np.array(vit['logits']['both_masks'])).max()
    assert units_err < 1e-9, units_err
    print(f'dense vs vit.json {dense_err:.2e}; head + FFN slicing vs both_masks {units_err:.2e}')

    rng = np.random.default_rng(37)
    removed = sorted(rng.choice(d, d // 4, replace=False).tolist())
    keep = [i for i in range(d) if i not in removed]
    no_units = [{'removed_heads': [], 'removed_ffn': []} for _ in range(L)]
    units = [{'removed_heads': [1], 'removed_ffn': list(range(10))},
             {'removed_heads': [], 'removed_ffn': list(range(0, c['intermediate_size'], 3))}]
    cases = {}
    for name, layers in (('hidden', no_units), ('hidden_heads_ffn', units)):
        s = slice_heads_ffn(slice_hidden(t, keep), layers, dh)
        logits = forward(c, s, pixels, dh)
        params = int(sum(a.size for a in s.values()))
        print(f'{name}: removed hidden {removed}; parameters {params}; logits {logits.round(4).tolist()}')
        cases[name] = {'layers': layers, 'logits': logits.tolist(), 'parameters': params,
                       'shapes': {k: list(a.shape) for k, a in sorted(s.items())}}
    result = {'note': 'tools/reference/vit_hidden_slice_golden.py (numpy float64, from the HF ViT definition)',
              'repo': 'tiny/vit-tiny', 'pixel_values': pixels.tolist(), 'removed_hidden': removed,
              'hidden_size': len(keep), 'dense_parameters': int(sum(a.size for a in t.values())), 'cases': cases}
    with open(OUT, 'w') as f:
        json.dump(result, f, sort_keys=True)
        f.write('\n')


if __name__ == '__main__':
    main()
