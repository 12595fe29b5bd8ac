#!/usr/bin/env python3
"""A NumPy implementation of every op of gumbel-audit's adapter protocol v1.

Usage:
    numpy_adapter.py [--bug NAME]      speak protocol v1 on stdin/stdout
    numpy_adapter.py --list-bugs       print the plantable bugs, one per line: NAME<TAB>summary

Needs numpy (scripts/adapters/requirements.txt). Started by a python without numpy, it re-runs
itself with .venv-adapters/bin/python when scripts/adapters/setup.sh has made that venv.

It is written on the adapter SDK of the Python package: the implementation is the class
`NumpyTarget(bug=None)` and the protocol is `gumbel_audit.adapter.serve(NumpyTarget(bug))`. The
same object can be audited in process (`gumbel_audit.audit(NumpyTarget())`, python/tests/).
The SDK is pure Python: when the package is not installed it is imported from <repo>/python, so
the adapter works from a source checkout with numpy alone.

It is the reference adapter: `gumbel-audit audit -- python3 scripts/adapters/numpy_adapter.py`
must pass, and each `--bug NAME` plants one realistic mistake that the audit must catch. The
protocol is described in docs/adapter-protocol.md; the bugs are listed there too.

Everything is float64. Noise comes from open-interval uniforms u = (j + 1/2) 2^-52,
j uniform in 0..2^52, so u lies in [2^-53, 1 - 2^-53] and the Gumbel noise -log(-log u) in
[-3.6, 36.7], never infinite. Softmax and log densities are computed in log space after
subtracting the maximum. Invalid input (tau <= 0 or not finite, a NaN or +inf logit, no
categories, every category masked, a malformed objective) is answered with ok:false and a
message; the adapter never crashes on a request.

Formulas (pi = softmax(l), g iid Gumbel(0, 1), y = softmax((l + g) / tau), k' unmasked categories):

    token_sample      s = l / T, then the truncations in the request's order ("hf": top-k, top-p,
                      min-p; "vllm": min-p, top-k, top-p), each on softmax(s) of the survivors
                      in the rank order (probability descending, index ascending):
                      top-k keeps the first K ranks, top-p keeps rank r iff the mass before it
                      is < P, min-p keeps p_i >= M max p; the token is argmax(s + g) over the
                      survivors (docs/tokens.md)

    relaxed_log_prob  log p(y) = log (k'-1)! + (k'-1) log tau + sum_i (log pi_i - (tau+1) log y_i)
                                 - k' logsumexp_i(log pi_i - tau log y_i)        (sums over unmasked i)
    binary_log_prob   log p(x) = log tau + l - (tau+1)(log x + log(1-x))
                                 - 2 logaddexp(l - tau log x, -tau log(1-x))
    Jacobian          d y_i / d l_j = y_i (delta_ij - y_j) / tau,
                      so J^T v = y * (v - <y, v>) / tau
    reinforce         z ~ Cat(pi), row = f(onehot z) (onehot z - pi)
    gumbel_softmax    row = J(y)^T grad f(y)
    straight_through  z = onehot(argmax y), row = J(y)^T grad f(z)
    gumbel_rao        z as above; m draws g'^(s) of the noise conditioned on argmax(l + g') = argmax z
                      (top-down: the maximum is logsumexp(l) - log E_D, the others Gumbel(l_i)
                      truncated below it), row = mean_s J(y'^(s))^T grad f(z),
                      y'^(s) = softmax((l + g'^(s)) / tau) with g' held fixed (Paulus et al. 2021)

Planted bugs (--bug NAME), each a mistake real code has made; the op(s) it affects in brackets:

    uniform_closed        [noise everywhere] uniforms in [0, 1) at half precision (an 11-bit grid,
                          as a float16 `rand` gives): u = 0 comes once in 2048 draws and
                          -log(-log 0) = -inf; the largest noise is -log(-log(1 - 2^-11)) = 7.6.
    clamped_noise         [noise everywhere] u clamped to [1e-3, 1 - 1e-3] "for stability": the
                          noise lives in [-1.93, 6.91], so a category with p = 1e-4 next to a
                          category with logit 9.2 higher can never be drawn.
    exponential_noise     [noise everywhere] g = -log(u), an Exponential(1), instead of
                          -log(-log(u)).
    tau_logits_only       [relaxed_sample, gumbel_softmax, straight_through] softmax(l / tau + g):
                          the temperature divides the logits but not the noise.
    probs_as_logits       [categorical, relaxed_sample, relaxed_log_prob] the probabilities
                          softmax(l) are passed where logits are expected (a masked category gets
                          logit 0 and is drawn).
    expconcrete_density   [relaxed_log_prob] the ExpConcrete log density of log y is returned
                          without the change of variables term -sum_i log y_i.
    missing_log_tau       [relaxed_log_prob] the (k-1) log tau term is left out.
    wrong_factorial       [relaxed_log_prob] log k! instead of log (k-1)!.
    hard_threshold        [relaxed_sample hard] the hard sample is y >= 0.5 (right for k = 2 only):
                          rows with no entry above 1/2 are all zero, not one-hot of the argmax.
    reinforce_sign        [grad reinforce] the score-function estimate with the wrong sign (a
                          loss-versus-reward mix-up).
    reinforce_missing_pi  [grad reinforce] d log pi_z / d l taken as onehot(z), forgetting -pi.
    gs_missing_inv_tau    [grad gumbel_softmax] the softmax Jacobian without its 1/tau factor.
    st_backward_hard      [grad straight_through] the backward pass goes through the hard one-hot
                          sample, whose softmax Jacobian is zero: every row is 0.
    seed_ignored          [every sampling op] the generator is seeded with 0 whatever the request's
                          seed: every seed gives the same output.
    binary_gumbel_noise   [binary_sample] one Gumbel draw where the Logistic noise g1 - g2 belongs.
    off_by_one            [categorical] 1-based category indices: values in 1..k instead of 0..k-1.
    naive_softmax         [relaxed_sample, binary_sample] softmax computed as exp(z)/sum(exp(z))
                          and the sigmoid as exp(x)/(1 + exp(x)), without subtracting the maximum:
                          exp overflows to inf (inf/inf = NaN) once z > 709.8, e.g. at tau = 1e-3
                          or logits of order 1e4, and underflows to 0 (0/0 = NaN) once every z is
                          below -745; right at tau and logits of order 1.
    top_p_drop_crossing   [token_sample] the nucleus keeps a token only while the cumulative sum
                          including it is <= top_p, dropping the token that crosses top_p
                          (Biohub/esm#360, ggml-org/llama.cpp#1953).
    top_p_extra_at_equality  [token_sample] a token is kept while the mass before it is <= top_p,
                          so an extra token is kept when the cumulative sum equals top_p exactly
                          (huggingface/transformers#18976).
    top_k_after_top_p     [token_sample] top-k applied after top-p instead of before
                          (ml-explore/mlx-lm#388).
    temperature_after_truncation  [token_sample] top-k, top-p and min-p computed on the
                          temperature-1 probabilities, the temperature applied to the survivors.
    min_p_wrong_ref       [token_sample] min-p as an absolute threshold p_i >= min_p, forgetting
                          the scaling by the largest probability.
    race_float32_floor    [token_sample] the exponential race argmax(p / q) in float32 with
                          q ~ Exp(1) never below 2^-24, the floor vLLM measured for float32
                          exponential draws (vllm-project/vllm#43150): a long tail of tokens far
                          below the head is drawn too rarely or never.
    top_p_bfloat16_cumsum [token_sample] the top-p cumulative sum with every partial sum rounded
                          to bfloat16 (NVIDIA/Megatron-LM#7182): on a long tail it stalls below
                          top_p, so tokens past the nucleus are kept.

References:
    C. J. Maddison, A. Mnih, Y. W. Teh, The Concrete Distribution, ICLR 2017, arXiv:1611.00712.
    E. Jang, S. Gu, B. Poole, Categorical Reparameterization with Gumbel-Softmax, ICLR 2017,
        arXiv:1611.01144.
    M. B. Paulus, C. J. Maddison, A. Krause, Rao-Blackwellizing the Straight-Through
        Gumbel-Softmax Gradient Estimator, ICLR 2021, arXiv:2010.04838.
"""
import math
import os
import struct
import sys

