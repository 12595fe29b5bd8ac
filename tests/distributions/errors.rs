//! Bad input through the public API: every rule returns its named [`Error`] variant, whose
//! `Display` message names the rule, and nothing panics.
//!
//! The rules (issue 2, "Bad input"): logits finite or `-inf`, at least one finite, `k ≥ 1`;
//! temperature finite and positive; a density's point in the open simplex of the unmasked
//! categories (masked entries exactly 0) and of the right length; noise of the right length
//! and finite; uniforms in `(0, 1)`, probabilities in `[0, 1]`; binary points in `(0, 1)`.

use std::panic::{AssertUnwindSafe, catch_unwind};

use gumbel_audit::Error;
use gumbel_audit::distributions::{
    BinaryConcrete, Categorical, Concrete, Gumbel, Logits, TemperatureSchedule, TruncatedGumbel,
};

const NAN: f64 = f64::NAN;
const INF: f64 = f64::INFINITY;
const NEG_INF: f64 = f64::NEG_INFINITY;

/// Asserts that `result` is an error matching `pattern` whose message contains every phrase.
macro_rules! assert_rule {
    ($result:expr, $pattern:pat, $($phrase:expr),+ $(,)?) => {{
        let result = $result;
        match &result {
            Err(e @ $pattern) => {
                let msg = e.to_string();
                $(assert!(msg.contains($phrase), "message {msg:?} does not name the rule ({:?})", $phrase);)+
            }
            other => panic!("expected {}, got {:?}", stringify!($pattern), other),
        }
    }};
}

fn logits(l: &[f64]) -> Logits {
    Logits::from_slice(l).unwrap()
}

fn concrete(l: &[f64], tau: f64) -> Concrete {
    Concrete::new(logits(l), tau).unwrap()
}

#[test]
fn logit_rules() {
    assert_rule!(
        Logits::new(vec![]),
        Error::NoCategories,
        "no categories",
        "at least 1"
    );
    assert_rule!(
        Logits::new(vec![0.0, NAN]),
        Error::LogitNotFinite { index: 1, .. },
        "logit 1",
        "finite or -inf"
    );
    assert_rule!(
        Logits::new(vec![INF, 0.0]),
        Error::LogitNotFinite { index: 0, .. },
        "logit 0 is inf",
        "finite or -inf"
    );
    assert_rule!(
        Logits::new(vec![NEG_INF; 3]),
        Error::AllCategoriesMasked,
        "all logits are -inf",
        "at least one category"
    );
    // NaN wins over "all masked": the first broken rule in reading order is reported.
    assert_rule!(
        Logits::new(vec![NEG_INF, NAN]),
        Error::LogitNotFinite { index: 1, .. },
        "logit 1"
    );
    // A masked category next to a finite one is fine, and so is k = 1.
    assert!(Logits::new(vec![NEG_INF, 0.0]).is_ok());
    assert!(Logits::new(vec![-1e4]).is_ok());
}

#[test]
fn temperature_rules() {
    let l = logits(&[0.0, 1.0]);
    for tau in [0.0, -0.0, -1.0, -1e-300] {
        assert_rule!(
            Concrete::new(l.clone(), tau),
            Error::TemperatureNotPositive { .. },
            "temperature",
            "must be positive"
        );
        assert_rule!(
            BinaryConcrete::new(0.0, tau),
            Error::TemperatureNotPositive { .. },
            "must be positive"
        );
        assert_rule!(
            TemperatureSchedule::new(tau, 1e-4, 10),
            Error::TemperatureNotPositive { .. },
            "must be positive"
        );
    }
    for tau in [NAN, INF, NEG_INF] {
        assert_rule!(
            Concrete::new(l.clone(), tau),
            Error::TemperatureNotFinite { .. },
            "temperature",
            "must be finite"
        );
        assert_rule!(
            BinaryConcrete::new(0.0, tau),
            Error::TemperatureNotFinite { .. },
            "must be finite"
        );
        assert_rule!(
            TemperatureSchedule::with_initial(tau, 0.5, 1e-4, 10),
            Error::TemperatureNotFinite { .. },
            "must be finite"
        );
    }
    // Temperatures whose reciprocal overflows (τ < 5.6e-309) would give NaN samples: rejected
    // with the rule named; 1e-300 is accepted.
    assert_rule!(
        Concrete::new(l.clone(), 5e-324),
        Error::InvalidParameter { .. },
        "1/τ is finite"
    );
    assert!(Concrete::new(l, 1e-300).is_ok());
}

