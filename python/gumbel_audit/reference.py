"""The reference samplers and densities of gumbel-audit, as float64 NumPy arrays at Rust speed.

Every function runs the op of the crate's `ReferenceTarget` (src/audit/reference.rs), the code
path of `gumbel-audit audit --reference` and of the battery's reference comparisons, so the
arrays are bit for bit the crate's for the same seed (ChaCha8 seeded with `seed`; open-interval
uniforms, log-space softmax after max subtraction):

    gumbel(n, seed)                             g = -ln(-ln u)                       [n]
    categorical(logits, n, seed)                argmax_i (l_i + g_i)   (int64)       [n]
    relaxed_sample(logits, tau, n, seed, hard=False)
                                                softmax((l + g)/tau); hard: one-hot of argmax(l + g)  [n, k]
    relaxed_log_prob(logits, tau, y)            Concrete log density (Maddison et al.) per row of y [m, k]
    binary_sample(logit, tau, n, seed)          sigmoid((l + L)/tau), L ~ Logistic(0, 1)   [n]
    binary_log_prob(logit, tau, y)              its log density at each entry of y [m]
    grad(estimator, objective, logits, tau, n, seed, m=None)
                                                n single-sample gradient estimates   [n, k]
    token_sample(logits, n, seed, temperature=1.0, top_k=None, top_p=None, min_p=None, order=None)
                                                token ids of the exact truncated law (int64; docs/tokens.md) [n]

(formulas: docs/design/math.md §1-§3). Invalid parameters raise ValueError naming the rule
(tau > 0, no NaN or +inf logit, not every logit -inf, y on the open simplex, ...); arguments of
the wrong type or shape raise TypeError / ValueError. The GIL is released while sampling.
"""
import numpy as _np

from . import _require_native


def _count(n, what="n"):
    if isinstance(n, bool) or not isinstance(n, (int, _np.integer)) or n < 0:
        raise ValueError("%s must be a non-negative int, got %r" % (what, n))
    return int(n)


def _seed(seed):
    if isinstance(seed, bool) or not isinstance(seed, (int, _np.integer)) or not 0 <= seed < 2**64:
        raise ValueError("seed must be an int in 0..2**64, got %r" % (seed,))
    return int(seed)


def _scalar(x, what):
    if isinstance(x, bool) or not isinstance(x, (int, float, _np.integer, _np.floating)):
        raise TypeError("%s must be a real number, got %s" % (what, type(x).__name__))
    return float(x)


def _vector(x, what):
    a = _np.asarray(x)
    if a.dtype.kind not in "fiu":
        raise TypeError("%s must be real numbers, got dtype %s" % (what, a.dtype))
    if a.ndim != 1:
        raise ValueError("%s must be one-dimensional, got shape %s" % (what, a.shape))
    return _np.ascontiguousarray(a, dtype=_np.float64)


def gumbel(n, seed):
    return _require_native().ref_gumbel(_count(n), _seed(seed))


def categorical(logits, n, seed):
    return _require_native().ref_categorical(_vector(logits, "logits"), _count(n), _seed(seed))


def relaxed_sample(logits, tau, n, seed, hard=False):
    if not isinstance(hard, bool):
        raise TypeError("hard must be True or False, got %r" % (hard,))
    return _require_native().ref_relaxed_sample(
        _vector(logits, "logits"), _scalar(tau, "tau"), _count(n), _seed(seed), hard)


def relaxed_log_prob(logits, tau, y):
    logits = _vector(logits, "logits")
    y = _np.asarray(y)
    if y.dtype.kind not in "fiu":
        raise TypeError("y must be real numbers, got dtype %s" % y.dtype)
    if y.ndim == 1:
        y = y[None, :]
    if y.ndim != 2 or y.shape[1] != logits.size:
        raise ValueError("y must have shape [m, k] with k = len(logits) = %d, got %s" % (logits.size, y.shape))
    flat = _np.ascontiguousarray(y, dtype=_np.float64).reshape(-1)
    return _require_native().ref_relaxed_log_prob(logits, _scalar(tau, "tau"), flat)


def binary_sample(logit, tau, n, seed):
    return _require_native().ref_binary_sample(_scalar(logit, "logit"), _scalar(tau, "tau"), _count(n), _seed(seed))


def binary_log_prob(logit, tau, y):
    return _require_native().ref_binary_log_prob(
        _scalar(logit, "logit"), _scalar(tau, "tau"), _vector(y, "y"))


def grad(estimator, objective, logits, tau, n, seed, m=None):
    """objective: {"kind": "linear", "c": [...]} or {"kind": "quadratic", "target": [...]}."""
    if not isinstance(objective, dict) or objective.get("kind") not in ("linear", "quadratic"):
        raise ValueError('objective must be {"kind": "linear", "c": ...} or {"kind": "quadratic", "target": ...}')
    key = "c" if objective["kind"] == "linear" else "target"
    if key not in objective:
        raise ValueError("a %s objective needs the vector %r" % (objective["kind"], key))
    if m is not None:
        m = _count(m, "m")
    return _require_native().ref_grad(
        str(estimator), objective["kind"], _vector(objective[key], "objective " + key),
        _vector(logits, "logits"), _scalar(tau, "tau"), _count(n), _seed(seed), m)


def token_sample(logits, n, seed, temperature=1.0, top_k=None, top_p=None, min_p=None, order=None):
    """Gumbel-max over the exact kept set of temperature, top-k, top-p and min-p in the order
    "hf" (default) or "vllm"."""
    if top_k is not None:
        if isinstance(top_k, bool) or not isinstance(top_k, (int, _np.integer)):
            raise ValueError("top_k must be an int or None, got %r" % (top_k,))
        top_k = int(top_k)
    return _require_native().ref_token_sample(
        _vector(logits, "logits"), _count(n), _seed(seed), _scalar(temperature, "temperature"),
        top_k, None if top_p is None else _scalar(top_p, "top_p"),
        None if min_p is None else _scalar(min_p, "min_p"), None if order is None else str(order))
