#!/usr/bin/env python3
"""A Gumbel, categorical and binary Concrete sampler whose uniforms have a chosen number of random bits: the test
sampler of the audit's tail checks (noise.extremes, categorical.rare, categorical.bands).

Usage:
    bits_adapter.py [--bits B]     speak protocol v1 on stdin/stdout (B in 1..53, default 53)

Needs numpy; written on the adapter SDK (gumbel_audit.adapter.serve), imported from
<repo>/python when the package is not installed.

The uniform is u = max(j 2^-B, 2^-126), j uniform in 0 .. 2^B - 1: the grid a sampler gets when
it fills a float's fraction with B random bits and subtracts 1 (JAX's float32 mode="low" has
B = 23), with a uniform 0 replaced by float32's smallest normal (JAX passes
minval = finfo(float32).tiny). The noise g = -log(-log u) is computed in float64, so the only
departure from the exact law is the grid:

    largest noise    -log(-log(1 - 2^-B))   (15.942385 at B = 23: P(G > 15.942385) = 2^-23)
    smallest noise   -log(-log 2^-126) = -4.4697, with probability 2^-B
                     (else at least -log(B log 2))
    rare category    of probability p drawn at p c/(e^c - 1), c = 2^-B (1 - p)/p
    Logistic noise   log(u) - log1p(-u) at most ln(2^B - 1) (15.942385 at B = 23), used by
                     binary_sample: x = sigmoid((logit + L)/tau)

At B = 53 the grid's effects are below 2^-53 (the atom at -4.4697 has mass 1.1e-16): the
sampler is exact for any audit. Categories are drawn by Gumbel-max, argmax(logits + g).
"""
import os
import sys

import numpy as np

try:
    from gumbel_audit.adapter import serve
except ImportError:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
    from gumbel_audit.adapter import serve

# Noise values per intermediate array: memory bounded whatever n.
CHUNK_ELEMENTS = 1 << 20
# float32's smallest normal, in place of a uniform 0.
TINY32 = 2.0**-126


class BitsTarget:
    """Gumbel noise and Gumbel-max categorical draws from uniforms with `bits` random bits."""

    dtype = "float64"

    def __init__(self, bits=53):
        if not isinstance(bits, int) or not 1 <= bits <= 53:
            raise ValueError("bits must be an integer in 1..53, got %r" % (bits,))
        self.bits = bits
        self.name = "bits adapter (uniforms with %d bits)" % bits

    def noise(self, rng, size):
        j = rng.integers(0, 2**self.bits, size=size, dtype=np.uint64)
        u = np.maximum(j.astype(np.float64) * 2.0**-self.bits, TINY32)
        return -np.log(-np.log(u))

    def gumbel(self, n, seed):
        rng = np.random.Generator(np.random.PCG64(seed))
        out = np.empty(n, dtype=np.float64)
        for a in range(0, n, CHUNK_ELEMENTS):
            b = min(n, a + CHUNK_ELEMENTS)
            out[a:b] = self.noise(rng, b - a)
        return out

    def categorical(self, logits, n, seed):
        logits = np.asarray(logits, dtype=np.float64)
        if logits.ndim != 1 or logits.size == 0:
            raise ValueError("logits must be a non-empty vector")
        if np.isnan(logits).any() or (logits == np.inf).any():
            raise ValueError("logits must not be NaN or +inf")
        if (logits == -np.inf).all():
            raise ValueError("every category is masked")
        rng = np.random.Generator(np.random.PCG64(seed))
        k = logits.size
        rows = max(1, CHUNK_ELEMENTS // k)
        out = np.empty(n, dtype=np.int64)
        for a in range(0, n, rows):
            b = min(n, a + rows)
            out[a:b] = np.argmax(logits + self.noise(rng, (b - a, k)), axis=1)
        return out

    def binary_sample(self, logit, tau, n, seed):
        if not (np.isfinite(logit) and np.isfinite(tau) and tau > 0):
            raise ValueError("logit must be finite and tau finite and positive")
        rng = np.random.Generator(np.random.PCG64(seed))
        out = np.empty(n, dtype=np.float64)
        for a in range(0, n, CHUNK_ELEMENTS):
            b = min(n, a + CHUNK_ELEMENTS)
            j = rng.integers(0, 2**self.bits, size=b - a, dtype=np.uint64)
            u = np.maximum(j.astype(np.float64) * 2.0**-self.bits, TINY32)
            z = (logit + np.log(u) - np.log1p(-u)) / tau
            e = np.exp(-np.abs(z))
            out[a:b] = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return out


def main(argv):
    bits = 53
    if "--bits" in argv:
        i = argv.index("--bits")
        try:
            bits = int(argv[i + 1])
        except (IndexError, ValueError):
            sys.stderr.write("--bits needs an integer in 1..53\n")
            return 2
    try:
        target = BitsTarget(bits)
    except ValueError as e:
        sys.stderr.write("%s\n" % e)
        return 2
    return serve(target)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
