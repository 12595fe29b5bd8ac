#!/usr/bin/env python3
"""Outside oracle for src/stats: writes fixtures/stats/*.json from scipy (and mpmath).

Run through ./run.sh, which builds a private venv with the pinned versions of
requirements.txt. Output is deterministic (fixed inputs, fixed numpy seeds, no dates): running
it twice gives byte-identical files. Floats are written with 17 significant digits.

Files written (schema in README.md next to this script):
  ks_one_sample.json     scipy.stats.kstwo.sf(d, n), kstwobign.sf, ksone.sf (one-sided)
  ks_tests.json          scipy.stats.kstest (exact) on fixed Gumbel samples; ks_2samp
                         (exact and asymp) on fixed small samples
  anderson_darling.json  limit law by the Anderson-Darling (1954) series in mpmath; finite-n
                         p-values by Monte Carlo (numpy); statistics by
                         scipy.stats.goodness_of_fit(statistic="ad", known parameters)
  chi2.json              scipy.stats.chisquare, chi2.sf, power_divergence("log-likelihood")
"""

import json
import math
import os
import sys

import mpmath
import numpy as np
import scipy
import scipy.stats as st

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..", "fixtures", "stats")
GENERATOR = "scripts/scipy-oracle/generate.py"


def versions():
    return {
        "python": "%d.%d" % sys.version_info[:2],
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "mpmath": mpmath.__version__,
    }


