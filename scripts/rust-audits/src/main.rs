//! `rust-audits`: gumbel-audit's battery run in process on Rust Gumbel samplers.
//!
//! ```text
//! cargo run --release -- TARGET... [--out DIR] [--seed S] [--fwer A]
//! TARGET: rand_distr | rand_distr_f32 | statrs | candle | all
//! ```
//! For each target and each of its levels, writes `DIR/<target>/report.md` (standard level),
//! `DIR/<target>/thorough/report.md` (thorough, where it adds power), with the SVG plots and
//! `report.json` beside each, and appends to the standard report the output of the target's
//! reproducers (`probes`). Default `DIR` is `../../docs/audits` (run from
//! `scripts/rust-audits`), default seed 2026, default family-wise false-alarm rate 1e-3.
//!
//! Exit code 0 when every report was written (failing checks are findings, not errors); 2 on
//! a usage or I/O error.

mod candle_target;
mod probes;
mod rand_distr_target;
mod statrs_target;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use gumbel_audit::audit::report::{to_json, to_markdown, to_table};
use gumbel_audit::audit::{AuditOptions, Level, Target, run_battery};

/// One audited implementation.
struct Spec {
    /// Directory name under `--out` and command-line name.
    name: &'static str,
    /// Crate and version audited (from Cargo.lock).
    versions: &'static str,
    /// Levels run; the first is written to `DIR/<name>/`, the others to `DIR/<name>/<level>/`.
    levels: &'static [Level],
    /// Constructs the target.
    make: fn() -> Box<dyn Target>,
    /// Reproducers appended to the first level's report.
    probes: fn() -> String,
    /// How to read the report (written above it).
    note: &'static str,
}