try:
    import numpy as np
except ImportError:
    # `python3 scripts/adapters/numpy_adapter.py` with a python that lacks numpy: hand over to
    # the venv of scripts/adapters/setup.sh if it exists (once: the guard stops a loop).
    _venv = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".venv-adapters", "bin", "python")
    if os.path.exists(_venv) and not os.environ.get("NUMPY_ADAPTER_REEXEC"):
        os.environ["NUMPY_ADAPTER_REEXEC"] = "1"
        os.execv(_venv, [_venv, os.path.abspath(__file__)] + sys.argv[1:])
    sys.stderr.write(
        "numpy_adapter: numpy is not installed for %s; run scripts/adapters/setup.sh and use the "
        "python it prints\n" % sys.executable
    )
    sys.exit(1)

try:
    from gumbel_audit.adapter import Unsupported, serve
except ImportError:
    # A source checkout without the package installed: the SDK is pure Python in <repo>/python.
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python"))
    from gumbel_audit.adapter import Unsupported, serve

ESTIMATORS = ["reinforce", "gumbel_softmax", "straight_through", "gumbel_rao"]

# Rows per chunk are chosen so that no intermediate array holds more than this many floats:
# memory stays bounded by the request's output whatever n is.
CHUNK_ELEMENTS = 1 << 20
# Kept sets larger than this are sampled by inverse CDF in token_sample (as the reference).
INVERSE_CDF_ABOVE = 4096


