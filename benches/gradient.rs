//! Gradient-row benchmarks: one Gumbel-Softmax and one straight-through gradient row against
//! drawing the Concrete sample itself, k = 10 and k = 1000 (issue 4: a row costs at most 2x the
//! sample). Every variant draws its own noise from a seeded `ChaCha8Rng` (k standard Gumbel
//! words per row, the noise `Concrete::sample_into` draws). Throughput in elements: one element
//! is one category of one row, so "ns per element" compares directly across the variants.
//!
//! Reproduce the figures of docs/performance.md with
//! `cargo bench --bench gradient -- --warm-up-time 1 --measurement-time 3`.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gumbel_audit::distributions::{Concrete, Logits};
use gumbel_audit::grad::{GumbelSoftmax, Objective, StraightThrough};
use gumbel_audit::rng::seeded;

/// Temperature: the generic value of the sampling benches.
const TAU: f64 = 0.5;

/// Logits `l_i = sin(i)·3`, as in benches/sampling.rs.
fn logits(k: usize) -> Logits {
    let values: Vec<f64> = (0..k).map(|i| 3.0 * (i as f64).sin()).collect();
    Logits::new(values).expect("finite logits")
}

/// The quadratic objective with target `t_i = 1/k` (a generic point of the simplex): its
/// gradient `2(y - t)` depends on `y`, so the Gumbel-Softmax row does the full work.
fn objective(k: usize) -> Objective {
    Objective::quadratic(vec![1.0 / k as f64; k]).expect("finite target")
}

fn rows(c: &mut Criterion) {
    let mut group = c.benchmark_group("gradient_row");
    for k in [10, 1000] {
        let draws = 100_000 / k;
        group.throughput(Throughput::Elements((draws * k) as u64));
        let dist = Concrete::new(logits(k), TAU).expect("valid temperature");
        let gs = GumbelSoftmax::new(logits(k), TAU, objective(k)).expect("valid");
        let st = StraightThrough::new(logits(k), TAU, objective(k)).expect("valid");

        let mut out = vec![0.0; k];
        let mut rng = seeded(5);
        group.bench_with_input(BenchmarkId::new("concrete_sample_into", k), &k, |b, _| {
            b.iter(|| {
                for _ in 0..draws {
                    dist.sample_into(&mut rng, &mut out);
                    black_box(&out);
                }
            })
        });
        let mut rng = seeded(5);
        group.bench_with_input(BenchmarkId::new("gumbel_softmax_row", k), &k, |b, _| {
            b.iter(|| {
                for _ in 0..draws {
                    black_box(gs.sample_row_with(&mut rng));
                }
            })
        });
        let mut rng = seeded(5);
        group.bench_with_input(BenchmarkId::new("straight_through_row", k), &k, |b, _| {
            b.iter(|| {
                for _ in 0..draws {
                    black_box(st.sample_row_with(&mut rng));
                }
            })
        });
    }
    group.finish();
}

criterion_group!(benches, rows);
criterion_main!(benches);
