//! Golden fixtures: chi-squared and G tests of `gumbel_audit::stats::chi2` against scipy 1.17.1
//! (`scipy.stats.chisquare`, `power_divergence(lambda_="log-likelihood")`, `chi2.sf`), read from
//! `fixtures/stats/chi2.json` as written by `scripts/scipy-oracle/run.sh`.
//!
//! scipy does not pool cells, so the comparison runs `goodness_of_fit` with pooling switched off
//! (`min_expected` below every expectation). For cases with `ddof > 0` the p-value is compared
//! through `chi2_sf` at scipy's `df = k - 1 - ddof`. Tolerances: statistics `1e-12` relative
//! (sums of `k ≤ 20` terms, each a few roundings), p-values and `chi2.sf` `1e-10` relative
//! (statrs's regularised incomplete gamma, ~1e-12 to 1e-11 here; scipy's cephes similar):
//! `CHI2_STATISTIC` and `CHI2_P_VALUE` of `gumbel_audit::golden::tolerance`, shared with the
//! `statistics` family of `gumbel-audit fixtures check`.

use gumbel_audit::golden::tolerance::{CHI2_P_VALUE, CHI2_STATISTIC};
use gumbel_audit::stats::{GofStatistic, chi2_sf, goodness_of_fit};
use serde_json::Value;

fn rel(ours: f64, theirs: f64) -> f64 {
    if theirs == 0.0 {
        ours.abs()
    } else {
        ((ours - theirs) / theirs).abs()
    }
}

fn fixture() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/stats/chi2.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("fixture present")).unwrap()
}

#[test]
fn pearson_and_g_match_scipy() {
    let fx = fixture();
    let cases = fx["cases"].as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let observed: Vec<u64> = case["observed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let expected: Vec<f64> = case["expected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let total: f64 = expected.iter().sum();
        let probs: Vec<f64> = expected.iter().map(|e| e / total).collect();
        let ddof = case["ddof"].as_u64().unwrap() as f64;
        let df = case["df"].as_f64().unwrap();
        let no_pooling = expected.iter().copied().fold(f64::INFINITY, f64::min) / 2.0;
        for (kind, stat_key, p_key) in [
            (
                GofStatistic::Pearson,
                "pearson_statistic",
                "pearson_p_value",
            ),
            (GofStatistic::G, "g_statistic", "g_p_value"),
        ] {
            let r = goodness_of_fit(&observed, &probs, kind, no_pooling).unwrap();
            assert!(r.pooled.is_empty(), "{name}: pooling must be off");
            let stat = case[stat_key].as_f64().unwrap();
            let p = case[p_key].as_f64().unwrap();
            assert!(
                rel(r.statistic, stat) < CHI2_STATISTIC,
                "{name} {kind:?}: {} vs {stat}",
                r.statistic
            );
            let ours_p = if ddof == 0.0 {
                assert_eq!(r.df as f64, df, "{name}");
                r.p_value
            } else {
                chi2_sf(r.statistic, df)
            };
            assert!(
                rel(ours_p, p) < CHI2_P_VALUE,
                "{name} {kind:?}: p {ours_p} vs {p}"
            );
        }
    }
}

#[test]
fn chi2_sf_matches_scipy() {
    let fx = fixture();
    let points = fx["sf"].as_array().unwrap();
    assert!(points.len() >= 40);
    for pt in points {
        let (df, x, sf) = (
            pt["df"].as_f64().unwrap(),
            pt["x"].as_f64().unwrap(),
            pt["sf"].as_f64().unwrap(),
        );
        let ours = chi2_sf(x, df);
        assert!(
            rel(ours, sf) < CHI2_P_VALUE,
            "df {df}, x {x}: {ours} vs {sf}"
        );
    }
}
