//! Value-stability vectors: pinned outputs of every seeded sampler on the crate's named portable
//! RNG, `gumbel_audit::rng::seeded(seed)` (`ChaCha8Rng::seed_from_u64`).
//!
//! # Where the numbers come from
//! They were produced by running this very code once (x86_64 Linux, glibc 2.36, rustc 1.95,
//! rand_chacha 0.10.0) and printing every float with 17 significant digits (`{:.16e}`), which
//! round-trips an f64 exactly. They are not an independent oracle: correctness is the business
//! of the property, quadrature and distributional tests. What they pin is the *stream*: which
//! RNG word feeds which category, how a word becomes a uniform, the order of operations. A
//! change that alters any of them is a value-stability break: users' seeded experiments would
//! no longer reproduce. Such a change must be deliberate, and noted in CHANGELOG.md together
//! with the regenerated vectors.
//!
//! # Portability
//! - The RNG words and everything computed from them with integer and basic float arithmetic
//!   (`+ - × ÷`, correctly rounded by IEEE 754) are bit-identical on every platform: the
//!   ChaCha8 words and the open uniforms are compared exactly everywhere.
//! - The samplers also call `ln`, `ln_1p` and `exp`, which Rust takes from the platform's libm;
//!   libm functions are not required to be correctly rounded, so another libm may differ in
//!   the last bit or so. The float outputs are therefore compared exactly on the platform that
//!   produced them (x86_64 Linux with glibc) and within [`LIBM_REL`] elsewhere. Draws that
//!   are integers (categories, top-k orders, one-hot rows) are compared exactly everywhere: a
//!   last-bit difference could flip one only at a near-tie of the scores, which none of these
//!   draws is near.

// The pinned floats carry 17 significant digits on purpose (docs/design/style.md §11: round-trip), which
// is more than the shortest representation clippy would like.
#![allow(clippy::excessive_precision)]

use gumbel_audit::distributions::uniform::open_uniform;
use gumbel_audit::distributions::{
    BinaryConcrete, Categorical, Concrete, Gumbel, Logits, TruncatedGumbel,
};
use gumbel_audit::rng::seeded;
use rand::Rng;

const NEG_INF: f64 = f64::NEG_INFINITY;

/// Relative tolerance off the reference platform: a libm result within a few ulps, amplified
/// by at most `1/τ = 10` and the magnitudes (≤ 40) of the scores in these cases: `2⁻⁴⁰`.
#[cfg(not(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu")))]
const LIBM_REL: f64 = 1.0 / 1_099_511_627_776.0;

/// Compares pinned floats: exactly on the reference platform, within [`LIBM_REL`] elsewhere.
fn assert_pinned(got: &[f64], want: &[f64], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        #[cfg(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu"))]
        let ok = g.to_bits() == w.to_bits();
        #[cfg(not(all(target_arch = "x86_64", target_os = "linux", target_env = "gnu")))]
        let ok = g == w || (g - w).abs() <= LIBM_REL * w.abs();
        assert!(
            ok,
            "{what}[{i}]: got {g:.16e}, pinned {w:.16e}: a value-stability break (CHANGELOG.md)"
        );
    }
}

#[test]
fn chacha8_words_and_uniforms() {
    let mut r = seeded(0);
    let words: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
    assert_eq!(
        words,
        [
            13080132717333068652,
            8594738769458413623,
            12896916468484187878
        ]
    );
    // Uniforms are (⌊w / 2¹²⌋ + ½)·2⁻⁵²: exact arithmetic, so exact everywhere.
    let mut r = seeded(0);
    for w in words {
        let want = ((w >> 12) as f64 + 0.5) / 4_503_599_627_370_496.0;
        assert_eq!(open_uniform(&mut r), want);
    }
}

#[test]
fn gumbel_sample() {
    let mut r = seeded(1);
    let got: Vec<f64> = (0..5).map(|_| Gumbel::standard().sample(&mut r)).collect();
    assert_pinned(
        &got,
        &[
            9.4205409208126895e-2,
            -9.2463333481917898e-1,
            6.6053449771631545e-1,
            -4.1686820742626701e-1,
            -2.3100941570031944e-1,
        ],
        "Gumbel::standard().sample, seed 1",
    );
    let g = Gumbel::new(2.5, 0.5).unwrap();
    let mut r = seeded(2);
    let got: Vec<f64> = (0..3).map(|_| g.sample(&mut r)).collect();
    assert_pinned(
        &got,
        &[
            3.5345041791004439e0,
            2.7548349244907828e0,
            3.2205418704591176e0,
        ],
        "Gumbel(2.5, 0.5).sample, seed 2",
    );
}

fn five_categories() -> Categorical {
    Categorical::new(Logits::new(vec![0.0, -1.5, 2.0, NEG_INF, 0.5]).unwrap())
}

