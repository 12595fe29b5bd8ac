//! The exact law of a token sampler: the kept set and the pmf after temperature, top-k,
//! top-p and min-p, composed in an engine's order under a convention.
//!
//! # Definition
//! ```text
//! rank order   unmasked tokens by probability descending, then index ascending
//!              (equal logits are equal probabilities: ties are broken by index)
//! temperature  p_i ∝ exp(l_i / T)
//! top-k        keep the first K ranks (all if K ≥ the number of unmasked tokens)
//! top-p        keep rank r iff D_<r < P, D_<r the mass of the ranks before r in the current
//!              candidates renormalised: the smallest prefix whose mass reaches P, including
//!              the crossing token (Holtzman et al. 2019); P = 1 keeps everything
//! min-p        keep rank r iff p_r ≥ M · p_max (M = 0 keeps everything)
//! pmf          p_i = w_i / Σ_{j kept} w_j on the kept set, 0 outside
//! ```
//! Each stage keeps a prefix of the rank order and at least the first rank, so the kept set is
//! never empty. The orders (`tokens::order`) say which stage comes first; a later stage sees
//! the distribution renormalised over the survivors of the earlier ones.
//!
//! # Exactness
//! The kept set is decided exactly for the probabilities form and with a certified bound plus
//! exact tie detection for logits (`tokens::weights` has the arithmetic). A token whose
//! membership was decided inside the bound is listed in [`TokenLaw::undecided`]; the law is
//! certified when that list is empty. The pmf has relative error at most
//! [`TokenLaw::pmf_bound`] per entry.
//!
//! # Example
//! ```
//! use gumbel_audit::tokens::{Order, TokenInput, TokenLaw, TokenParams};
//! // Cumulative mass exactly 0.75 after two tokens: the nucleus of 0.75 is those two.
//! let input = TokenInput::probs(vec![0.5, 0.25, 0.25]).unwrap();
//! let params = TokenParams::new(1.0, None, 0.75, 0.0).unwrap();
//! let law = TokenLaw::new(&input, &params, Order::Hf).unwrap();
//! assert_eq!(law.kept(), &[0, 1]);
//! assert_eq!(law.pmf(), &[2.0 / 3.0, 1.0 / 3.0, 0.0]);
//! assert!(law.undecided().is_empty());
//! ```

use crate::error::Error;
use crate::tokens::input::TokenInput;
use crate::tokens::order::{Convention, Order, Stage};
use crate::tokens::params::TokenParams;
use crate::tokens::weights::{TopPRule, Weights};

const U: f64 = f64::EPSILON / 2.0;

/// The kept set and the pmf of one (row, parameters, order, convention).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenLaw {
    kept: Vec<usize>,
    pmf: Vec<f64>,
    log_w: Vec<f64>,
    undecided: Vec<usize>,
    pmf_bound: f64,
}

impl TokenLaw {
    /// The canonical law of `input` under `params` in `order`.
    ///
    /// # Errors
    /// As [`TokenLaw::with_convention`].
    pub fn new(input: &TokenInput, params: &TokenParams, order: Order) -> Result<Self, Error> {
        TokenLaw::with_slack(input, params, order, Convention::Canonical, 0.0)
    }

    /// The law under a named alternative convention (`tokens::order`).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for a temperature other than 1 with the probabilities form
    /// (`q^(1/T)` would not be exact: give logits).
    pub fn with_convention(
        input: &TokenInput,
        params: &TokenParams,
        order: Order,
        convention: Convention,
    ) -> Result<Self, Error> {
        TokenLaw::with_slack(input, params, order, convention, 0.0)
    }

