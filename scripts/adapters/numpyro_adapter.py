#!/usr/bin/env python3
"""Adapter (protocol v1) for NumPyro's RelaxedBernoulliLogits.

Usage: numpyro_adapter.py [--validate-args] [--dtype float32|float64]
       (defaults: NumPyro's validate_args=False, float32)

    binary_sample    numpyro.distributions.RelaxedBernoulliLogits(tau, l).sample(key, (n,))
    binary_log_prob  numpyro.distributions.RelaxedBernoulliLogits(tau, l).log_prob(y)

The 64-bit seed becomes the raw threefry key (seed >> 32, seed & 0xffffffff). Parameters are
forwarded unchanged.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

DTYPE = "float32"
if "--dtype" in sys.argv and sys.argv[sys.argv.index("--dtype") + 1] == "float64":
    DTYPE = "float64"
    os.environ["JAX_ENABLE_X64"] = "1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
VALIDATE = "--validate-args" in sys.argv

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import numpyro  # noqa: E402
import numpyro.distributions as dist  # noqa: E402


def key(req):
    hi, lo = P.seed_words(req["seed"])
    return jnp.array([hi, lo], dtype=jnp.uint32)


def arr(x):
    return jnp.asarray(x, dtype=DTYPE)


def bernoulli(req):
    return dist.RelaxedBernoulliLogits(arr(P.as_float(req["tau"])), arr(P.as_float(req["logit"])),
                                       validate_args=VALIDATE)


def op_binary_sample(req):
    return np.asarray(bernoulli(req).sample(key(req), (int(req["n"]),)))


def op_binary_log_prob(req):
    return np.asarray(bernoulli(req).log_prob(arr(np.load(req["y"], allow_pickle=False))))


def main(argv):
    hello = {
        "name": "numpyro %s RelaxedBernoulliLogits (jax %s, %s, validate_args=%s, CPU)"
        % (numpyro.__version__, jax.__version__, DTYPE, VALIDATE),
        "dtype": DTYPE,
        "ops": ["binary_sample", "binary_log_prob"],
        "estimators": [],
    }
    handlers = {"binary_sample": op_binary_sample, "binary_log_prob": op_binary_log_prob}
    return P.serve(hello, handlers, "numpyro_adapter")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