#[test]
fn categorical_sample() {
    let c = five_categories();
    let mut r = seeded(3);
    let got: Vec<usize> = (0..12).map(|_| c.sample(&mut r)).collect();
    assert_eq!(got, [2, 2, 2, 4, 2, 2, 4, 2, 2, 2, 2, 2], "seed 3");
}

#[test]
fn categorical_sample_top_k() {
    let c = five_categories();
    let mut r = seeded(4);
    let got: Vec<Vec<usize>> = (0..3).map(|_| c.sample_top_k(&mut r, 3).unwrap()).collect();
    assert_eq!(got, [[2, 0, 4], [4, 2, 0], [0, 2, 4]], "seed 4");
}

#[test]
fn concrete_sample() {
    let c = Concrete::new(Logits::new(vec![0.0, -1.5, 2.0]).unwrap(), 0.5).unwrap();
    let mut r = seeded(5);
    assert_pinned(
        &c.sample(&mut r),
        &[
            2.9254592042451830e-4,
            3.3314267342555168e-4,
            9.9937431140614985e-1,
        ],
        "Concrete([0, -1.5, 2], 0.5).sample, seed 5, draw 1",
    );
    assert_pinned(
        &c.sample(&mut r),
        &[
            5.8448438992511498e-1,
            8.1239558015987364e-4,
            4.1470321449472514e-1,
        ],
        "Concrete([0, -1.5, 2], 0.5).sample, seed 5, draw 2",
    );
    // Large logits, a mask, small τ.
    let c = Concrete::new(Logits::new(vec![1e4, NEG_INF, 9999.0, -3.0]).unwrap(), 0.1).unwrap();
    let mut r = seeded(6);
    assert_pinned(
        &c.sample(&mut r),
        &[9.9999747202738776e-1, 0.0, 2.5279726122481171e-6, 0.0],
        "Concrete([1e4, -inf, 9999, -3], 0.1).sample, seed 6, draw 1",
    );
    assert_pinned(
        &c.sample(&mut r),
        &[9.9999999999763833e-1, 0.0, 2.3615022952406650e-12, 0.0],
        "Concrete([1e4, -inf, 9999, -3], 0.1).sample, seed 6, draw 2",
    );
}

#[test]
fn concrete_sample_hard() {
    let c = Concrete::new(Logits::new(vec![0.0, 0.5, 0.2, NEG_INF]).unwrap(), 1.0).unwrap();
    let mut r = seeded(7);
    let got: Vec<usize> = (0..6)
        .map(|_| {
            let h = c.sample_hard(&mut r);
            assert_eq!(h.iter().filter(|&&v| v == 1.0).count(), 1);
            assert_eq!(h.iter().filter(|&&v| v == 0.0).count(), 3);
            h.iter().position(|&v| v == 1.0).unwrap()
        })
        .collect();
    assert_eq!(got, [2, 0, 1, 0, 2, 1], "seed 7");
    // The hard sample consumes the RNG as the soft one does: it is the one-hot of the soft
    // sample's argmax from an identically seeded RNG.
    let mut soft = seeded(7);
    for &want in &got {
        let y = c.sample(&mut soft);
        let top = (0..y.len()).fold(0, |b, i| if y[i] > y[b] { i } else { b });
        assert_eq!(top, want);
    }
}

#[test]
fn binary_concrete_sample() {
    let b = BinaryConcrete::new(0.4, 0.5).unwrap();
    let mut r = seeded(8);
    let got: Vec<f64> = (0..5).map(|_| b.sample(&mut r)).collect();
    assert_pinned(
        &got,
        &[
            1.3371360322902882e-2,
            9.4678352102245245e-1,
            9.8264842547630304e-1,
            7.7747921780772478e-1,
            7.8186229480799718e-1,
        ],
        "BinaryConcrete(0.4, 0.5).sample, seed 8",
    );
    let mut r = seeded(9);
    let got: Vec<f64> = (0..3).map(|_| b.sample_log_odds(&mut r)).collect();
    assert_pinned(
        &got,
        &[
            -3.2986075077191952e0,
            3.3548206791264725e0,
            -4.8900997605703989e-1,
        ],
        "BinaryConcrete(0.4, 0.5).sample_log_odds, seed 9",
    );
}

#[test]
fn truncated_gumbel_sample() {
    let t = TruncatedGumbel::new(1.0, 0.5).unwrap();
    let mut r = seeded(10);
    let got: Vec<f64> = (0..5).map(|_| t.sample(&mut r)).collect();
    assert_pinned(
        &got,
        &[
            1.9854969483718576e-1,
            -8.6012762190149505e-1,
            1.8159548455231878e-1,
            4.1389441966489215e-1,
            3.4543081503874440e-1,
        ],
        "TruncatedGumbel(1, 0.5).sample, seed 10",
    );
}
