#!/usr/bin/env python3
"""Runs the official ONNX checks on one or more .onnx files and prints one JSON line per file:

    {"file": ..., "ok": true|false, "error": null|"...", "onnx": "<version>", "sha256": "<hex of the bytes>"}

Checks: onnx.checker.check_model(model, full_check=True) and
onnx.shape_inference.infer_shapes(model, strict_mode=True).

Usage:  /usr/bin/python3 tools/check_onnx.py file.onnx [more.onnx ...]
Needs Debian's python3-onnx (apt-get install python3-onnx). Exit status 1 if any file fails.
"""
import hashlib
import json
import sys


def check(path):
    import onnx

    with open(path, "rb") as f:
        data = f.read()
    result = {"file": path, "ok": False, "error": None, "onnx": onnx.__version__, "sha256": hashlib.sha256(data).hexdigest()}
    try:
        model = onnx.load_from_string(data)
        onnx.checker.check_model(model, full_check=True)
        onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
        result["ok"] = True
    except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
        result["error"] = f"{type(e).__name__}: {e}"
    return result


def main(argv):
    if len(argv) < 2:
        print(json.dumps({"ok": False, "error": "usage: check_onnx.py file.onnx [...]"}))
        return 2
    try:
        import onnx  # noqa: F401
    except ImportError:
        print(json.dumps({"ok": False, "error": "python module onnx not found: apt-get install python3-onnx"}))
        return 2
    ok = True
    for path in argv[1:]:
        r = check(path)
        ok = ok and r["ok"]
        print(json.dumps(r), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
