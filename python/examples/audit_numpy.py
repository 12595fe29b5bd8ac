"""Audits a NumPy Gumbel-Softmax in this process and prints the CLI's table.

    python python/examples/audit_numpy.py [quick|standard|thorough]

The target is a small class with the protocol's ops as methods; every op it lacks is skipped.
"""
import sys

import numpy as np

import gumbel_audit


class NumpyGumbelSoftmax:
    """Gumbel-Max and Gumbel-Softmax in float64 NumPy, with open-interval uniforms."""

    dtype = "float64"
    name = "example NumPy Gumbel-Softmax (numpy %s)" % np.__version__

    @staticmethod
    def _noise(seed, shape):
        j = np.random.default_rng(seed).integers(0, 2**52, size=shape, dtype=np.uint64)
        u = (j.astype(np.float64) + 0.5) * 2.0**-52  # in (0, 1): never 0 or 1
        return -np.log(-np.log(u))

    @staticmethod
    def _check(logits, tau=1.0):
        if logits.size == 0 or np.isnan(logits).any() or (logits == np.inf).any() or (logits == -np.inf).all():
            raise ValueError("logits must be a non-empty vector without NaN or +inf, not all -inf")
        if not (np.isfinite(tau) and tau > 0):
            raise ValueError("tau must be positive and finite")

    def gumbel(self, n, seed):
        return self._noise(seed, n)

    def categorical(self, logits, n, seed):
        self._check(logits)
        return np.argmax(logits + self._noise(seed, (n, logits.size)), axis=1)

    def relaxed_sample(self, logits, tau, n, seed, hard=False):
        self._check(logits, tau)
        z = (logits + self._noise(seed, (n, logits.size))) / tau
        z -= z.max(axis=1, keepdims=True)
        y = np.exp(z)
        y /= y.sum(axis=1, keepdims=True)
        return np.eye(logits.size)[y.argmax(axis=1)] if hard else y


if __name__ == "__main__":
    level = sys.argv[1] if len(sys.argv) > 1 else "quick"
    report = gumbel_audit.audit(NumpyGumbelSoftmax(), level=level, seed=0)
    print(report)
    sys.exit(report.exit_code)
