//! The compositions of temperature, top-k, top-p and min-p that engines use ([`Order`]), and
//! the alternative conventions that implementations have shipped ([`Convention`]).
//!
//! # Orders (sources)
//! ```text
//! hf    T, top-k, top-p, min-p   Hugging Face transformers, src/transformers/generation/
//!                                utils.py, GenerationMixin._get_logits_processor (read in
//!                                releases ≥ 4.40): TemperatureLogitsWarper, TopKLogitsWarper,
//!                                TopPLogitsWarper, MinPLogitsWarper appended in this order to
//!                                one LogitsProcessorList, each renormalising (softmax of the
//!                                -inf-masked scores) before the next.
//! vllm  T, min-p, top-k, top-p   vLLM, vllm/v1/sample/sampler.py, Sampler.sample (the V1
//!                                engine, read in 2025 sources): temperature, then the
//!                                argmax-invariant logits processors (min-p), then
//!                                apply_top_k_top_p (vllm/v1/sample/ops/topk_topp_sampler.py).
//! ```
//! Every stage keeps a prefix of the rank order (`tokens::law`), so a composition is a prefix
//! too. Min-p compares `p_i / p_max = exp((l_i - l_max)/T)`, which renormalisation does not
//! change, so moving min-p only matters through the stages after it: in `vllm` order top-p's
//! nucleus is taken in the distribution already cut by min-p, in `hf` order before.
//!
//! Both engines write top-p as "remove a token when the ascending cumulative sum is ≤ 1 - P",
//! which in exact arithmetic is the canonical nucleus below; their top-k is a value predicate
//! (`logits < k-th largest`), which keeps every token tied with the k-th. The reference breaks
//! that tie by index (the rank order): a sampler following the value predicate differs only on
//! rows with a tie at the k-th place.
//!
//! # Conventions
//! ```text
//! canonical                    keep rank r iff D_<r < P          (Holtzman et al. 2019: the
//!                                                                 smallest prefix whose mass
//!                                                                 reaches P, crossing token in)
//! top_p_drop_crossing          keep rank r iff D_≤r ≤ P (at least one token)
//! top_p_extra_at_equality      keep rank r iff D_<r ≤ P
//! top_k_after_top_p            the order with top-p and top-k swapped
//! temperature_after_truncation truncate at T = 1, then apply T to the survivors
//! value_ties                   ties ranked by index descending, and top-k keeps every token
//!                              whose value equals the k-th's
//! ```
//! `D_<r` is the mass of the ranks before r in the current candidate set, `D_≤r` with r.
//! Reported instances: the crossing token dropped (Biohub/esm#360, fishaudio/fish-speech#1171,
//! ggml-org/llama.cpp#1953), an extra token kept at exact equality
//! (huggingface/transformers#18976, BlinkDL/ChatRWKV#170), top-k applied after top-p
//! (ml-explore/mlx-lm#388). `value_ties` is what transformers' warpers do (read in transformers
//! 5.25.0, src/transformers/generation/logits_process.py, and measured: docs/audits, finding
//! 17): `TopKLogitsWarper` removes `scores < topk(scores, k)[-1]`, a value predicate that keeps
//! every token tied with the k-th (flashinfer-ai/flashinfer#3774 reports the same in another
//! engine), and `TopPLogitsWarper` sorts ascending and removes from the low end, so that among
//! tokens tied at the nucleus boundary the highest indices stay.
//!
//! # References
//! - A. Holtzman, J. Buys, L. Du, M. Forbes, Y. Choi, *The Curious Case of Neural Text
//!   Degeneration*, ICLR 2020 (arXiv:1904.09751), §3.1 (the nucleus).
//! - M. Nguyen et al., *Turning Up the Heat: Min-p Sampling for Creative and Coherent LLM
//!   Outputs*, arXiv:2407.01082 (min-p: keep `p_i ≥ M · p_max`).

