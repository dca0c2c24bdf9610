#!/usr/bin/env python3
"""Compares rope_table_dump (pagellm BuildRopeCosSin) with transformers' rotary embeddings.

Usage (machine with torch + transformers): python3 src/ops/rope_table_check.py build/src/ops/rope_table_dump
Prints, per case, the max |difference| of cos/sin and how many values are bitwise equal; exits 1
if any case differs by more than 4e-6 (a few float32 ulps at |x| <= 1).
"""
import subprocess
import sys

import torch
from transformers import LlamaConfig
from transformers.models.llama.modeling_llama import LlamaRotaryEmbedding

LONG_SHORT = [1.0 + 0.05 * i for i in range(48)]
LONG_LONG = [1.0 + 0.5 * i for i in range(48)]

# name -> (head_dim, partial_rotary_factor, theta, max_position_embeddings, rope_scaling, top-level extras)
CASES = {
    "default": (128, 1.0, 10000.0, 4096, None, {}),
    "partial": (128, 0.5, 10000.0, 4096, None, {}),
    "linear": (128, 1.0, 10000.0, 4096, {"rope_type": "linear", "factor": 4.0}, {}),
    "dynamic": (128, 1.0, 10000.0, 2048, {"rope_type": "dynamic", "factor": 2.0}, {}),
    "llama3": (128, 1.0, 500000.0, 131072, {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                                            "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}, {}),
    "yarn": (128, 1.0, 1000000.0, 131072, {"rope_type": "yarn", "factor": 4.0,
                                           "original_max_position_embeddings": 32768}, {}),
    "longrope_short": (96, 1.0, 10000.0, 131072, {"rope_type": "longrope", "short_factor": LONG_SHORT,
                                                   "long_factor": LONG_LONG}, {"original_max_position_embeddings": 4096}),
    "longrope_long": (96, 1.0, 10000.0, 131072, {"rope_type": "longrope", "short_factor": LONG_SHORT,
                                                  "long_factor": LONG_LONG}, {"original_max_position_embeddings": 4096}),
}


def make_config(head_dim, partial, theta, max_pos, scaling, extras):
    kw = dict(hidden_size=head_dim * 4, num_attention_heads=4, head_dim=head_dim, max_position_embeddings=max_pos,
              partial_rotary_factor=partial, num_hidden_layers=1, intermediate_size=8, vocab_size=8)
    try:  # transformers >= 5: rope_parameters
        rp = {"rope_type": "default", "rope_theta": theta, "partial_rotary_factor": partial}
        rp.update(scaling or {})
        cfg = LlamaConfig(rope_parameters=rp, **kw)
        if getattr(cfg, "rope_parameters", None) is None:
            raise TypeError
    except TypeError:
        cfg = LlamaConfig(rope_theta=theta, rope_scaling=scaling, **kw)
    for k, v in extras.items():
        setattr(cfg, k, v)
    return cfg


def hf_cos_sin(name, positions):
    cfg = make_config(*CASES[name])
    rope = LlamaRotaryEmbedding(cfg)
    pos = torch.tensor([positions], dtype=torch.long)
    x = torch.zeros(1, len(positions), 8, dtype=torch.float32)
    cos, sin = rope(x, pos)
    return cos[0], sin[0]


def main():
    out = subprocess.run([sys.argv[1]], check=True, capture_output=True, text=True).stdout
    rows = {}
    for line in out.splitlines():
        name, p, i, c, s = line.split()
        rows.setdefault(name, []).append((int(p), int(i), float(c), float(s)))
    bad = False
    for name, vals in rows.items():
        positions = sorted({p for p, _, _, _ in vals})
        cos, sin = hf_cos_sin(name, positions)
        worst, equal = 0.0, 0
        for p, i, c, s in vals:
            r = positions.index(p)
            hc, hs = float(cos[r, i]), float(sin[r, i])
            worst = max(worst, abs(hc - c), abs(hs - s))
            equal += (hc == c) + (hs == s)
        ok = worst <= 4e-6
        bad |= not ok
        print(f"{name:16s} max|diff| {worst:.3g}  bitwise-equal {equal}/{2 * len(vals)}  {'OK' if ok else 'MISMATCH'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
