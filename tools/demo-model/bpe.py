"""GPT-2 byte-level BPE, written from OpenAI's published algorithm (gpt-2 src/encoder.py).

Used by the tools/ scripts only (corpus tokenisation for training and golden fixtures).
It is deliberately independent of the TypeScript tokenizer path (@huggingface/tokenizers).
"""
import json
import regex as re

PRETOKENIZE = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")
EOT = "<|endoftext|>"


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, [chr(c) for c in cs]))


class Bpe:
    def __init__(self, vocab, merges):
        self.vocab = vocab  # token string -> id
        self.ranks = {tuple(m): i for i, m in enumerate(merges)}
        self.byte_encoder = bytes_to_unicode()
        self.cache = {}

    @classmethod
    def load(cls, tokenizer_json_path):
        with open(tokenizer_json_path, encoding="utf-8") as f:
            tj = json.load(f)
        merges = [m.split(" ") if isinstance(m, str) else m for m in tj["model"]["merges"]]
        return cls(tj["model"]["vocab"], merges)

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            best, best_rank = None, None
            for i in range(len(parts) - 1):
                r = self.ranks.get((parts[i], parts[i + 1]))
                if r is not None and (best_rank is None or r < best_rank):
                    best, best_rank = i, r
            if best is None:
                break
            a, b = parts[best], parts[best + 1]
            merged, i = [], 0
            while i < len(parts):
                if i < len(parts) - 1 and parts[i] == a and parts[i + 1] == b:
                    merged.append(a + b)
                    i += 2
                else:
                    merged.append(parts[i])
                    i += 1
            parts = merged
        self.cache[word] = parts
        return parts

    def encode(self, text):
        ids = []
        for piece in PRETOKENIZE.findall(text):
            word = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.vocab[t] for t in self._bpe(word))
        return ids