def fmt(x):
    """JSON text of one value; floats with 17 significant digits (round trip)."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if not math.isfinite(x):
            raise ValueError("non-finite float in fixture")
        s = format(x, ".17g")
        if "e" not in s and "." not in s:
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
    if isinstance(obj, (list, tuple, np.ndarray)):
        if all(not isinstance(v, (dict, list, tuple, np.ndarray)) for v in obj):
            return "[" + ", ".join(fmt(v) for v in obj) + "]"
        items = [pad + "  " + dump(v, indent + 1) for v in obj]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"
    return fmt(obj)


def write(name, body):
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(dump(body) + "\n")
    print("wrote", os.path.normpath(path))


def provenance(description):
    return {"generator": GENERATOR, "versions": versions(), "description": description}


# ---------------------------------------------------------------------------------------------
# KS, one sample: the distribution of D_n
# ---------------------------------------------------------------------------------------------

KS_NS = [5, 8, 10, 20, 50, 100, 140, 141, 200, 500, 1000, 5000, 10000, 100000, 100001, 1000000]
KS_PS = [1e-12, 1e-9, 1e-6, 1e-4, 1e-3, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.95, 0.99]


def ks_one_sample():
    cases = []
    for n in KS_NS:
        for p in KS_PS:
            d = float(st.kstwo.isf(p, n))
            if not (0.0 < d < 1.0):
                continue
            cases.append({"n": n, "d": d, "nd2": n * d * d, "sf": float(st.kstwo.sf(d, n)),
                          "cdf": float(st.kstwo.cdf(d, n))})
    # Exact-end closed forms and the d >= 1/2 region.
    for n, d in [(5, 0.15), (5, 0.55), (5, 0.9), (10, 0.08), (10, 0.6), (20, 0.04),
                 (20, 0.97), (100, 0.009), (1000, 0.0008)]:
        cases.append({"n": n, "d": d, "nd2": n * d * d, "sf": float(st.kstwo.sf(d, n)),
                      "cdf": float(st.kstwo.cdf(d, n))})
    limit = [{"z": z, "sf": float(st.kstwobign.sf(z))}
             for z in [0.3, 0.5, 0.7, 0.9, 1.0, 1.2, 1.3580986393225505, 1.6, 2.0, 2.5, 3.0, 4.0]]
    one_sided = []
    for n in [1, 2, 5, 10, 50, 140, 1000, 100000]:
        for p in [1e-10, 1e-6, 1e-3, 0.05, 0.5, 0.9]:
            d = float(st.ksone.isf(p, n))
            if 0.0 < d < 1.0:
                one_sided.append({"n": n, "d": d, "sf": float(st.ksone.sf(d, n))})
    write("ks_one_sample.json", {
        "provenance": provenance(
            "two_sided: scipy.stats.kstwo.sf(d, n) and .cdf(d, n) at d = kstwo.isf(p, n) for "
            "p in %s (plus closed-form ends); limit: scipy.stats.kstwobign.sf(z); one_sided: "
            "scipy.stats.ksone.sf(d, n) at d = ksone.isf(p, n)" % KS_PS),
        "two_sided": cases,
        "limit": limit,
        "one_sided": one_sided,
    })


# ---------------------------------------------------------------------------------------------
# KS tests on fixed samples
# ---------------------------------------------------------------------------------------------

def ks_tests():
    rng = np.random.default_rng(20261127)
    one = []
    for label, n, loc, scale in [("gumbel_n20", 20, 0.0, 1.0), ("gumbel_n200", 200, 0.0, 1.0),
                                 ("shifted_n50", 50, 0.4, 1.0), ("scaled_n1000", 1000, 0.0, 1.1)]:
        x = rng.gumbel(loc, scale, size=n)
        r = st.kstest(x, st.gumbel_r.cdf, method="exact")
        one.append({"name": label, "null": "standard Gumbel (gumbel_r, loc 0, scale 1)",
                    "sample_loc": loc, "sample_scale": scale, "data": x.tolist(),
                    "statistic": float(r.statistic), "p_value": float(r.pvalue),
                    "statistic_location": float(r.statistic_location),
                    "statistic_sign": int(r.statistic_sign)})
    two = []
    pairs = [("n5_m7", 5, 7, 0.0), ("n10_m10", 10, 10, 0.0), ("n10_m10_shift", 10, 10, 1.5),
             ("n20_m13", 20, 13, 0.3), ("n40_m60", 40, 60, 0.5), ("n100_m100", 100, 100, 0.0),
             ("n300_m200", 300, 200, 0.2)]
    for label, m, n, shift in pairs:
        x = rng.gumbel(0.0, 1.0, size=m)
        y = rng.gumbel(shift, 1.0, size=n)
        rec = {"name": label, "x": x.tolist(), "y": y.tolist()}
        for mode in ["exact", "asymp"]:
            r = st.ks_2samp(x, y, method=mode)
            rec[mode] = {"statistic": float(r.statistic), "p_value": float(r.pvalue),
                         "statistic_location": float(r.statistic_location),
                         "statistic_sign": int(r.statistic_sign)}
        two.append(rec)
    write("ks_tests.json", {
        "provenance": provenance(
            "one_sample: scipy.stats.kstest(data, scipy.stats.gumbel_r.cdf, method='exact') on "
            "numpy default_rng(20261127) Gumbel samples (data included); two_sample: "
            "scipy.stats.ks_2samp(x, y, method=m) for m in exact, asymp"),
        "one_sample": one,
        "two_sample": two,
    })


# ---------------------------------------------------------------------------------------------
# Anderson-Darling
# ---------------------------------------------------------------------------------------------

mpmath.mp.dps = 40


def ad_limit_cdf(z):
    """P(A^2 < z) of the limit law (Anderson & Darling 1954, eq. for a(z)), in mpmath:

    sqrt(2 pi)/z sum_j binom(-1/2, j) (4j+1) exp(-(4j+1)^2 pi^2/(8z))
                 * int_0^inf exp(z/(8(w^2+1)) - (4j+1)^2 pi^2 w^2/(8z)) dw
    """
    z = mpmath.mpf(z)
    total = mpmath.mpf(0)
    for j in range(0, 200):
        c = (4 * j + 1) ** 2 * mpmath.pi ** 2 / (8 * z)
        if c > 200:
            break
        coef = mpmath.binomial(mpmath.mpf(-0.5), j) * (4 * j + 1) * mpmath.exp(-c)
        integral = mpmath.quad(lambda w: mpmath.exp(z / (8 * (w * w + 1)) - c * w * w),
                               [0, 1, mpmath.inf])
        total += coef * integral
    return mpmath.sqrt(2 * mpmath.pi) / z * total


def ad_statistic_batch(u):
    """A^2 for rows of sorted uniforms."""
    n = u.shape[1]
    i = np.arange(1, n + 1)
    s = ((2 * i - 1) * np.log(u) + (2 * n + 1 - 2 * i) * np.log1p(-u)).sum(axis=1)
    return -n - s / n


def anderson_darling():
    limit = []
    for z in [0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.248, 1.5, 1.933, 2.0, 2.492, 3.0, 3.857, 4.5,
              5.0, 6.0, 8.0, 10.0, 12.0, 15.0, 20.0]:
        cdf = ad_limit_cdf(z)
        limit.append({"z": z, "cdf": float(cdf), "sf": float(1 - cdf)})

    reps = 1_000_000
    chunk = 100_000
    finite = []
    for n, seed in [(5, 1005), (10, 1010), (25, 1025), (100, 1100)]:
        rng = np.random.default_rng(seed)
        stats = np.empty(reps)
        for k in range(reps // chunk):
            u = np.sort(rng.random((chunk, n)), axis=1)
            stats[k * chunk:(k + 1) * chunk] = ad_statistic_batch(u)
        stats.sort()
        for z in [0.3, 0.5, 0.75, 1.0, 1.5, 1.933, 2.492, 3.0, 3.857, 4.5, 5.5, 6.5, 8.0]:
            count = int(reps - np.searchsorted(stats, z, side="left"))
            p = count / reps
            finite.append({"n": n, "z": z, "p_value": p, "count": count, "reps": reps,
                           "seed": seed, "standard_error": math.sqrt(p * (1 - p) / reps)})

    statistics = []
    rng = np.random.default_rng(777)
    for label, n, loc, scale in [("gumbel_n20", 20, 0.0, 1.0), ("gumbel_n500", 500, 0.0, 1.0),
                                 ("scaled_n100", 100, 0.0, 1.3)]:
        x = rng.gumbel(loc, scale, size=n)
        r = st.goodness_of_fit(st.gumbel_r, x, known_params={"loc": 0.0, "scale": 1.0},
                               statistic="ad", n_mc_samples=99, rng=np.random.default_rng(1))
        statistics.append({"name": label, "null": "standard Gumbel (gumbel_r, loc 0, scale 1)",
                           "data": x.tolist(), "statistic": float(r.statistic)})
    write("anderson_darling.json", {
        "provenance": provenance(
            "limit: P(A^2 < z) of the limit law by the Anderson-Darling (1954) series, mpmath "
            "quadrature at 40 digits (no scipy function gives it); finite_n: Monte Carlo "
            "P(A^2_n >= z) over reps samples of n numpy default_rng(seed).random() uniforms "
            "(count of exceedances, standard_error = sqrt(p(1-p)/reps)); statistics: A^2 of "
            "scipy.stats.goodness_of_fit(gumbel_r, data, known_params={loc: 0, scale: 1}, "
            "statistic='ad') on numpy default_rng(777) Gumbel samples (data included)"),
        "limit": limit,
        "finite_n": finite,
        "statistics": statistics,
    })


# ---------------------------------------------------------------------------------------------
# Chi-squared and G tests (for statsb)
# ---------------------------------------------------------------------------------------------

def chi2():
    cases = []
    vectors = [
        ("uniform_k4", [25, 30, 22, 23], None, 0),
        ("uniform_k10", [98, 105, 110, 87, 102, 95, 101, 99, 104, 99], None, 0),
        ("skewed_k3", [480, 330, 190], [500.0, 300.0, 200.0], 0),
        ("skewed_bad_k3", [560, 280, 160], [500.0, 300.0, 200.0], 0),
        ("rare_cell_k5", [9970, 10, 6, 9, 5], [9960.0, 10.0, 10.0, 10.0, 10.0], 0),
        ("ddof1_k6", [12, 18, 25, 20, 15, 10], [15.0, 15.0, 20.0, 20.0, 15.0, 15.0], 1),
        ("far_k2", [0, 100], [50.0, 50.0], 0),
        ("large_k20", [5012 + 7 * i - (i % 3) * 11 for i in range(20)], None, 0),
    ]
    for name, obs, exp, ddof in vectors:
        obs_a = np.array(obs, dtype=float)
        exp_a = None if exp is None else np.array(exp, dtype=float)
        if exp_a is not None:
            assert abs(exp_a.sum() - obs_a.sum()) < 1e-9
        pearson = st.chisquare(obs_a, exp_a, ddof=ddof)
        g = st.power_divergence(obs_a, exp_a, ddof=ddof, lambda_="log-likelihood")
        expected = (np.full(len(obs), obs_a.sum() / len(obs)) if exp_a is None else exp_a)
        cases.append({"name": name, "observed": obs, "expected": expected.tolist(),
                      "ddof": ddof, "df": len(obs) - 1 - ddof,
                      "pearson_statistic": float(pearson.statistic),
                      "pearson_p_value": float(pearson.pvalue),
                      "g_statistic": float(g.statistic), "g_p_value": float(g.pvalue)})
    sf = []
    for df in [1, 2, 3, 9, 10, 99, 999]:
        for x in [0.01, 0.5, 1.0, float(df), 2.0 * df + 5.0, 5.0 * df + 40.0]:
            sf.append({"df": df, "x": x, "sf": float(st.chi2.sf(x, df))})
    write("chi2.json", {
        "provenance": provenance(
            "cases: scipy.stats.chisquare(observed, expected, ddof) (Pearson) and "
            "scipy.stats.power_divergence(observed, expected, ddof, lambda_='log-likelihood') "
            "(G test); expected given in full (uniform when the case had none); "
            "df = k - 1 - ddof; sf: scipy.stats.chi2.sf(x, df)"),
        "cases": cases,
        "sf": sf,
    })


def main():
    os.makedirs(OUT, exist_ok=True)
    ks_one_sample()
    ks_tests()
    chi2()
    anderson_darling()


if __name__ == "__main__":
    main()
