"""Export Fashion-MNIST test images from the Debian package (dataset-fashion-mnist) in the studio's
image-set format (see vit_common.write_bin: uint8 pixels then uint8 labels, plus a JSON manifest).

  /usr/bin/python3 tools/vit/export_fashion_mnist.py            # full test split (10,000 images)
      -> tools/.cache/fashion-mnist/fashion-mnist-test-10000.bin (+ .json)   [git-ignored; CLI, bench]
  /usr/bin/python3 tools/vit/export_fashion_mnist.py --count 500 --out public/data/fashion-mnist-test-500.bin
      -> the shipped browser subset: the first 500 images of the test split, in file order.
  /usr/bin/python3 tools/vit/export_fashion_mnist.py --split train --count 1024
      -> tools/.cache/fashion-mnist/fashion-mnist-train-1024.bin (+ .json): training images for the
         bench's calibration (never the evaluation images).
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vit_common import DATASET_DIR, ROOT, load_split, write_bin  # noqa: E402

SOURCE = ("Fashion-MNIST test split (t10k-images-idx3-ubyte.gz / t10k-labels-idx1-ubyte.gz, Debian package "
          "dataset-fashion-mnist, " + DATASET_DIR + "); Zalando Research, MIT licence")


def export(count, out, extra=None, split="t10k"):
    images, labels = load_split(split)
    count = count or len(images)
    name = "test" if split == "t10k" else "training"
    source = SOURCE if split == "t10k" else SOURCE.replace("test split (t10k-", "training split (train-").replace(" / t10k-", " / train-")
    base = {"source": source, "subset": f"the first {count} images of the {name} split, in file order",
            "licence": "MIT (Fashion-MNIST, Copyright (c) 2017 Zalando SE)"}
    base.update(extra or {})
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    return write_bin(out, images[:count], labels[:count], base)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=0, help="first N test images (0 = all 10,000)")
    ap.add_argument("--out", default="")
    ap.add_argument("--split", choices=["test", "train"], default="test")
    args = ap.parse_args()
    n = args.count or (10000 if args.split == "test" else 60000)
    out = args.out or os.path.join(ROOT, "tools", ".cache", "fashion-mnist", f"fashion-mnist-{args.split}-{n}.bin")
    m = export(args.count, out, split="t10k" if args.split == "test" else "train")
    print(f"wrote {out}: {m['count']} images, label counts {m['label_counts']}")


if __name__ == "__main__":
    main()
