//! Correlated Gaussian rows from the crate's open uniforms (Box-Muller), the null and planted
//! samples of the Hotelling and energy tests in calibration_counts_multivariate.rs and
//! power_counts_multivariate.rs.

use gumbel_audit::distributions::uniform::open_uniform;
use rand::Rng;

/// A standard normal by Box-Muller from the crate's open uniforms.
pub fn normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u = open_uniform(rng);
    let v = open_uniform(rng);
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// Correlated Gaussian rows: mean `mu`, covariance L Lᵀ with L = [[1,0,0],[0.5,1,0],[-0.3,0.2,0.5]].
pub fn gaussian_rows<R: Rng + ?Sized>(rng: &mut R, n: usize, mu: [f64; 3]) -> Vec<[f64; 3]> {
    (0..n)
        .map(|_| {
            let z = [normal(rng), normal(rng), normal(rng)];
            [
                mu[0] + z[0],
                mu[1] + 0.5 * z[0] + z[1],
                mu[2] - 0.3 * z[0] + 0.2 * z[1] + 0.5 * z[2],
            ]
        })
        .collect()
}
