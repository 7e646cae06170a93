"""Shared helpers for the demo ViT tools: Fashion-MNIST IDX reading, the shipped .bin format,
safetensors I/O (no safetensors package needed) and an independent functional float64 ViT forward
written from the Hugging Face ViTForImageClassification definition (reads the HF tensor names).
"""
import gzip
import json
import os
import struct

import numpy as np

DATASET_DIR = "/usr/share/datasets/fashion-mnist"  # Debian package dataset-fashion-mnist
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read_idx(path):
    """Read a (gzipped) IDX file as a numpy uint8 array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype == 0x08, "expected unsigned-byte IDX"
    shape = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape).copy()


def load_split(split):
    """split: 'train' or 't10k' -> (images uint8 [N,28,28], labels uint8 [N])."""
    images = read_idx(os.path.join(DATASET_DIR, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(DATASET_DIR, f"{split}-labels-idx1-ubyte.gz"))
    assert images.shape[0] == labels.shape[0]
    return images, labels


def write_bin(path, images, labels, extra=None):
    """Write the shipped format: N*28*28 uint8 pixels (row-major, image after image) then N uint8 labels,
    plus a JSON manifest next to it (same name, .json)."""
    n = images.shape[0]
    with open(path, "wb") as f:
        f.write(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
        f.write(np.ascontiguousarray(labels, dtype=np.uint8).tobytes())
    manifest = {
        "format": "prune-studio image set v1: uint8 pixels [count][height][width] (row-major, 0=black, "
                  "255=white, as in the IDX files), immediately followed by uint8 labels [count]",
        "file": os.path.basename(path),
        "count": n,
        "shape": [int(images.shape[1]), int(images.shape[2])],
        "channels": 1,
        "images": {"offset": 0, "bytes": int(n * images.shape[1] * images.shape[2]), "dtype": "uint8"},
        "labels": {"offset": int(n * images.shape[1] * images.shape[2]), "bytes": n, "dtype": "uint8"},
        "classes": CLASSES,
        "label_counts": [int((labels == c).sum()) for c in range(len(CLASSES))],
    }
    manifest.update(extra or {})
    with open(os.path.splitext(path)[0] + ".json", "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    return manifest


def read_bin(path):
    with open(os.path.splitext(path)[0] + ".json") as f:
        m = json.load(f)
    raw = np.fromfile(path, dtype=np.uint8)
    h, w = m["shape"]
    images = raw[: m["images"]["bytes"]].reshape(m["count"], h, w)
    labels = raw[m["labels"]["offset"]: m["labels"]["offset"] + m["count"]]
    return images, labels, m


def save_safetensors(path, arrays):
    """Write F32 tensors (dict name -> numpy array) in the safetensors format:
    8-byte little-endian header length, JSON header (dtype, shape, data_offsets), raw data."""
    header, blobs, offset = {}, [], 0
    for name in sorted(arrays):
        b = np.ascontiguousarray(arrays[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(arrays[name].shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    header["__metadata__"] = {"format": "pt"}
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hb)))
        f.write(hb)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
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
        out[name] = np.frombuffer(data[a:b], dtype="<f4").reshape(info["shape"]).copy()
    return out


def preprocess(images_u8, pre):
    """ViTImageProcessor without resize: x = (pixel * rescale_factor - mean) / std, layout [N,1,H,W]."""
    x = images_u8.astype(np.float64) * pre["rescale_factor"]
    x = (x - pre["image_mean"][0]) / pre["image_std"][0]
    return x[:, None, :, :]


def vit_forward_f64(w, cfg, pixel_values):
    """Functional float64 ViTForImageClassification forward (eval mode) from HF-named tensors.
    pixel_values: numpy [N,C,H,W] already preprocessed. Returns logits numpy [N,num_labels]."""
    import torch
    import torch.nn.functional as F

    t = {k: torch.from_numpy(v).double() for k, v in w.items()}
    x = torch.from_numpy(np.asarray(pixel_values, dtype=np.float64))
    d, nh, eps = cfg["hidden_size"], cfg["num_attention_heads"], cfg["layer_norm_eps"]
    dh = d // nh
    p = "vit.embeddings."
    h = F.conv2d(x, t[p + "patch_embeddings.projection.weight"], t[p + "patch_embeddings.projection.bias"],
                 stride=cfg["patch_size"])
    h = h.flatten(2).transpose(1, 2)  # [N, P, d], patches row-major
    h = torch.cat([t[p + "cls_token"].expand(h.shape[0], -1, -1), h], dim=1) + t[p + "position_embeddings"]
    n, s, _ = h.shape
    for i in range(cfg["num_hidden_layers"]):
        q = f"vit.encoder.layer.{i}."
        a = F.layer_norm(h, (d,), t[q + "layernorm_before.weight"], t[q + "layernorm_before.bias"], eps)

        def proj(name, inp):
            return F.linear(inp, t[q + f"attention.attention.{name}.weight"], t[q + f"attention.attention.{name}.bias"])

        qq, kk, vv = (proj(nm, a).view(n, s, nh, dh).transpose(1, 2) for nm in ("query", "key", "value"))
        probs = torch.softmax(qq @ kk.transpose(-1, -2) / (dh ** 0.5), dim=-1)
        ctx = (probs @ vv).transpose(1, 2).reshape(n, s, d)
        h = h + F.linear(ctx, t[q + "attention.output.dense.weight"], t[q + "attention.output.dense.bias"])
        m = F.layer_norm(h, (d,), t[q + "layernorm_after.weight"], t[q + "layernorm_after.bias"], eps)
        m = F.gelu(F.linear(m, t[q + "intermediate.dense.weight"], t[q + "intermediate.dense.bias"]))
        h = h + F.linear(m, t[q + "output.dense.weight"], t[q + "output.dense.bias"])
    h = F.layer_norm(h, (d,), t["vit.layernorm.weight"], t["vit.layernorm.bias"], eps)
    return F.linear(h[:, 0], t["classifier.weight"], t["classifier.bias"]).numpy()
