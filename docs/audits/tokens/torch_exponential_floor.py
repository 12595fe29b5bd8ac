#!/usr/bin/env python3
"""Standalone measurement (no gumbel-audit code): the smallest value of PyTorch's CPU
Tensor.exponential_() in float32, bfloat16 and float64, the floor that decides whether an
exponential race argmax(p / q) can ever pick a token far in the tail (vllm-project/vllm#43150
measured float32 CUDA draws with minimum exactly 2^-24).

Usage: torch_exponential_floor.py [N] [SEED]     (default 10^8 draws per dtype, seed 0)

For Exp(1), P(q < x) = 1 - e^-x ~ x: among N draws about N * x lie below x. Printed per dtype:
the smallest draw, the number of draws below 2^-24 (expected N * 2^-24 = 5.96 at 10^8), below
2^-20 (expected 95.4), and the share of exact zeros.
"""
import sys

import torch

n = int(float(sys.argv[1])) if len(sys.argv) > 1 else 10**8
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 0
print("torch", torch.__version__, "N =", n, "seed", seed)
for dtype in (torch.float32, torch.bfloat16, torch.float64):
    g = torch.Generator().manual_seed(seed)
    chunk, smallest, below24, below20, zeros = 10**7, float("inf"), 0, 0, 0
    for _ in range(n // chunk):
        q = torch.empty(chunk, dtype=dtype).exponential_(generator=g).double()
        smallest = min(smallest, q.min().item())
        below24 += int((q < 2.0**-24).sum())
        below20 += int((q < 2.0**-20).sum())
        zeros += int((q == 0).sum())
    print("  %-14s smallest %.6e (2^%.2f), below 2^-24: %d (expected %.2f), below 2^-20: %d "
          "(expected %.1f), zeros: %d" % (str(dtype), smallest,
                                          torch.tensor(smallest).log2().item() if smallest > 0 else float("-inf"),
                                          below24, n * 2.0**-24, below20, n * 2.0**-20, zeros))
