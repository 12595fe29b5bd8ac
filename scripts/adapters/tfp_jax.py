#!/usr/bin/env python3
"""Adapter (protocol v1) for TensorFlow Probability on the JAX substrate
(tensorflow_probability.substrates.jax): Gumbel, RelaxedOneHotCategorical, RelaxedBernoulli.

Usage: tfp_jax.py [--validate-args] [--dtype float32|float64]   (defaults: TFP's validate_args=False,
                                                                 float32)

    gumbel            tfd.Gumbel(0, 1).sample(n, seed=key)
    relaxed_sample    tfd.RelaxedOneHotCategorical(tau, logits=l).sample(n, seed=key)   soft only
                      (no hard mode: hard=true is answered "unsupported")
    relaxed_log_prob  tfd.RelaxedOneHotCategorical(tau, logits=l).log_prob(y)
    binary_sample     tfd.RelaxedBernoulli(tau, logits=l).sample(n, seed=key)
    binary_log_prob   tfd.RelaxedBernoulli(tau, logits=l).log_prob(y)
    grad gumbel_softmax  jax.grad of sum_r f(RelaxedOneHotCategorical(tau, logits=L).sample(seed=key))
                         over an [n, k] batch of logits L (the distribution is fully reparameterized)

TFP's default is validate_args=False ("invalid inputs may silently render incorrect outputs");
the audit runs with that default, as users get it, and once with --validate-args. The 64-bit
seed becomes the raw threefry key (seed >> 32, seed & 0xffffffff).
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
import tensorflow_probability  # noqa: E402
from tensorflow_probability.substrates import jax as tfp  # noqa: E402

tfd = tfp.distributions


def key(req):
    hi, lo = P.seed_words(req["seed"])
    return jnp.array([hi, lo], dtype=jnp.uint32)


def arr(x):
    return jnp.asarray(x, dtype=DTYPE)


def load_y(req):
    return arr(np.load(req["y"], allow_pickle=False))


def relaxed(req, logits=None):
    l = arr(P.floats(req["logits"])) if logits is None else logits
    return tfd.RelaxedOneHotCategorical(arr(P.as_float(req["tau"])), logits=l, validate_args=VALIDATE)


def bernoulli(req):
    return tfd.RelaxedBernoulli(arr(P.as_float(req["tau"])), logits=arr(P.as_float(req["logit"])),
                                validate_args=VALIDATE)


def op_gumbel(req):
    return np.asarray(tfd.Gumbel(arr(0.0), arr(1.0), validate_args=VALIDATE).sample(int(req["n"]), seed=key(req)))


def op_relaxed_sample(req):
    if req.get("hard", False):
        raise P.Unsupported("RelaxedOneHotCategorical has no hard mode")
    return np.asarray(relaxed(req).sample(int(req["n"]), seed=key(req)))


def op_relaxed_log_prob(req):
    return np.asarray(relaxed(req).log_prob(load_y(req)))


def op_binary_sample(req):
    return np.asarray(bernoulli(req).sample(int(req["n"]), seed=key(req)))


def op_binary_log_prob(req):
    return np.asarray(bernoulli(req).log_prob(load_y(req)))


def op_grad(req):
    if req.get("estimator") != "gumbel_softmax":
        raise P.Unsupported(req.get("estimator"))
    n = int(req["n"])
    l = arr(P.floats(req["logits"]))
    f, _ = P.objective(req.get("objective"), jnp)
    k = key(req)

    def total(L):
        return jnp.sum(f(relaxed(req, logits=L).sample(seed=k)))

    return np.asarray(jax.grad(total)(jnp.broadcast_to(l, (n, l.shape[0]))))


def main(argv):
    hello = {
        "name": "tfp %s substrates.jax (jax %s, %s, validate_args=%s, CPU)"
        % (tensorflow_probability.__version__, jax.__version__, DTYPE, VALIDATE),
        "dtype": DTYPE,
        "ops": ["gumbel", "relaxed_sample", "relaxed_log_prob", "binary_sample", "binary_log_prob", "grad"],
        "estimators": ["gumbel_softmax"],
    }
    handlers = {
        "gumbel": op_gumbel,
        "relaxed_sample": op_relaxed_sample,
        "relaxed_log_prob": op_relaxed_log_prob,
        "binary_sample": op_binary_sample,
        "binary_log_prob": op_binary_log_prob,
        "grad": op_grad,
    }
    return P.serve(hello, handlers, "tfp_jax")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
