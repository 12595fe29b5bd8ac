#!/usr/bin/env python3
"""Adapter (protocol v1) for jax.random.gumbel and jax.random.categorical.

Usage: jax_random.py [--mode low|high] [--dtype float32|float64|float16|bfloat16]
       (defaults: low, float32; bfloat16 results travel as float32 arrays of the same values)

--mode is passed as the `mode` argument of both functions ("low": the default, fewer random bits
per float; "high": more bits, so the Gumbel tails reach further; see the jax.random.gumbel
documentation). float64 turns on jax_enable_x64.

    gumbel          jax.random.gumbel(key, (n,), dtype, mode=mode)
    categorical     jax.random.categorical(key, l, shape=(n,), mode=mode)
    relaxed_sample  softmax((l + g) / tau) with g = jax.random.gumbel(key, (n, k), dtype, mode=mode)
                    (jax has no relaxed sampler: this is the usual two-line construction on top of
                    its Gumbel noise); hard=true returns the one-hot of the row argmax.

The 64-bit seed becomes the raw threefry key (seed >> 32, seed & 0xffffffff): distinct seeds,
distinct keys. Parameters are forwarded unchanged (JAX does not validate: tau <= 0 or a NaN
logit gives whatever the arithmetic gives, and that is what is reported).
"""
import os
import sys

from _framework import option, seed_words, serve

MODE = option(sys.argv, "--mode", ("low", "high"), "low")
DTYPE = option(sys.argv, "--dtype", ("float32", "float64", "float16", "bfloat16"), "float32")
if DTYPE == "float64":
    os.environ["JAX_ENABLE_X64"] = "1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


class JaxRandom:
    dtype = DTYPE
    name = "jax %s random.gumbel/categorical mode=%s (%s, CPU)" % (jax.__version__, MODE, DTYPE)

    def key(self, seed):
        return jnp.array(seed_words(seed), dtype=jnp.uint32)

    def gumbel(self, n, seed):
        return np.asarray(jax.random.gumbel(self.key(seed), (n,), dtype=DTYPE, mode=MODE))

    def categorical(self, logits, n, seed):
        l = jnp.asarray(logits, dtype=DTYPE)
        return np.asarray(jax.random.categorical(self.key(seed), l, shape=(n,), mode=MODE))

    def relaxed_sample(self, logits, tau, n, seed, hard=False):
        l = jnp.asarray(logits, dtype=DTYPE)
        g = jax.random.gumbel(self.key(seed), (n, l.shape[0]), dtype=DTYPE, mode=MODE)
        y = jax.nn.softmax((l + g) / tau, axis=-1)
        if hard:
            y = jax.nn.one_hot(jnp.argmax(y, axis=-1), l.shape[0], dtype=DTYPE)
        return np.asarray(y)


if __name__ == "__main__":
    sys.exit(serve(JaxRandom()))
