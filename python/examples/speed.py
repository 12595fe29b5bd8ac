"""Speed of gumbel_audit.reference.relaxed_sample against a plain NumPy Gumbel-Softmax.

    python python/examples/speed.py [n] [k]

One run each (after a warm-up), same n and k, float64 both; prints seconds and the ratio. The
NumPy version draws float64 uniforms with `Generator.random` (which can return 0: a NaN risk the
reference avoids) and computes softmax((l + g)/tau) after max subtraction.
"""
import sys
import time

import numpy as np

from gumbel_audit import reference


def numpy_gumbel_softmax(logits, tau, n, seed):
    u = np.random.default_rng(seed).random((n, logits.size))
    z = (logits - np.log(-np.log(u))) / tau
    z -= z.max(axis=1, keepdims=True)
    y = np.exp(z)
    return y / y.sum(axis=1, keepdims=True)


def timed(f):
    f()  # warm-up
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200_000
    k = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    logits = np.linspace(-2.0, 2.0, k)
    t_ref = timed(lambda: reference.relaxed_sample(logits, 0.5, n, 1))
    t_np = timed(lambda: numpy_gumbel_softmax(logits, 0.5, n, 1))
    print("n = %d, k = %d: gumbel_audit.reference %.4f s, NumPy %.4f s, reference/NumPy = %.2f"
          % (n, k, t_ref, t_np, t_ref / t_np))
