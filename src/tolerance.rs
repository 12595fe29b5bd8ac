//! Tolerances of the library, in one place, each with the reason for its size: one section per
//! layer (distributions, grad, stats, study). No threshold of the library's code is a bare
//! literal or a bare multiple of `f64::EPSILON`; tests state their own tolerances where they
//! compare, and the audit's and the golden checker's tables are `audit` and
//! `golden::tolerance`.
//!
//! # Shared by distributions and stats

/// How far `Σ y_i` may stray from 1 for a point to count as on the simplex (`|Σ y - 1| ≤ this`).
///
/// The density is then evaluated at the renormalised point `y / Σ y`. 1e-6 admits rows that
/// were computed in float32 and widened (each entry carries a relative error of about 6e-8, so
/// a row of k ≤ 16 entries sums within ~1e-6 of 1), as `torch.distributions.constraints.simplex`
/// does, while rejecting points that are plainly off the simplex. Points computed in f64 sit
/// within ~k·1e-16.
pub const SIMPLEX_SUM: f64 = 1e-6;

/// How far `logsumexp(x)` may stray from 0 for a log-space point `x = ln y` (ExpConcrete).
/// The same 1e-6 as [`SIMPLEX_SUM`]: `logsumexp(ln y) = ln Σ y ≈ Σ y - 1`.
pub const LOG_SIMPLEX_SUM: f64 = 1e-6;

/// The smallest ratio of the smallest to the largest eigenvalue of a covariance matrix that
/// Hotelling's T² accepts; below it the matrix is treated as singular
/// ([`crate::Error::SingularCovariance`]). At 1e-12 the inverse still carries about 4 correct
/// digits (f64 has ~16; a relative perturbation ε of the matrix moves `S⁻¹` by ~ε/condition), while
/// rows that sum to a constant (condition ~1e-16 from rounding alone) are caught.
pub const COVARIANCE_CONDITION: f64 = 1e-12;

// ---------------------------------------------------------------------------------------------
// distributions
// ---------------------------------------------------------------------------------------------

/// The bisection for the ziggurat's base height `y₀` (`distributions::fast`) stops when its
/// bracket is at most this relative width: one ulp of `y₀`, the finest the bisection can
/// resolve (the midpoint of a narrower bracket rounds to an end).
pub const ZIGGURAT_BISECTION: f64 = f64::EPSILON;

/// How far each fast-accept column of the ziggurat is shrunk inside its level set, relative to
/// `1 + |x|`. The level sets are found by bisection to an ulp and the density is evaluated with
/// a few ulps of rounding, so a column edge can sit a few `10⁻¹⁶` outside the true curve; a
/// margin of about 50 ulps keeps every fast-accepted point strictly under the density, and
/// points inside the margin go to the exact wedge test, so the law is unchanged (only
/// `10⁻¹⁴` of the draws take the slower route).
pub const ZIGGURAT_ACCEPT_MARGIN: f64 = 1e-14;

// ---------------------------------------------------------------------------------------------
// grad
// ---------------------------------------------------------------------------------------------

/// The rounding floor of the quadrature's error estimate (`grad::quadrature`), per unit of
/// `h·Σ|terms|`: the last refinement's change is only trusted above four ulps of the sum of the
/// absolute terms (each term is a few rounded operations, the sum one more rounding per
/// term relative to its partial sums), so an integral whose terms cancel does not iterate
/// on noise.
pub const QUADRATURE_ROUNDING: f64 = 4.0 * f64::EPSILON;

/// Relative tolerance of each integral of the exact `k = 2` ground truth (`grad::truth`), times
/// the integral's scale: about 450 ulps, above the [`QUADRATURE_ROUNDING`] floor of the smooth
/// one-signed integrands there (so the refinement terminates), while the ground truth stays
/// within about `10⁻¹³` of its scale.
pub const GRAD_TRUTH_REL: f64 = 1e-13;

// ---------------------------------------------------------------------------------------------
// stats
// ---------------------------------------------------------------------------------------------

/// Newton's iteration for the Gauss-Legendre nodes (`stats::anderson_darling`) stops when its
/// step is below this: the nodes lie in `[-1, 1]`, so a step under half an ulp of 1
/// (`1.1·10⁻¹⁶`) no longer changes a node by more than its rounding.
pub const GAUSS_LEGENDRE_NEWTON_STEP: f64 = 1e-16;

/// Series of positive terms (the binomial tail sum in `stats::binomial`, the Poisson mixture of
/// the noncentral χ² in `stats::chi2`) stop once a term is below this fraction of the running
/// total: a tenth of an ulp of the total. Past the mode the terms fall at least geometrically,
/// so the omitted rest is a bounded multiple of the last term and below rounding.
pub const SERIES_TRUNCATION: f64 = 1e-17;

/// The bisections that invert χ² tails (`stats::chi2`: quantiles and the noncentrality for a
/// given power) stop at this relative bracket width: about 450 ulps, near the relative accuracy
/// of the tail functions being inverted, so a narrower bracket would follow their rounding
/// noise rather than the root.
pub const CHI2_BISECTION: f64 = 1e-13;

/// Two-sided binomial p-value (`stats::binomial`): outcomes whose probability is at most
/// `pmf(k)·(1 + this)` count as at least as extreme as `k`, so that outcomes of equal
/// probability that differ only by the rounding of `ln pmf` (about `10⁻¹³` relative) are
/// counted together. The same `10⁻⁷` as R's `binom.test` (`relErr`).
pub const BINOMIAL_TIE_REL: f64 = 1e-7;

/// Pomeranz's recursion for the Kolmogorov-Smirnov CDF (`stats::ks`): breakpoints within this
/// of an integer are merged with it; a cell that narrow carries probability below `n·10⁻¹²`
/// relative to the CDF's scale, and without the merge the recursion would divide by a width
/// made of rounding.
pub const KS_BREAKPOINT_MERGE: f64 = 1e-12;

/// Energy-distance permutation test (`stats::two_sample`): a permuted statistic within this
/// relative distance of the observed one counts as at least as large. The same split summed in
/// another order differs by rounding (about `n·10⁻¹⁶` relative), and counting such ties as
/// exceedances keeps the p-value conservative.
pub const PERMUTATION_TIE_REL: f64 = 1e-12;

// ---------------------------------------------------------------------------------------------
// study (and its plots)
// ---------------------------------------------------------------------------------------------

/// An axis whose data span less than this (in data units, or in decades on a log axis) is
/// widened by ±0.5 (`plot`): a flat series would otherwise give a zero-width axis and divide
/// by zero when mapped to pixels; `10⁻¹²` is far below any span a study plots.
pub const PLOT_MIN_SPAN: f64 = 1e-12;
