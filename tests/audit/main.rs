//! The audit's tests, one binary (`cargo test --release --test audit`):
//!
//! ```text
//! adapter      the adapter process target against fake adapters, and the NumPy adapter
//! bits         the CI test of the tail checks: 23-bit uniforms fail noise.extremes, 53 pass
//! faults       hostile adapters: process groups, FIFOs and links, full disk, bye, signals
//! jobs         --jobs: the same report for 1, 2 and 3 workers, also when a chunk fails
//! fuzz_replay  the committed inputs of the fuzz targets npy and protocol_reply (fuzz/)
//! half         float16 and bfloat16: a rounded reference passes, a float16-uniform Gumbel
//!              fails, .npy <f2 read exactly, the bfloat16 rule of the protocol
//! cli          `gumbel-audit audit`: exit codes, files, --only / --skip, nothing tested
//! numpy        the battery through the CLI on the NumPy adapter and its planted bugs
//! range        the range checks: the reference passes, a softmax without max-subtraction fails
//! reference    the battery on the reference and on in-process planted bugs
//! tails        the tail checks on an in-process sampler with 23-bit uniforms
//! report       Markdown and plots: zero counts visible, noise.tail plot, escaped names
//! shards       --shard I/N and merge: 1, 3, 7 shards give the single run's report byte for
//!              byte; partials that do not belong together are refused; resume
//! selection    seeds per check: a check alone = the same check in the battery; a missing op
//!              moves no other check
//! temperature  bad_input's τ rules on planted targets
//! tokens       token samplers: the reference over 50 seeds, planted samplers, named conventions
//! ```
//!
//! Tests that need numpy are `ignored` unless the build script found it (`cfg(gumbel_numpy)`,
//! always set under `CI=true`); see `build.rs`.

mod adapter;
mod bits;
mod cli;
mod common;
mod faults;
mod fuzz_replay;
mod half;
mod jobs;
mod numpy;
mod range;
mod reference;
mod report;
mod selection;
mod shards;
mod tails;
mod temperature;
mod tokens;
mod vocab;