#[test]
fn density_point_rules() {
    let c = concrete(&[0.0, 1.0, NEG_INF], 0.5);
    assert_rule!(
        c.ln_pdf(&[0.5, 0.5]),
        Error::WrongLength {
            expected: 3,
            found: 2
        },
        "expected 3",
        "found 2"
    );
    assert_rule!(
        c.ln_pdf(&[0.2, 0.3, 0.5, 0.0]),
        Error::WrongLength { .. },
        "wrong length"
    );
    // Off the simplex: sum, sign, range, NaN, masked entry, boundary (not open).
    let cases: [(&[f64], &str); 7] = [
        (&[0.5, 0.4, 0.0], "sum to"),
        (&[0.5, 0.5 + 2e-6, 0.0], "sum to"),
        (&[-0.1, 1.1, 0.0], "(0, 1]"),
        (&[NAN, 0.5, 0.0], "(0, 1]"),
        (&[0.3, 0.7, 1e-300], "masked category must be exactly 0"),
        (&[1.0, 0.0, 0.0], "(0, 1]"),
        (&[INF, 0.5, 0.0], "(0, 1]"),
    ];
    for (y, phrase) in cases {
        assert_rule!(
            c.ln_pdf(y),
            Error::NotOnSimplex { .. },
            "not in the open simplex",
            phrase
        );
    }
    // Within the documented tolerance 1e-6 of the simplex: accepted and renormalised.
    assert!(c.ln_pdf(&[0.3, 0.7 + 5e-7, 0.0]).unwrap().is_finite());
    // Log-space points of the ExpConcrete density.
    assert_rule!(
        c.ln_pdf_exp(&[-1.0, -0.5]),
        Error::WrongLength { .. },
        "wrong length"
    );
    let cases: [(&[f64], &str); 5] = [
        (&[0.1, -3.0, NEG_INF], "at most 0"),
        (&[NAN, -0.1, NEG_INF], "finite and at most 0"),
        (&[NEG_INF, 0.0, NEG_INF], "finite and at most 0"),
        (&[-0.7, -0.7, NEG_INF], "logsumexp"),
        (&[-1.0, -0.46, -5.0], "masked category must be -inf"),
    ];
    for (x, phrase) in cases {
        assert_rule!(
            c.ln_pdf_exp(x),
            Error::NotOnSimplex { .. },
            "not in the open simplex",
            phrase
        );
    }
}

