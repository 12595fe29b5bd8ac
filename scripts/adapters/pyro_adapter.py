#!/usr/bin/env python3
"""Adapter (protocol v1) for Pyro's RelaxedOneHotCategoricalStraightThrough.

Usage: pyro_adapter.py [--dtype float32|float64]     (default float32)

    relaxed_sample hard=true   D(tau, logits=l).rsample((n,)): the forward value is the one-hot
                               of the relaxed sample's argmax. hard=false is "unsupported": the
                               distribution returns only quantized samples.
    relaxed_log_prob           D(tau, logits=l).log_prob(y) (y a plain tensor: torch's
                               RelaxedOneHotCategorical density)
    grad straight_through      autograd of f(D(tau, logits=L).rsample()) over an [n, k] batch L
                               (forward f(onehot), backward through the soft sample)

D = pyro.distributions.RelaxedOneHotCategoricalStraightThrough, built with Pyro's defaults.
Noise comes from torch's global generator, seeded per request with torch.manual_seed(seed), the
full 64-bit seed (pyro.set_rng_seed would also seed NumPy, which takes only seeds < 2^32; torch
is the only generator used here). Parameters are forwarded unchanged.
"""
import sys

from _framework import Unsupported, objective, option, serve

import pyro
import torch
from pyro.distributions import RelaxedOneHotCategoricalStraightThrough as D

DTYPE = option(sys.argv, "--dtype", ("float32", "float64"), "float32")
TORCH_DTYPE = getattr(torch, DTYPE)


def t(x):
    return torch.tensor(x, dtype=TORCH_DTYPE)


class PyroStraightThrough:
    dtype = DTYPE
    name = "pyro %s RelaxedOneHotCategoricalStraightThrough (torch %s, %s, CPU)" % (
        pyro.__version__, torch.__version__, DTYPE)
    estimators = ["straight_through"]

    def relaxed_sample(self, logits, tau, n, seed, hard=False):
        if not hard:
            raise Unsupported("RelaxedOneHotCategoricalStraightThrough samples are quantized")
        torch.manual_seed(seed)
        with torch.no_grad():
            return D(t(tau), logits=t(logits)).rsample((n,)).numpy()

    def relaxed_log_prob(self, logits, tau, y):
        return D(t(tau), logits=t(logits)).log_prob(t(y)).detach().numpy()

    def grad(self, estimator, obj, logits, tau, n, seed, m=None):
        if estimator != "straight_through":
            raise Unsupported(estimator)
        torch.manual_seed(seed)
        L = t(logits).expand(n, len(logits)).clone().requires_grad_(True)
        objective(obj, torch)(D(t(tau), logits=L).rsample()).sum().backward()
        return L.grad.numpy()


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(serve(PyroStraightThrough()))
