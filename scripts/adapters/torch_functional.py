#!/usr/bin/env python3
"""Adapter (protocol v1) for torch.nn.functional.gumbel_softmax.

Usage: torch_functional.py [--dtype float32|float64]     (default float32, PyTorch's default)

Offers exactly what the function offers:

    relaxed_sample  hard=false  F.gumbel_softmax(l, tau=tau, hard=False)   softmax((l + g)/tau)
                    hard=true   F.gumbel_softmax(l, tau=tau, hard=True)    forward one-hot of argmax
    grad  gumbel_softmax    autograd of f(F.gumbel_softmax(L, tau, hard=False))
          straight_through  autograd of f(F.gumbel_softmax(L, tau, hard=True))
                            (forward f(onehot), backward through the soft sample)
          reinforce         z = argmax of F.gumbel_softmax(L, hard=True) (a Gumbel-max draw),
                            autograd of f(z) * log_softmax(L)[z]  =  f(z) (onehot z - pi)

For grad, the logits are repeated into an [n, k] leaf tensor L: each row is an independent
sample and L.grad holds the n single-sample estimates. The noise is PyTorch's own (the global
generator, seeded with torch.manual_seed(seed) per request). Parameters (tau <= 0, NaN logits,
empty logits) are forwarded unchanged: whatever PyTorch raises is ok:false, whatever it returns
is written as it is, in the dtype it computed.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

DTYPE = torch.float32


def logits_rows(req, n, grad=False):
    l = torch.tensor(P.floats(req["logits"]), dtype=DTYPE)
    rows = l.expand(n, l.shape[0]).clone()
    return rows.requires_grad_(grad)


def op_relaxed_sample(req):
    torch.manual_seed(req["seed"])
    L = logits_rows(req, int(req["n"]))
    hard = req.get("hard", False)
    with torch.no_grad():
        y = F.gumbel_softmax(L, tau=P.as_float(req["tau"]), hard=bool(hard), dim=-1)
    return y.numpy()


def op_grad(req):
    est = req.get("estimator")
    n = int(req["n"])
    torch.manual_seed(req["seed"])
    L = logits_rows(req, n, grad=True)
    f, _ = P.objective(req.get("objective"), torch)
    if est == "gumbel_softmax":
        loss = f(F.gumbel_softmax(L, tau=P.as_float(req["tau"]), hard=False, dim=-1)).sum()
    elif est == "straight_through":
        loss = f(F.gumbel_softmax(L, tau=P.as_float(req["tau"]), hard=True, dim=-1)).sum()
    elif est == "reinforce":
        with torch.no_grad():
            z = F.gumbel_softmax(L, tau=1.0, hard=True, dim=-1)
        log_pz = (F.log_softmax(L, dim=-1) * z).sum(-1)
        loss = (f(z) * log_pz).sum()
    else:
        raise P.Unsupported(est)
    loss.backward()
    return L.grad.numpy()


def main(argv):
    global DTYPE
    if "--dtype" in argv:
        DTYPE = {"float32": torch.float32, "float64": torch.float64}[argv[argv.index("--dtype") + 1]]
    torch.set_num_threads(1)
    dname = "float64" if DTYPE == torch.float64 else "float32"
    hello = {
        "name": "torch %s nn.functional.gumbel_softmax (%s, CPU)" % (torch.__version__, dname),
        "dtype": dname,
        "ops": ["relaxed_sample", "grad"],
        "estimators": ["reinforce", "gumbel_softmax", "straight_through"],
    }
    return P.serve(hello, {"relaxed_sample": op_relaxed_sample, "grad": op_grad}, "torch_functional")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