#[test]
fn noise_rules() {
    let c = concrete(&[0.0, 1.0, NEG_INF], 0.5);
    let cat = Categorical::new(logits(&[0.0, 1.0, NEG_INF]));
    let short = [0.0, 1.0];
    assert_rule!(
        c.from_noise(&short),
        Error::WrongLength {
            expected: 3,
            found: 2
        },
        "expected 3"
    );
    assert_rule!(
        c.log_from_noise(&short),
        Error::WrongLength { .. },
        "wrong length"
    );
    assert_rule!(
        c.hard_from_noise(&short),
        Error::WrongLength { .. },
        "wrong length"
    );
    assert_rule!(
        cat.gumbel_max(&short),
        Error::WrongLength { .. },
        "wrong length"
    );
    assert_rule!(
        cat.top_k(&short, 1),
        Error::WrongLength { .. },
        "wrong length"
    );
    let mut out = [0.0; 2];
    assert_rule!(
        c.from_noise_into(&[0.0; 3], &mut out),
        Error::WrongLength {
            expected: 3,
            found: 2
        },
        "found 2"
    );
    // Non-finite noise, also on a masked category: Gumbel noise is a finite real number.
    for (i, bad) in [(0, NAN), (1, INF), (2, NEG_INF)] {
        let mut g = [0.1, -0.2, 0.3];
        g[i] = bad;
        assert_rule!(
            c.from_noise(&g),
            Error::NoiseNotFinite { .. },
            &format!("noise value {i}"),
            "must be finite"
        );
        assert!(matches!(c.from_noise(&g), Err(Error::NoiseNotFinite { index, .. }) if index == i));
        assert_rule!(
            c.log_from_noise(&g),
            Error::NoiseNotFinite { .. },
            "must be finite"
        );
        assert_rule!(
            c.hard_from_noise(&g),
            Error::NoiseNotFinite { .. },
            "must be finite"
        );
        assert_rule!(
            cat.gumbel_max(&g),
            Error::NoiseNotFinite { .. },
            "must be finite"
        );
        assert_rule!(
            cat.top_k(&g, 1),
            Error::NoiseNotFinite { .. },
            "must be finite"
        );
    }
    let b = BinaryConcrete::new(0.0, 1.0).unwrap();
    assert_rule!(
        b.from_logistic(NAN),
        Error::NoiseNotFinite { .. },
        "must be finite"
    );
    assert_rule!(
        b.from_logistic(INF),
        Error::NoiseNotFinite { .. },
        "must be finite"
    );
}

#[test]
fn draw_count_and_index_rules() {
    let cat = Categorical::new(logits(&[0.0, 1.0, NEG_INF]));
    let g = [0.0; 3];
    assert_rule!(
        cat.top_k(&g, 0),
        Error::CountZero { .. },
        "is 0",
        "at least 1"
    );
    assert_rule!(
        cat.top_k(&g, 3),
        Error::TooManyDraws {
            requested: 3,
            available: 2
        },
        "3 draws without replacement",
        "only 2 categories"
    );
    let mut rng = gumbel_audit::rng::seeded(0);
    assert_rule!(
        cat.sample_top_k(&mut rng, 0),
        Error::CountZero { .. },
        "at least 1"
    );
    assert_rule!(
        cat.sample_top_k(&mut rng, 4),
        Error::TooManyDraws { .. },
        "only 2"
    );
    assert_rule!(
        cat.ln_prob_ordered(&[]),
        Error::CountZero { .. },
        "at least 1"
    );
    assert_rule!(
        cat.ln_prob_ordered(&[3]),
        Error::IndexOutOfRange { index: 3, k: 3 },
        "out of range"
    );
    assert_rule!(
        cat.ln_prob_ordered(&[1, 1]),
        Error::RepeatedIndex { index: 1 },
        "appears twice"
    );
}

