"""fixtures/golden/dense.json: dense and masked logits / next-token log-probs, plus a tokenization check.

Usage: /usr/bin/python3 tools/reference/dense_golden.py [model_dir]
"""
import sys

import torch

from gpt2_ref import DEFAULT_MODEL_DIR, GPT2Ref, model_info, next_token_logprob, read_text, tokenize_file, write_json

TEXT = "public/data/evaluation.txt"
POSITIONS = [0, 7, 31]
PREFIX_CHARS = 2000
CASES = [
    # (a) single heads off
    {"heads_off": [[0, 1], [2, 5], [3, 0], [3, 7]], "ffn_off": [], "layers_off": []},
    # (b) FFN neurons 0..99 of layer 1 and every 3rd neuron (0,3,6,...) of layer 3
    {"heads_off": [], "ffn_off": [[1, list(range(100))], [3, list(range(0, 1024, 3))]], "layers_off": []},
    # (c) whole block 2 off plus head (0,3)
    {"heads_off": [[0, 3]], "ffn_off": [], "layers_off": [2]},
]


def run(model, model_dir_arg):
    ids_all = tokenize_file(model, TEXT)
    ids = torch.tensor([ids_all[0:32], ids_all[32:64]], dtype=torch.long)

    def evaluate(masks):
        hm, fm, lm = masks
        with torch.no_grad():
            logits = model.forward(ids, head_mask=hm, ffn_mask=fm, layer_mask=lm)
        return {"logits": logits[:, POSITIONS].tolist(), "next_token_logprob": next_token_logprob(logits, ids).tolist()}

    out = dict(model_info(model, model_dir_arg))
    out["input_ids"] = ids.tolist()
    out["logits_positions"] = POSITIONS
    out.update(evaluate((None, None, None)))
    out["masked"] = []
    for case in CASES:
        res = dict(case)
        res.update(evaluate(model.masks(case["heads_off"], case["ffn_off"], case["layers_off"])))
        out["masked"].append(res)
    text = read_text(TEXT)
    out["tokenization"] = {
        "text_file": TEXT,
        "prefix_chars": PREFIX_CHARS,  # code points == UTF-16 units here (the file has no astral chars)
        "ids": model.tokenizer().encode(text[:PREFIX_CHARS]),
        "total_tokens": len(ids_all),
    }
    out["total_tokens"] = len(ids_all)
    write_json(out, "fixtures/golden/dense.json")


if __name__ == "__main__":
    torch.set_num_threads(1)
    arg = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL_DIR
    run(GPT2Ref(arg), arg)