    /// The law with every comparison that is not an exact equality moved by the relative
    /// `slack` (`tokens::weights`, *Slack*): `slack > 0` gives the largest kept set a sampler
    /// computing with relative error `slack` may produce, `slack < 0` the smallest.
    ///
    /// # Errors
    /// As [`TokenLaw::with_convention`]; [`Error::InvalidParameter`] for a slack that is not
    /// finite or not in `(-1, 1)`.
    pub fn with_slack(
        input: &TokenInput,
        params: &TokenParams,
        order: Order,
        convention: Convention,
        slack: f64,
    ) -> Result<Self, Error> {
        if !(slack > -1.0 && slack < 1.0) {
            return Err(Error::InvalidParameter {
                name: "slack",
                value: slack,
                rule: "in (-1, 1)",
            });
        }
        let t = params.temperature();
        if input.is_probs() && t != 1.0 {
            return Err(Error::InvalidParameter {
                name: "temperature with probabilities",
                value: t,
                rule: "1: p^(1/T) is not exact in floating point; give logits for T ≠ 1",
            });
        }
        let sampled = Weights::new(input, t);
        let judged_t = if convention == Convention::TemperatureAfterTruncation {
            1.0
        } else {
            t
        };
        let judged = Weights::with_tie_order(input, judged_t, convention == Convention::ValueTies);
        let rule = match convention {
            Convention::TopPDropCrossing => TopPRule::DropCrossing,
            Convention::TopPExtraAtEquality => TopPRule::ExtraAtEquality,
            _ => TopPRule::Canonical,
        };
        let mut n = judged.rank().len();
        let mut undecided = Vec::new();
        for stage in convention.stages(order) {
            match stage {
                Stage::TopK => {
                    if let Some(k) = params.top_k() {
                        n = if convention == Convention::ValueTies {
                            judged.top_k_value_len(n, k)
                        } else {
                            n.min(k)
                        };
                    }
                }
                Stage::TopP => {
                    let (len, u) = judged.top_p_len(n, params.top_p(), rule, slack);
                    n = len;
                    undecided.extend(u);
                }
                Stage::MinP => {
                    let (len, u) = judged.min_p_len(n, params.min_p(), slack);
                    n = len;
                    undecided.extend(u);
                }
            }
        }
        let kept: Vec<usize> = judged.rank()[..n].to_vec();
        undecided.retain(|i| kept.contains(i) || judged.rank()[n..].contains(i));
        undecided.sort_unstable();
        undecided.dedup();
        let k = input.len();
        let total: f64 = kept.iter().map(|&i| sampled.w()[i]).sum();
        let mut pmf = vec![0.0; k];
        let mut log_w = vec![f64::NEG_INFINITY; k];
        for &i in &kept {
            pmf[i] = sampled.w()[i] / total;
            log_w[i] = sampled.log_w()[i];
        }
        let pmf_bound = if input.is_probs() {
            (kept.len() as f64 + 2.0) * U * 1.01
        } else {
            2.0 * sampled.eta() + 2.0 * U
        };
        Ok(TokenLaw {
            kept,
            pmf,
            log_w,
            undecided,
            pmf_bound,
        })
    }

    /// The kept tokens in rank order (probability descending, index ascending).
    pub fn kept(&self) -> &[usize] {
        &self.kept
    }

    /// Whether token `i` is kept.
    pub fn contains(&self, i: usize) -> bool {
        self.pmf.get(i).is_some_and(|&p| p > 0.0) || self.kept.contains(&i)
    }

    /// The pmf over the whole vocabulary (0 outside the kept set).
    pub fn pmf(&self) -> &[f64] {
        &self.pmf
    }

    /// Unnormalised log weights: `(l_i - max l)/T` (or `ln q_i`) on the kept set, `-inf`
    /// outside. `argmax_i (log_w_i + g_i)` with standard Gumbel `g` draws from the law.
    pub fn log_weights(&self) -> &[f64] {
        &self.log_w
    }

    /// Tokens whose membership was decided inside the certified error bound (module doc);
    /// empty when the kept set is certified.
    pub fn undecided(&self) -> &[usize] {
        &self.undecided
    }

