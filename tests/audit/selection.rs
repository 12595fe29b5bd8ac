//! Seeds per check (`audit::seed`): a check run alone with `--only` gives the p-value, sample
//! size and seeds it gives in the full battery, and a target that lacks one op changes no other
//! check's p-value. These are exact equalities (same seeds, same arrays, same statistics), not
//! statistical statements; the reference target at the quick level, one fixed master seed.

use gumbel_audit::audit::{
    Array, AuditOptions, AuditReport, Capabilities, GradRequest, Level, Op, ReferenceTarget,
    Selection, Target, TargetError, TokenRequest, Verdict, check_ids, run_battery,
};

const SEED: u64 = 77;

fn run(target: &mut dyn Target, selection: Selection) -> AuditReport {
    let options = AuditOptions::new(Level::Quick, SEED, 1e-3)
        .unwrap()
        .with_selection(selection);
    run_battery(target, &options, &mut |_| {}).unwrap()
}

fn only(id: &str) -> Selection {
    Selection::new(Some(&[id.to_string()]), &[]).unwrap()
}

#[test]
fn every_check_alone_gives_its_full_battery_p_value() {
    let full = run(&mut ReferenceTarget::new(), Selection::all());
    assert_eq!(full.checks.len(), check_ids().len());
    for id in check_ids() {
        let alone = run(&mut ReferenceTarget::new(), only(id));
        assert_eq!(alone.checks.len(), 1, "{id}");
        let (a, f) = (&alone.checks[0], full.check(id).unwrap());
        assert_eq!(a.id, id);
        assert_ne!(a.verdict, Verdict::Skipped, "{id}: {}", a.detail);
        assert_eq!(
            a.p_value.map(f64::to_bits),
            f.p_value.map(f64::to_bits),
            "{id}"
        );
        assert_eq!(a.n, f.n, "{id}");
        assert_eq!(a.seeds, f.seeds, "{id}");
        assert!(!a.seeds.is_empty() || a.p_value.is_none(), "{id}");
    }
}

#[test]
fn skipping_checks_moves_no_other_check() {
    let full = run(&mut ReferenceTarget::new(), Selection::all());
    let skip: Vec<String> = [
        "noise.finite",
        "categorical.indices",
        "relaxed.simplex",
        "grad.reinforce",
    ]
    .map(String::from)
    .to_vec();
    let some = run(
        &mut ReferenceTarget::new(),
        Selection::new(None, &skip).unwrap(),
    );
    assert_eq!(some.checks.len(), full.checks.len() - skip.len());
    for c in &some.checks {
        let f = full.check(&c.id).unwrap();
        assert_eq!(
            c.p_value.map(f64::to_bits),
            f.p_value.map(f64::to_bits),
            "{}",
            c.id
        );
        assert_eq!(c.seeds, f.seeds, "{}", c.id);
    }
}

/// The reference with one op left out of its capabilities (and answered `unsupported`).
struct Without(ReferenceTarget, Op);

impl Without {
    fn gate(&self, op: Op) -> Result<(), TargetError> {
        if op == self.1 {
            Err(TargetError::Unsupported)
        } else {
            Ok(())
        }
    }
}

impl Target for Without {
    fn capabilities(&mut self) -> Result<Capabilities, TargetError> {
        let mut c = self.0.capabilities()?;
        c.ops.retain(|op| *op != self.1);
        Ok(c)
    }
    fn gumbel(&mut self, n: usize, seed: u64) -> Result<Array, TargetError> {
        self.gate(Op::Gumbel)?;
        self.0.gumbel(n, seed)
    }
    fn categorical(&mut self, l: &[f64], n: usize, seed: u64) -> Result<Array, TargetError> {
        self.gate(Op::Categorical)?;
        self.0.categorical(l, n, seed)
    }
    fn relaxed_sample(
        &mut self,
        l: &[f64],
        tau: f64,
        hard: bool,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        self.gate(Op::RelaxedSample)?;
        self.0.relaxed_sample(l, tau, hard, n, seed)
    }
    fn relaxed_log_prob(&mut self, l: &[f64], tau: f64, y: &[f64]) -> Result<Array, TargetError> {
        self.gate(Op::RelaxedLogProb)?;
        self.0.relaxed_log_prob(l, tau, y)
    }
    fn binary_sample(
        &mut self,
        l: f64,
        tau: f64,
        n: usize,
        seed: u64,
    ) -> Result<Array, TargetError> {
        self.gate(Op::BinarySample)?;
        self.0.binary_sample(l, tau, n, seed)
    }
    fn binary_log_prob(&mut self, l: f64, tau: f64, y: &[f64]) -> Result<Array, TargetError> {
        self.gate(Op::BinaryLogProb)?;
        self.0.binary_log_prob(l, tau, y)
    }
    fn grad(&mut self, request: &GradRequest) -> Result<Array, TargetError> {
        self.gate(Op::Grad)?;
        self.0.grad(request)
    }
    fn token_sample(&mut self, request: &TokenRequest) -> Result<Array, TargetError> {
        self.gate(Op::TokenSample)?;
        self.0.token_sample(request)
    }
}

#[test]
fn removing_an_op_changes_no_other_checks_p_value() {
    let full = run(&mut ReferenceTarget::new(), Selection::all());
    for op in Op::ALL {
        let part = run(&mut Without(ReferenceTarget::new(), op), Selection::all());
        let mut skipped = 0;
        for c in &part.checks {
            let f = full.check(&c.id).unwrap();
            if c.verdict == Verdict::Skipped {
                skipped += 1;
                assert!(c.detail.contains(op.name()), "{}: {}", c.id, c.detail);
                continue;
            }
            assert_eq!(
                c.p_value.map(f64::to_bits),
                f.p_value.map(f64::to_bits),
                "without {}: {}",
                op.name(),
                c.id
            );
            assert_ne!(c.verdict, Verdict::Fail, "without {}: {}", op.name(), c.id);
        }
        assert!(skipped >= 1, "without {}: nothing skipped", op.name());
    }
}

#[test]
fn an_unknown_id_is_an_error_naming_the_valid_ids() {
    let e = Selection::new(Some(&["noise.cfd".to_string()]), &[]).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("noise.cfd") && msg.contains("noise.cdf") && msg.contains("bad_input"));
    assert!(Selection::new(None, &["grad.varience".to_string()]).is_err());
}

#[test]
fn a_selection_the_target_cannot_run_is_nothing_tested() {
    let r = run(
        &mut Without(ReferenceTarget::new(), Op::Gumbel),
        only("noise.cdf"),
    );
    assert_eq!(r.checks[0].verdict, Verdict::Skipped);
    assert_eq!(r.verdict, Verdict::Error);
    assert_eq!(r.exit_code(), 2);
    assert!(r.problem.as_deref().unwrap().contains("nothing was tested"));
}
