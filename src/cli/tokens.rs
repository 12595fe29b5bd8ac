//! `gumbel-audit tokens`: the exact law of an LLM token sampler (temperature, top-k, top-p,
//! min-p in an engine's order) for one row: the kept set and the pmf, as a table or JSON.
//! The definitions are in docs/tokens.md and `gumbel_audit::tokens`.

use std::process::ExitCode;

use clap::Args;
use gumbel_audit::tokens::{Convention, Order, TokenInput, TokenLaw, TokenParams};
use serde_json::json;

use super::limits::check_elements;
use super::{fmt_f64, parse_list, write_stdout};

/// Arguments of `tokens`.
#[derive(Debug, Args)]
pub struct TokensArgs {
    /// Logits, comma-separated, or `@path` (text or .npy file) or `@-` (standard input); `-inf`
    /// masks a token. Give either --logits or --probs.
    #[arg(long, allow_hyphen_values = true)]
    logits: Option<String>,
    /// Probabilities instead of logits (each in [0, 1]; normalised by their exact sum; the
    /// kept set is then decided in exact arithmetic). Only at --temperature 1.
    #[arg(long, allow_hyphen_values = true)]
    probs: Option<String>,
    /// Temperature T > 0.
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    temperature: f64,
    /// Top-k: keep the K most probable tokens (ties by index); omit for none.
    #[arg(long)]
    top_k: Option<usize>,
    /// Top-p in (0, 1]: the canonical nucleus, crossing token included (1 = off).
    #[arg(long, default_value_t = 1.0, allow_hyphen_values = true)]
    top_p: f64,
    /// Min-p in [0, 1]: keep p_i ≥ M·p_max (0 = off).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    min_p: f64,
    /// Composition order: hf (T, top-k, top-p, min-p) or vllm (T, min-p, top-k, top-p).
    #[arg(long, default_value = "hf")]
    order: String,
    /// The convention: canonical, or an alternative (top_p_drop_crossing,
    /// top_p_extra_at_equality, top_k_after_top_p, temperature_after_truncation, value_ties).
    #[arg(long, default_value = "canonical")]
    convention: String,
    /// Print JSON instead of the table.
    #[arg(long)]
    json: bool,
}

fn convention(name: &str) -> Result<Convention, String> {
    std::iter::once(Convention::Canonical)
        .chain(Convention::ALTERNATIVES)
        .find(|c| c.name() == name)
        .ok_or_else(|| {
            format!(
                "--convention {name:?}: it must be canonical, top_p_drop_crossing, \
                 top_p_extra_at_equality, top_k_after_top_p or temperature_after_truncation"
            )
        })
}

/// Prints the kept set and the pmf.
pub fn tokens(args: &TokensArgs) -> Result<ExitCode, String> {
    let input = match (&args.logits, &args.probs) {
        (Some(l), None) => {
            let v = parse_list("--logits", l)?;
            check_elements(&format!("--logits k {}", v.len()), Some(v.len() as u64))?;
            TokenInput::logits(v).map_err(|e| format!("--logits: {e}"))?
        }
        (None, Some(p)) => {
            let v = parse_list("--probs", p)?;
            check_elements(&format!("--probs k {}", v.len()), Some(v.len() as u64))?;
            TokenInput::probs(v).map_err(|e| format!("--probs: {e}"))?
        }
        _ => return Err("give exactly one of --logits and --probs".to_string()),
    };
    let params = TokenParams::new(args.temperature, args.top_k, args.top_p, args.min_p)
        .map_err(|e| format!("sampling parameters: {e}"))?;
    let order = Order::from_name(&args.order)
        .ok_or_else(|| format!("--order {:?}: it must be hf or vllm", args.order))?;
    let conv = convention(&args.convention)?;
    let law = TokenLaw::with_convention(&input, &params, order, conv).map_err(|e| e.to_string())?;
    let text = if args.json {
        let v = json!({
            "k": input.len(),
            "temperature": params.temperature(),
            "top_k": params.top_k(),
            "top_p": params.top_p(),
            "min_p": params.min_p(),
            "order": order.name(),
            "convention": conv.name(),
            "kept": law.kept(),
            "pmf": law.pmf(),
            "pmf_relative_error_bound": law.pmf_bound(),
            "undecided": law.undecided(),
        });
        format!("{v}\n")
    } else {
        table(&input, &params, order, conv, &law)
    };
    write_stdout(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn table(
    input: &TokenInput,
    params: &TokenParams,
    order: Order,
    conv: Convention,
    law: &TokenLaw,
) -> String {
    let mut s = format!(
        "# k = {}, T = {}, top-k {}, top-p {}, min-p {}, order {}, convention {}\n",
        input.len(),
        fmt_f64(params.temperature()),
        params
            .top_k()
            .map_or_else(|| "none".to_string(), |k| k.to_string()),
        fmt_f64(params.top_p()),
        fmt_f64(params.min_p()),
        order.name(),
        conv.name()
    );
    s += &format!(
        "# kept {} of {} tokens; pmf relative error ≤ {:.1e}; {}\n",
        law.kept().len(),
        input.len(),
        law.pmf_bound(),
        if law.undecided().is_empty() {
            "kept set certified".to_string()
        } else {
            format!(
                "UNDECIDED within the error bound: tokens {:?}",
                law.undecided()
            )
        }
    );
    s += "rank\ttoken\tpmf\n";
    for (r, &i) in law.kept().iter().enumerate() {
        s += &format!("{}\t{i}\t{}\n", r + 1, fmt_f64(law.pmf()[i]));
    }
    s
}
