#!/usr/bin/env python3
"""Independent high-precision oracle for the reference: writes fixtures/<family>.json with mpmath.

Run through ./run.sh, which builds a private venv with the pinned mpmath of requirements.txt.
Every value is computed in mpmath at DPS = 50 significant digits from the formulas of
docs/design/math.md (never from the Rust code), then rounded once to the nearest f64 and
written with 17 significant digits. Inputs (logits, points, noise) are f64 values drawn from
Python's `random.Random(seed)` (Mersenne Twister, stable across Python versions) and are
written too; the oracle works on the exact f64 values it writes.

Output is deterministic (fixed seeds, no dates, fixed key order): running it twice gives
byte-identical files. The format is documented in fixtures/README.md.
"""

import json
import math
import os
import random
import sys

import mpmath
from mpmath import mp, mpf

DPS = 50
mp.dps = DPS
SCHEMA = "gumbel-audit-fixtures/1"
GENERATOR = "scripts/fixtures-oracle/generate.py"
OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures")
NEG_INF = float("-inf")


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

def f64(x):
    """Nearest f64 of an mpf (mpmath rounds to nearest)."""
    return float(x)


def fmt(x):
    """JSON text of one scalar; floats with 17 significant digits, +-inf as strings."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, mpf):
        x = float(x)
    if isinstance(x, float):
        if x == NEG_INF:
            return '"-inf"'
        if x == float("inf"):
            return '"inf"'
        if math.isnan(x):
            raise ValueError("NaN in fixture")
        s = format(x, ".17g")
        if "e" not in s and "." not in s and "inf" not in s:
            s += ".0"
        return s
    if isinstance(x, str):
        return json.dumps(x)
    if x is None:
        return "null"
    raise TypeError(type(x))


def dump(obj, indent=0):
    pad = "  " * indent
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [pad + "  " + json.dumps(k) + ": " + dump(v, indent + 1) for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return "[" + ", ".join(fmt(v) for v in obj) + "]"
        items = [pad + "  " + dump(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return fmt(obj)


def write(family, description, parameters, sections):
    body = {
        "schema": SCHEMA,
        "family": family,
        "provenance": {
            "generator": GENERATOR,
            "versions": {"python": "%d.%d" % sys.version_info[:2], "mpmath": mpmath.__version__},
            "precision_digits": DPS,
            "description": description,
            "parameters": parameters,
        },
    }
    body.update(sections)
    path = os.path.join(OUT, family + ".json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(dump(body) + "\n")
    print("wrote", os.path.normpath(path))


# ---------------------------------------------------------------------------------------------
# mpmath kernels
# ---------------------------------------------------------------------------------------------

def lse(xs):
    xs = [x for x in xs if x != mp.ninf]
    m = max(xs)
    return m + mp.log(mp.fsum(mp.exp(x - m) for x in xs))


def sigmoid(x):
    return 1 / (1 + mp.exp(-x))


def gumbel_noise(rng):
    """A standard Gumbel value as an f64: -ln(-ln u) of a uniform in (0, 1), in mpmath."""
    u = rng.random()
    while u == 0.0:
        u = rng.random()
    return f64(-mp.log(-mp.log(mpf(u))))


def log_probs(logits):
    """ln π (mp) of f64 logits; masked entries are -inf."""
    z = lse([mpf(v) for v in logits if v != NEG_INF])
    return [mp.ninf if v == NEG_INF else mpf(v) - z for v in logits]


# ---------------------------------------------------------------------------------------------
# Gumbel and truncated Gumbel
# ---------------------------------------------------------------------------------------------

GUMBEL_PARAMS = [(0.0, 1.0), (2.5, 0.5), (-3.0, 4.0), (1000.0, 10.0), (0.0, 1e-3)]
GUMBEL_ZETAS = [-6.0, -4.0, -2.0, -1.0, -0.5, 0.0, 0.3, 1.0, 2.0, 5.0, 10.0, 20.0, 36.7368,
                50.0, 100.0, 700.0]
GUMBEL_PS = [1e-300, 1e-100, 1e-20, 1e-10, 1e-3, 0.01, 0.1, 0.25, math.exp(-1.0), 0.5, 0.75,
             0.9, 0.99, 0.999999, 1.0 - 1e-10, 1.0 - 2.0 ** -53]


def gumbel():
    points, quantiles = [], []
    for mu, beta in GUMBEL_PARAMS:
        for zeta in GUMBEL_ZETAS:
            x = mu + beta * zeta  # an f64 input; the oracle uses it exactly
            z = (mpf(x) - mpf(mu)) / mpf(beta)
            w = mp.exp(-z)
            points.append({
                "location": mu, "scale": beta, "x": x,
                "cdf": mp.exp(-w),
                "sf": -mp.expm1(-w),
                "ln_cdf": -w,
                "ln_pdf": -mp.log(mpf(beta)) - z - w,
            })
        for p in GUMBEL_PS:
            quantiles.append({"location": mu, "scale": beta, "p": p,
                              "quantile": mpf(mu) - mpf(beta) * mp.log(-mp.log(mpf(p)))})
    write("gumbel",
          "Gumbel(location μ, scale β): F(x) = exp(-e^(-ζ)), S = 1 - F, ln F = -e^(-ζ), "
          "ln f = -ln β - ζ - e^(-ζ), ζ = (x - μ)/β; Q(p) = μ - β ln(-ln p). x = μ + β·ζ0 "
          "rounded to f64 for ζ0 in the listed grid; values at that exact x.",
          {"location_scale": [list(v) for v in GUMBEL_PARAMS], "zeta_grid": GUMBEL_ZETAS,
           "p_grid": GUMBEL_PS},
          {"points": points, "quantiles": quantiles})


TRUNC_PARAMS = [(0.0, 0.5), (2.0, 0.5), (1.0, 5.0), (-3.0, 30.0), (0.0, -800.0), (1.5, NEG_INF * -1)]
TRUNC_OFFSETS = [1e-12, 1e-6, 1e-3, 0.1, 0.5, 1.0, 2.0, 3.0, 5.0]


def truncated_gumbel():
    points = []
    for mu, upper in TRUNC_PARAMS:
        xs = [upper] if math.isfinite(upper) else []
        base = upper if math.isfinite(upper) else mu + 5.0
        for d in TRUNC_OFFSETS:
            xs.append(base - d)
        # Points around the location too (where the CDF is neither ~0 nor ~1).
        for d in [-1.0, 0.0, 1.0, 2.0]:
            if mu + d < upper:
                xs.append(mu + d)
        for x in xs:
            if x >= upper:
                lc = mpf(0)
            elif math.isfinite(upper):
                lc = -(mp.exp(mpf(mu) - mpf(x)) - mp.exp(mpf(mu) - mpf(upper)))
            else:
                lc = -mp.exp(mpf(mu) - mpf(x))
            cdf = mp.exp(lc)
            if f64(cdf) < 1e-300:
                continue
            points.append({"location": mu, "upper": upper, "x": x, "cdf": cdf, "ln_cdf": lc})
    write("truncated_gumbel",
          "Unit-scale Gumbel(μ) conditioned on X ≤ M: ln F(x) = -(e^(μ-x) - e^(μ-M)) for x < M, "
          "0 for x ≥ M; upper = \"inf\" is the untruncated law. Points with F < 1e-300 are "
          "left out (they underflow in f64).",
          {"location_upper": [[mu, up] for mu, up in TRUNC_PARAMS], "offsets": TRUNC_OFFSETS},
          {"points": points})


# ---------------------------------------------------------------------------------------------
# Concrete and ExpConcrete densities
# ---------------------------------------------------------------------------------------------

def concrete_ln_pdf(logits, tau, y):
    """ln p(y / Σ y) (Maddison et al.), the sum Σ y taken exactly."""
    lp = log_probs(logits)
    tot = mp.fsum(mpf(v) for v in y)
    un = [i for i, v in enumerate(logits) if v != NEG_INF]
    kk = len(un)
    ln_y = [mp.log(mpf(y[i]) / tot) for i in un]
    tau = mpf(tau)
    a = [lp[i] - tau * ly for i, ly in zip(un, ln_y)]
    return (mp.loggamma(kk) + (kk - 1) * mp.log(tau) + mp.fsum(ai - ly for ai, ly in zip(a, ln_y))
            - kk * lse(a))


def exp_concrete_ln_pdf(logits, tau, x):
    """Raw ExpConcrete ln p_exp(x - logsumexp(x)), the log-space formula."""
    lp = log_probs(logits)
    un = [i for i, v in enumerate(logits) if v != NEG_INF]
    kk = len(un)
    shift = lse([mpf(x[i]) for i in un])
    tau = mpf(tau)
    a = [lp[i] - tau * (mpf(x[i]) - shift) for i in un]
    la = lse(a)
    return mp.loggamma(kk) + (kk - 1) * mp.log(tau) + mp.fsum(ai - la for ai in a)


def relaxed_point(logits, tau, noise):
    """ln y (mp) of y = softmax((l + g)/τ); masked entries -inf."""
    s = [mp.ninf if l == NEG_INF else (mpf(l) + mpf(g)) / mpf(tau) for l, g in zip(logits, noise)]
    z = lse(s)
    return [v - z if v != mp.ninf else mp.ninf for v in s]


def log_uniform_point(rng, logits, floor_ln):
    """ln y (mp) of a point whose unmasked entries are spread log-uniformly down to e^floor_ln."""
    t = [mp.ninf if l == NEG_INF else mpf(rng.uniform(floor_ln, 0.0)) for l in logits]
    un = [i for i, l in enumerate(logits) if l != NEG_INF]
    t[un[0]] = mpf(0)  # one entry near 1 keeps the smallest entries near e^floor_ln
    z = lse(t)
    return [v - z if v != mp.ninf else mp.ninf for v in t]


def to_simplex(ln_y):
    return [0.0 if v == mp.ninf else f64(mp.exp(v)) for v in ln_y]


def to_log(ln_y):
    return [NEG_INF if v == mp.ninf else f64(v) for v in ln_y]


def moderate_logits(rng, k, spread):
    return [round(rng.uniform(-spread, spread), 6) for _ in range(k)]


def concrete():
    rng = random.Random(20261127)
    points = []  # (name, logits, tau, ln_y mp, construction, noise or None)
    taus = [1e-3, 1e-2, 0.1, 0.5, 1.0, 2.0, 10.0, 100.0, 1e3]
    for k in [2, 3, 5, 10, 50]:
        for tau in taus:
            logits = moderate_logits(rng, k, 3.0)
            noise = [gumbel_noise(rng) for _ in range(k)]
            ln_y = relaxed_point(logits, tau, noise)
            if min(ln_y) > -690:
                points.append(("sampled k=%d tau=%g" % (k, tau), logits, tau, ln_y, noise))
            points.append(("log-uniform k=%d tau=%g" % (k, tau), logits, tau,
                           log_uniform_point(rng, logits, -690.0), None))
    for tau in [1e-3, 1.0, 1e3]:
        logits = moderate_logits(rng, 1000, 5.0)
        noise = [gumbel_noise(rng) for _ in range(1000)]
        ln_y = relaxed_point(logits, tau, noise)
        if min(ln_y) > -690:
            points.append(("sampled k=1000 tau=%g" % tau, logits, tau, ln_y, noise))
        else:
            points.append(("log-uniform k=1000 tau=%g" % tau, logits, tau,
                           log_uniform_point(rng, logits, -690.0), None))
    # Large logits (±1e3), masks, tiny entries, one unmasked category.
    special = [
        ("logits ±1e3", [1e3, -1e3, 0.0, 999.5, -500.0]),
        ("logits 1e3 near-tie", [1e3, 1e3 - 1e-3, -1e3]),
        ("masked", [0.3, NEG_INF, -1.2, 2.0, NEG_INF]),
        ("masked, logits ±1e3", [NEG_INF, 1e3, -1e3, NEG_INF, 10.0]),
        ("one unmasked", [NEG_INF, 0.7, NEG_INF]),
    ]
    for name, logits in special:
        for tau in [1e-3, 0.1, 1.0, 10.0, 1e3]:
            noise = [gumbel_noise(rng) for _ in logits]
            ln_y = relaxed_point(logits, tau, noise)
            if min(v for v in ln_y if v != mp.ninf) > -690:
                points.append(("sampled %s tau=%g" % (name, tau), logits, tau, ln_y, noise))
            points.append(("log-uniform %s tau=%g" % (name, tau), logits, tau,
                           log_uniform_point(rng, logits, -690.0), None))
    # Hand-made points with entries down to 1e-300.
    tiny = [1e-300, 1e-200, 1e-100, 1e-10]
    for tau in [1e-3, 0.1, 1.0, 10.0, 1e3]:
        for logits in [[0.0, 0.0, 0.0, 0.0, 0.0], [-3.0, 2.0, 0.5, -1e3, 1e3]]:
            y = tiny + [1.0 - sum(tiny)]
            ln_y = [mp.log(mpf(v)) for v in y]
            points.append(("entries down to 1e-300 tau=%g" % tau, logits, tau, ln_y, None))

    cases, exp_cases = [], []
    for name, logits, tau, ln_y, noise in points:
        y = to_simplex(ln_y)
        x = to_log(ln_y)
        case = {"name": name, "logits": logits, "tau": tau, "y": y,
                "ln_pdf": concrete_ln_pdf(logits, tau, y)}
        exp_case = {"name": name, "logits": logits, "tau": tau, "x": x,
                    "ln_pdf_exp": exp_concrete_ln_pdf(logits, tau, x)}
        if noise is not None:
            case["noise"] = noise
            exp_case["noise"] = noise
        cases.append(case)
        exp_cases.append(exp_case)
    write("concrete",
          "Concrete(π = softmax(l), τ) log density (Maddison, Mnih & Teh 2017, Lebesgue measure "
          "on y_1..y_{k'-1}): ln p(y) = ln Γ(k') + (k'-1) ln τ + Σ_i (ln π_i - (τ+1) ln y_i) - "
          "k' logsumexp_i(ln π_i - τ ln y_i), sums over the k' unmasked categories, evaluated "
          "at y / Σ y with the sum of the stored f64 entries taken exactly. Points: 'sampled' "
          "= softmax((l + g)/τ) of the stored noise g (g = -ln(-ln u), u from random.Random), "
          "computed in mpmath and rounded to f64; 'log-uniform' = entries ∝ e^t, t uniform in "
          "[-690, 0]; hand-made points with entries 1e-300, 1e-200, 1e-100, 1e-10.",
          {"seed": 20261127, "taus": taus, "ks": [2, 3, 5, 10, 50, 1000]},
          {"cases": cases})
    write("exp_concrete",
          "ExpConcrete raw log density at the log-space point x (TFP / PyTorch convention, not "
          "normalised in the chart x_1..x_{k-1}): ln p_exp(x) = ln Γ(k') + (k'-1) ln τ + "
          "Σ_i log_softmax(ln π - τ x')_i with x' = x - logsumexp(x) taken exactly; sums over "
          "unmasked categories, masked entries of x are \"-inf\". The points are those of "
          "concrete.json with x = ln y rounded to f64 (same names).",
          {"seed": 20261127},
          {"cases": exp_cases})


# ---------------------------------------------------------------------------------------------
# Binary Concrete
# ---------------------------------------------------------------------------------------------

BIN_LOGITS = [-30.0, -2.0, 0.0, 0.4, 5.0, 1e3]
BIN_TAUS = [1e-3, 0.1, 0.5, 1.0, 2.0, 10.0, 1e3]
BIN_XS = [1e-300, 1e-100, 1e-10, 0.01, 0.3, 0.5, 0.7, 0.99, 1.0 - 1e-10, 1.0 - 2.0 ** -53]


def binary_concrete():
    points = []
    for l in BIN_LOGITS:
        for tau in BIN_TAUS:
            for x in BIN_XS:
                L, T, X = mpf(l), mpf(tau), mpf(x)
                lx, l1x = mp.log(X), mp.log(1 - X)
                a, b = L - T * lx, -T * l1x
                m = max(a, b)
                lae = m + mp.log(mp.exp(a - m) + mp.exp(b - m))
                ln_pdf = mp.log(T) + L - (T + 1) * (lx + l1x) - 2 * lae
                cdf = sigmoid(T * (lx - l1x) - L)
                points.append({"logit": l, "tau": tau, "x": x, "ln_pdf": ln_pdf, "cdf": cdf})
    write("binary_concrete",
          "Binary Concrete (RelaxedBernoulli) with logit l and temperature τ: ln p(x) = ln τ + l "
          "- (τ+1)(ln x + ln(1-x)) - 2 logaddexp(l - τ ln x, -τ ln(1-x)); P(X ≤ x) = σ(τ "
          "logit(x) - l). Full grid of the listed logits, temperatures and points.",
          {"logits": BIN_LOGITS, "taus": BIN_TAUS, "xs": BIN_XS},
          {"points": points})


# ---------------------------------------------------------------------------------------------
# Deterministic maps: relaxed sample, Gumbel-Max, Gumbel-top-k from given noise
# ---------------------------------------------------------------------------------------------

def order_exact(logits, noise):
    """Unmasked indices by decreasing exact z = l + g (ties: lowest index first), and the
    smallest relative gap between consecutive exact scores."""
    z = {i: mpf(l) + mpf(g) for i, (l, g) in enumerate(zip(logits, noise)) if l != NEG_INF}
    order = sorted(z, key=lambda i: (-z[i], i))
    gaps = [abs(z[order[j]] - z[order[j + 1]]) / (1 + abs(z[order[j]]))
            for j in range(len(order) - 1)]
    return order, (min(gaps) if gaps else mpf(1))


def sampling_maps():
    rng = random.Random(5)
    relaxed, gmax, topk = [], [], []
    configs = []
    for k in [2, 3, 5, 10]:
        for tau in [1e-3, 0.1, 0.5, 1.0, 10.0, 1e3]:
            configs.append((moderate_logits(rng, k, 3.0), tau))
    for tau in [1e-3, 1.0, 1e3]:
        configs.append((moderate_logits(rng, 100, 3.0), tau))
    configs += [([1e3, -1e3, 0.0, 999.5, -500.0], tau) for tau in [1e-3, 1.0, 1e3]]
    configs += [([0.3, NEG_INF, -1.2, 2.0, NEG_INF], tau) for tau in [1e-3, 1.0, 1e3]]
    configs += [([-1e3, NEG_INF, 1e3, 1e3 - 0.5], tau) for tau in [0.01, 1.0]]
    for logits, tau in configs:
        while True:
            noise = [gumbel_noise(rng) for _ in logits]
            order, gap = order_exact(logits, noise)
            if gap > 1e-9:  # no near-tie: the argmax is well defined in f64
                break
        ln_y = relaxed_point(logits, tau, noise)
        relaxed.append({"logits": logits, "tau": tau, "noise": noise,
                        "y": to_simplex(ln_y), "ln_y": to_log(ln_y), "argmax": order[0]})
    for logits in [[0.0, -1.5, 2.0, NEG_INF, 0.5], [1e3, -1e3, 999.9, 0.0],
                   moderate_logits(rng, 50, 4.0), moderate_logits(rng, 1000, 4.0)]:
        for _ in range(4 if len(logits) < 100 else 1):
            while True:
                noise = [gumbel_noise(rng) for _ in logits]
                order, gap = order_exact(logits, noise)
                if gap > 1e-9:
                    break
            gmax.append({"logits": logits, "noise": noise, "argmax": order[0]})
            unmasked = len(order)
            for m in sorted({1, 2, min(3, unmasked), unmasked if unmasked <= 10 else 10}):
                topk.append({"logits": logits, "noise": noise, "m": m, "indices": order[:m]})
    # Exact ties (exact in f64 too): lowest index first.
    for logits, noise in [([0.0, 0.0, 0.0], [0.5, 1.0, 1.0]), ([1.0, 2.0, 1.0, 0.0], [1.0, 0.0, 1.0, 2.0])]:
        order, _ = order_exact(logits, noise)
        gmax.append({"logits": logits, "noise": noise, "argmax": order[0]})
        topk.append({"logits": logits, "noise": noise, "m": len(logits), "indices": order})
    write("sampling_maps",
          "Deterministic cores of the samplers from given noise, in exact arithmetic: relaxed: "
          "ln y = (l + g)/τ - logsumexp((l + g)/τ), y = e^(ln y) (masked: y = 0, ln y = \"-inf\"), "
          "argmax = argmax_i (l_i + g_i) (the hard sample); gumbel_max: argmax_i (l_i + g_i) "
          "over unmasked i; top_k: the m unmasked indices with the largest l_i + g_i, largest "
          "first, ties to the lowest index. Noise g = -ln(-ln u) from random.Random(5); draws "
          "whose exact scores are within 1e-9 relative of a tie were redrawn, except the two "
          "deliberate exact ties at the end.",
          {"seed": 5, "min_relative_gap": 1e-9},
          {"relaxed": relaxed, "gumbel_max": gmax, "top_k": topk})


# ---------------------------------------------------------------------------------------------
# Exact gradients and REINFORCE covariances
# ---------------------------------------------------------------------------------------------

def vertex_values(kind, coef):
    c = [mpf(v) for v in coef]
    if kind == "linear":
        return c
    sq = mp.fsum(t * t for t in c)
    return [sq + 1 - 2 * t for t in c]


def gradients():
    rng = random.Random(4)
    configs = []
    for k in [2, 3, 5, 10, 30]:
        logits = moderate_logits(rng, k, 3.0)
        configs.append(("linear", [round(rng.uniform(-5, 5), 6) for _ in range(k)], logits,
                        round(rng.uniform(-2, 2), 6)))
        configs.append(("quadratic", [round(rng.uniform(-1, 2), 6) for _ in range(k)], logits,
                        0.0))
    configs += [
        ("linear", [1.0, -2.0, 5.0], [0.3, NEG_INF, -0.7], 0.5),
        ("quadratic", [0.45, 0.55], [0.0, 0.0], 0.0),
        ("linear", [1e6 + 1.0, 1e6 + 2.0, 1e6 + 3.5, 1e6], [0.1, -0.4, 0.7, 0.0], 1e6),
        ("linear", [3.0, -1.0, 2.0, 0.5], [30.0, -30.0, 0.0, 5.0], 0.0),
        ("quadratic", [0.2, 0.3, 0.5, -0.1, 1.0], [1e3, 999.0, -1e3, 998.5, NEG_INF], 0.7),
        ("linear", [2.0, -1.0, 4.0], [0.0, NEG_INF, NEG_INF], 1.0),
    ]
    cases = []
    for kind, coef, logits, b in configs:
        lp = log_probs(logits)
        pi = [mp.exp(v) if v != mp.ninf else mpf(0) for v in lp]
        fv = vertex_values(kind, coef)
        k = len(pi)
        L = mp.fsum(p * f for p, f in zip(pi, fv))
        grad = [pi[j] * (fv[j] - L) for j in range(k)]
        B = mpf(b)
        cov = [[mpf(0)] * k for _ in range(k)]
        for z in range(k):  # enumeration: Σ_z π_z (f_z - b)² (e_z - π)(e_z - π)ᵀ
            if pi[z] == 0:
                continue
            w = pi[z] * (fv[z] - B) ** 2
            d = [(1 if i == z else 0) - pi[i] for i in range(k)]
            for i in range(k):
                for j in range(k):
                    cov[i][j] += w * d[i] * d[j]
        cov = [[cov[i][j] - grad[i] * grad[j] for j in range(k)] for i in range(k)]
        cases.append({"objective": {"kind": kind, "coefficients": coef}, "logits": logits,
                      "baseline": b, "objective_value": L, "gradient": grad,
                      "covariance": cov})
    write("gradients",
          "Exact discrete objective L = Σ_i π_i f(e_i), its gradient ∂L/∂l_j = π_j (f(e_j) - L) "
          "and the covariance of the REINFORCE row (f(e_z) - b)(e_z - π), z ~ Categorical(π), "
          "by enumeration: Σ_z π_z (f(e_z) - b)² (e_z - π)(e_z - π)ᵀ - ∇L ∇Lᵀ (docs/design/math.md §3). "
          "Objectives: linear f(z) = Σ c_i z_i (f(e_i) = c_i), quadratic f(z) = Σ (z_i - t_i)² "
          "(f(e_i) = Σ_j t_j² + 1 - 2 t_i); 'coefficients' is c or t.",
          {"seed": 4},
          {"cases": cases})


# ---------------------------------------------------------------------------------------------
# k = 2 relaxed-gradient quadrature
# ---------------------------------------------------------------------------------------------

def relaxed_quadrature():
    taus = [1e-3, 0.1, 0.5, 1.0, 3.0, 10.0]
    diffs = [0.0, 1.7, -4.0]
    objectives = [("linear", [1.0, 0.0]), ("linear", [0.3, -2.5]), ("quadratic", [0.45, 0.55]),
                  ("quadratic", [2.0, -1.0])]
    cases = []
    for kind, coef in objectives:
        c = [mpf(v) for v in coef]

        def grad_diff(y0, y1):
            if kind == "linear":
                return c[0] - c[1]
            return 2 * (y0 - c[0]) - 2 * (y1 - c[1])

        def f_val(y0, y1):
            if kind == "linear":
                return c[0] * y0 + c[1] * y1
            return (y0 - c[0]) ** 2 + (y1 - c[1]) ** 2

        st_slope = [grad_diff(mpf(1), mpf(0)), grad_diff(mpf(0), mpf(1))]
        for a in diffs:
            for tau in taus:
                A, T = mpf(a), mpf(tau)

                def dens(x):
                    e = mp.exp(-abs(x))
                    return e / (1 + e) ** 2

                def ys(x):
                    s = (A + x) / T
                    return sigmoid(s), sigmoid(-s)

                def r_gs(x):
                    y0, y1 = ys(x)
                    return y0 * y1 / T * grad_diff(y0, y1)

                def r_st(x, d):
                    y0, y1 = ys(x)
                    return y0 * y1 / T * st_slope[d]

                # s = 0 at x = -a; features of width τ around it and of width 1 around x = 0.
                cuts = {-A + m * T for m in [-40, -10, -1, 0, 1, 10, 40]}
                cuts |= {mpf(v) for v in [-40, -5, 0, 5, 40]}
                lo = sorted(v for v in cuts if v < -A)
                hi = sorted(v for v in cuts if v > -A)
                left = [mp.ninf] + lo + [-A]
                right = [-A] + hi + [mp.inf]

                def integral(fn, pts):
                    return mp.quad(lambda x: dens(x) * fn(x), pts)

                both = lambda fn: integral(fn, left) + integral(fn, right)
                obj = both(lambda x: f_val(*ys(x)))
                gs1 = both(r_gs)
                gs2 = both(lambda x: r_gs(x) ** 2)
                # Conditional on the hard category d: d = 0 is s ≥ 0, the right half.
                p = [sigmoid(A), sigmoid(-A)]
                h1 = [integral(lambda x: r_st(x, 0), right), integral(lambda x: r_st(x, 1), left)]
                h2 = [integral(lambda x: r_st(x, 0) ** 2, right),
                      integral(lambda x: r_st(x, 1) ** 2, left)]
                st1 = h1[0] + h1[1]
                st2 = h2[0] + h2[1]
                mu = [h1[d] / p[d] for d in range(2)]
                var_d = [h2[d] / p[d] - mu[d] ** 2 for d in range(2)]
                between = p[0] * p[1] * (mu[0] - mu[1]) ** 2
                within = p[0] * var_d[0] + p[1] * var_d[1]
                cases.append({
                    "objective": {"kind": kind, "coefficients": coef},
                    "logits": [a, 0.0], "tau": tau,
                    "relaxed_objective": obj,
                    "gumbel_softmax": {"mean": gs1, "variance": gs2 - gs1 ** 2},
                    "straight_through": {"mean": st1, "variance": st2 - st1 ** 2},
                    "gumbel_rao": [{"draws": m, "mean": st1, "variance": between + within / m}
                                   for m in [1, 10, 100]],
                })
    write("relaxed_quadrature",
          "k = 2 relaxed ground truth by mpmath.quad (tanh-sinh, cut at s = 0 and around it): "
          "a = l_0 - l_1, L ~ Logistic(0, 1) with density σ(x)σ(-x), s = (a + L)/τ, y = "
          "(σ(s), σ(-s)), h = e_0 if s ≥ 0 else e_1. Rows are (r, -r); stored: the relaxed "
          "objective E f(y); Gumbel-Softmax r = y_0 y_1 (∂_0 f(y) - ∂_1 f(y))/τ, its mean (= "
          "∂L_τ/∂a) and variance; straight-through r = y_0 y_1 (∂_0 f(h) - ∂_1 f(h))/τ; "
          "Gumbel-Rao with m draws: mean E r_ST, variance Var_d(μ_d) + E_d[σ_d²]/m over the "
          "hard category d (P(d = 0) = σ(a)).",
          {"taus": taus, "logit_differences": diffs},
          {"cases": cases})


# ---------------------------------------------------------------------------------------------
# Token samplers (temperature, top-k, top-p, min-p)
# ---------------------------------------------------------------------------------------------

TOKEN_ORDERS = {"hf": ["top_k", "top_p", "min_p"], "vllm": ["min_p", "top_k", "top_p"]}


def token_law(form, values, temperature, top_k, top_p, min_p, order, convention):
    """Kept tokens (rank order) and pmf (mp) of the law of docs/tokens.md, from its definition:
    weights w_i = exp((l_i - max l)/T) (probabilities: q_i), rank order weight descending then
    index ascending, each stage a prefix of the current candidates, comparisons at DPS digits."""
    k = len(values)
    if form == "logits":
        m = max(v for v in values if v != NEG_INF)
        t = mpf(1) if convention == "temperature_after_truncation" else mpf(temperature)
        judged = [mp.exp((mpf(v) - mpf(m)) / t) if v != NEG_INF else mpf(0) for v in values]
        sampled = [mp.exp((mpf(v) - mpf(m)) / mpf(temperature)) if v != NEG_INF else mpf(0)
                   for v in values]
    else:
        judged = [mpf(v) for v in values]
        sampled = judged
    rank = sorted((i for i in range(k) if judged[i] > 0), key=lambda i: (-judged[i], i))
    stages = list(TOKEN_ORDERS[order])
    if convention == "top_k_after_top_p":
        a, b = stages.index("top_k"), stages.index("top_p")
        stages[a], stages[b] = stages[b], stages[a]
    n = len(rank)
    p = mpf(top_p)
    for stage in stages:
        if stage == "top_k" and top_k is not None:
            n = min(n, top_k)
        elif stage == "top_p" and top_p < 1.0:
            s = mp.fsum(judged[i] for i in rank[:n])
            kept, before = 0, mpf(0)
            for r in range(n):
                w = judged[rank[r]]
                if convention == "top_p_drop_crossing":
                    keep = r == 0 or before + w <= p * s
                elif convention == "top_p_extra_at_equality":
                    keep = before <= p * s
                else:
                    keep = before < p * s
                if not keep:
                    break
                kept, before = r + 1, before + w
            n = max(kept, 1)
        elif stage == "min_p" and min_p > 0.0:
            top = judged[rank[0]]
            n = max(1, sum(1 for i in rank[:n] if judged[i] >= mpf(min_p) * top))
    kept = rank[:n]
    total = mp.fsum(sampled[i] for i in kept)
    pmf = [sampled[i] / total if i in kept else mpf(0) for i in range(k)]
    return kept, pmf


def tokens():
    rng = random.Random(18)
    ninf = NEG_INF
    cases = [
        # (form, values, T, top_k, top_p, min_p, order, convention)
        ("probs", [0.5, 0.25, 0.25], 1.0, None, 0.75, 0.0, "hf", "canonical"),
        ("probs", [0.5, 0.25, 0.25], 1.0, None, 0.75, 0.0, "hf", "top_p_extra_at_equality"),
        ("probs", [0.25, 0.5, 0.25], 1.0, None, 0.75, 0.0, "hf", "top_p_drop_crossing"),
        ("probs", [0.9999999, 1e-07, 1e-09], 1.0, None, 0.9999999, 0.0, "hf", "canonical"),
        ("probs", [0.1, 0.2, 0.3, 0.4], 1.0, None, 0.7, 0.0, "hf", "canonical"),
        ("probs", [0.2, 0.2, 0.2, 0.2, 0.2], 1.0, None, 1.0, 1.0, "hf", "canonical"),
        ("logits", [0.0, 0.0, 0.0, 0.0], 1.0, None, 0.5, 0.0, "hf", "canonical"),
        ("logits", [0.0, 0.0, 0.0, 0.0, ninf, 0.0, 0.0, 0.0, ninf, 0.0], 0.8, None, 0.75, 0.0,
         "hf", "canonical"),
        ("logits", [1.0, 0.0, 0.0, 0.0, -1.0], 1.0, None, 0.7, 0.0, "hf", "canonical"),
        ("logits", [0.0, -1.0, -2.0, -3.0, -30.0], 1.0, None, 0.9999999, 0.0, "hf", "canonical"),
        ("logits", [0.0, -1.0, -2.0], 1.0, None, 0.9999999, 0.0, "hf", "canonical"),
        ("logits", [0.0, 1.0, 1.0, -1.0], 1.0, 1, 1.0, 0.0, "hf", "canonical"),
        ("logits", [0.3, -0.2, 1.1, ninf, 0.5], 1.3, 50, 1.0, 0.0, "hf", "canonical"),
        ("logits", [0.3, -0.2, 1.1, ninf, 0.5], 1.3, 4, 1.0, 0.0, "hf", "canonical"),
        ("logits", [0.0] * 6, 1.0, None, 1.0, 0.5, "hf", "canonical"),
        ("logits", [0.25] * 5, 0.6, None, 1.0, 1.0, "hf", "canonical"),
        ("logits", [3.0, 1.0, 0.0, -1.0, -2.0, -5.0], 1.0, None, 1.0, 0.1, "hf", "canonical"),
        ("logits", [3.0, 1.0, 0.0, -1.0, -2.0, -5.0], 2.0, None, 1.0, 0.1, "hf", "canonical"),
        ("logits", [0.0, -0.2, -0.9, -1.0, -1.1, -1.2], 1.0, None, 0.6, 0.35, "hf", "canonical"),
        ("logits", [0.0, -0.2, -0.9, -1.0, -1.1, -1.2], 1.0, None, 0.6, 0.35, "vllm",
         "canonical"),
        ("logits", [2.0, 1.0, 0.0, -1.0, -2.0], 1.0, 2, 0.7, 0.0, "hf", "top_k_after_top_p"),
        ("logits", [2.0, 1.0, 0.0, -1.0, -2.0], 3.0, None, 0.8, 0.0, "hf",
         "temperature_after_truncation"),
        ("logits", [2.0, 1.0, 0.0, -1.0, -2.0], 1.0, None, 0.8, 0.0, "hf", "top_p_drop_crossing"),
    ]
    for _ in range(40):
        k = rng.choice([5, 20, 100])
        values = [round(rng.uniform(-5.0, 5.0), 6) for _ in range(k)]
        cases.append(("logits", values, rng.choice([0.5, 1.0, 2.0]), rng.choice([None, 3, 10]),
                      rng.choice([1.0, 0.5, 0.9, 0.95]), rng.choice([0.0, 0.05, 0.2]),
                      rng.choice(["hf", "vllm"]), "canonical"))
    out = []
    for form, values, t, top_k, top_p, min_p, order, conv in cases:
        kept, pmf = token_law(form, values, t, top_k, top_p, min_p, order, conv)
        out.append({"form": form, "values": values, "temperature": t, "top_k": top_k,
                    "top_p": top_p, "min_p": min_p, "order": order, "convention": conv,
                    "kept": kept, "pmf": pmf})
    write("tokens",
          "Exact laws of LLM token samplers (docs/tokens.md): weights exp((l - max l)/T) or the "
          "given probabilities; rank order weight descending, index ascending; top-k keeps the "
          "first K ranks; top-p keeps rank r iff the mass before it is < P times the candidates' "
          "mass (canonical; the alternative conventions as named); min-p keeps w_i >= M w_max; "
          "orders hf (top-k, top-p, min-p) and vllm (min-p, top-k, top-p); pmf = weights at T "
          "over the kept set, renormalised. kept in rank order. Boundary cases first, then 40 "
          "random rows from random.Random(18) (logits uniform in [-5, 5] rounded to 6 decimals).",
          {"seed": 18, "random_rows": 40},
          {"cases": out})


def main():
    os.makedirs(OUT, exist_ok=True)
    gumbel()
    truncated_gumbel()
    concrete()
    binary_concrete()
    sampling_maps()
    gradients()
    relaxed_quadrature()
    tokens()


if __name__ == "__main__":
    main()
