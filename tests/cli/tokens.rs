//! `gumbel-audit tokens` (kind: command-line contract): the kept set and pmf of the exact
//! token-sampler law as a table and as JSON, and bad input refused with exit 2 and the rule.

use serde_json::Value;

use crate::common::binary::run;

fn stdout(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn cumulative_mass_equal_to_top_p_keeps_two_tokens() {
    let text = stdout(&["tokens", "--probs", "0.5,0.25,0.25", "--top-p", "0.75"]);
    assert!(text.contains("kept 2 of 3 tokens"), "{text}");
    assert!(text.contains("kept set certified"), "{text}");
    let rows: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(
        rows,
        vec![
            "rank\ttoken\tpmf",
            "1\t0\t0.6666666666666666",
            "2\t1\t0.3333333333333333"
        ]
    );
}

#[test]
fn json_has_the_kept_set_and_the_whole_pmf() {
    let text = stdout(&[
        "tokens", "--logits", "0,1,1,-1", "--top-k", "1", "--order", "vllm", "--json",
    ]);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["kept"], serde_json::json!([1]));
    assert_eq!(v["pmf"], serde_json::json!([0.0, 1.0, 0.0, 0.0]));
    assert_eq!(v["order"], "vllm");
    assert_eq!(v["undecided"], serde_json::json!([]));
}

#[test]
fn an_alternative_convention_is_computed_on_request() {
    let args = |c: &'static str| {
        let text = stdout(&[
            "tokens",
            "--logits",
            "0,0,0,0",
            "--top-p",
            "0.5",
            "--convention",
            c,
            "--json",
        ]);
        let v: Value = serde_json::from_str(&text).unwrap();
        v["kept"].as_array().unwrap().len()
    };
    assert_eq!(args("canonical"), 2);
    assert_eq!(args("top_p_extra_at_equality"), 3);
}

#[test]
fn bad_input_is_exit_2_naming_the_rule() {
    for (args, needle) in [
        (vec!["tokens", "--logits", "0,1", "--top-p", "0"], "(0, 1]"),
        (vec!["tokens", "--logits", "0,1", "--min-p", "2"], "[0, 1]"),
        (
            vec!["tokens", "--logits", "0,1", "--top-k", "0"],
            "top-k is 0",
        ),
        (
            vec!["tokens", "--logits", "0,1", "--temperature", "0"],
            "positive",
        ),
        (vec!["tokens", "--logits", "0,nan"], "finite or -inf"),
        (vec!["tokens", "--logits", "-inf,-inf"], "all logits"),
        (vec!["tokens", "--probs", "0.5,-1"], "[0, 1]"),
        (
            vec!["tokens", "--probs", "0.5,0.5", "--temperature", "2"],
            "give logits",
        ),
        (
            vec!["tokens", "--logits", "0,1", "--order", "sglang"],
            "hf or vllm",
        ),
        (
            vec!["tokens", "--logits", "0", "--probs", "1"],
            "exactly one",
        ),
        (
            vec!["tokens", "--logits", "0", "--convention", "x"],
            "canonical",
        ),
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
