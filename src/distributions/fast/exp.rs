//! The branch-free table `exp` of the batch sampler: [`exp_kernel`] (and its alias
//! [`exp_nonpos`] for the max-subtracted softmax), with the `2^(j/64)` table and the
//! reduction constants that the AVX2 twin in `simd.rs` shares.
//!
//! # Formula
//! ```text
//! exp_kernel(x)  x clamped to [-1100, 709],  n = round(64 x / ln 2),  j = n mod 64,
//!                r = x - n·(ln 2/64)_hi - n·(ln 2/64)_lo ∈ [-0.0055, 0.0055],
//!                e^x = 2^⌊n/64⌋ · (T_j + T_j·(eʳ - 1)),   T_j = 2^(j/64) (table, hi + lo),
//!                eʳ - 1 by its Taylor polynomial of degree 5 (remainder < 4·10⁻¹⁷ relative),
//!                2^⌊n/64⌋ applied as two normal powers of two (gradual underflow)
//! ```
//! It accepts `x ≤ 709` including `-inf` (a masked category; larger `x` are clamped),
//! returns exactly 0 below `-1100` (and from `-745.2`, as `f64::exp`); its error against
//! `f64::exp` is at most [`EXP_MAX_ULPS`] ulp, for normal results and, in units of the
//! smallest subnormal, for subnormal ones (tested on sweeps of `[-760, 0]` and `[0, 709]` and
//! at the edges). The wedge test of the ziggurat's slow path evaluates the density with it
//! too (within `10⁻¹³` relative of `std`'s, tested).
//!
//! # References
//! - W. J. Cody, W. Waite, *Software Manual for the Elementary Functions*, Prentice-Hall 1980
//!   (argument reduction with a split `ln 2`).

/// Largest error of [`exp_kernel`] (and [`exp_nonpos`]) against `f64::exp`, in ulps (for
/// subnormal results: units of the smallest subnormal), tested on sweeps of `[-760, 0]` and
/// `[0, 709]` and at the edges.
pub const EXP_MAX_ULPS: u64 = 1;

/// `ln 2 / 64` split so that `n · LN2_64_HI` is exact for `|n| < 2¹⁷`: 36 significant bits.
pub(super) const LN2_64_HI: f64 = 0.010830424696223417; // 0x1.62e42fefa0000p-7
pub(super) const LN2_64_LO: f64 = 2.572804622327669e-14;
/// `64 / ln 2`.
pub(super) const INV_LN2_64: f64 = 92.33248261689366;
/// `1.5 · 2⁵²`: adding it rounds to an integer, whose two's complement sits in the low bits.
pub(super) const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0;
/// Below this, `e^x` is 0 in `f64` (the smallest subnormal is `e^-744.4`); clamping keeps the
/// exponent arithmetic in range and turns `-inf` into an exact 0.
pub(super) const EXP_LOWER: f64 = -1100.0;
/// The largest argument of [`exp_kernel`] (`e^709 = 8.2·10³⁰⁷`, below `f64::MAX`); larger
/// arguments are clamped to it.
pub const EXP_KERNEL_MAX: f64 = 709.0;
/// The `2^(j/64)` table, aligned so that the AVX2 kernel's 16-byte loads of one `[hi, lo]`
/// entry never cross a cache line.
#[repr(C, align(64))]
pub(super) struct Exp2Table(pub(super) [[f64; 2]; 64]);

