//! The `tokens` oracle family (kind: exact and tolerance checks against the mpmath oracle):
//! the reference's kept sets and pmfs agree with `fixtures/tokens.json`, the oracle's boundary
//! cases say what docs/tokens.md says, and a fixture with one kept set or one pmf value
//! changed is caught (the family check is seen to fail).

use gumbel_audit::golden::{Family, check_text};
use serde_json::Value;

fn parsed() -> Value {
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/tokens.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn check(v: &Value) -> gumbel_audit::golden::FamilyCheck {
    check_text(Family::Tokens, &serde_json::to_string(v).unwrap()).unwrap()
}

#[test]
fn the_reference_agrees_with_the_oracle() {
    let c = check(&parsed());
    assert!(c.passed, "{:#?}", c.failure_examples);
    assert!(c.cases >= 60, "{}", c.cases);
}

#[test]
fn the_oracle_keeps_what_the_definition_says_at_the_boundary() {
    let v = parsed();
    let kept = |i: usize| v["cases"][i]["kept"].clone();
    // (0.5, 0.25, 0.25), P = 0.75: the cumulative mass reaches P exactly after two tokens.
    assert_eq!(
        v["cases"][0]["values"],
        serde_json::json!([0.5, 0.25, 0.25])
    );
    assert_eq!(kept(0), serde_json::json!([0, 1]));
    // The same under "extra token at equality": three.
    assert_eq!(kept(1), serde_json::json!([0, 1, 2]));
    // Uniform k = 4 at P = 0.5: two.
    assert_eq!(
        v["cases"][6]["values"],
        serde_json::json!([0.0, 0.0, 0.0, 0.0])
    );
    assert_eq!(kept(6), serde_json::json!([0, 1]));
}

#[test]
fn a_changed_kept_set_or_pmf_is_caught() {
    let mut v = parsed();
    v["cases"][0]["kept"] = serde_json::json!([0, 1, 2]);
    let c = check(&v);
    assert!(!c.passed && c.failure_examples[0].contains("kept"), "{c:?}");
    let mut v = parsed();
    let p = v["cases"][4]["pmf"][3].as_f64().unwrap();
    v["cases"][4]["pmf"][3] = Value::from(p * (1.0 + 1e-11));
    let c = check(&v);
    assert!(
        !c.passed && c.failure_examples[0].contains("pmf[3]"),
        "{c:?}"
    );
}
