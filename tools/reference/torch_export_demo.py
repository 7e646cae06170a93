"""torch.onnx.export of the demo GPT-2 from its own weights (issue 11, item 7): the reference graph the
scale bench compares our exported graph's latency against, in the same runtime.

Run: /usr/bin/python3 tools/reference/torch_export_demo.py [model_dir] [out.onnx]
Uses tools/demo-model/gpt2_torch.py (the model definition the demo model was trained with); writes
tools/.cache/torch-export/demo-gpt2.onnx (git-ignored): input `input_ids` [batch, seq] -> `logits`.
"""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "demo-model"))
from gpt2_torch import load_model  # noqa: E402

torch.set_num_threads(1)
model_dir = sys.argv[1] if len(sys.argv) > 1 else "public/models/demo-gpt2"
out = sys.argv[2] if len(sys.argv) > 2 else "tools/.cache/torch-export/demo-gpt2.onnx"
os.makedirs(os.path.dirname(out), exist_ok=True)
model = load_model(model_dir)


class Logits(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids):
        return self.m(input_ids)


ids = torch.randint(0, model.cfg["vocab_size"], (1, 128))
with torch.no_grad():
    torch.onnx.export(
        Logits(model),
        (ids,),
        out,
        input_names=["input_ids"],
        output_names=["logits"],
        dynamic_axes={"input_ids": {0: "batch", 1: "seq"}, "logits": {0: "batch", 1: "seq"}},
        opset_version=17,
        do_constant_folding=True,
    )
print(f"wrote {out} ({os.path.getsize(out)} bytes)")
