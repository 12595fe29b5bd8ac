//! Sampling benchmarks: Gumbel noise, Gumbel-Max, Concrete sampling (sequential and batch) and
//! the Concrete density. Fixed seeds; throughput in elements (one element = one category of
//! one sample, so "ns per element" is the time per 64-bit noise word used).
//!
//! Reproduce the figures of docs/performance.md with
//! `cargo bench --bench sampling` (a single group: `cargo bench --bench sampling -- concrete`).

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use gumbel_audit::distributions::fast;
use gumbel_audit::distributions::uniform::open_uniform;
use gumbel_audit::distributions::{Categorical, Concrete, Gumbel, Logits};
use gumbel_audit::rng::seeded;

/// Temperature of the Concrete benches: a generic value (τ = 1 would not exercise the
/// general path any differently, but a non-trivial τ is the honest case).
const TAU: f64 = 0.5;

/// Logits `l_i = sin(i)·3`: fixed, spread over [-3, 3], no special structure.
fn logits(k: usize) -> Logits {
    let values: Vec<f64> = (0..k).map(|i| 3.0 * (i as f64).sin()).collect();
    Logits::new(values).expect("finite logits")
}

fn gumbel_noise(c: &mut Criterion) {
    let n = 100_000;
    let mut group = c.benchmark_group("gumbel_noise");
    group.throughput(Throughput::Elements(n as u64));
    let g = Gumbel::standard();
    let mut out = vec![0.0; n];
    let mut rng = seeded(1);
    group.bench_function("sequential/Gumbel::sample_into", |b| {
        b.iter(|| {
            g.sample_into(&mut rng, &mut out);
            black_box(&out);
        })
    });
    let mut rng = seeded(1);
    group.bench_function("batch/fast::gumbel_noise", |b| {
        b.iter(|| {
            fast::gumbel_noise(&mut rng, &mut out);
            black_box(&out);
        })
    });
    group.finish();
    // The parallel form (same output for every thread count) on 1 and 2 threads, over 2²² draws
    // so that each thread gets 32 segments.
    let n = 1 << 22;
    let mut group = c.benchmark_group("gumbel_noise_par");
    group.throughput(Throughput::Elements(n as u64));
    let mut out = vec![0.0; n];
    for threads in [1, 2] {
        group.bench_with_input(BenchmarkId::new("threads", threads), &threads, |b, &t| {
            b.iter(|| {
                fast::gumbel_noise_par(1, &mut out, t);
                black_box(&out);
            })
        });
    }
    group.finish();
}

fn gumbel_max(c: &mut Criterion) {
    let mut group = c.benchmark_group("gumbel_max");
    for k in [10, 1000] {
        let cat = Categorical::new(logits(k));
        let draws = 100_000 / k;
        group.throughput(Throughput::Elements((draws * k) as u64));
        let mut rng = seeded(2);
        group.bench_with_input(BenchmarkId::new("Categorical::sample", k), &k, |b, _| {
            b.iter(|| {
                let mut acc = 0usize;
                for _ in 0..draws {
                    acc += cat.sample(&mut rng);
                }
                black_box(acc)
            })
        });
    }
    group.finish();
}

fn concrete(c: &mut Criterion) {
    let mut group = c.benchmark_group("concrete");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(4));
    for (k, n_seq, n_batch) in [(10, 10_000, 1_000_000), (1000, 100, 10_000)] {
        let dist = Concrete::new(logits(k), TAU).expect("valid temperature");
        let mut out = vec![0.0; k];
        let mut rng = seeded(3);
        group.throughput(Throughput::Elements((n_seq * k) as u64));
        group.bench_with_input(BenchmarkId::new("sequential/sample_into", k), &k, |b, _| {
            b.iter(|| {
                for _ in 0..n_seq {
                    dist.sample_into(&mut rng, &mut out);
                    black_box(&out);
                }
            })
        });
        if k == 10 {
            // The "straightforward Rust loop" of the comparison: inverse-CDF noise with
            // std's ln, max-subtracted softmax with std's exp, one row at a time.
            let centered = dist.logits().centered().to_vec();
            let inv = 1.0 / TAU;
            let mut rng = seeded(3);
            group.bench_with_input(BenchmarkId::new("naive_loop", k), &k, |b, _| {
                b.iter(|| {
                    for _ in 0..n_seq {
                        let mut m = f64::NEG_INFINITY;
                        for (y, &c) in out.iter_mut().zip(&centered) {
                            let u = open_uniform(&mut rng);
                            let s = (c - (-u.ln()).ln()) * inv;
                            m = m.max(s);
                            *y = s;
                        }
                        let mut total = 0.0;
                        for y in out.iter_mut() {
                            *y = (*y - m).exp();
                            total += *y;
                        }
                        for y in out.iter_mut() {
                            *y /= total;
                        }
                        black_box(&out);
                    }
                })
            });
        }
        let mut out = vec![0.0; n_batch * k];
        let mut rng = seeded(3);
        group.throughput(Throughput::Elements((n_batch * k) as u64));
        group.bench_with_input(
            BenchmarkId::new("batch/sample_batch_into", k),
            &k,
            |b, _| {
                b.iter(|| {
                    dist.sample_batch_into(&mut rng, &mut out)
                        .expect("whole rows");
                    black_box(&out);
                })
            },
        );
    }
    group.finish();
}

fn ln_pdf(c: &mut Criterion) {
    let mut group = c.benchmark_group("concrete_ln_pdf");
    for k in [10, 1000] {
        let dist = Concrete::new(logits(k), TAU).expect("valid temperature");
        let points = 10_000 / k;
        let ys = dist.sample_batch(&mut seeded(4), points);
        group.throughput(Throughput::Elements((points * k) as u64));
        group.bench_with_input(BenchmarkId::new("Concrete::ln_pdf", k), &k, |b, _| {
            b.iter(|| {
                let mut acc = 0.0;
                for y in ys.chunks_exact(k) {
                    acc += dist.ln_pdf(y).expect("a sample lies on the simplex");
                }
                black_box(acc)
            })
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = gumbel_noise, gumbel_max, concrete, ln_pdf
}
criterion_main!(benches);
