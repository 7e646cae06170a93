"""Regenerate every golden fixture from one model directory.

Usage (from the repository root):
    /usr/bin/python3 tools/reference/make_goldens.py [model_dir]      # default public/models/demo-gpt2
Writes fixtures/golden/{dense,perplexity,criteria,prune,slimgpt,gradients}.json and runs the check against gpt2_torch.py.
"""
import sys

import torch

import check_against_demo
import criteria_golden
import dense_golden
import gradient_golden
import perplexity_golden
import prune_golden
import slimgpt_golden
from gpt2_ref import DEFAULT_MODEL_DIR, GPT2Ref

if __name__ == "__main__":
    torch.set_num_threads(1)
    model_dir = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL_DIR
    model = GPT2Ref(model_dir)  # float64
    print(f"model {model_dir} sha256 {model.sha256}")
    dense_golden.run(model, model_dir)
    perplexity_golden.run(model, model_dir)
    criteria_golden.run(model, model_dir)
    prune_golden.run(model, model_dir)
    slimgpt_golden.run(model, model_dir)
    gradient_golden.run(model, model_dir)  # after prune: reads the golden-50 plan from prune.json
    check_against_demo.main(model_dir)
