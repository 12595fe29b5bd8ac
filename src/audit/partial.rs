//! The partial file of a shard (`audit::shard`): what it ran, in a versioned JSON format that
//! round-trips every number exactly; reading it back with validation; and the merge of the
//! partials of one run into the report one machine would give.
//!
//! # Format (`"format": "gumbel-audit-partial"`, `"version": 1`)
//! ```text
//! { format, version,
//!   checksum: "fnv1a64:<16 hex digits>"   FNV-1a 64 of the compact JSON text of `partial`
//!                                          (keys sorted), so a hand edit or a cut is seen
//!   partial: {
//!     battery     "gumbel-audit <crate version> table <hash>": the crate version and a hash of
//!                 the check table's ids and kinds and of every level's sample sizes
//!     work        "<16 hex digits>": a hash of this run's plan (every chunked case's request
//!                 and parameters, every unit's stream, chunk, size and seed)
//!     hello       { name, dtype, ops, estimators, unknown_ops }   the implementation's hello
//!     level, seed, fwer
//!     selection   [ids]: the checks that run (after --only / --skip), in table order
//!     samples     { id: n }: the --samples budget of each selected chunked check that has one
//!     shard       { index, count }
//!     units_total U: the number of units of the whole run
//!     units       [ { index, check, case, chunk,
//!                     result: { tally: { counts, min, max } }
//!                           | { error: { kind: unsupported | rejected | fault, message } }
//!                           | "not_run" } ]       (a unit after a failed unit of its check)
//!     whole       null, or (shard 0) [ { id, title, seeds: [ { stream, chunk, seed } ],
//!                   judged: { outcome: {...} } | { error: { kind, message, why } } } ]
//!                 the whole checks' results before Holm
//!   } }
//! ```
//! Every `f64` is a JSON number in its shortest round-trip form (parsed back exactly:
//! `serde_json`'s `float_roundtrip`), or one of the strings `"inf"`, `"-inf"`, `"NaN"`.
//! The full specification is in `docs/distributed.md`.
//!
//! # Merge
//! [`merge`] reads every file, checks that they belong together — the same battery, work
//! hash, hello, level, seed, fwer, selection, sample budget, shard count and unit count; every
//! shard `0..N` exactly once; each shard holding exactly its units (`audit::shard`) with the
//! check, case and chunk the plan gives them, and the whole checks on shard 0 only — and then
//! merges the tallies and decides with `Work::assemble`, the code a single run ends with. Each
//! violation is a [`PartialError`] naming the file(s), the field and the values.

use std::fmt;
use std::io::Write;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::audit::checks::{CheckSpec, TABLE};
use crate::audit::chunked::Tally;
use crate::audit::options::{AuditOptions, Level, SampleBudget, Selection};
use crate::audit::outcome::Outcome;
use crate::audit::result::AuditReport;
use crate::audit::runner::{Ran, UnitResult, Work};
use crate::audit::seed::SeedUse;
use crate::audit::shard::Shard;
use crate::audit::target::{Capabilities, Dtype, Op, TargetError};

/// The format name of a partial file.
pub const FORMAT: &str = "gumbel-audit-partial";
/// The format version this build writes and reads.
pub const VERSION: u64 = 1;

/// FNV-1a 64 offset basis.
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

