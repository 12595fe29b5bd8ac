//! LLM token samplers: the exact laws of temperature, top-k, top-p (nucleus) and min-p
//! sampling and their compositions in the orders inference engines use.
//!
//! # Layout (one concept per file)
//! ```text
//! input.rs     TokenInput: a validated row of logits or probabilities
//! params.rs    TokenParams: T, top-k, top-p, min-p, validated
//! order.rs     Order (hf, vllm) with sources; Convention (canonical and the alternatives)
//! weights.rs   rank order and the certified / exact decisions of each stage
//! exact.rs     exact sums of doubles (the probabilities form)
//! law.rs       TokenLaw: kept set, pmf, undecided tokens, error bound
//! ```
//!
//! # Notation
//! `l` logits, `T` temperature, `K` top-k, `P` top-p, `M` min-p; the rank order is probability
//! descending then index ascending; docs/tokens.md has the definitions, conventions, engine
//! orders and the exactness argument, and docs/design/math.md §2 the categorical law these
//! truncate.
//!
//! # Example
//! ```
//! use gumbel_audit::tokens::{Order, TokenInput, TokenLaw, TokenParams};
//! let row = TokenInput::logits(vec![2.0, 1.0, 0.0, -1.0]).unwrap();
//! let params = TokenParams::new(0.7, Some(3), 0.9, 0.0).unwrap();
//! let law = TokenLaw::new(&row, &params, Order::Hf).unwrap();
//! assert_eq!(law.kept(), &[0, 1]);
//! assert_eq!(law.pmf()[3], 0.0);
//! ```

mod exact;
mod input;
mod law;
mod order;
mod params;
mod weights;

pub use exact::ExactSum;
pub use input::TokenInput;
pub use law::TokenLaw;
pub use order::{Convention, Order, Stage};
pub use params::TokenParams;