/// The truncation stages, in the order a composition applies them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Keep the first `K` ranks.
    TopK,
    /// Keep the nucleus of mass `P`.
    TopP,
    /// Keep `p_i ≥ M · p_max`.
    MinP,
}

/// A composition of the truncations, as an engine applies them (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// Hugging Face transformers: temperature, top-k, top-p, min-p.
    Hf,
    /// vLLM v1: temperature, min-p, top-k, top-p.
    Vllm,
}

impl Order {
    /// Every order.
    pub const ALL: [Order; 2] = [Order::Hf, Order::Vllm];

    /// `"hf"` or `"vllm"` (the protocol's and the command line's spelling).
    pub fn name(self) -> &'static str {
        match self {
            Order::Hf => "hf",
            Order::Vllm => "vllm",
        }
    }

    /// The order called `name`.
    pub fn from_name(name: &str) -> Option<Order> {
        Order::ALL.into_iter().find(|o| o.name() == name)
    }

    /// The truncation stages in application order (temperature comes first in both).
    pub fn stages(self) -> [Stage; 3] {
        match self {
            Order::Hf => [Stage::TopK, Stage::TopP, Stage::MinP],
            Order::Vllm => [Stage::MinP, Stage::TopK, Stage::TopP],
        }
    }
}

/// The canonical law or one of the alternative conventions (module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// The canonical nucleus, the order's stages, temperature first.
    Canonical,
    /// Top-p keeps rank r iff `D_≤r ≤ P` (the crossing token dropped; at least one kept).
    TopPDropCrossing,
    /// Top-p keeps rank r iff `D_<r ≤ P` (an extra token at exact equality).
    TopPExtraAtEquality,
    /// Top-k applied after top-p instead of before (or before, in an order that has it after).
    TopKAfterTopP,
    /// The truncations computed at temperature 1, the temperature applied to the survivors.
    TemperatureAfterTruncation,
    /// Ties ranked by index descending; top-k keeps every token tied with the k-th
    /// (transformers' warpers, module doc).
    ValueTies,
}

impl Convention {
    /// The alternatives tested when the canonical law fails, in report order.
    pub const ALTERNATIVES: [Convention; 5] = [
        Convention::TopPDropCrossing,
        Convention::TopPExtraAtEquality,
        Convention::TopKAfterTopP,
        Convention::TemperatureAfterTruncation,
        Convention::ValueTies,
    ];

    /// The convention's name (`"canonical"`, `"top_p_drop_crossing"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Convention::Canonical => "canonical",
            Convention::TopPDropCrossing => "top_p_drop_crossing",
            Convention::TopPExtraAtEquality => "top_p_extra_at_equality",
            Convention::TopKAfterTopP => "top_k_after_top_p",
            Convention::TemperatureAfterTruncation => "temperature_after_truncation",
            Convention::ValueTies => "value_ties",
        }
    }

    /// The stages of `order` under this convention.
    pub fn stages(self, order: Order) -> [Stage; 3] {
        let mut s = order.stages();
        if self == Convention::TopKAfterTopP {
            let k = s.iter().position(|&x| x == Stage::TopK).unwrap_or(0);
            let p = s.iter().position(|&x| x == Stage::TopP).unwrap_or(0);
            s.swap(k, p);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_swaps_move_only_top_k_and_top_p() {
        for o in Order::ALL {
            assert_eq!(Order::from_name(o.name()), Some(o));
        }
        assert_eq!(Order::from_name("sglang"), None);
        assert_eq!(
            Convention::TopKAfterTopP.stages(Order::Hf),
            [Stage::TopP, Stage::TopK, Stage::MinP]
        );
        assert_eq!(
            Convention::TopKAfterTopP.stages(Order::Vllm),
            [Stage::MinP, Stage::TopP, Stage::TopK]
        );
        assert_eq!(
            Convention::Canonical.stages(Order::Vllm),
            Order::Vllm.stages()
        );
    }
}