/// FNV-1a 64 of `bytes`, continued from the hash `h` (start with the offset basis).
fn fnv_update(h: u64, bytes: &[u8]) -> u64 {
    bytes.iter().fold(h, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The battery version: the crate version and a hash of the table (ids and kinds) and of
/// every level's [`Plan`](crate::audit::Plan). Partials of different batteries never merge.
pub fn battery_version() -> String {
    let mut h = FNV_OFFSET;
    for spec in TABLE {
        let kind = if spec.chunked().is_some() {
            "chunked"
        } else {
            "whole"
        };
        h = fnv_update(h, format!("{} {kind}\n", spec.id).as_bytes());
    }
    for level in Level::ALL {
        h = fnv_update(
            h,
            format!("{}: {:?}\n", level.name(), level.plan()).as_bytes(),
        );
    }
    format!("gumbel-audit {} table {h:016x}", env!("CARGO_PKG_VERSION"))
}

/// The hash of a run's plan: every chunked case (request and parameters) and every unit.
pub(crate) fn work_digest(work: &Work) -> String {
    let mut h = FNV_OFFSET;
    for run in &work.chunked {
        h = fnv_update(h, format!("{} {:?}\n", run.spec.id, run.cases).as_bytes());
    }
    for u in &work.units {
        h = fnv_update(
            h,
            format!("{} {} {} {} {}\n", u.check, u.stream, u.chunk, u.n, u.seed).as_bytes(),
        );
    }
    format!("{h:016x}")
}

// ---------------------------------------------------------------------------------------------
// Numbers and fields
// ---------------------------------------------------------------------------------------------

/// An `f64` as JSON: a number (shortest round-trip form) when finite, else `"inf"`, `"-inf"`
/// or `"NaN"`.
pub(crate) fn f64_json(x: f64) -> Value {
    if x.is_finite() {
        json!(x)
    } else if x.is_nan() {
        json!("NaN")
    } else if x > 0.0 {
        json!("inf")
    } else {
        json!("-inf")
    }
}

/// An optional `f64`: `null` or [`f64_json`].
pub(crate) fn opt_f64_json(x: Option<f64>) -> Value {
    x.map_or(Value::Null, f64_json)
}

/// Reads an `f64` written by [`f64_json`].
fn f64_of(v: &Value, path: &str) -> Result<f64, String> {
    match v {
        Value::Number(n) => n
            .as_f64()
            .ok_or_else(|| format!("{path}: {n} is not an f64")),
        Value::String(s) if s == "inf" => Ok(f64::INFINITY),
        Value::String(s) if s == "-inf" => Ok(f64::NEG_INFINITY),
        Value::String(s) if s == "NaN" => Ok(f64::NAN),
        other => Err(format!(
            "{path}: expected a number or \"inf\", \"-inf\", \"NaN\", found {other}"
        )),
    }
}

/// A JSON object being read, with its path for error messages (`partial.units[3].result`).
pub(crate) struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Obj<'a> {
    /// `v` as an object at `path`.
    pub(crate) fn new(v: &'a Value, path: impl Into<String>) -> Result<Self, String> {
        let path = path.into();
        match v {
            Value::Object(map) => Ok(Obj { map, path }),
            other => Err(format!("{path}: expected an object, found {}", kind(other))),
        }
    }

    fn at(&self, key: &str) -> String {
        format!("{}.{key}", self.path)
    }

    /// The field `key` (missing is an error).
    pub(crate) fn get(&self, key: &str) -> Result<&'a Value, String> {
        self.map
            .get(key)
            .ok_or_else(|| format!("{}: the field is missing", self.at(key)))
    }

    /// The field `key`, `None` when it is `null`.
    pub(crate) fn opt(&self, key: &str) -> Result<Option<&'a Value>, String> {
        self.get(key).map(|v| (!v.is_null()).then_some(v))
    }

    /// Whether the field `key` is present and not `null`.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.get(key).is_some_and(|v| !v.is_null())
    }

    /// The object field `key`.
    pub(crate) fn obj(&self, key: &str) -> Result<Obj<'a>, String> {
        Obj::new(self.get(key)?, self.at(key))
    }

    /// The string field `key`.
    pub(crate) fn str(&self, key: &str) -> Result<&'a str, String> {
        let v = self.get(key)?;
        v.as_str()
            .ok_or_else(|| format!("{}: expected a string, found {}", self.at(key), kind(v)))
    }

    /// The unsigned integer field `key`.
    pub(crate) fn u64(&self, key: &str) -> Result<u64, String> {
        let v = self.get(key)?;
        v.as_u64().ok_or_else(|| {
            format!(
                "{}: expected an unsigned integer, found {}",
                self.at(key),
                kind(v)
            )
        })
    }

    /// The `usize` field `key`.
    pub(crate) fn usize(&self, key: &str) -> Result<usize, String> {
        usize::try_from(self.u64(key)?)
            .map_err(|_| format!("{}: too large for this platform", self.at(key)))
    }

    /// The `f64` field `key` ([`f64_json`]).
    pub(crate) fn f64(&self, key: &str) -> Result<f64, String> {
        f64_of(self.get(key)?, &self.at(key))
    }

    /// The optional `f64` field `key` (`null` is `None`).
    pub(crate) fn opt_f64(&self, key: &str) -> Result<Option<f64>, String> {
        self.opt(key)?.map(|v| f64_of(v, &self.at(key))).transpose()
    }

    /// The array field `key`.
    pub(crate) fn arr(&self, key: &str) -> Result<&'a [Value], String> {
        let v = self.get(key)?;
        v.as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| format!("{}: expected an array, found {}", self.at(key), kind(v)))
    }

    /// The array of strings `key`.
    pub(crate) fn strings(&self, key: &str) -> Result<Vec<String>, String> {
        self.arr(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    format!(
                        "{}[{i}]: expected a string, found {}",
                        self.at(key),
                        kind(v)
                    )
                })
            })
            .collect()
    }

    /// The array of `f64` `key`.
    pub(crate) fn f64s(&self, key: &str) -> Result<Vec<f64>, String> {
        self.arr(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| f64_of(v, &format!("{}[{i}]", self.at(key))))
            .collect()
    }

    /// The array of unsigned integers `key`.
    pub(crate) fn u64s(&self, key: &str) -> Result<Vec<u64>, String> {
        self.arr(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.as_u64().ok_or_else(|| {
                    format!(
                        "{}[{i}]: expected an unsigned integer, found {}",
                        self.at(key),
                        kind(v)
                    )
                })
            })
            .collect()
    }

    /// The array of objects `key`, each with its path.
    pub(crate) fn objs(&self, key: &str) -> Result<Vec<Obj<'a>>, String> {
        self.arr(key)?
            .iter()
            .enumerate()
            .map(|(i, v)| Obj::new(v, format!("{}[{i}]", self.at(key))))
            .collect()
    }

    /// The path of this object.
    pub(crate) fn path(&self) -> &str {
        &self.path
    }
}

