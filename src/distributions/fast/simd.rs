//! The crate's only `unsafe` code: runtime selection of AVX2 for the shifted path and the
//! AVX2 intrinsics kernels of its fast pass. Everything else in the crate is safe Rust
//! (`#![deny(unsafe_code)]` at the crate root; this module alone carries
//! `#[allow(unsafe_code)]`, on its declaration in `fast/mod.rs`).
//!
//! # Dispatch
//! The shifted path is written once ([`ShiftedJob::run`]) and compiled twice: for the
//! baseline target (x86-64: SSE2) and, in [`shifted_rows_avx2`], with AVX2 enabled, which
//! LLVM uses to process four `f64` lanes at a time; with AVX2 the job also gets the kernels
//! below. [`shifted_rows`] runs the AVX2 version only if the CPU reports AVX2
//! (`is_x86_feature_detected!`). FMA is deliberately not enabled: the two versions execute
//! the same IEEE operations (no contraction, no reassociation), so their outputs are bit for
//! bit the same (tested in `fast/mod.rs`) and seeded results do not depend on the CPU.
//! Measured figures: `docs/performance.md`.
//!
//! # Kernels
//! The fast pass of the shifted path written with AVX2 intrinsics ([`score_exp`]): the same
//! IEEE operations as the portable `score_exp_loops` (`shifted.rs`) in the same order (so the
//! same bits, tested), with three differences in how they are fed. Each layer's `[lo, width,
//! in_lo, in_hi]` comes from one 32-byte row per lane (`LayerRow`) transposed in registers,
//! and each `2^(j/64)` as one 16-byte `[hi, lo]` load per lane, instead of LLVM's
//! element-by-element emulation of sixteen and eight lookups; the score and the `exp` are one
//! pass; and rejected draws are reported as a 4-bit mask per quad (`movmsk`), not as NaN to
//! be searched for. Also here: the `exp` of the rejected draws four at a time
//! ([`exp_in_place`]), the grouped layout's 4 × 4 transposes to row-major output
//! ([`write_groups`]) and the streaming stores for outputs far larger than the caches
//! ([`stream_copy`], [`fence`]).
//!
//! # Safety argument
//! Every intrinsic is reached through a token ([`Avx2`]) that only [`Avx2::detect`] makes, after
//! `is_x86_feature_detected!("avx2")`; each `unsafe` block states the bounds it relies on in
//! a `SAFETY` comment, and the `unsafe fn`s assert their length preconditions.
#![warn(clippy::undocumented_unsafe_blocks)]

use rand::Rng;
#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::*;

use super::exp::exp_kernel;
#[cfg(target_arch = "x86_64")]
use super::exp::{
    EXP_KERNEL_MAX, EXP_LOWER, EXP2_TABLE, INV_LN2_64, LN2_64_HI, LN2_64_LO, ROUND_MAGIC,
};
use super::shifted::ShiftedJob;
use super::words::word_at;
use super::ziggurat::GumbelZiggurat;
#[cfg(target_arch = "x86_64")]
use super::ziggurat::{TWO52, TWO52_BITS};

/// Proof that the CPU supports AVX2: only [`Avx2::detect`] makes one.
#[derive(Debug, Clone, Copy)]
pub(super) struct Avx2 {
    _private: (),
}

impl Avx2 {
    /// `Some` if the CPU supports AVX2 (`is_x86_feature_detected!`).
    pub(super) fn detect() -> Option<Avx2> {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2") {
                return Some(Avx2 { _private: () });
            }
        }
        None
    }
}