fn specs() -> Vec<Spec> {
    vec![
        Spec {
            name: "rand_distr",
            versions: "rand_distr 0.6.0, rand 0.10.4, RNG `gumbel_audit::rng::seeded` (ChaCha8)",
            levels: &[Level::Standard, Level::Thorough],
            make: || {
                Box::new(rand_distr_target::RandDistrGumbel::new(
                    rand_distr_target::Precision::F64,
                ))
            },
            probes: probes::rand_distr,
            note: "`gumbel` is rand_distr's sampler; `categorical` is Gumbel-Max written in \
                   scripts/rust-audits/src/rand_distr_target.rs over rand_distr's noise (rand_distr \
                   has no categorical sampler), so `bad_input` judges that wrapper. Findings: \
                   docs/audits/rust.md.",
        },
        Spec {
            name: "rand_distr_f32",
            versions: "rand_distr 0.6.0, rand 0.10.4, RNG `gumbel_audit::rng::seeded` (ChaCha8)",
            levels: &[Level::Standard, Level::Thorough],
            make: || {
                Box::new(rand_distr_target::RandDistrGumbel::new(
                    rand_distr_target::Precision::F32,
                ))
            },
            probes: probes::rand_distr,
            note: "`Gumbel<f32>`; logits rounded to f32 once for the Gumbel-Max wrapper \
                   (scripts/rust-audits/src/rand_distr_target.rs). Findings: docs/audits/rust.md.",
        },
        Spec {
            name: "statrs",
            versions: "statrs 0.19.1 (feature `rand`), rand 0.10.4, RNG `gumbel_audit::rng::seeded` (ChaCha8)",
            levels: &[Level::Standard],
            make: || Box::new(statrs_target::StatrsGumbel),
            probes: probes::statrs,
            note: "The finding is `noise.finite`: every draw is NaN (reproducers below). \
                   `noise.cdf` and `noise.tail` fail as consequences (no finite draw to test; \
                   none above the quantile). `reproducibility` does not judge the seeds on \
                   all-NaN output; statrs does use the seed (its uniforms differ; see \
                   docs/audits/rust.md).",
        },
        Spec {
            name: "candle",
            versions: "candle-core 0.11.1, candle-nn 0.11.1 (CPU, no features; candle's own rand 0.9.x, OS-seeded `rand::rng()`)",
            levels: &[Level::Standard],
            make: || Box::new(candle_target::CandleGumbelSoftmax),
            probes: probes::candle,
            note: "candle's CPU sampler cannot be seeded (`Device::Cpu.set_seed` is an error; it \
                   draws from the OS-seeded `rand::rng()`), so the request seeds are ignored and \
                   this report's counts differ from run to run; the verdicts were the same in \
                   every run (docs/audits/rust.md).",
        },
    ]
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn rustc_version() -> String {
    std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn run(spec: &Spec, out: &Path, seed: u64, fwer: f64) -> Result<u8, String> {
    let mut worst = 0;
    for (i, &level) in spec.levels.iter().enumerate() {
        let dir: PathBuf = if i == 0 {
            out.join(spec.name)
        } else {
            out.join(spec.name).join(level.name())
        };
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let options = AuditOptions::new(level, seed, fwer).map_err(|e| e.to_string())?;
        let mut target = (spec.make)();
        let start = Instant::now();
        let report = run_battery(target.as_mut(), &options, &mut |_| {})
            .map_err(|e| format!("{}: cannot start the audit: {e}", spec.name))?;
        let secs = start.elapsed().as_secs_f64();
        print!("{}", to_table(&report));
        println!("({} {}: {secs:.1} s)\n", spec.name, level.name());
        worst = worst.max(report.exit_code());
        let json = serde_json::to_string_pretty(&to_json(&report))
            .map_err(|e| format!("cannot serialise the report: {e}"))?;
        write(&dir.join("report.json"), &(json + "\n"))?;
        let md = to_markdown(&report);
        let mut text = format!(
            "<!-- written by scripts/rust-audits; do not edit by hand -->\n\
             Audited in process through `gumbel_audit::audit::Target` \
             (scripts/rust-audits/src).\n\n\
             - versions: {}; {}\n\
             - command: `cd scripts/rust-audits && cargo run --release -- {} --seed {seed}`\n\
             - wall time of this level: {secs:.0} s (shared 2-core machine)\n\n\
             **Reading this report.** {}\n\n",
            spec.versions,
            rustc_version(),
            spec.name,
            spec.note
        );
        text += &md.markdown;
        if i == 0 {
            eprintln!("{}: running the reproducers", spec.name);
            text += "\n## Reproducers (independent of the battery)\n\n";
            text += &(spec.probes)();
            if spec.levels.len() > 1 {
                text += &format!(
                    "\nThe {} level of the same target: [{}/report.md]({}/report.md).\n",
                    spec.levels[1].name(),
                    spec.levels[1].name(),
                    spec.levels[1].name()
                );
            }
        }
        write(&dir.join("report.md"), &text)?;
        for (name, svg) in &md.plots {
            write(&dir.join(name), svg)?;
        }
    }
    Ok(worst)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut out = PathBuf::from("../../docs/audits");
    let mut seed: u64 = 2026;
    let mut fwer = 1e-3;
    let mut names = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let mut value = |flag: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        let parsed: Result<(), String> = match a.as_str() {
            "--out" => value("--out").map(|v| out = PathBuf::from(v)),
            "--seed" => value("--seed").and_then(|v| {
                v.parse()
                    .map(|s| seed = s)
                    .map_err(|e| format!("--seed {v}: {e}"))
            }),
            "--fwer" => value("--fwer").and_then(|v| {
                v.parse()
                    .map(|f| fwer = f)
                    .map_err(|e| format!("--fwer {v}: {e}"))
            }),
            "-h" | "--help" => {
                println!(
                    "usage: rust-audits TARGET... [--out DIR] [--seed S] [--fwer A]\n\
                     TARGET: rand_distr | rand_distr_f32 | statrs | candle | all"
                );
                return ExitCode::SUCCESS;
            }
            name => {
                names.push(name.to_string());
                Ok(())
            }
        };
        if let Err(e) = parsed {
            eprintln!("rust-audits: {e}");
            return ExitCode::from(2);
        }
    }
    let all = specs();
    if names.is_empty() {
        eprintln!("rust-audits: name a target (rand_distr, rand_distr_f32, statrs, candle) or all");
        return ExitCode::from(2);
    }
    let mut chosen = Vec::new();
    for n in &names {
        if n == "all" {
            chosen.extend(all.iter());
        } else if let Some(s) = all.iter().find(|s| s.name == n) {
            chosen.push(s);
        } else {
            eprintln!("rust-audits: unknown target {n}");
            return ExitCode::from(2);
        }
    }
    for spec in chosen {
        match run(spec, &out, seed, fwer) {
            Ok(code) => eprintln!("{}: audit exit code {code}", spec.name),
            Err(e) => {
                eprintln!("rust-audits: {e}");
                return ExitCode::from(2);
            }
        }
    }
    ExitCode::SUCCESS
}