/// The JSON kind of `v`, for messages.
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------------------------
// Errors, tallies, seeds
// ---------------------------------------------------------------------------------------------

/// A target error as JSON: `{ kind, message }`.
fn error_json(e: &TargetError) -> Value {
    match e {
        TargetError::Unsupported => json!({"kind": "unsupported", "message": ""}),
        TargetError::Rejected(m) => json!({"kind": "rejected", "message": m}),
        TargetError::Fault(m) => json!({"kind": "fault", "message": m}),
    }
}

fn error_of(o: &Obj<'_>) -> Result<TargetError, String> {
    let message = o.str("message")?.to_string();
    match o.str("kind")? {
        "unsupported" => Ok(TargetError::Unsupported),
        "rejected" => Ok(TargetError::Rejected(message)),
        "fault" => Ok(TargetError::Fault(message)),
        other => Err(format!(
            "{}.kind: '{other}' is not unsupported, rejected or fault",
            o.path()
        )),
    }
}

fn tally_json(t: &Tally) -> Value {
    json!({
        "counts": t.counts,
        "min": t.min.iter().map(|&x| f64_json(x)).collect::<Vec<_>>(),
        "max": t.max.iter().map(|&x| f64_json(x)).collect::<Vec<_>>(),
    })
}

fn tally_of(o: &Obj<'_>) -> Result<Tally, String> {
    Ok(Tally {
        counts: o.u64s("counts")?,
        min: o.f64s("min")?,
        max: o.f64s("max")?,
    })
}

fn seeds_json(seeds: &[SeedUse]) -> Value {
    seeds
        .iter()
        .map(|u| json!({"stream": u.stream, "chunk": u.chunk, "seed": u.seed}))
        .collect()
}

fn seeds_of(o: &Obj<'_>) -> Result<Vec<SeedUse>, String> {
    o.objs("seeds")?
        .iter()
        .map(|s| {
            Ok(SeedUse {
                stream: s.str("stream")?.to_string(),
                chunk: s.u64("chunk")?,
                seed: s.u64("seed")?,
            })
        })
        .collect()
}

fn ran_json(r: &Ran) -> Value {
    let judged = match &r.judged {
        Ok(o) => json!({"outcome": o.to_json()}),
        Err((e, why)) => {
            let mut e = error_json(e);
            e["why"] = json!(why);
            json!({"error": e})
        }
    };
    json!({"id": r.id, "title": r.title, "judged": judged, "seeds": seeds_json(&r.seeds)})
}

fn ran_of(o: &Obj<'_>) -> Result<Ran, String> {
    let id = o.str("id")?;
    let spec: &'static CheckSpec = TABLE
        .iter()
        .find(|c| c.id == id)
        .ok_or_else(|| format!("{}.id: '{id}' is not a check of this battery", o.path()))?;
    if o.str("title")? != spec.title {
        return Err(format!(
            "{}.title: not the title of {id} in this battery",
            o.path()
        ));
    }
    let judged = o.obj("judged")?;
    let judged = match (judged.has("outcome"), judged.has("error")) {
        (true, false) => Ok(Outcome::from_json(&judged.obj("outcome")?)?),
        (false, true) => {
            let e = judged.obj("error")?;
            Err((error_of(&e)?, e.str("why")?.to_string()))
        }
        _ => {
            return Err(format!(
                "{}: exactly one of outcome and error is expected",
                judged.path()
            ));
        }
    };
    Ok(Ran {
        id: spec.id,
        title: spec.title,
        judged,
        seeds: seeds_of(o)?,
    })
}

