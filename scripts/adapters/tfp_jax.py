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

from _framework import Unsupported, objective, option, seed_words, serve

DTYPE = option(sys.argv, "--dtype", ("float32", "float64"), "float32")
if DTYPE == "float64":
    os.environ["JAX_ENABLE_X64"] = "1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
VALIDATE = "--validate-args" in sys.argv

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow_probability  # noqa: E402
from tensorflow_probability.substrates import jax as tfp  # noqa: E402

tfd = tfp.distributions


def arr(x):
    return jnp.asarray(x, dtype=DTYPE)


def key(seed):
    return jnp.array(seed_words(seed), dtype=jnp.uint32)


class TfpJax:
    dtype = DTYPE
    name = "tfp %s substrates.jax (jax %s, %s, validate_args=%s, CPU)" % (
        tensorflow_probability.__version__, jax.__version__, DTYPE, VALIDATE)
    estimators = ["gumbel_softmax"]

    def relaxed(self, logits, tau):
        return tfd.RelaxedOneHotCategorical(arr(tau), logits=arr(logits), validate_args=VALIDATE)

    def bernoulli(self, logit, tau):
        return tfd.RelaxedBernoulli(arr(tau), logits=arr(logit), validate_args=VALIDATE)

    def gumbel(self, n, seed):
        return np.asarray(tfd.Gumbel(arr(0.0), arr(1.0), validate_args=VALIDATE).sample(n, seed=key(seed)))

    def relaxed_sample(self, logits, tau, n, seed, hard=False):
        if hard:
            raise Unsupported("RelaxedOneHotCategorical has no hard mode")
        return np.asarray(self.relaxed(logits, tau).sample(n, seed=key(seed)))

    def relaxed_log_prob(self, logits, tau, y):
        return np.asarray(self.relaxed(logits, tau).log_prob(arr(y)))

    def binary_sample(self, logit, tau, n, seed):
        return np.asarray(self.bernoulli(logit, tau).sample(n, seed=key(seed)))

    def binary_log_prob(self, logit, tau, y):
        return np.asarray(self.bernoulli(logit, tau).log_prob(arr(y)))

    def grad(self, estimator, obj, logits, tau, n, seed, m=None):
        if estimator != "gumbel_softmax":
            raise Unsupported(estimator)
        f, k = objective(obj, jnp), key(seed)

        def total(L):
            return jnp.sum(f(self.relaxed(L, tau).sample(seed=k)))

        return np.asarray(jax.grad(total)(jnp.broadcast_to(arr(logits), (n, len(logits)))))


if __name__ == "__main__":
    sys.exit(serve(TfpJax()))
