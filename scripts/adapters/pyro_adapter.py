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
Noise comes from torch's global generator, seeded with pyro.set_rng_seed(seed) per request.
Parameters are forwarded unchanged.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

import numpy as np  # noqa: E402
import pyro  # noqa: E402
import torch  # noqa: E402
from pyro.distributions import RelaxedOneHotCategoricalStraightThrough as D  # noqa: E402

DTYPE = torch.float32


def t(x):
    return torch.tensor(x, dtype=DTYPE)


def seed(req):
    # pyro.set_rng_seed also seeds Python's and NumPy's generators; NumPy takes < 2^32 seeds,
    # so torch, the only generator used here, is seeded directly with the full 64-bit seed.
    torch.manual_seed(req["seed"])


def op_relaxed_sample(req):
    if not req.get("hard", False):
        raise P.Unsupported("RelaxedOneHotCategoricalStraightThrough samples are quantized")
    seed(req)
    d = D(t(P.as_float(req["tau"])), logits=t(P.floats(req["logits"])))
    with torch.no_grad():
        return d.rsample((int(req["n"]),)).numpy()


def op_relaxed_log_prob(req):
    d = D(t(P.as_float(req["tau"])), logits=t(P.floats(req["logits"])))
    y = torch.from_numpy(np.load(req["y"], allow_pickle=False)).to(DTYPE)
    return d.log_prob(y).detach().numpy()


def op_grad(req):
    if req.get("estimator") != "straight_through":
        raise P.Unsupported(req.get("estimator"))
    n = int(req["n"])
    seed(req)
    l = t(P.floats(req["logits"]))
    L = l.expand(n, l.shape[0]).clone().requires_grad_(True)
    f, _ = P.objective(req.get("objective"), torch)
    f(D(t(P.as_float(req["tau"])), logits=L).rsample()).sum().backward()
    return L.grad.numpy()


def main(argv):
    global DTYPE
    if "--dtype" in argv:
        DTYPE = {"float32": torch.float32, "float64": torch.float64}[argv[argv.index("--dtype") + 1]]
    torch.set_num_threads(1)
    dname = "float64" if DTYPE == torch.float64 else "float32"
    hello = {
        "name": "pyro %s RelaxedOneHotCategoricalStraightThrough (torch %s, %s, CPU)"
        % (pyro.__version__, torch.__version__, dname),
        "dtype": dname,
        "ops": ["relaxed_sample", "relaxed_log_prob", "grad"],
        "estimators": ["straight_through"],
    }
    handlers = {"relaxed_sample": op_relaxed_sample, "relaxed_log_prob": op_relaxed_log_prob, "grad": op_grad}
    return P.serve(hello, handlers, "pyro_adapter")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