// ---------------------------------------------------------------------------------------------
// The partial
// ---------------------------------------------------------------------------------------------

/// What identifies the run and the shard a partial belongs to.
#[derive(Debug, Clone, PartialEq)]
struct Header {
    battery: String,
    work: String,
    hello: Capabilities,
    level: Level,
    seed: u64,
    fwer: f64,
    selection: Vec<String>,
    samples: Vec<(String, u64)>,
    shard: Shard,
    units_total: usize,
}

impl Header {
    fn new(caps: &Capabilities, options: &AuditOptions, work: &Work, shard: Shard) -> Self {
        let selection: Vec<String> = TABLE
            .iter()
            .filter(|c| options.selection.includes(c.id))
            .map(|c| c.id.to_string())
            .collect();
        // Sorted by id, as a JSON object's keys are read back.
        let mut samples: Vec<(String, u64)> = TABLE
            .iter()
            .filter(|c| c.chunked().is_some() && options.selection.includes(c.id))
            .filter_map(|c| {
                options
                    .samples
                    .for_check(c.id)
                    .map(|n| (c.id.to_string(), n))
            })
            .collect();
        samples.sort();
        Header {
            battery: battery_version(),
            work: work_digest(work),
            hello: caps.clone(),
            level: options.level,
            seed: options.seed,
            fwer: options.fwer,
            selection,
            samples,
            shard,
            units_total: work.units.len(),
        }
    }

    /// The options of the run, rebuilt from the header.
    fn options(&self) -> Result<AuditOptions, String> {
        let selection = Selection::new(Some(&self.selection), &[])
            .map_err(|e| format!("partial.selection: {e}"))?;
        let samples = SampleBudget::new(None, self.samples.clone())
            .map_err(|e| format!("partial.samples: {e}"))?;
        Ok(AuditOptions::new(self.level, self.seed, self.fwer)
            .map_err(|e| format!("partial.fwer: {e}"))?
            .with_selection(selection)
            .with_samples(samples))
    }

    /// The first field in which `self` and `other` differ: its name and the two values.
    fn difference(
        &self,
        other: &Header,
        with_shard: bool,
    ) -> Option<(&'static str, String, String)> {
        let caps = |c: &Capabilities| {
            let ops: Vec<&str> = c.ops.iter().map(|o| o.name()).collect();
            (
                c.name.clone(),
                c.dtype.as_str().to_string(),
                ops.join(", "),
                c.estimators.join(", "),
                c.unknown_ops.join(", "),
            )
        };
        let (a, b) = (caps(&self.hello), caps(&other.hello));
        let samples = |s: &[(String, u64)]| {
            let v: Vec<String> = s.iter().map(|(id, n)| format!("{id}={n}")).collect();
            format!("[{}]", v.join(", "))
        };
        let fields: Vec<(&'static str, String, String)> = vec![
            (
                "battery version",
                self.battery.clone(),
                other.battery.clone(),
            ),
            ("implementation (hello name)", a.0, b.0),
            ("dtype (hello)", a.1, b.1),
            ("ops (hello)", format!("[{}]", a.2), format!("[{}]", b.2)),
            (
                "estimators (hello)",
                format!("[{}]", a.3),
                format!("[{}]", b.3),
            ),
            (
                "unknown ops (hello)",
                format!("[{}]", a.4),
                format!("[{}]", b.4),
            ),
            (
                "level",
                self.level.name().to_string(),
                other.level.name().to_string(),
            ),
            ("master seed", self.seed.to_string(), other.seed.to_string()),
            (
                "fwer",
                format!("{:?}", self.fwer),
                format!("{:?}", other.fwer),
            ),
            (
                "selection (--only / --skip)",
                format!("[{}]", self.selection.join(", ")),
                format!("[{}]", other.selection.join(", ")),
            ),
            (
                "sample budget (--samples)",
                samples(&self.samples),
                samples(&other.samples),
            ),
            (
                "number of shards",
                self.shard.count().to_string(),
                other.shard.count().to_string(),
            ),
            (
                "number of units",
                self.units_total.to_string(),
                other.units_total.to_string(),
            ),
            ("plan hash (work)", self.work.clone(), other.work.clone()),
        ];
        let shard = with_shard.then(|| ("shard", self.shard.to_string(), other.shard.to_string()));
        // `{:?}` of an f64 is its exact round-trip form: equal text, equal bits.
        fields.into_iter().chain(shard).find(|(_, x, y)| x != y)
    }

