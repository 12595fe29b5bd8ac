//! The audit battery's former single module, kept as a path for callers written against it:
//! everything here is re-exported from the modules that now hold it (`audit::checks` for the
//! table and the checks, `audit::options`, `audit::result`, `audit::runner`).

pub use crate::audit::checks::{CheckSpec, TABLE, categorical_cases, check_ids};
pub use crate::audit::options::{AuditOptions, DEFAULT_FWER, Level, Plan, Selection};
pub use crate::audit::power::POWER;
pub use crate::audit::result::{AuditReport, CheckResult, Figure, Progress, Verdict};
pub use crate::audit::runner::run_battery;
