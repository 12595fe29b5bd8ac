#!/usr/bin/env python3
"""Adapter (protocol v1) for torch.distributions: Gumbel, Categorical, RelaxedOneHotCategorical,
RelaxedBernoulli.

Usage: torch_distributions.py [--dtype float32|float64]     (default float32)

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
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.distributions import (  # noqa: E402
    Categorical,
    Gumbel,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
)

DTYPE = torch.float32


def t(x):
    return torch.tensor(x, dtype=DTYPE)


def op_gumbel(req):
    torch.manual_seed(req["seed"])
    return Gumbel(t(0.0), t(1.0)).sample((int(req["n"]),)).numpy()


def op_categorical(req):
    torch.manual_seed(req["seed"])
    return Categorical(logits=t(P.floats(req["logits"]))).sample((int(req["n"]),)).numpy()


def op_relaxed_sample(req):
    if req.get("hard", False):
        raise P.Unsupported("RelaxedOneHotCategorical has no hard mode")
    torch.manual_seed(req["seed"])
    d = RelaxedOneHotCategorical(t(P.as_float(req["tau"])), logits=t(P.floats(req["logits"])))
    with torch.no_grad():
        return d.rsample((int(req["n"]),)).numpy()


def load_y(req):
    return torch.from_numpy(np.load(req["y"], allow_pickle=False)).to(DTYPE)


def op_relaxed_log_prob(req):
    d = RelaxedOneHotCategorical(t(P.as_float(req["tau"])), logits=t(P.floats(req["logits"])))
    return d.log_prob(load_y(req)).numpy()


def op_binary_sample(req):
    torch.manual_seed(req["seed"])
    d = RelaxedBernoulli(t(P.as_float(req["tau"])), logits=t(P.as_float(req["logit"])))
    with torch.no_grad():
        return d.rsample((int(req["n"]),)).numpy()


def op_binary_log_prob(req):
    d = RelaxedBernoulli(t(P.as_float(req["tau"])), logits=t(P.as_float(req["logit"])))
    return d.log_prob(load_y(req)).numpy()


def op_grad(req):
    est = req.get("estimator")
    n = int(req["n"])
    torch.manual_seed(req["seed"])
    l = t(P.floats(req["logits"]))
    L = l.expand(n, l.shape[0]).clone().requires_grad_(True)
    f, _ = P.objective(req.get("objective"), torch)
    if est == "gumbel_softmax":
        loss = f(RelaxedOneHotCategorical(t(P.as_float(req["tau"])), logits=L).rsample()).sum()
    elif est == "reinforce":
        d = Categorical(logits=L)
        z = d.sample()
        onehot = F.one_hot(z, l.shape[0]).to(DTYPE)
        loss = (f(onehot) * d.log_prob(z)).sum()
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
        "name": "torch %s distributions (%s, CPU)" % (torch.__version__, dname),
        "dtype": dname,
        "ops": ["gumbel", "categorical", "relaxed_sample", "relaxed_log_prob", "binary_sample",
                "binary_log_prob", "grad"],
        "estimators": ["reinforce", "gumbel_softmax"],
    }
    handlers = {
        "gumbel": op_gumbel,
        "categorical": op_categorical,
        "relaxed_sample": op_relaxed_sample,
        "relaxed_log_prob": op_relaxed_log_prob,
        "binary_sample": op_binary_sample,
        "binary_log_prob": op_binary_log_prob,
        "grad": op_grad,
    }
    return P.serve(hello, handlers, "torch_distributions")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