    fn to_json(&self) -> Value {
        let ops: Vec<&str> = self.hello.ops.iter().map(|o| o.name()).collect();
        let samples: Map<String, Value> = self
            .samples
            .iter()
            .map(|(id, n)| (id.clone(), json!(n)))
            .collect();
        json!({
            "battery": self.battery,
            "work": self.work,
            "hello": {
                "name": self.hello.name,
                "dtype": self.hello.dtype.as_str(),
                "ops": ops,
                "estimators": self.hello.estimators,
                "unknown_ops": self.hello.unknown_ops,
            },
            "level": self.level.name(),
            "seed": self.seed,
            "fwer": f64_json(self.fwer),
            "selection": self.selection,
            "samples": samples,
            "shard": {"index": self.shard.index(), "count": self.shard.count()},
            "units_total": self.units_total,
        })
    }

    fn of(p: &Obj<'_>) -> Result<Self, String> {
        let hello = p.obj("hello")?;
        let dtype = match hello.str("dtype")? {
            "float32" => Dtype::Float32,
            "float64" => Dtype::Float64,
            other => {
                return Err(format!(
                    "partial.hello.dtype: '{other}' is not float32 or float64"
                ));
            }
        };
        let ops = hello
            .strings("ops")?
            .iter()
            .map(|name| {
                Op::from_name(name).ok_or_else(|| {
                    format!("partial.hello.ops: '{name}' is not an op of protocol v1")
                })
            })
            .collect::<Result<Vec<Op>, String>>()?;
        let hello = Capabilities::new(hello.str("name")?, dtype, ops, hello.strings("estimators")?)
            .with_unknown_ops(hello.strings("unknown_ops")?);
        let level_name = p.str("level")?;
        let level = Level::from_name(level_name).ok_or_else(|| {
            format!("partial.level: '{level_name}' is not quick, standard, thorough or deep")
        })?;
        let shard = p.obj("shard")?;
        let shard = Shard::new(shard.u64("index")?, shard.u64("count")?)
            .map_err(|e| format!("partial.shard: {e}"))?;
        let mut samples = p
            .obj("samples")?
            .map
            .iter()
            .map(|(id, n)| {
                n.as_u64()
                    .map(|n| (id.clone(), n))
                    .ok_or_else(|| format!("partial.samples.{id}: expected an unsigned integer"))
            })
            .collect::<Result<Vec<_>, String>>()?;
        samples.sort();
        Ok(Header {
            battery: p.str("battery")?.to_string(),
            work: p.str("work")?.to_string(),
            hello,
            level,
            seed: p.u64("seed")?,
            fwer: p.f64("fwer")?,
            selection: p.strings("selection")?,
            samples,
            shard,
            units_total: p.usize("units_total")?,
        })
    }
}

/// One unit of a partial: its index in the run, where it lies in the plan, and its result
/// (`None`: not run, after a failed unit of its check in this shard).
struct UnitRecord {
    index: usize,
    check: String,
    case: usize,
    chunk: u64,
    result: Option<UnitResult>,
}

/// The partial of one shard (module doc).
pub struct Partial {
    header: Header,
    units: Vec<UnitRecord>,
    whole: Option<Vec<Ran>>,
}

impl fmt::Debug for Partial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Partial")
            .field("shard", &self.header.shard)
            .field("units", &self.units.len())
            .field("whole", &self.whole.as_ref().map(Vec::len))
            .finish()
    }
}

impl Partial {
    /// The partial of `shard`: its units' results (`(index, result)`, increasing) and, on
    /// shard 0, the whole checks' results.
    pub(crate) fn new(
        caps: &Capabilities,
        options: &AuditOptions,
        work: &Work,
        shard: Shard,
        units: Vec<(usize, Option<UnitResult>)>,
        whole: Option<Vec<Ran>>,
    ) -> Self {
        let units = units
            .into_iter()
            .map(|(index, result)| {
                let u = &work.units[index];
                UnitRecord {
                    index,
                    check: work.chunked[u.check].spec.id.to_string(),
                    case: u.case,
                    chunk: u.chunk,
                    result,
                }
            })
            .collect();
        Partial {
            header: Header::new(caps, options, work, shard),
            units,
            whole,
        }
    }

