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

from _framework import option, seed_words, serve

DTYPE = option(sys.argv, "--dtype", ("float32", "float64"), "float32")
if DTYPE == "float64":
    os.environ["JAX_ENABLE_X64"] = "1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
VALIDATE = "--validate-args" in sys.argv

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import numpyro  # noqa: E402
import numpyro.distributions as dist  # noqa: E402


class NumpyroRelaxedBernoulli:
    dtype = DTYPE
    name = "numpyro %s RelaxedBernoulliLogits (jax %s, %s, validate_args=%s, CPU)" % (
        numpyro.__version__, jax.__version__, DTYPE, VALIDATE)

    def relaxed(self, logit, tau):
        return dist.RelaxedBernoulliLogits(jnp.asarray(tau, dtype=DTYPE), jnp.asarray(logit, dtype=DTYPE),
                                           validate_args=VALIDATE)

    def binary_sample(self, logit, tau, n, seed):
        key = jnp.array(seed_words(seed), dtype=jnp.uint32)
        return np.asarray(self.relaxed(logit, tau).sample(key, (n,)))

    def binary_log_prob(self, logit, tau, y):
        return np.asarray(self.relaxed(logit, tau).log_prob(jnp.asarray(y, dtype=DTYPE)))


if __name__ == "__main__":
    sys.exit(serve(NumpyroRelaxedBernoulli()))
