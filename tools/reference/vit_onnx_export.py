#!/usr/bin/env python3
"""torch.onnx.export of the tiny ViT fixture, as a user would export a Hugging Face ViT.

    /usr/bin/python3 tools/reference/vit_onnx_export.py       (from the repository root, ~3 s; torch 1.13)

The module is vit_reference.py's ViTForImageClassification (written from HF's modeling_vit.py:
Conv2d patch embedding, flatten(2).transpose(1, 2), CLS expand + cat, position add, unscaled
q·k / sqrt(head_dim), CLS pooling via seq[:, 0, :]) in float32, with the weights of
fixtures/hub/tiny/vit-tiny/model.safetensors. Exported with Optimum's names for ViT image
classification (pixel_values -> logits, dynamic batch_size), opset 17, into
fixtures/hub/tiny/vit-tiny-onnx/ with the fixture's config.json and preprocessor_config.json.
src/api/vit-onnx-import.test.ts loads it and checks the logits against fixtures/golden/vit.json.
"""
import json
import os
import shutil
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vit_reference import CONFIG, ViTForImageClassification, hf_state_dict  # noqa: E402

torch.set_num_threads(1)
REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SRC = os.path.join(REPO, "fixtures", "hub", "tiny", "vit-tiny")
OUT = os.path.join(REPO, "fixtures", "hub", "tiny", "vit-tiny-onnx")


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    body = data[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(body[a:b], dtype="<f4").reshape(info["shape"]).copy())
    return out


def main():
    model = ViTForImageClassification(CONFIG).float()
    weights = read_safetensors(os.path.join(SRC, "model.safetensors"))
    with torch.no_grad():
        for name, p in hf_state_dict(model).items():
            p.copy_(weights[name])
    model.eval()
    os.makedirs(OUT, exist_ok=True)
    x = torch.zeros(1, CONFIG["num_channels"], CONFIG["image_size"], CONFIG["image_size"])
    torch.onnx.export(
        model,
        (x,),
        os.path.join(OUT, "model.onnx"),
        input_names=["pixel_values"],
        output_names=["logits"],
        dynamic_axes={"pixel_values": {0: "batch_size"}, "logits": {0: "batch_size"}},
        opset_version=17,
        do_constant_folding=True,
    )
    for f in ("config.json", "preprocessor_config.json"):
        shutil.copy(os.path.join(SRC, f), os.path.join(OUT, f))
    print("wrote", OUT, os.path.getsize(os.path.join(OUT, "model.onnx")), "bytes")


if __name__ == "__main__":
    main()
