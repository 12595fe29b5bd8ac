"""Standalone reproducer of the JAX float16 findings (docs/audits/README.md, findings 10 and
11), outside the auditor: python docs/audits/half-precision/jax_half.py (seeds 0 and 1)."""
import math, os
os.environ["JAX_PLATFORMS"] = "cpu"
import jax, jax.numpy as jnp, numpy as np
print("jax", jax.__version__)
def S(x): return -math.expm1(-math.exp(-x))
rare = math.log(2e-4 / (1 - 1e-4))
for seed in (0, 1):
    key = jax.random.PRNGKey(seed)
    for mode in ("low", "high"):
        g = np.asarray(jax.random.gumbel(key, (10**6,), dtype=jnp.float16, mode=mode)).astype(np.float64)
        top = g.max()
        print("F10 seed", seed, mode, "max", top, "expected above", 1e6 * S(top), "observed", int((g > top).sum()), "log10 P", 1e6 * math.log1p(-S(top)) / math.log(10), "-inf/nan", int((~np.isfinite(g)).sum()))
        c = np.asarray(jax.random.categorical(key, jnp.array([0., 0., rare], dtype=jnp.float16), shape=(10**6,), mode=mode))
        p2 = math.exp(rare) / (2 + math.exp(rare))
        print("    categorical (0, 0, %.3f) p2 = %.2e: category 2 drawn %d times, expected %.1f" % (rare, p2, int((c == 2).sum()), 1e6 * p2))
        y = np.asarray(jax.nn.softmax((jnp.array([70., 0., -70.], dtype=jnp.float16) + jax.random.gumbel(key, (1000, 3), dtype=jnp.float16, mode=mode)) / 1e-3, axis=-1))
        print("    softmax((l+g)/tau) l=(70,0,-70) tau=1e-3 float16: NaN rows", int(np.isnan(y).any(1).sum()), "of 1000")
