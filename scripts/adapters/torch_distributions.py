#!/usr/bin/env python3
"""Adapter (protocol v1) for torch.distributions: Gumbel, Categorical, RelaxedOneHotCategorical,
RelaxedBernoulli.

Usage: torch_distributions.py [--dtype float32|float64|float16|bfloat16]     (default float32;
bfloat16 results travel as the float32 arrays of the same values, exact)

    gumbel            Gumbel(0, 1).sample((n,))
    categorical       Categorical(logits=l).sample((n,))          (int64; torch.multinomial inside)
    relaxed_sample    RelaxedOneHotCategorical(tau, logits=l).rsample((n,))   soft only: the
                      distribution has no hard mode, so hard=true is answered "unsupported"
    relaxed_log_prob  RelaxedOneHotCategorical(tau, logits=l).log_prob(y)
    binary_sample     RelaxedBernoulli(tau, logits=l).rsample((n,))
    binary_log_prob   RelaxedBernoulli(tau, logits=l).log_prob(y)
    grad  gumbel_softmax  autograd of f(RelaxedOneHotCategorical(tau, logits=L).rsample())
          reinforce       z = Categorical(logits=L).sample(), autograd of f(onehot z) log_prob(z)

Distributions are built with PyTorch's defaults (validate_args on, as users get them): invalid
parameters are forwarded unchanged and PyTorch's ValueError is reported as ok:false. The y
arrays of the log_prob ops are converted to the adapter's dtype, as a user's data would be.
Noise comes from the global generator, seeded with torch.manual_seed(seed) per request.
"""
import sys

from _framework import Unsupported, objective, option, serve

import torch
import torch.nn.functional as F
from torch.distributions import Categorical, Gumbel, RelaxedBernoulli, RelaxedOneHotCategorical

DTYPE = option(sys.argv, "--dtype", ("float32", "float64", "float16", "bfloat16"), "float32")
TORCH_DTYPE = getattr(torch, DTYPE)


def out(x):
    """The tensor as numpy in its own dtype; bfloat16 (no numpy dtype) as float32, exactly."""
    return (x.float() if x.dtype == torch.bfloat16 else x).numpy()


def t(x):
    return torch.tensor(x, dtype=TORCH_DTYPE)


class TorchDistributions:
    dtype = DTYPE
    name = "torch %s distributions (%s, CPU)" % (torch.__version__, DTYPE)
    estimators = ["reinforce", "gumbel_softmax"]

    def gumbel(self, n, seed):
        torch.manual_seed(seed)
        return out(Gumbel(t(0.0), t(1.0)).sample((n,)))

    def categorical(self, logits, n, seed):
        torch.manual_seed(seed)
        return Categorical(logits=t(logits)).sample((n,)).numpy()

    def relaxed_sample(self, logits, tau, n, seed, hard=False):
        if hard:
            raise Unsupported("RelaxedOneHotCategorical has no hard mode")
        torch.manual_seed(seed)
        with torch.no_grad():
            return out(RelaxedOneHotCategorical(t(tau), logits=t(logits)).rsample((n,)))

    def relaxed_log_prob(self, logits, tau, y):
        return out(RelaxedOneHotCategorical(t(tau), logits=t(logits)).log_prob(t(y)))

    def binary_sample(self, logit, tau, n, seed):
        torch.manual_seed(seed)
        with torch.no_grad():
            return out(RelaxedBernoulli(t(tau), logits=t(logit)).rsample((n,)))

    def binary_log_prob(self, logit, tau, y):
        return out(RelaxedBernoulli(t(tau), logits=t(logit)).log_prob(t(y)))

    def grad(self, estimator, obj, logits, tau, n, seed, m=None):
        if estimator not in self.estimators:
            raise Unsupported(estimator)
        torch.manual_seed(seed)
        L = t(logits).expand(n, len(logits)).clone().requires_grad_(True)
        f = objective(obj, torch)
        if estimator == "gumbel_softmax":
            loss = f(RelaxedOneHotCategorical(t(tau), logits=L).rsample()).sum()
        else:
            d = Categorical(logits=L)
            z = d.sample()
            loss = (f(F.one_hot(z, len(logits)).to(TORCH_DTYPE)) * d.log_prob(z)).sum()
        loss.backward()
        return out(L.grad)


if __name__ == "__main__":
    torch.set_num_threads(1)
    sys.exit(serve(TorchDistributions()))
