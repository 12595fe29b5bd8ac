#!/usr/bin/env python3
"""Adapter (protocol v1) for torch.nn.functional.gumbel_softmax.

Usage: torch_functional.py [--dtype float32|float64|float16|bfloat16]     (default float32,
PyTorch's default)

Offers exactly what the function offers:

    relaxed_sample  hard=false  F.gumbel_softmax(l, tau=tau, hard=False)   softmax((l + g)/tau)
                    hard=true   F.gumbel_softmax(l, tau=tau, hard=True)    forward one-hot of argmax
    grad  gumbel_softmax    autograd of f(F.gumbel_softmax(L, tau, hard=False))
          straight_through  autograd of f(F.gumbel_softmax(L, tau, hard=True))
                            (forward f(onehot), backward through the soft sample)
          reinforce         z = argmax of F.gumbel_softmax(L, hard=True) (a Gumbel-max draw),
                            autograd of f(z) * log_softmax(L)[z]  =  f(z) (onehot z - pi)

The logits are repeated into an [n, k] tensor L: each row is an independent sample, and for
grad L is a leaf whose .grad holds the n single-sample estimates. The noise is PyTorch's own (the
global generator, seeded with torch.manual_seed(seed) per request). Parameters (tau <= 0, NaN
logits, empty logits) are forwarded unchanged: whatever PyTorch raises is ok:false, whatever it
returns is written as it is, in the dtype it computed (bfloat16 as the float32 array of the same
values, exact: the protocol's bfloat16 rule).
"""
import sys

from _framework import Unsupported, objective, option, serve

import torch
import torch.nn.functional as F

DTYPE = option(sys.argv, "--dtype", ("float32", "float64", "float16", "bfloat16"), "float32")
TORCH_DTYPE = getattr(torch, DTYPE)


def out(x):
    """The tensor as numpy in its own dtype; bfloat16 (no numpy dtype) as float32, exactly."""
    return (x.float() if x.dtype == torch.bfloat16 else x).numpy()


def rows(logits, n):
    return torch.tensor(logits, dtype=TORCH_DTYPE).expand(n, len(logits)).clone()


class TorchGumbelSoftmax:
    dtype = DTYPE
    name = "torch %s nn.functional.gumbel_softmax (%s, CPU)" % (torch.__version__, DTYPE)
    estimators = ["reinforce", "gumbel_softmax", "straight_through"]

    def relaxed_sample(self, logits, tau, n, seed, hard=False):
        torch.manual_seed(seed)
        with torch.no_grad():
            return out(F.gumbel_softmax(rows(logits, n), tau=tau, hard=hard, dim=-1))

    def grad(self, estimator, obj, logits, tau, n, seed, m=None):
        if estimator not in self.estimators:
            raise Unsupported(estimator)
        torch.manual_seed(seed)
        L = rows(logits, n).requires_grad_(True)
        f = objective(obj, torch)
        if estimator == "reinforce":
            with torch.no_grad():
                z = F.gumbel_softmax(L, tau=1.0, hard=True, dim=-1)
            loss = (f(z) * (F.log_softmax(L, dim=-1) * z).sum(-1)).sum()
        else:
            loss = f(F.gumbel_softmax(L, tau=tau, hard=estimator == "straight_through", dim=-1)).sum()
        loss.backward()
        return out(L.grad)


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(serve(TorchGumbelSoftmax()))