def _bug_table():
    """(name, summary) of every plantable bug, parsed from the module docstring."""
    lines = __doc__.split("Planted bugs")[1].split("References:")[0].splitlines()
    table = []
    for line in lines:
        if line.startswith("    ") and not line.startswith("     ") and line.strip():
            name, _, rest = line.strip().partition(" ")
            table.append([name, rest.strip()])
        elif table and line.strip():
            table[-1][1] += " " + line.strip()
    return [(n, s) for n, s in table]


BUGS = dict(_bug_table())


class Invalid(ValueError):
    """The request's parameters are invalid: the implementation refuses them."""


# ---------------------------------------------------------------- validation


def as_count(x, what):
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 0:
        raise Invalid("%s must be a non-negative integer, got %r" % (what, x))
    return int(x)


def as_seed(x):
    if isinstance(x, bool) or not isinstance(x, (int, np.integer)) or not 0 <= x < 2**64:
        raise Invalid("seed must be an unsigned 64-bit integer, got %r" % (x,))
    return int(x)


def parse_logits(raw):
    logits = np.asarray(raw, dtype=np.float64)
    if logits.ndim != 1:
        raise Invalid("logits must be one-dimensional, got shape %s" % (logits.shape,))
    if logits.size == 0:
        raise Invalid("no categories: logits is empty")
    for i, v in enumerate(logits):
        if math.isnan(v):
            raise Invalid("logit %d is NaN" % i)
        if v == math.inf:
            raise Invalid("logit %d is +inf" % i)
    if np.all(logits == -np.inf):
        raise Invalid("every category is masked (all logits are -inf)")
    return logits


def parse_tau(raw):
    tau = float(raw)
    if not (math.isfinite(tau) and tau > 0):
        raise Invalid("tau must be positive and finite, got %r" % tau)
    return tau


def parse_logit(raw):
    logit = float(raw)
    if not math.isfinite(logit):
        raise Invalid("logit must be finite, got %r" % logit)
    return logit


def check_y(y, ndim):
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != ndim:
        raise Invalid("y must have %d dimension(s), found shape %s" % (ndim, y.shape))
    return y


def log_softmax(logits):
    m = np.max(logits)
    shifted = logits - m
    return shifted - math.log(np.sum(np.exp(shifted)))


