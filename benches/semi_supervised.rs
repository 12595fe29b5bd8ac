//! One training step of the semi-supervised study (issue 8) for each estimator of the
//! unlabelled objective `U(x)`: exact marginalisation over `k` classes, one Gumbel-Softmax
//! sample, one straight-through sample, at `k = 10` and `k = 100`.
//!
//! The step is `study::semi_supervised::Model::step` on the study's default setup (decoder width
//! 64, d = 8, 32 unlabelled points, no labelled points, τ = 0.5, seed 0): forward and backward
//! for every parameter, no update. Throughput in elements: one element is one unlabelled point,
//! so the time per element is the time per point of one step.
//!
//! Reproduce the figures of docs/performance.md with
//! `cargo bench --bench semi_supervised -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gumbel_audit::rng::seeded;
use gumbel_audit::study::semi_supervised::{Estimator, Gradients, SemiSupervisedStudy, Workspace};

fn steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("semi_supervised_step");
    for k in [10, 100] {
        let study = SemiSupervisedStudy::new(vec![k], 0);
        let setup = study.setup(k).expect("valid settings");
        let batch = setup.as_batch();
        group.throughput(Throughput::Elements(batch.unlabelled.len() as u64));
        for estimator in [
            Estimator::Exact,
            Estimator::GumbelSoftmax,
            Estimator::StraightThrough,
        ] {
            let mut ws = Workspace::new(&setup.model);
            let mut grads = Gradients::zeros(&setup.model);
            let mut rng = seeded(5);
            group.bench_with_input(BenchmarkId::new(estimator.name(), k), &k, |b, _| {
                b.iter(|| {
                    black_box(
                        setup
                            .model
                            .step(&batch, estimator, &mut rng, &mut ws, &mut grads)
                            .expect("valid batch"),
                    )
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