    /// The shard this partial is of.
    pub fn shard(&self) -> Shard {
        self.header.shard
    }

    /// Number of units the partial holds.
    pub fn unit_count(&self) -> usize {
        self.units.len()
    }

    /// Number of units of the whole run.
    pub fn units_total(&self) -> usize {
        self.header.units_total
    }

    /// Number of whole checks the partial holds (0 except on shard 0).
    pub fn whole_count(&self) -> usize {
        self.whole.as_ref().map_or(0, Vec::len)
    }

    /// Whether this is the partial of `shard` of the run `options` on the implementation whose
    /// hello is `caps` (what a resumed shard checks before skipping its work).
    ///
    /// # Errors
    /// A message naming the first field that differs and the two values.
    pub fn is_for(
        &self,
        caps: &Capabilities,
        options: &AuditOptions,
        shard: Shard,
    ) -> Result<(), String> {
        let expected = Header::new(caps, options, &Work::plan(caps, options), shard);
        match expected.difference(&self.header, true) {
            None => Ok(()),
            Some((field, want, found)) => {
                Err(format!("its {field} is {found}, this run's is {want}"))
            }
        }
    }

    /// The partial as JSON text (module doc), ending with a newline.
    pub fn to_text(&self) -> String {
        let units: Vec<Value> = self
            .units
            .iter()
            .map(|u| {
                let result = match &u.result {
                    Some(Ok(t)) => json!({"tally": tally_json(t)}),
                    Some(Err(e)) => json!({"error": error_json(e)}),
                    None => json!("not_run"),
                };
                json!({
                    "index": u.index,
                    "check": u.check,
                    "case": u.case,
                    "chunk": u.chunk,
                    "result": result,
                })
            })
            .collect();
        let mut body = self.header.to_json();
        body["units"] = Value::Array(units);
        body["whole"] = match &self.whole {
            Some(w) => w.iter().map(ran_json).collect(),
            None => Value::Null,
        };
        let doc = json!({
            "format": FORMAT,
            "version": VERSION,
            "checksum": checksum(&body),
            "partial": body,
        });
        // Serialising a Value (string keys, numbers, strings) cannot fail.
        let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a partial from its text, checking the format, version, checksum and every field.
    ///
    /// # Errors
    /// A message naming what is wrong: not JSON (or cut short), another format or version, a
    /// checksum that does not match (edited or corrupted), a missing or mistyped field.
    pub fn from_text(text: &str) -> Result<Self, String> {
        let doc: Value = serde_json::from_str(text).map_err(|e| {
            format!("not a complete JSON document (truncated or not a partial?): {e}")
        })?;
        let top = Obj::new(&doc, "file")?;
        let format = top
            .str("format")
            .map_err(|_| format!("not a partial file: no \"format\": \"{FORMAT}\" field"))?;
        if format != FORMAT {
            return Err(format!(
                "format '{format}' is not {FORMAT}: not a partial file"
            ));
        }
        let version = top.u64("version")?;
        if version != VERSION {
            return Err(format!(
                "{FORMAT} version {version}: this build reads version {VERSION} only"
            ));
        }
        let body = top.get("partial")?;
        let stored = top.str("checksum")?;
        let computed = checksum(body);
        if stored != computed {
            return Err(format!(
                "checksum mismatch: the file says {stored}, its content hashes to {computed} \
                 (edited by hand or corrupted)"
            ));
        }
        let p = Obj::new(body, "partial")?;
        let header = Header::of(&p)?;
        let mut units = Vec::new();
        for u in p.objs("units")? {
            let result_value = u.get("result")?;
            let result = if result_value.as_str() == Some("not_run") {
                None
            } else {
                let r = u.obj("result")?;
                Some(match (r.has("tally"), r.has("error")) {
                    (true, false) => Ok(tally_of(&r.obj("tally")?)?),
                    (false, true) => Err(error_of(&r.obj("error")?)?),
                    _ => {
                        return Err(format!(
                            "{}: expected {{\"tally\": ...}}, {{\"error\": ...}} or \"not_run\"",
                            r.path()
                        ));
                    }
                })
            };
            units.push(UnitRecord {
                index: u.usize("index")?,
                check: u.str("check")?.to_string(),
                case: u.usize("case")?,
                chunk: u.u64("chunk")?,
                result,
            });
        }
        let whole = match p.opt("whole")? {
            None => None,
            Some(_) => Some(
                p.objs("whole")?
                    .iter()
                    .map(ran_of)
                    .collect::<Result<Vec<Ran>, String>>()?,
            ),
        };
        Ok(Partial {
            header,
            units,
            whole,
        })
    }
}

/// `"fnv1a64:<hex>"` of the compact JSON text of `body` (object keys sorted).
fn checksum(body: &Value) -> String {
    let text = serde_json::to_string(body).unwrap_or_default();
    format!("fnv1a64:{:016x}", fnv_update(FNV_OFFSET, text.as_bytes()))
}

/// Writes `text` to `path` atomically: into a new temporary file in the same directory
/// (created with `create_new`, so a planted file or link there is never followed), then
/// renamed over `path` (a link at `path` is replaced, not followed).
///
/// # Errors
/// The I/O error, with the path.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), String> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .ok_or_else(|| format!("{}: not a file name", path.display()))?;
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let tmp = dir.join(format!(
        ".{}.{}.{stamp}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| {
            f.write_all(text.as_bytes())?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

// ---------------------------------------------------------------------------------------------
// Merge
// ---------------------------------------------------------------------------------------------

/// Why partials could not be merged; the message names the file(s), the field and the values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartialError {
    /// No file was given.
    Empty,
    /// A file is not a valid partial (unreadable, truncated, edited, foreign, mistyped).
    Invalid {
        /// The file.
        file: String,
        /// What is wrong.
        why: String,
    },
    /// Two files are of different runs.
    Differ {
        /// The field that differs.
        field: &'static str,
        /// The first file and its value.
        first: (String, String),
        /// The other file and its value.
        other: (String, String),
    },
    /// A shard is given twice.
    Duplicate {
        /// The shard, `I/N`.
        shard: String,
        /// The two files.
        files: (String, String),
    },
    /// Shards are missing.
    Missing {
        /// The missing shards, `I/N` each.
        shards: Vec<String>,
        /// Number of shards of the run.
        count: u64,
    },
}

impl fmt::Display for PartialError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PartialError::Empty => write!(f, "no partial file given: merge needs every shard's"),
            PartialError::Invalid { file, why } => write!(f, "{file}: {why}"),
            PartialError::Differ {
                field,
                first,
                other,
            } => write!(
                f,
                "the partials are of different runs: {field} is {} in {} but {} in {}",
                first.1, first.0, other.1, other.0
            ),
            PartialError::Duplicate { shard, files } => write!(
                f,
                "shard {shard} is given twice: {} and {} (each shard exactly once)",
                files.0, files.1
            ),
            PartialError::Missing { shards, count } => {
                let shown: Vec<&str> = shards.iter().take(20).map(String::as_str).collect();
                write!(
                    f,
                    "{} of the {count} shards missing: {}{} (every shard 0..{count} exactly once)",
                    shards.len(),
                    shown.join(", "),
                    if shards.len() > shown.len() {
                        ", ..."
                    } else {
                        ""
                    }
                )
            }
        }
    }
}