/// `2^(j/64) = hi + lo`, `j = 0 … 63`: `hi` correctly rounded, `lo` the rounded remainder
/// (computed with 60-digit decimal arithmetic).
pub(super) static EXP2_TABLE: Exp2Table = Exp2Table([
    [1.0, 0.0],
    [1.0108892860517005, -1.5234778603368577e-17],
    [1.0218971486541166, 5.109225028973444e-17],
    [1.0330248790212284, 7.600838874027088e-18],
    [1.0442737824274138, 8.551889705537965e-17],
    [1.0556451783605572, 1.759325738772092e-18],
    [1.0671404006768237, -7.899853966841582e-17],
    [1.0787607977571199, -6.656660436056593e-17],
    [1.0905077326652577, -3.046782079812471e-17],
    [1.102382583307841, 5.2660368715706944e-17],
    [1.1143867425958924, 1.0410278456845571e-16],
    [1.1265216186082418, 5.165856758795457e-17],
    [1.1387886347566916, 8.912812676025408e-17],
    [1.1511892299529827, 3.250710218863827e-17],
    [1.1637248587775775, 3.8292048369240935e-17],
    [1.1763969916502812, 5.554203254218079e-17],
    [1.189207115002721, 3.982015231465646e-17],
    [1.202156731452703, 6.644981499252301e-17],
    [1.215247359980469, -7.712630692681488e-17],
    [1.22848053610687, -1.89878163130253e-17],
    [1.241857812073484, 4.658027591836937e-17],
    [1.255380757024691, -6.7113898212968784e-18],
    [1.2690509571917332, 2.667932131342186e-18],
    [1.2828700160787783, 1.713594918243561e-17],
    [1.2968395546510096, 2.5382502794888315e-17],
    [1.3109612115247644, -7.181536135519454e-17],
    [1.3252366431597413, -2.8587312100388614e-17],
    [1.339667524053303, 8.927282594831732e-17],
    [1.3542555469368927, 7.70094837980299e-17],
    [1.3690024229745905, 9.593797919118849e-17],
    [1.383909881963832, -6.770511658794786e-17],
    [1.3989796725383112, -9.614213209051323e-17],
    [std::f64::consts::SQRT_2, -9.667293313452913e-17],
    [1.42961333839197, -1.2031642489053655e-17],
    [1.4451808069770467, -3.0237581349939873e-17],
    [1.460917794180647, -5.600377186075216e-17],
    [1.4768261459394993, -3.483994556892796e-17],
    [1.4929077282912648, 1.4192920154284036e-17],
    [1.5091644275934228, -1.016455327754295e-16],
    [1.5255981507445384, -1.1024941712342561e-16],
    [1.5422108254079407, 7.949834809697621e-17],
    [1.559004400237837, 3.7812070533575275e-17],
    [1.5759808451078865, -1.0136916471278304e-17],
    [1.593142151342267, -1.0094406542311964e-16],
    [1.6104903319492543, 2.4707192569797888e-17],
    [1.6280274218573478, -6.712955084707084e-17],
    [1.645755478153965, -1.0125679913674773e-16],
    [1.6636765803267364, 5.8909926967131e-17],
    [1.681792830507429, 8.199010020581497e-17],
    [1.7001063537185235, -8.0237193703977e-18],
    [1.718619298122478, -1.851380418263111e-17],
    [1.7373338352737062, 3.164389299292957e-17],
    [1.7562521603732995, 2.960140695448873e-17],
    [1.7753764925265212, 6.429731796556572e-17],
    [1.7947090750031072, 1.8227458427912087e-17],
    [1.8142521755003989, -9.969531538920349e-17],
    [1.8340080864093424, 3.283107224245627e-17],
    [1.8539791250833855, 9.761887490727594e-17],
    [1.8741676341103, -6.122763413004143e-17],
    [1.8945759815869656, 3.4034035352165297e-17],
    [1.9152065613971474, -1.0619946056195963e-16],
    [1.9360617934922943, 1.0332385960676326e-16],
    [1.9571441241754002, 8.960767791036668e-17],
    [1.978456026387951, 4.0388753109278167e-17],
]);

/// `e^x` for `x ≤ 0` (including `-inf`, which gives exactly 0), branch-free (module doc).
///
/// The same function as [`exp_kernel`] (which also accepts positive arguments up to
/// [`EXP_KERNEL_MAX`]); kept under this name for the max-subtracted softmax.
///
/// # Example
/// ```
/// use gumbel_audit::distributions::fast::exp_nonpos;
/// assert_eq!(exp_nonpos(f64::NEG_INFINITY), 0.0); // a masked category
/// assert_eq!(exp_nonpos(0.0), 1.0);
/// let x = -3.25_f64;
/// assert!((exp_nonpos(x) - x.exp()).abs() <= f64::EPSILON * x.exp());
/// ```
#[inline(always)]
pub fn exp_nonpos(x: f64) -> f64 {
    exp_kernel(x)
}

