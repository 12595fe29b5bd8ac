#!/usr/bin/env python3
"""Adapter (protocol v1) for jax.random.gumbel and jax.random.categorical.

Usage: jax_random.py [--mode low|high] [--dtype float32|float64]   (defaults: low, float32)

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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _protocol as P  # noqa: E402

MODE = "low"
DTYPE = "float32"
if "--dtype" in sys.argv and sys.argv[sys.argv.index("--dtype") + 1] == "float64":
    DTYPE = "float64"
    os.environ["JAX_ENABLE_X64"] = "1"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


def key(req):
    hi, lo = P.seed_words(req["seed"])
    return jnp.array([hi, lo], dtype=jnp.uint32)


def op_gumbel(req):
    return np.asarray(jax.random.gumbel(key(req), (int(req["n"]),), dtype=DTYPE, mode=MODE))


def op_categorical(req):
    l = jnp.asarray(P.floats(req["logits"]), dtype=DTYPE)
    return np.asarray(jax.random.categorical(key(req), l, shape=(int(req["n"]),), mode=MODE))


def op_relaxed_sample(req):
    l = jnp.asarray(P.floats(req["logits"]), dtype=DTYPE)
    n, k = int(req["n"]), l.shape[0]
    g = jax.random.gumbel(key(req), (n, k), dtype=DTYPE, mode=MODE)
    y = jax.nn.softmax((l + g) / P.as_float(req["tau"]), axis=-1)
    if req.get("hard", False):
        y = jax.nn.one_hot(jnp.argmax(y, axis=-1), k, dtype=DTYPE)
    return np.asarray(y)


def main(argv):
    global MODE
    if "--mode" in argv:
        MODE = argv[argv.index("--mode") + 1]
        if MODE not in ("low", "high"):
            sys.stderr.write("--mode low|high\n")
            return 2
    hello = {
        "name": "jax %s random.gumbel/categorical mode=%s (%s, CPU)" % (jax.__version__, MODE, DTYPE),
        "dtype": DTYPE,
        "ops": ["gumbel", "categorical", "relaxed_sample"],
        "estimators": [],
    }
    handlers = {"gumbel": op_gumbel, "categorical": op_categorical, "relaxed_sample": op_relaxed_sample}
    return P.serve(hello, handlers, "jax_random")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