impl std::error::Error for PartialError {}

/// Reads the partials `files` (`(name, text)`), checks that they are every shard of one run
/// exactly once, merges them and decides: the report a single run of the same options on the
/// same implementation gives, whatever the number of shards or the order of the files.
///
/// # Errors
/// A [`PartialError`] naming what is wrong (module doc).
pub fn merge(files: &[(String, String)]) -> Result<AuditReport, PartialError> {
    let invalid = |file: &str, why: String| PartialError::Invalid {
        file: file.to_string(),
        why,
    };
    if files.is_empty() {
        return Err(PartialError::Empty);
    }
    let mut parts = Vec::with_capacity(files.len());
    for (name, text) in files {
        parts.push((
            name.as_str(),
            Partial::from_text(text).map_err(|e| invalid(name, e))?,
        ));
    }
    let (first_name, first) = (parts[0].0, &parts[0].1.header);
    for (name, p) in &parts[1..] {
        if let Some((field, a, b)) = first.difference(&p.header, false) {
            return Err(PartialError::Differ {
                field,
                first: (first_name.to_string(), a),
                other: (name.to_string(), b),
            });
        }
    }
    let count = first.shard.count();
    let mut by_shard: Vec<Option<usize>> = vec![None; usize::try_from(count).unwrap_or(0)];
    for (k, (name, p)) in parts.iter().enumerate() {
        let i = p.header.shard.index() as usize;
        if let Some(j) = by_shard[i] {
            return Err(PartialError::Duplicate {
                shard: p.header.shard.to_string(),
                files: (parts[j].0.to_string(), name.to_string()),
            });
        }
        by_shard[i] = Some(k);
    }
    let missing: Vec<String> = by_shard
        .iter()
        .enumerate()
        .filter(|(_, k)| k.is_none())
        .map(|(i, _)| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(PartialError::Missing {
            shards: missing,
            count,
        });
    }
    let options = first.options().map_err(|e| invalid(first_name, e))?;
    let caps = first.hello.clone();
    let work = Work::plan(&caps, &options);
    let expected = Header::new(&caps, &options, &work, first.shard);
    if let Some((field, a, b)) = expected.difference(first, false) {
        return Err(invalid(
            first_name,
            format!("its {field} is {b}, but this build plans {a} for its run"),
        ));
    }
    let mut results: Vec<Option<UnitResult>> = vec![None; work.units.len()];
    let mut whole = None;
    for (name, p) in parts {
        let shard = p.header.shard;
        let own = shard.units(work.units.len());
        if p.units.len() != own.len() {
            return Err(invalid(
                name,
                format!(
                    "shard {shard} holds {} units, the rule u mod {} = {} gives it {}",
                    p.units.len(),
                    shard.count(),
                    shard.index(),
                    own.len()
                ),
            ));
        }
        for (rec, &u) in p.units.into_iter().zip(&own) {
            let plan = &work.units[u];
            let check = work.chunked[plan.check].spec.id;
            if rec.index != u
                || rec.check != check
                || rec.case != plan.case
                || rec.chunk != plan.chunk
            {
                return Err(invalid(
                    name,
                    format!(
                        "unit {} ({} case {} chunk {}) is not the shard's next unit {u} ({check} \
                         case {} chunk {})",
                        rec.index, rec.check, rec.case, rec.chunk, plan.case, plan.chunk
                    ),
                ));
            }
            results[u] = rec.result;
        }
        match (shard.runs_whole(), p.whole) {
            (true, Some(w)) => {
                let want: Vec<&str> = work
                    .selected
                    .iter()
                    .filter(|c| c.chunked().is_none())
                    .map(|c| c.id)
                    .collect();
                let got: Vec<&str> = w.iter().map(|r| r.id).collect();
                if want != got {
                    return Err(invalid(
                        name,
                        format!(
                            "its whole checks are [{}], the run's are [{}]",
                            got.join(", "),
                            want.join(", ")
                        ),
                    ));
                }
                whole = Some(w);
            }
            (true, None) => {
                return Err(invalid(
                    name,
                    format!("shard {shard} must carry the whole checks' results; it has none"),
                ));
            }
            (false, Some(_)) => {
                return Err(invalid(
                    name,
                    format!("shard {shard} carries whole checks' results; only shard 0 may"),
                ));
            }
            (false, None) => {}
        }
    }
    work.assemble(&caps, &options, whole.unwrap_or_default(), results)
        .map_err(|e| {
            invalid(
                first_name,
                format!("the merged results cannot be decided: {e}"),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_round_trip_exactly_through_the_text() {
        let xs = [
            0.1,
            -0.0,
            1.0 / 3.0,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            -1.234_567_890_123_456_7e-300,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let v = json!({"x": xs.iter().map(|&x| f64_json(x)).collect::<Vec<_>>()});
        let text = serde_json::to_string(&v).unwrap();
        let back: Value = serde_json::from_str(&text).unwrap();
        let got = Obj::new(&back, "t").unwrap().f64s("x").unwrap();
        for (a, b) in xs.iter().zip(&got) {
            assert_eq!(a.to_bits(), b.to_bits(), "{a} came back as {b}");
        }
        let nan = f64_of(&f64_json(f64::NAN), "n").unwrap();
        assert!(nan.is_nan());
        assert!(
            f64_of(&json!("infinity"), "n")
                .unwrap_err()
                .contains("\"inf\"")
        );
    }

    #[test]
    fn the_checksum_sees_a_changed_count() {
        let a = json!({"counts": [1, 2, 3]});
        let b = json!({"counts": [1, 2, 4]});
        assert_ne!(checksum(&a), checksum(&b));
        assert_eq!(checksum(&a), checksum(&a.clone()));
    }
}