/// `out_i ← e^((offset_i + g_i)·inv)` for the ziggurat point `g_i` of word `i` of `bytes`,
/// where it lies in its fast-accept column; elsewhere `out_i` is unspecified and bit
/// `i mod 64` of `masks[i / 64]` is set (`masks` is resized to `⌈n/64⌉`).
pub(super) fn score_exp(
    token: Avx2,
    zig: &GumbelZiggurat,
    bytes: &[u8],
    offset: &[f64],
    inv: f64,
    out: &mut [f64],
    masks: &mut Vec<u64>,
) {
    let _ = token;
    let n = out.len();
    let (bytes, offset) = (&bytes[..8 * n], &offset[..n]);
    masks.clear();
    masks.resize(n.div_ceil(64), 0);
    let quads = n / 4;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `token` exists only where the CPU supports AVX2 (`Avx2::detect`), which is
    // all `kernel` requires; its slices are `32·quads` bytes and `4·quads` entries long,
    // as its loads and stores assume.
    unsafe {
        kernel(
            zig,
            &bytes[..32 * quads],
            &offset[..4 * quads],
            inv,
            &mut out[..4 * quads],
            masks,
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = quads;
    // The last n mod 4 entries as in `score_exp_loops`.
    for i in 4 * quads..n {
        let (j, x) = zig.layer_point(word_at(bytes, i));
        if zig.inside(j, x) {
            out[i] = exp_kernel((offset[i] + x) * inv);
        } else {
            masks[i / 64] |= 1 << (i % 64);
        }
    }
}

/// `x ← exp_kernel(x)` for every entry (the same bits), four at a time with AVX2.
pub(super) fn exp_in_place(token: Avx2, xs: &mut [f64]) {
    let _ = token;
    let quads = xs.len() / 4;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `token` proves AVX2.
    unsafe {
        exp_quads(&mut xs[..4 * quads]);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let quads = 0;
    for x in &mut xs[4 * quads..] {
        *x = exp_kernel(*x);
    }
}

/// Whole groups to row-major output, as `shifted::write_group` for each (group `g`: values
/// `vals[4k·g ..]`, inverse row sums `inv[4g .. 4g + 4]`, rows `dst[4k·g ..]`), with
/// the data moved in registers: per four categories four loads, four products, eight
/// shuffles and four stores; the last `k mod 4` categories by pairs and singles. The same
/// products, so the same bits.
pub(super) fn write_groups(token: Avx2, k: usize, vals: &[f64], inv: &[f64], dst: &mut [f64]) {
    let _ = token;
    let groups = inv.len() / 4;
    let (vals, dst) = (&vals[..4 * k * groups], &mut dst[..4 * k * groups]);
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `token` proves AVX2; the lengths are those `groups_avx2` requires.
    unsafe {
        groups_avx2(k, vals, &inv[..4 * groups], dst);
    }
    #[cfg(not(target_arch = "x86_64"))]
    for ((v, i), d) in vals
        .chunks_exact(4 * k)
        .zip(inv.chunks_exact(4))
        .zip(dst.chunks_exact_mut(4 * k))
    {
        super::shifted::write_group(v, [i[0], i[1], i[2], i[3]], d);
    }
}

/// `dst ← src` with non-temporal (streaming) stores for the 32-byte-aligned part of `dst`:
/// the lines go to memory without being read first (no read-for-ownership) and without
/// evicting the working set; for outputs far larger than the caches (see
/// [`super::STREAM_MIN_ENTRIES`]). Call [`fence`] before the written data is handed on.
pub(super) fn stream_copy(token: Avx2, src: &[f64], dst: &mut [f64]) {
    let _ = token;
    let n = src.len().min(dst.len());
    let misalign = (dst.as_ptr() as usize % 32) / 8;
    let head = if misalign == 0 {
        0
    } else {
        (4 - misalign).min(n)
    };
    dst[..head].copy_from_slice(&src[..head]);
    let quads = (n - head) / 4;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `token` proves AVX2; dst[head ..] starts on a 32-byte boundary (f64 slices
    // are 8-byte aligned, and `head` entries reach the next boundary), and the `quads`
    // quads from `head` are in bounds of both slices.
    unsafe {
        stream_quads(
            &src[head..head + 4 * quads],
            &mut dst[head..head + 4 * quads],
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    dst[head..head + 4 * quads].copy_from_slice(&src[head..head + 4 * quads]);
    let done = head + 4 * quads;
    dst[done..n].copy_from_slice(&src[done..n]);
}

/// # Safety
/// The CPU must support AVX2; `dst` starts on a 32-byte boundary; equal lengths, a
/// multiple of 4.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn stream_quads(src: &[f64], dst: &mut [f64]) {
    assert!(src.len() == dst.len() && src.len() % 4 == 0);
    assert!(dst.as_ptr() as usize % 32 == 0);
    for i in (0..src.len()).step_by(4) {
        // SAFETY: entries i .. i + 4 are in bounds; dst + i is 32-byte aligned.
        unsafe {
            let v = _mm256_loadu_pd(src.as_ptr().add(i));
            _mm256_stream_pd(dst.as_mut_ptr().add(i), v);
        }
    }
}

/// Orders the streaming stores of [`stream_copy`] before every later store (`sfence`).
pub(super) fn fence(token: Avx2) {
    let _ = token;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `sfence` (SSE) is available on every x86-64 CPU; it only orders stores.
    unsafe {
        _mm_sfence();
    }
}

/// The groups of [`write_groups`].
///
/// # Safety
/// The CPU must support AVX2; `vals.len() = dst.len() = k·inv.len()`, `inv.len()` a
/// multiple of 4, `k ≥ 1`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn groups_avx2(k: usize, vals: &[f64], inv: &[f64], dst: &mut [f64]) {
    let groups = inv.len() / 4;
    assert!(k >= 1 && vals.len() == 4 * k * groups && dst.len() == 4 * k * groups);
    for g in 0..groups {
        // SAFETY: group g's entries 4k·g .. 4k·(g + 1) of `vals` and `dst` and its four
        // inverse sums are in bounds (checked above); every access below stays inside them.
        unsafe {
            let invv = _mm256_loadu_pd(inv.as_ptr().add(4 * g));
            let src = vals.as_ptr().add(4 * k * g);
            let d0 = dst.as_mut_ptr().add(4 * k * g);
            let (d1, d2, d3) = (d0.add(k), d0.add(2 * k), d0.add(3 * k));
            let product = |c: usize| _mm256_mul_pd(_mm256_loadu_pd(src.add(4 * c)), invv);
            let mut c = 0;
            while c + 4 <= k {
                let (p0, p1, p2, p3) = (product(c), product(c + 1), product(c + 2), product(c + 3));
                let a = _mm256_unpacklo_pd(p0, p1); // row 0: c, c+1 | row 2: c, c+1
                let b = _mm256_unpackhi_pd(p0, p1); // row 1 | row 3
                let e = _mm256_unpacklo_pd(p2, p3);
                let f = _mm256_unpackhi_pd(p2, p3);
                _mm256_storeu_pd(d0.add(c), _mm256_permute2f128_pd::<0x20>(a, e));
                _mm256_storeu_pd(d1.add(c), _mm256_permute2f128_pd::<0x20>(b, f));
                _mm256_storeu_pd(d2.add(c), _mm256_permute2f128_pd::<0x31>(a, e));
                _mm256_storeu_pd(d3.add(c), _mm256_permute2f128_pd::<0x31>(b, f));
                c += 4;
            }
            if c + 2 <= k {
                let (p0, p1) = (product(c), product(c + 1));
                let a = _mm256_unpacklo_pd(p0, p1);
                let b = _mm256_unpackhi_pd(p0, p1);
                _mm_storeu_pd(d0.add(c), _mm256_castpd256_pd128(a));
                _mm_storeu_pd(d1.add(c), _mm256_castpd256_pd128(b));
                _mm_storeu_pd(d2.add(c), _mm256_extractf128_pd::<1>(a));
                _mm_storeu_pd(d3.add(c), _mm256_extractf128_pd::<1>(b));
                c += 2;
            }
            if c < k {
                let p = product(c);
                let (low, high) = (_mm256_castpd256_pd128(p), _mm256_extractf128_pd::<1>(p));
                _mm_store_sd(d0.add(c), low);
                _mm_storeh_pd(d1.add(c), low);
                _mm_store_sd(d2.add(c), high);
                _mm_storeh_pd(d3.add(c), high);
            }
        }
    }
}

/// The quads of [`score_exp`] (`bytes.len() = 32·q`, `offset.len() = out.len() = 4·q`,
/// `masks.len() ≥ ⌈q/16⌉`, zeroed) in two passes: the scores (and the masks), then the
/// `exp` in place. One fused pass measured slower: a quad's chain (word → row → point →
/// score → `exp` polynomial → scaling) is about 40 dependent operations, too long for
/// enough quads to be in flight; each pass's shorter chain overlaps across iterations.
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn kernel(
    zig: &GumbelZiggurat,
    bytes: &[u8],
    offset: &[f64],
    inv: f64,
    out: &mut [f64],
    masks: &mut [u64],
) {
    let q = out.len() / 4;
    assert!(bytes.len() == 32 * q && offset.len() == 4 * q && masks.len() >= q.div_ceil(16));
    let low8 = _mm256_set1_epi64x(0xff);
    let two52_bits = _mm256_set1_epi64x(TWO52_BITS as i64);
    let two52 = _mm256_set1_pd(TWO52);
    let invv = _mm256_set1_pd(inv);
    // Row addresses from byte offsets `32·j` formed in the vector (one shift for four
    // lanes instead of one per lane).
    let rows = zig.rows.as_ptr().cast::<u8>();
    let row = |offset: i64| {
        let offset = (offset as usize) & (0xff << 5);
        // SAFETY: offset = 32·j with j < 256 (masked): row j of the 256 32-byte-aligned
        // LayerRows, four f64.
        unsafe { _mm256_load_pd(rows.add(offset).cast::<f64>()) }
    };
    // Sixteen quads (64 entries) per mask word, collected in a register.
    for (c, mask_word) in masks[..q.div_ceil(16)].iter_mut().enumerate() {
        let mut acc = 0_u64;
        for tt in 0..16.min(q - 16 * c) {
            let i = 4 * (16 * c + tt);
            // SAFETY: bytes 8i .. 8i + 32 are in bounds (bytes.len() = 32·q).
            let w = unsafe { _mm256_loadu_si256(bytes.as_ptr().add(8 * i).cast::<__m256i>()) };
            // The layer rows, transposed: lo, width, in_lo, in_hi of the four lanes.
            let j = _mm256_slli_epi64::<5>(_mm256_and_si256(w, low8));
            let r0 = row(_mm256_extract_epi64::<0>(j));
            let r1 = row(_mm256_extract_epi64::<1>(j));
            let r2 = row(_mm256_extract_epi64::<2>(j));
            let r3 = row(_mm256_extract_epi64::<3>(j));
            let a01 = _mm256_unpacklo_pd(r0, r1); // lo0 lo1 | in_lo0 in_lo1
            let b01 = _mm256_unpackhi_pd(r0, r1); // w0 w1 | in_hi0 in_hi1
            let a23 = _mm256_unpacklo_pd(r2, r3);
            let b23 = _mm256_unpackhi_pd(r2, r3);
            let lo = _mm256_permute2f128_pd::<0x20>(a01, a23);
            let in_lo = _mm256_permute2f128_pd::<0x31>(a01, a23);
            let width = _mm256_permute2f128_pd::<0x20>(b01, b23);
            let in_hi = _mm256_permute2f128_pd::<0x31>(b01, b23);
            // m = from_bits(2⁵² bits | w >> 12) - 2⁵²,  x = lo + m·(width·2⁻⁵²).
            let ubits = _mm256_or_si256(_mm256_srli_epi64::<12>(w), two52_bits);
            let m = _mm256_sub_pd(_mm256_castsi256_pd(ubits), two52);
            let x = _mm256_add_pd(lo, _mm256_mul_pd(m, width));
            let inside = _mm256_and_pd(
                _mm256_cmp_pd::<_CMP_GE_OQ>(x, in_lo),
                _mm256_cmp_pd::<_CMP_LE_OQ>(x, in_hi),
            );
            let m = (!_mm256_movemask_pd(inside) & 0xf) as u64;
            acc |= m << (4 * tt);
            // SAFETY: entries i .. i + 4 of `offset` and `out` are in bounds (4·q long).
            unsafe {
                let off = _mm256_loadu_pd(offset.as_ptr().add(i));
                let s = _mm256_mul_pd(_mm256_add_pd(off, x), invv);
                _mm256_storeu_pd(out.as_mut_ptr().add(i), s);
            }
        }
        *mask_word = acc;
    }
    // SAFETY: AVX2 as for `kernel`; `out` holds 4·q entries.
    unsafe { exp_quads(out) };
}

/// `x ← exp_kernel(x)` for the first `4·⌊n/4⌋` entries, operation for operation (the
/// same bits as [`exp_kernel`]).
///
/// # Safety
/// The CPU must support AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn exp_quads(out: &mut [f64]) {
    let lower = _mm256_set1_pd(EXP_LOWER);
    let upper = _mm256_set1_pd(EXP_KERNEL_MAX);
    let inv_ln2 = _mm256_set1_pd(INV_LN2_64);
    let magic = _mm256_set1_pd(ROUND_MAGIC);
    let magic_bits = _mm256_set1_epi64x(ROUND_MAGIC.to_bits() as i64);
    let ln2_hi = _mm256_set1_pd(LN2_64_HI);
    let ln2_lo = _mm256_set1_pd(LN2_64_LO);
    let (c2, c3, c4, c5) = (
        _mm256_set1_pd(0.5),
        _mm256_set1_pd(1.0 / 6.0),
        _mm256_set1_pd(1.0 / 24.0),
        _mm256_set1_pd(1.0 / 120.0),
    );
    let low6 = _mm256_set1_epi64x(63);
    let bias = _mm256_set1_epi64x(2046 << 6);
    let low12 = _mm256_set1_epi64x(0xfff);
    let table = EXP2_TABLE.0.as_ptr().cast::<u8>();
    let entry = |offset: i64| {
        let offset = (offset as usize) & (63 << 4);
        // SAFETY: offset = 16·j with j < 64 (masked): entry j of the table, two f64,
        // 16-byte aligned (the table is 64-byte aligned).
        unsafe { _mm_load_pd(table.add(offset).cast::<f64>()) }
    };
    for t in 0..out.len() / 4 {
        let i = 4 * t;
        // SAFETY: entries i .. i + 4 of `out` are in bounds.
        let s = unsafe { _mm256_loadu_pd(out.as_ptr().add(i)) };
        // exp_kernel(s), operation for operation.
        let s = _mm256_min_pd(upper, _mm256_max_pd(lower, s));
        let shifted = _mm256_add_pd(_mm256_mul_pd(s, inv_ln2), magic);
        let nn = _mm256_sub_pd(shifted, magic);
        let r = _mm256_sub_pd(
            _mm256_sub_pd(s, _mm256_mul_pd(nn, ln2_hi)),
            _mm256_mul_pd(nn, ln2_lo),
        );
        let h = _mm256_add_pd(c4, _mm256_mul_pd(r, c5));
        let h = _mm256_add_pd(c3, _mm256_mul_pd(r, h));
        let h = _mm256_add_pd(c2, _mm256_mul_pd(r, h));
        let p = _mm256_add_pd(r, _mm256_mul_pd(_mm256_mul_pd(r, r), h));
        let bits = _mm256_sub_epi64(_mm256_castpd_si256(shifted), magic_bits);
        let k = _mm256_slli_epi64::<4>(_mm256_and_si256(bits, low6));
        let e0 = entry(_mm256_extract_epi64::<0>(k));
        let e1 = entry(_mm256_extract_epi64::<1>(k));
        let e2 = entry(_mm256_extract_epi64::<2>(k));
        let e3 = entry(_mm256_extract_epi64::<3>(k));
        let e02 = _mm256_set_m128d(e2, e0); // hi0 lo0 | hi2 lo2
        let e13 = _mm256_set_m128d(e3, e1);
        let hi = _mm256_unpacklo_pd(e02, e13); // hi0 hi1 | hi2 hi3
        let lo_t = _mm256_unpackhi_pd(e02, e13);
        let tt = _mm256_add_pd(hi, _mm256_add_pd(lo_t, _mm256_mul_pd(hi, p)));
        let ex = _mm256_and_si256(_mm256_srli_epi64::<6>(_mm256_add_epi64(bits, bias)), low12);
        let ex1 = _mm256_srli_epi64::<1>(ex);
        let ex2 = _mm256_sub_epi64(ex, ex1);
        let f1 = _mm256_castsi256_pd(_mm256_slli_epi64::<52>(ex1));
        let f2 = _mm256_castsi256_pd(_mm256_slli_epi64::<52>(ex2));
        let y = _mm256_mul_pd(_mm256_mul_pd(tt, f1), f2);
        // SAFETY: as the load above.
        unsafe { _mm256_storeu_pd(out.as_mut_ptr().add(i), y) };
    }
}

/// Runs `job` on `out` with the best available instruction set.
pub(super) fn shifted_rows<R: Rng + ?Sized>(job: &mut ShiftedJob<'_, R>, out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            job.kernel = Avx2::detect();
            // SAFETY: `shifted_rows_avx2` only requires the CPU to support AVX2, which
            // was detected at run time on the line above.
            unsafe { shifted_rows_avx2(job, out) };
            return;
        }
    }
    job.run(out);
}

/// [`ShiftedJob::run`] compiled with AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
pub(super) fn shifted_rows_avx2<R: Rng + ?Sized>(job: &mut ShiftedJob<'_, R>, out: &mut [f64]) {
    job.run(out);
}

/// [`ShiftedJob::run`] compiled for the baseline target, whatever the CPU (tests compare
/// it with the dispatched version).
#[cfg(test)]
pub(super) fn shifted_rows_baseline<R: Rng + ?Sized>(job: &mut ShiftedJob<'_, R>, out: &mut [f64]) {
    job.run(out);
}