/// `e^x` for `x ≤ EXP_KERNEL_MAX` (including `-inf`, which gives exactly 0), branch-free
/// (module doc); larger arguments are clamped to [`EXP_KERNEL_MAX`].
///
/// At most [`EXP_MAX_ULPS`] ulp from `f64::exp` on `[-760, 709]` (for subnormal results: in
/// units of the smallest subnormal), exactly 0 below `-745.2` and for `-inf`, never NaN or
/// inf (tested on dense sweeps of both signs and at the edges).
///
/// # Example
/// ```
/// use gumbel_audit::distributions::fast::exp_kernel;
/// assert_eq!(exp_kernel(f64::NEG_INFINITY), 0.0);
/// let x = 700.5_f64;
/// assert!((exp_kernel(x) - x.exp()).abs() <= f64::EPSILON * x.exp());
/// ```
#[inline(always)]
pub fn exp_kernel(x: f64) -> f64 {
    let x = if x < EXP_LOWER { EXP_LOWER } else { x };
    let x = if x > EXP_KERNEL_MAX {
        EXP_KERNEL_MAX
    } else {
        x
    };
    let shifted = x * INV_LN2_64 + ROUND_MAGIC;
    let n = shifted - ROUND_MAGIC; // round(64 x / ln 2), an integer in [-101 568, 65 459]
    let r = (x - n * LN2_64_HI) - n * LN2_64_LO; // |r| ≤ ln 2 / 128 + rounding
    // eʳ - 1 by its Taylor polynomial of degree 5 (remainder below 3.5·10⁻¹⁷ relative).
    let p = r + r * r * (0.5 + r * (1.0 / 6.0 + r * (1.0 / 24.0 + r * (1.0 / 120.0))));
    let bits = shifted.to_bits().wrapping_sub(ROUND_MAGIC.to_bits()); // n, two's complement
    let [hi, lo] = EXP2_TABLE.0[(bits & 63) as usize];
    let t = hi + (lo + hi * p); // 2^(j/64) · eʳ ∈ [0.99, 2.02)
    // ⌊n/64⌋ + 2046 ∈ [459, 3068], split into two biased exponents ⌊·/2⌋ and ⌈·/2⌉ in
    // [229, 1534]: two normal powers of two, so that subnormal results are rounded only once.
    let e = (bits.wrapping_add(2046 << 6) >> 6) & 0xfff;
    let e1 = e >> 1;
    let e2 = e - e1;
    t * f64::from_bits(e1 << 52) * f64::from_bits(e2 << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place between two non-negative finite doubles (for
    /// subnormals: units of the smallest subnormal).
    fn ulps(a: f64, b: f64) -> u64 {
        assert!(
            a >= 0.0 && b >= 0.0 && a.is_finite() && b.is_finite(),
            "{a} {b}"
        );
        a.to_bits().abs_diff(b.to_bits())
    }

    /// Max ulp error of `exp_kernel` against `std` on dense sweeps of `[-760, 0]` and
    /// `[0, 709]`, fine sweeps near 0 and the edges. Seen to fail with the polynomial cut to
    /// degree 4 (349 ulp).
    #[test]
    fn exp_kernel_max_error_is_one_ulp() {
        let mut worst = (0, 0.0);
        let mut check = |x: f64| {
            let d = ulps(exp_kernel(x), x.exp());
            if d > worst.0 {
                worst = (d, x);
            }
        };
        // [-760, 0]: normal results down to -708.4, subnormal ones below, 0 below -745.2.
        let n = 2_000_000;
        for i in 0..=n {
            check(-760.0 * i as f64 / n as f64);
        }
        for i in 0..=100_000 {
            check(-(i as f64) * 1e-5);
            check(-(i as f64) * 1e-12);
            check(i as f64 * 1e-5);
            check(i as f64 * 1e-12);
        }
        for x in [
            0.0,
            -0.0,
            -f64::MIN_POSITIVE,
            -1e-300,
            -f64::EPSILON,
            -0.5 * std::f64::consts::LN_2,
            -708.3964185322641,
            -708.4,
            -744.4400719213812,
            -745.1332191019411,
            -745.2,
        ] {
            check(x);
        }
        assert!(
            worst.0 <= EXP_MAX_ULPS,
            "max error {} ulp at x = {}",
            worst.0,
            worst.1
        );
        // [0, 709]: the shifted path's scores.
        let mut worst = (0, 0.0);
        let mut check = |x: f64| {
            let d = ulps(exp_kernel(x), x.exp());
            if d > worst.0 {
                worst = (d, x);
            }
        };
        for i in 0..=n {
            check(EXP_KERNEL_MAX * i as f64 / n as f64);
        }
        for x in [
            f64::MIN_POSITIVE,
            1e-300,
            f64::EPSILON,
            0.5 * std::f64::consts::LN_2,
            1.0,
            700.0,
            708.0,
            708.999_999_999,
            EXP_KERNEL_MAX,
        ] {
            check(x);
        }
        assert!(
            worst.0 <= EXP_MAX_ULPS,
            "max error {} ulp at x = {}",
            worst.0,
            worst.1
        );
        // Far below the range and masked categories: exactly 0, never NaN.
        for x in [-746.0, -1100.0, -1e7, -1e300, f64::MIN, f64::NEG_INFINITY] {
            assert_eq!(exp_kernel(x), 0.0, "x = {x}");
        }
        // Above the range: clamped, finite.
        for x in [709.5, 1e4, f64::MAX, f64::INFINITY] {
            assert_eq!(exp_kernel(x), exp_kernel(EXP_KERNEL_MAX), "x = {x}");
            assert!(exp_kernel(x).is_finite());
        }
        assert_eq!(exp_kernel(0.0), 1.0);
    }
}
