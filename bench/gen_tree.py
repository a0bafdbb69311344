#!/usr/bin/env python3
"""Writes a deterministic project tree for the push benchmarks: N files totalling about SIZE MB,
source-like text (random identifiers and lines, so neither compresses to nothing), spread over
nested directories. Usage: gen_tree.py DIR [--files 1000] [--mb 50] [--seed 1]"""
import argparse
import os
import random

ap = argparse.ArgumentParser()
ap.add_argument("dir")
ap.add_argument("--files", type=int, default=1000)
ap.add_argument("--mb", type=float, default=50)
ap.add_argument("--seed", type=int, default=1)
a = ap.parse_args()
rng = random.Random(a.seed)
words = ["int", "return", "for", "while", "if", "else", "auto", "const", "std::vector", "size_t",
         "template", "class", "struct", "namespace", "void", "bool", "true", "false", "nullptr"]
# Sizes: log-normal shape, scaled to the total.
raw = [rng.lognormvariate(0, 1.2) for _ in range(a.files)]
scale = a.mb * (1 << 20) / sum(raw)
exts = [".cc", ".h", ".py", ".js", ".md", ".json", ".txt"]
for i, r in enumerate(raw):
    size = max(64, int(r * scale))
    depth = rng.randint(0, 4)
    parts = [f"d{rng.randint(0, 9)}" for _ in range(depth)]
    path = os.path.join(a.dir, *parts, f"f{i:05d}{rng.choice(exts)}")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    out, n = [], 0
    while n < size:
        line = " ".join(rng.choice(words) if rng.random() < 0.5 else f"x{rng.getrandbits(32):08x}"
                        for _ in range(rng.randint(2, 12))) + ";\n"
        out.append(line)
        n += len(line)
    with open(path, "w") as f:
        f.write("".join(out)[:size])