    /// Relative error bound of each pmf entry.
    pub fn pmf_bound(&self) -> f64 {
        self.pmf_bound
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn law(l: &[f64], t: f64, k: Option<usize>, p: f64, m: f64, order: Order) -> TokenLaw {
        let input = TokenInput::logits(l.to_vec()).unwrap();
        TokenLaw::new(&input, &TokenParams::new(t, k, p, m).unwrap(), order).unwrap()
    }

    fn conv(l: &[f64], t: f64, k: Option<usize>, p: f64, m: f64, c: Convention) -> Vec<usize> {
        let input = TokenInput::logits(l.to_vec()).unwrap();
        let params = TokenParams::new(t, k, p, m).unwrap();
        TokenLaw::with_convention(&input, &params, Order::Hf, c)
            .unwrap()
            .kept()
            .to_vec()
    }

    #[test]
    fn boundary_cases() {
        // Exact equality of the cumulative mass with P: uniform rows, dyadic P.
        assert_eq!(
            law(&[0.0; 4], 1.0, None, 0.5, 0.0, Order::Hf).kept(),
            &[0, 1]
        );
        assert_eq!(
            law(&[0.0; 4], 1.0, None, 0.75, 0.0, Order::Hf).kept(),
            &[0, 1, 2]
        );
        // A tie at the boundary is broken by index: tokens 1, 2, 3 tie, the nucleus of 0.7
        // ends inside the tie.
        let l = [1.0, 0.0, 0.0, 0.0, -1.0];
        assert_eq!(law(&l, 1.0, None, 0.7, 0.0, Order::Hf).kept(), &[0, 1, 2]);
        // top_p = 0.9999999 drops only a far tail.
        let l = [0.0, -1.0, -2.0, -30.0];
        assert_eq!(
            law(&l, 1.0, None, 0.9999999, 0.0, Order::Hf).kept(),
            &[0, 1, 2]
        );
        // top_k = 1 with a tie at the top: the lowest index.
        let l = [0.0, 1.0, 1.0, -1.0];
        let one = law(&l, 1.0, Some(1), 1.0, 0.0, Order::Hf);
        assert_eq!(one.kept(), &[1]);
        assert_eq!(one.pmf(), &[0.0, 1.0, 0.0, 0.0]);
        // top_k ≥ k keeps every unmasked token.
        let l = [0.0, f64::NEG_INFINITY, 2.0];
        assert_eq!(law(&l, 1.0, Some(100), 1.0, 0.0, Order::Hf).kept(), &[2, 0]);
        assert_eq!(law(&l, 1.0, Some(2), 1.0, 0.0, Order::Hf).kept(), &[2, 0]);
        // min-p on a flat row keeps everything, even at M = 1; on a peaked row only the head.
        assert_eq!(
            law(&[0.5; 6], 0.3, None, 1.0, 1.0, Order::Hf).kept().len(),
            6
        );
        let l = [3.0, 1.0, 0.0, -1.0, -2.0, -5.0];
        assert_eq!(law(&l, 1.0, None, 1.0, 0.1, Order::Hf).kept(), &[0, 1]);
        // Temperature flattens before min-p: at T = 2 the threshold is e^{(l-3)/2} ≥ 0.1.
        assert_eq!(
            law(&l, 2.0, None, 1.0, 0.1, Order::Hf).kept(),
            &[0, 1, 2, 3]
        );
    }

    #[test]
    fn pmf_is_the_renormalised_restriction() {
        let l = [2.0, 1.0, 0.0, -1.0];
        let t = 0.5;
        let a = law(&l, t, Some(3), 1.0, 0.0, Order::Hf);
        let w: Vec<f64> = l[..3].iter().map(|x| ((x - 2.0) / t).exp()).collect();
        let s: f64 = w.iter().sum();
        for (p, wi) in a.pmf().iter().zip(&w) {
            assert!((p - wi / s).abs() <= 4.0 * a.pmf_bound());
        }
        assert_eq!(a.pmf()[3], 0.0);
        assert!(a.log_weights()[3] == f64::NEG_INFINITY && a.log_weights()[0] == 0.0);
        assert!(a.contains(2) && !a.contains(3) && !a.contains(9));
    }

    #[test]
    fn orders_differ_where_min_p_precedes_top_p() {
        // p ∝ (1, .819, .407, .368, .333, .301). hf: the nucleus of 0.6 in the full row is 3
        // tokens, min-p 0.35 keeps them; vllm: min-p first keeps 4 tokens, and the nucleus of
        // 0.6 in those 4 is 2.
        let l = [0.0, -0.2, -0.9, -1.0, -1.1, -1.2];
        let hf = law(&l, 1.0, None, 0.6, 0.35, Order::Hf);
        let vllm = law(&l, 1.0, None, 0.6, 0.35, Order::Vllm);
        assert_eq!(hf.kept(), &[0, 1, 2]);
        assert_eq!(vllm.kept(), &[0, 1]);
    }

    #[test]
    fn value_ties_follow_transformers_warpers() {
        // top-k 1 with two tokens tied at the top keeps both; top-p keeps the highest indices
        // among the tokens tied at its boundary.
        let c = |l: &[f64], k: Option<usize>, p: f64| {
            let mut v = conv(l, 1.0, k, p, 0.0, Convention::ValueTies);
            v.sort_unstable();
            v
        };
        assert_eq!(c(&[0.0, 1.0, 1.0, -1.0], Some(1), 1.0), vec![1, 2]);
        assert_eq!(c(&[0.0; 4], None, 0.5), vec![2, 3]);
        assert_eq!(c(&[1.0, 0.0, 0.0, 0.0, -1.0], None, 0.7), vec![0, 2, 3]);
        assert_eq!(c(&[2.0, 1.0, 0.0], Some(2), 1.0), vec![0, 1]);
    }

    #[test]
    fn alternative_conventions() {
        let l = [2.0, 1.0, 0.0, -1.0, -2.0];
        // p = (0.6364, 0.2341, 0.0861, 0.0317, 0.0117): nucleus of 0.8 crosses at rank 1.
        let c = |c| conv(&l, 1.0, None, 0.8, 0.0, c);
        assert_eq!(c(Convention::Canonical), vec![0, 1]);
        assert_eq!(c(Convention::TopPDropCrossing), vec![0]);
        assert_eq!(c(Convention::TopPExtraAtEquality), vec![0, 1]);
        assert_eq!(
            conv(
                &[0.0; 4],
                1.0,
                None,
                0.5,
                0.0,
                Convention::TopPExtraAtEquality
            ),
            vec![0, 1, 2]
        );
        // Top-k after top-p keeps more: top-k 2 first renormalises to (0.731, 0.269), whose
        // nucleus of 0.7 is 1 token; top-p 0.7 of the full row keeps 2, then top-k 2 keeps 2.
        let k_first = conv(&l, 1.0, Some(2), 0.7, 0.0, Convention::Canonical);
        let p_first = conv(&l, 1.0, Some(2), 0.7, 0.0, Convention::TopKAfterTopP);
        assert_eq!(k_first, vec![0]);
        assert_eq!(p_first, vec![0, 1]);
        // Temperature after truncation: at T = 3 the nucleus of 0.8 is larger than at T = 1.
        let before = conv(&l, 3.0, None, 0.8, 0.0, Convention::Canonical);
        let after = conv(
            &l,
            3.0,
            None,
            0.8,
            0.0,
            Convention::TemperatureAfterTruncation,
        );
        assert_eq!(after, vec![0, 1]);
        assert!(before.len() > 2, "{before:?}");
    }

    #[test]
    fn probs_form_rejects_a_temperature_and_slack_is_bounded() {
        let input = TokenInput::probs(vec![0.5, 0.5]).unwrap();
        let p = TokenParams::new(0.5, None, 1.0, 0.0).unwrap();
        let e = TokenLaw::new(&input, &p, Order::Hf).unwrap_err();
        assert!(e.to_string().contains("give logits"), "{e}");
        let p = TokenParams::plain();
        assert!(TokenLaw::with_slack(&input, &p, Order::Hf, Convention::Canonical, 1.0).is_err());
        // 0.9999999 on probabilities: exact decisions.
        let input = TokenInput::probs(vec![0.9999999, 1e-7, 1e-9]).unwrap();
        let p = TokenParams::new(1.0, None, 0.9999999, 0.0).unwrap();
        let law = TokenLaw::new(&input, &p, Order::Hf).unwrap();
        assert_eq!(law.kept(), &[0, 1]);
    }
}