def logsumexp_rows(a):
    m = np.max(a, axis=-1, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    return (m + np.log(np.sum(np.exp(a - m), axis=-1, keepdims=True)))[..., 0]


def softmax_rows(z):
    m = np.max(z, axis=-1, keepdims=True)
    e = np.exp(z - m)
    return e / np.sum(e, axis=-1, keepdims=True)


def open_uniform(rng, size):
    """u = (j + 1/2) 2^-52 in [2^-53, 1 - 2^-53]: never 0 or 1."""
    j = rng.integers(0, 2**52, size=size, dtype=np.uint64)
    return (j.astype(np.float64) + 0.5) * 2.0**-52


def to_bfloat16(x):
    """x rounded to the nearest bfloat16 (via float32, ties to even), as a float."""
    bits = struct.unpack("<I", struct.pack("<f", float(x)))[0]
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return struct.unpack("<f", struct.pack("<I", bits))[0]


def bfloat16_cumsum(p):
    """Cumulative sums of the non-increasing p with every partial sum rounded to bfloat16. Once
    adding p_i leaves the sum unchanged, every later (smaller) term does too: the rest is filled."""
    out = np.empty(p.size)
    c = 0.0
    for i, v in enumerate(p):
        nxt = to_bfloat16(c + v)
        if nxt == c and i > 0:
            out[i:] = c
            return out
        out[i] = c = nxt
    return out


def chunks(n, row_elements):
    rows = max(1, CHUNK_ELEMENTS // max(1, row_elements))
    for start in range(0, n, rows):
        yield start, min(n, start + rows)


def parse_objective(raw, k):
    if not isinstance(raw, dict) or raw.get("kind") not in ("linear", "quadratic"):
        raise Invalid("objective must be {\"kind\": \"linear\" | \"quadratic\", ...}, got %r" % (raw,))
    key = "c" if raw["kind"] == "linear" else "target"
    v = np.asarray(raw.get(key), dtype=np.float64)
    if v.ndim != 1 or v.size != k:
        raise Invalid("objective %s must be a list of k = %d numbers" % (key, k))
    if not np.all(np.isfinite(v)):
        raise Invalid("objective %s must be finite" % key)
    if raw["kind"] == "linear":
        return (lambda z: z @ v), (lambda z: np.broadcast_to(v, z.shape))
    return (lambda z: np.sum((z - v) ** 2, axis=-1)), (lambda z: 2.0 * (z - v))


# ---------------------------------------------------------------- the implementation


class NumpyTarget:
    """Every op of protocol v1 in float64 NumPy, with at most one planted bug (BUGS)."""

    dtype = "float64"
    estimators = ESTIMATORS

    def __init__(self, bug=None):
        if bug is not None and bug not in BUGS:
            raise ValueError("unknown bug %r; the bugs are: %s" % (bug, ", ".join(BUGS)))
        self.bug = bug
        self.name = "numpy %s reference adapter" % np.__version__
        if bug:
            self.name += " (planted bug: %s)" % bug

    def __repr__(self):
        return "NumpyTarget()" if self.bug is None else "NumpyTarget(bug=%r)" % self.bug

    # -- noise

    def generator(self, seed):
        return np.random.Generator(np.random.PCG64(0 if self.bug == "seed_ignored" else seed))

    def gumbel_noise(self, rng, size):
        if self.bug == "uniform_closed":
            u = rng.integers(0, 2**11, size=size).astype(np.float64) * 2.0**-11
        else:
            u = open_uniform(rng, size)
        if self.bug == "clamped_noise":
            u = np.clip(u, 1e-3, 1 - 1e-3)
        with np.errstate(divide="ignore"):
            if self.bug == "exponential_noise":
                return -np.log(u)
            return -np.log(-np.log(u))

    def effective_logits(self, logits):
        """The logits as the (possibly buggy) implementation uses them."""
        if self.bug == "probs_as_logits":
            return np.exp(log_softmax(logits))
        return logits

    def relaxed_rows(self, logits, g, tau):
        """softmax((l + g) / tau) row-wise, in log space after max subtraction."""
        with np.errstate(invalid="ignore"):
            if self.bug == "tau_logits_only":
                z = logits / tau + g
            else:
                z = (logits + g) / tau
            if self.bug == "naive_softmax":
                with np.errstate(over="ignore", divide="ignore"):
                    e = np.exp(z)
                    return e / np.sum(e, axis=-1, keepdims=True)
            return softmax_rows(z)

    def jacobian_t(self, y, v, tau):
        """J(y)^T v row-wise for y = softmax(z / tau): y * (v - <y, v>) / tau."""
        inner = np.sum(y * v, axis=-1, keepdims=True)
        scale = 1.0 if self.bug == "gs_missing_inv_tau" else 1.0 / tau
        return y * (v - inner) * scale

    # -- the protocol's ops

    def gumbel(self, n, seed):
        n, seed = as_count(n, "n"), as_seed(seed)
        rng = self.generator(seed)
        out = np.empty(n, dtype=np.float64)
        for a, b in chunks(n, 1):
            out[a:b] = self.gumbel_noise(rng, b - a)
        return out

    def categorical(self, logits, n, seed):
        logits = parse_logits(logits)
        n, seed = as_count(n, "n"), as_seed(seed)
        lg = self.effective_logits(logits)
        rng = self.generator(seed)
        k = lg.size
        out = np.empty(n, dtype=np.int64)
        for a, b in chunks(n, k):
            out[a:b] = np.argmax(lg + self.gumbel_noise(rng, (b - a, k)), axis=1)
        if self.bug == "off_by_one":
            out += 1
        return out

    def token_sample(self, logits, n, seed, temperature=1.0, top_k=None, top_p=None, min_p=None,
                     order=None):
        logits = parse_logits(logits)
        n, seed = as_count(n, "n"), as_seed(seed)
        t = float(temperature)
        if not (math.isfinite(t) and t > 0):
            raise Invalid("temperature must be positive and finite, got %r" % t)
        if top_k is not None:
            if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
                raise Invalid("top_k must be an integer >= 1 or null, got %r" % (top_k,))
        if top_p is not None and not (0.0 < top_p <= 1.0):
            raise Invalid("top_p must be in (0, 1] or null, got %r" % (top_p,))
        if min_p is not None and not (0.0 <= min_p <= 1.0):
            raise Invalid("min_p must be in [0, 1] or null, got %r" % (min_p,))
        order = "hf" if order is None else order
        if order not in ("hf", "vllm"):
            raise Invalid("order must be \"hf\" or \"vllm\", got %r" % (order,))
        key = (logits.tobytes(), t, top_k, top_p, min_p, order)
        cached = getattr(self, "_token_law", None)
        if cached is not None and cached[0] == key:
            kept, w = cached[1], cached[2]
        else:
            kept, w = self.token_law(logits, t, top_k, top_p, min_p, order)
            # The law of the last row, reused by the next chunk of the same request (a
            # vocabulary-scale case arrives as thousands of chunks of a few dozen draws).
            self._token_law = (key, kept, w)
        rng = self.generator(seed)
        out = np.empty(n, dtype=np.int64)
        return self.draw_tokens(kept, w, n, rng, out)

    def token_law(self, logits, t, top_k, top_p, min_p, order):
        """The kept tokens and their centred scores (as the possibly buggy sampler forms them)."""
        stages = ["top_k", "top_p", "min_p"] if order == "hf" else ["min_p", "top_k", "top_p"]
        if self.bug == "top_k_after_top_p":
            i, j = stages.index("top_k"), stages.index("top_p")
            stages[i], stages[j] = stages[j], stages[i]
        late_t = self.bug == "temperature_after_truncation"
        s = logits / (1.0 if late_t else t)
        for stage in stages:
            s = self.truncate(stage, s, top_k, top_p, min_p)
        if late_t:
            s = np.where(np.isfinite(s), logits / t, -np.inf)
        kept = np.flatnonzero(np.isfinite(s))
        return kept, s[kept] - np.max(s[kept])

    def draw_tokens(self, kept, w, n, rng, out):
        """n draws from the kept tokens with centred scores w."""
        if self.bug == "race_float32_floor":
            p = np.exp(w)
            p32 = (p / p.sum()).astype(np.float32)
            floor = np.float32(2.0 ** -24)
            for a, b in chunks(n, kept.size):  # rows x k <= CHUNK_ELEMENTS
                q = np.maximum(rng.standard_exponential((b - a, kept.size)).astype(np.float32), floor)
                out[a:b] = kept[np.argmax(p32 / q, axis=1)]
            return out
        if kept.size > INVERSE_CDF_ABOVE:
            # Large kept sets (the vocabulary-scale cases): inverse CDF on the float64 cumulative
            # of the kept pmf, as the reference does; Gumbel-max would cost kept.size noise
            # values per draw (about a minute for tokens.vocab at standard). The noise bugs act
            # on the Gumbel-max path below.
            p = np.exp(w)
            cum = np.cumsum(p / p.sum())
            u = rng.random(n) * cum[-1]
            return kept[np.minimum(np.searchsorted(cum, u, side="right"), kept.size - 1)]
        for a, b in chunks(n, kept.size):
            out[a:b] = kept[np.argmax(w + self.gumbel_noise(rng, (b - a, kept.size)), axis=1)]
        return out

    def truncate(self, stage, s, top_k, top_p, min_p):
        """One truncation stage on the scores s (-inf = removed); returns the new scores."""
        rank = np.argsort(-s, kind="stable")  # probability descending, index ascending
        live = rank[np.isfinite(s[rank])]
        if stage == "top_k" and top_k is not None:
            keep = live[:top_k]
        elif stage == "top_p" and top_p is not None and top_p < 1.0:
            p = np.exp(s[live] - s[live[0]])
            p /= p.sum()
            cum = bfloat16_cumsum(p) if self.bug == "top_p_bfloat16_cumsum" else np.cumsum(p)
            before = np.concatenate([[0.0], cum[:-1]])
            if self.bug == "top_p_drop_crossing":
                mask = cum <= top_p
            elif self.bug == "top_p_extra_at_equality":
                mask = before <= top_p
            else:
                mask = before < top_p
            mask[0] = True
            keep = live[mask]
        elif stage == "min_p" and min_p is not None and min_p > 0.0:
            p = np.exp(s[live] - s[live[0]])
            if self.bug == "min_p_wrong_ref":
                mask = p / p.sum() >= min_p
            else:
                mask = p >= min_p  # p / p_max, p_max = 1 after the shift
            mask[0] = True
            keep = live[mask]
        else:
            return s
        out = np.full_like(s, -np.inf)
        out[keep] = s[keep]
        return out

    def relaxed_sample(self, logits, tau, n, seed, hard=False):
        logits = parse_logits(logits)
        tau = parse_tau(tau)
        if not isinstance(hard, bool):
            raise Invalid("hard must be true or false, got %r" % (hard,))
        n, seed = as_count(n, "n"), as_seed(seed)
        lg = self.effective_logits(logits)
        rng = self.generator(seed)
        k = lg.size
        out = np.empty((n, k), dtype=np.float64)
        for a, b in chunks(n, k):
            y = self.relaxed_rows(lg, self.gumbel_noise(rng, (b - a, k)), tau)
            if hard:
                if self.bug == "hard_threshold":
                    y = (y >= 0.5).astype(np.float64)
                else:
                    y = np.eye(k)[np.argmax(y, axis=1)]
            out[a:b] = y
        return out

    def relaxed_log_prob(self, logits, tau, y):
        logits = parse_logits(logits)
        tau = parse_tau(tau)
        y = check_y(y, 2)
        k = logits.size
        if y.shape[1] != k:
            raise Invalid("y has rows of %d entries, logits has %d" % (y.shape[1], k))
        lg = self.effective_logits(logits)
        keep = lg > -np.inf
        kk = int(np.sum(keep))
        log_pi = log_softmax(lg[keep])
        yu = y[:, keep]
        with np.errstate(divide="ignore", invalid="ignore"):
            # Renormalise rows that are on the simplex up to rounding: log y_i - log sum y.
            ly = np.log(yu) - np.log(np.sum(yu, axis=1, keepdims=True))
            a = log_pi - tau * ly
            log_norm = math.lgamma(kk + 1 if self.bug == "wrong_factorial" else kk)
            if self.bug != "missing_log_tau":
                log_norm += (kk - 1) * math.log(tau)
            body = np.sum(a - ly, axis=1) - kk * logsumexp_rows(a)
            if self.bug == "expconcrete_density":
                body = body + np.sum(ly, axis=1)
            out = log_norm + body
        outside = np.any(~(yu > 0), axis=1) | np.any(y[:, ~keep] != 0, axis=1)
        outside &= ~np.any(np.isnan(y), axis=1)
        out[outside] = -np.inf
        return out

    def binary_sample(self, logit, tau, n, seed):
        logit = parse_logit(logit)
        tau = parse_tau(tau)
        n, seed = as_count(n, "n"), as_seed(seed)
        rng = self.generator(seed)
        out = np.empty(n, dtype=np.float64)
        for a, b in chunks(n, 2):
            if self.bug == "binary_gumbel_noise":
                noise = self.gumbel_noise(rng, b - a)
            else:
                u = open_uniform(rng, b - a)
                noise = np.log(u) - np.log1p(-u)
            x = (logit + noise) / tau
            if self.bug == "naive_softmax":
                with np.errstate(over="ignore", invalid="ignore"):
                    e = np.exp(x)
                    out[a:b] = e / (1.0 + e)
                continue
            e = np.exp(-np.abs(x))
            out[a:b] = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
        return out

    def binary_log_prob(self, logit, tau, y):
        logit = parse_logit(logit)
        tau = parse_tau(tau)
        y = check_y(y, 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            ly, l1y = np.log(y), np.log1p(-y)
            out = (
                math.log(tau)
                + logit
                - (tau + 1) * (ly + l1y)
                - 2 * np.logaddexp(logit - tau * ly, -tau * l1y)
            )
        out[(y <= 0) | (y >= 1)] = -np.inf
        return out

    def conditional_noise(self, rng, logits, d, m):
        """m perturbed logit vectors l + g' with g' ~ Gumbel conditioned on argmax(l + g') = d.

        Rows of d are category indices; returns shape [rows, m, k]."""
        k = logits.size
        rows = d.shape[0]
        e = -np.log(open_uniform(rng, (rows, m, k)))  # Exponential(1)
        log_z = float(np.max(logits) + math.log(np.sum(np.exp(logits - np.max(logits)))))
        e_d = np.take_along_axis(e, d[:, None, None].repeat(m, axis=1), axis=2)  # [rows, m, 1]
        with np.errstate(divide="ignore"):
            top = log_z - np.log(e_d)  # the maximum: Gumbel(log Z)
            others = -np.logaddexp(np.log(e) - logits, np.log(e_d) - log_z)
        onehot = np.eye(k, dtype=bool)[d][:, None, :]
        return np.where(onehot, top, others)

    def grad(self, estimator, objective, logits, tau, n, seed, m=None):
        est = estimator
        if est not in ESTIMATORS:
            raise Unsupported(repr(est))
        logits = parse_logits(logits)
        k = logits.size
        f, grad_f = parse_objective(objective, k)
        n, seed = as_count(n, "n"), as_seed(seed)
        tau = None if est == "reinforce" else parse_tau(tau)
        if est == "gumbel_rao":
            if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
                raise Invalid("gumbel_rao needs an integer m >= 1, got %r" % (m,))
        else:
            m = None
        rng = self.generator(seed)
        eye = np.eye(k)
        pi = np.exp(log_softmax(logits))
        out = np.empty((n, k), dtype=np.float64)
        for a, b in chunks(n, k * (m or 1)):
            g = self.gumbel_noise(rng, (b - a, k))
            if est == "reinforce":
                z = eye[np.argmax(logits + g, axis=1)]
                score = z if self.bug == "reinforce_missing_pi" else z - pi
                row = f(z)[:, None] * score
                out[a:b] = -row if self.bug == "reinforce_sign" else row
            elif est == "gumbel_softmax":
                y = self.relaxed_rows(logits, g, tau)
                out[a:b] = self.jacobian_t(y, grad_f(y), tau)
            elif est == "straight_through":
                y = self.relaxed_rows(logits, g, tau)
                z = eye[np.argmax(y, axis=1)]
                through = z if self.bug == "st_backward_hard" else y
                out[a:b] = self.jacobian_t(through, grad_f(z), tau)
            else:  # gumbel_rao
                d = np.argmax(logits + g, axis=1)
                z = eye[d]
                perturbed = self.conditional_noise(rng, logits, d, m)
                y = softmax_rows(perturbed / tau)  # [rows, m, k]
                v = grad_f(z)[:, None, :]
                out[a:b] = np.mean(self.jacobian_t(y, np.broadcast_to(v, y.shape), tau), axis=1)
        return out


def main(argv):
    if "--list-bugs" in argv:
        for name, summary in BUGS.items():
            print("%s\t%s" % (name, summary))
        return 0
    bug = None
    if "--bug" in argv:
        i = argv.index("--bug")
        if i + 1 >= len(argv) or argv[i + 1] not in BUGS:
            sys.stderr.write("--bug needs one of: %s\n" % ", ".join(BUGS))
            return 2
        bug = argv[i + 1]
    return serve(NumpyTarget(bug))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