#[test]
fn scalar_distribution_rules() {
    for (loc, scale) in [
        (NAN, 1.0),
        (INF, 1.0),
        (0.0, 0.0),
        (0.0, -1.0),
        (0.0, NAN),
        (0.0, INF),
    ] {
        assert_rule!(
            Gumbel::new(loc, scale),
            Error::InvalidParameter { .. },
            "it must be"
        );
    }
    let g = Gumbel::standard();
    for u in [0.0, 1.0, -0.5, 1.5, NAN, INF] {
        assert_rule!(
            g.from_uniform(u),
            Error::UniformOutOfRange { .. },
            "open interval (0, 1)"
        );
    }
    for p in [-1e-300, 1.0 + 1e-15, NAN, INF] {
        assert_rule!(g.quantile(p), Error::ProbabilityOutOfRange { .. }, "[0, 1]");
        assert_rule!(g.isf(p), Error::ProbabilityOutOfRange { .. }, "[0, 1]");
    }
    assert_rule!(
        TruncatedGumbel::new(NAN, 0.0),
        Error::InvalidParameter {
            name: "location",
            ..
        },
        "location",
        "finite"
    );
    for upper in [NAN, NEG_INF] {
        assert_rule!(
            TruncatedGumbel::new(0.0, upper),
            Error::InvalidParameter {
                name: "upper bound",
                ..
            },
            "upper bound",
            "+inf"
        );
    }
    let t = TruncatedGumbel::new(0.0, 1.0).unwrap();
    assert_rule!(
        t.from_uniform(0.0),
        Error::UniformOutOfRange { .. },
        "(0, 1)"
    );
    assert_rule!(
        t.quantile(1.5),
        Error::ProbabilityOutOfRange { .. },
        "[0, 1]"
    );
    for l in [NAN, INF, NEG_INF] {
        assert_rule!(
            BinaryConcrete::new(l, 1.0),
            Error::InvalidParameter { name: "logit", .. },
            "logit",
            "finite"
        );
    }
    let b = BinaryConcrete::new(0.3, 0.5).unwrap();
    for x in [0.0, 1.0, -0.1, NAN, INF] {
        assert_rule!(
            b.ln_pdf(x),
            Error::NotInUnitInterval { .. },
            "open interval (0, 1)"
        );
        assert_rule!(
            b.cdf(x),
            Error::NotInUnitInterval { .. },
            "open interval (0, 1)"
        );
    }
    assert_rule!(
        b.from_uniform(1.0),
        Error::UniformOutOfRange { .. },
        "(0, 1)"
    );
    assert_rule!(
        b.quantile(NAN),
        Error::ProbabilityOutOfRange { .. },
        "[0, 1]"
    );
    assert_rule!(
        TemperatureSchedule::new(0.5, NAN, 10),
        Error::InvalidParameter { name: "rate", .. },
        "rate"
    );
    assert_rule!(
        TemperatureSchedule::new(0.5, 1e-4, 0),
        Error::CountZero { .. },
        "at least 1"
    );
}

/// A sweep of hostile values (NaN, ±inf, ±0, the smallest subnormal, ±1e308) through every
/// fallible entry point, in every argument position: each call returns (Ok or Err) instead of
/// panicking. Finiteness of the results over the documented range is tests/distributions/range.rs's job.
#[test]
fn nothing_panics_on_hostile_values() {
    let hostile = [
        NAN, INF, NEG_INF, 0.0, -0.0, 1.0, -1.0, 5e-324, 1e308, -1e308, 0.5,
    ];
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        for &a in &hostile {
            for &b in &hostile {
                let _ = Gumbel::new(a, b).map(|g| (g.from_uniform(b), g.quantile(a), g.isf(b)));
                let _ = TruncatedGumbel::new(a, b).map(|t| (t.from_uniform(a), t.quantile(b)));
                if let Ok(bc) = BinaryConcrete::new(a, b) {
                    let _ = (bc.ln_pdf(a), bc.cdf(b), bc.quantile(a), bc.from_logistic(b));
                }
                let _ = TemperatureSchedule::with_initial(a, b, a, 3).map(|s| s.temperature(7));
                for &c in &hostile {
                    let l = [a, b, c];
                    let Ok(lg) = Logits::from_slice(&l) else {
                        continue;
                    };
                    let cat = Categorical::new(lg.clone());
                    let _ = cat.gumbel_max(&[c, a, b]);
                    let _ = cat.top_k(&[b, c, a], 2);
                    let _ = cat.ln_prob_ordered(&[0, 2]);
                    for &tau in &hostile {
                        if let Ok(conc) = Concrete::new(lg.clone(), tau) {
                            let _ = conc.from_noise(&[a, b, c]);
                            let _ = conc.ln_pdf(&[a.abs(), b.abs(), c.abs()]);
                            let _ = conc.ln_pdf_exp(&[a, b, c]);
                        }
                    }
                }
            }
        }
    }));
    assert!(panicked.is_ok(), "a library call panicked on hostile input");
}
