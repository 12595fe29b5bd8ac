#!/usr/bin/env python3
"""Standalone reproducer of finding 15 (no gumbel-audit code): jax.random in float32, mode "low"
against mode "high", at the tails the deep level checks.

Usage: jax_tails.py SEED [N_NOISE] [N_VOCAB]      (defaults: 10^8 noise draws, 2*10^4 vocabulary draws)

1. Gumbel noise: jax.random.gumbel(key, (10^6,), float32, mode=M) in chunks; counts above
   16.1181 and below -2.7799 (the 1 - 1e-7 and 1e-7 quantiles of Gumbel(0, 1): expected n * 1e-7
   each), the smallest and the largest draw.
2. An LLM-like vocabulary (k = 50,000: l_i = -ln i for i <= 20,000, then 30,000 categories of
   probability 1e-7 each, 0.3 % of the mass): jax.random.categorical(key, l, shape=(20,), mode=M)
   in chunks; draws in the 30,000-category tail (expected n * 0.003).
Exact binomial p-values (one-sided, deficit) from scipy if it is installed, else the Poisson
tail computed here.
"""
import math
import os
import sys

os.environ.setdefault("JAX_PLATFORMS", "cpu")
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


def poisson_cdf(k, mu):
    return sum(math.exp(-mu + i * math.log(mu) - math.lgamma(i + 1)) for i in range(k + 1))


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    n_noise = int(float(sys.argv[2])) if len(sys.argv) > 2 else 10**8
    n_vocab = int(float(sys.argv[3])) if len(sys.argv) > 3 else 2 * 10**4
    threshold, q = 16.118095650958320, 1e-7
    lower = -math.log(-math.log(q))  # the 1e-7 quantile, -2.7799
    head = np.arange(1, 20001, dtype=np.float64)
    h = (1.0 / head).sum()
    tail_logit = math.log(1e-7 * h / (1 - 30000 * 1e-7))
    logits = jnp.asarray(np.concatenate([-np.log(head), np.full(30000, tail_logit)]), jnp.float32)
    print("jax %s, seed %d" % (jax.__version__, seed))
    for mode in ("low", "high"):
        key = jax.random.PRNGKey(seed)
        above, below, top, bottom, chunk = 0, 0, -np.inf, np.inf, 10**6
        gumbel = jax.jit(lambda k: jax.random.gumbel(k, (chunk,), jnp.float32, mode=mode))
        for i in range(n_noise // chunk):
            g = np.asarray(gumbel(jax.random.fold_in(key, i)))
            above += int((g > threshold).sum())
            below += int((g < lower).sum())
            top = max(top, float(g.max()))
            bottom = min(bottom, float(g.min()))
        mu = n_noise * q
        print("  mode=%s noise: %d of %d above %.4f (expected %.1f, P(X <= %d) = %.2e), largest %.6f"
              % (mode, above, n_noise, threshold, mu, above, poisson_cdf(above, mu), top))
        print("  mode=%s noise: %d of %d below %.4f (expected %.1f, P(X <= %d) = %.2e), smallest %.6f"
              % (mode, below, n_noise, lower, mu, below, poisson_cdf(below, mu), bottom))
        draw = jax.jit(lambda k: jax.random.categorical(k, logits, shape=(20,), mode=mode))
        key2 = jax.random.fold_in(key, 10**9)
        tail = 0
        for i in range(n_vocab // 20):
            z = np.asarray(draw(jax.random.fold_in(key2, i)))
            tail += int((z >= 20000).sum())
        mu = n_vocab * 0.003
        print("  mode=%s vocabulary: %d of %d draws in the 1e-7 tail (expected %.1f, P(X <= %d) = %.2e)"
              % (mode, tail, n_vocab, mu, tail, poisson_cdf(tail, mu)))


if __name__ == "__main__":
    main()
