//! NumPy `.npy` files: the array interchange of adapter protocol v1.
//!
//! Reads and writes the five dtypes the protocol carries, little-endian, in C order. Anything
//! else (big-endian, Fortran order, bool, structured dtypes, object arrays) is refused with an
//! [`NpyError`] that names what was found. bfloat16 has no `.npy` dtype: it travels as `<f4`
//! (docs/adapter-protocol.md), and an [`ArrayData::Bf16`] array is written as `<f4` (exact).
//!
//! # Format
//! ```text
//! offset  bytes  content
//! 0       6      magic  \x93 N U M P Y
//! 6       1      major version   1, 2 or 3
//! 7       1      minor version   0
//! 8       2|4    header length H, little-endian u16 (version 1) or u32 (versions 2 and 3)
//! 10|12   H      header: a Python dict literal, ASCII (1, 2) or UTF-8 (3), padded with
//!                spaces and ending in '\n', e.g.
//!                {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }
//! 10+H|12+H      data: Π shape values of the dtype, little-endian, C (row-major) order
//! ```
//! Supported `descr`: `<f2` (float16, kept as its bit patterns: [`ArrayData::F16`]), `<f4`
//! (float32), `<f8` (float64), `<i4` (int32), `<i8` (int64). The
//! shape `()` is a 0-d array with one value. Writers pad the preamble plus header to a multiple
//! of 64 bytes as NumPy does, and use version 1.0 unless the header needs more than 65535 bytes.
//!
//! # Memory
//! [`read`] checks the header against the file's length before it allocates, so a file whose
//! header promises more (or fewer) values than it holds is refused without reading it, and the
//! allocation is never larger than the file.
//!
//! # References
//! - NumPy Enhancement Proposal 1, *A Simple File Format for NumPy Arrays*,
//!   <https://numpy.org/neps/nep-0001-npy-format.html>.
//! - `numpy.lib.format`, <https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html>.

use std::fmt;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::path::Path;

use crate::audit::target::{Array, ArrayData, TargetError};

/// The six bytes every `.npy` file starts with.
pub const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Largest header accepted (NumPy itself refuses headers above 10 000 bytes by default; a
/// generous limit keeps a corrupt length from causing a huge allocation).
const MAX_HEADER_LEN: usize = 1 << 20;

/// Why a `.npy` file could not be read or written.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum NpyError {
    /// The file could not be opened, read or written.
    Io {
        /// What was being done, with the path.
        context: String,
        /// The operating system's message.
        message: String,
    },
    /// The file does not start with `\x93NUMPY`.
    BadMagic,
    /// A format version other than 1.0, 2.0 or 3.0.
    UnsupportedVersion {
        /// Major version byte.
        major: u8,
        /// Minor version byte.
        minor: u8,
    },
    /// The header is not the dict literal the format prescribes.
    BadHeader(String),
    /// A dtype other than `<f4`, `<f8`, `<i4`, `<i8`.
    UnsupportedDtype(String),
    /// `fortran_order` is `True`; only C order is accepted.
    FortranOrder,
    /// The data section does not hold exactly `Π shape` values.
    LengthMismatch {
        /// Bytes the header promises.
        expected: u64,
        /// Bytes present after the header.
        found: u64,
    },
}

impl fmt::Display for NpyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NpyError::Io { context, message } => write!(f, "{context}: {message}"),
            NpyError::BadMagic => write!(f, "not a .npy file: it does not start with \\x93NUMPY"),
            NpyError::UnsupportedVersion { major, minor } => write!(
                f,
                ".npy format version {major}.{minor} is not supported (1.0, 2.0 and 3.0 are)"
            ),
            NpyError::BadHeader(msg) => write!(f, "malformed .npy header: {msg}"),
            NpyError::UnsupportedDtype(d) => write!(
                f,
                ".npy dtype {d:?} is not supported: expected little-endian '<f2', '<f4', '<f8', '<i4' or '<i8'"
            ),
            NpyError::FortranOrder => {
                write!(
                    f,
                    ".npy array is in Fortran order: only C order is supported"
                )
            }
            NpyError::LengthMismatch { expected, found } => write!(
                f,
                ".npy data section holds {found} bytes but the header's shape and dtype need {expected}"
            ),
        }
    }
}

impl std::error::Error for NpyError {}

impl From<NpyError> for TargetError {
    fn from(e: NpyError) -> Self {
        TargetError::Fault(e.to_string())
    }
}

/// The element type of a `.npy` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NpyDtype {
    /// `<f2`
    F16,
    /// `<f4`
    F32,
    /// `<f8`
    F64,
    /// `<i4`
    I32,
    /// `<i8`
    I64,
}

impl NpyDtype {
    /// The NumPy `descr` string (`"<f8"`, ...).
    pub fn descr(self) -> &'static str {
        match self {
            NpyDtype::F16 => "<f2",
            NpyDtype::F32 => "<f4",
            NpyDtype::F64 => "<f8",
            NpyDtype::I32 => "<i4",
            NpyDtype::I64 => "<i8",
        }
    }

    /// The NumPy dtype name (`"float64"`, ...), as [`ArrayData::dtype_name`] spells it.
    pub fn name(self) -> &'static str {
        match self {
            NpyDtype::F16 => "float16",
            NpyDtype::F32 => "float32",
            NpyDtype::F64 => "float64",
            NpyDtype::I32 => "int32",
            NpyDtype::I64 => "int64",
        }
    }

    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            NpyDtype::F16 => 2,
            NpyDtype::F32 | NpyDtype::I32 => 4,
            NpyDtype::F64 | NpyDtype::I64 => 8,
        }
    }

    /// Whether the dtype is floating point.
    pub fn is_float(self) -> bool {
        matches!(self, NpyDtype::F16 | NpyDtype::F32 | NpyDtype::F64)
    }

    fn from_descr(descr: &str) -> Result<Self, NpyError> {
        // '=' (native) is little-endian on every platform this crate is built for only by
        // accident; NumPy always writes an explicit '<' or '|', so '=' is refused too.
        match descr {
            "<f2" => Ok(NpyDtype::F16),
            "<f4" => Ok(NpyDtype::F32),
            "<f8" => Ok(NpyDtype::F64),
            "<i4" => Ok(NpyDtype::I32),
            "<i8" => Ok(NpyDtype::I64),
            other => Err(NpyError::UnsupportedDtype(other.to_string())),
        }
    }

    fn of(data: &ArrayData) -> Self {
        match data {
            ArrayData::F16(_) => NpyDtype::F16,
            ArrayData::F32(_) | ArrayData::Bf16(_) => NpyDtype::F32,
            ArrayData::F64(_) => NpyDtype::F64,
            ArrayData::I32(_) => NpyDtype::I32,
            ArrayData::I64(_) => NpyDtype::I64,
        }
    }
}

/// What the header of a `.npy` file says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NpyHeader {
    /// Format version `(major, minor)`.
    pub version: (u8, u8),
    /// Element type.
    pub dtype: NpyDtype,
    /// Dimensions, outermost first; empty for a 0-d array.
    pub shape: Vec<usize>,
    /// Byte offset of the data section.
    pub data_offset: usize,
}

impl NpyHeader {
    /// Number of elements, `Π shape` (1 for a 0-d array); `None` on overflow.
    pub fn len(&self) -> Option<usize> {
        self.shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
    }

    /// Whether the array has no elements (`None`-safe: an overflowing shape is not empty).
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Bytes of the data section; `None` on overflow.
    pub fn data_bytes(&self) -> Option<usize> {
        self.len()?.checked_mul(self.dtype.size())
    }
}

/// Reads and validates the preamble and header from `reader`, leaving it at the data section.
///
/// # Errors
/// [`NpyError::BadMagic`], [`NpyError::UnsupportedVersion`], [`NpyError::BadHeader`],
/// [`NpyError::UnsupportedDtype`], [`NpyError::FortranOrder`], or [`NpyError::Io`] (named
/// `what`) when the stream ends early.
pub fn read_header_from(reader: &mut impl Read, what: &str) -> Result<NpyHeader, NpyError> {
    let io = |e: std::io::Error| NpyError::Io {
        context: format!("reading the header of {what}"),
        message: e.to_string(),
    };
    let mut pre = [0u8; 8];
    reader.read_exact(&mut pre).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            NpyError::BadMagic
        } else {
            io(e)
        }
    })?;
    if &pre[..6] != MAGIC {
        return Err(NpyError::BadMagic);
    }
    let (major, minor) = (pre[6], pre[7]);
    if !matches!((major, minor), (1, 0) | (2, 0) | (3, 0)) {
        return Err(NpyError::UnsupportedVersion { major, minor });
    }
    let (header_len, prefix) = if major == 1 {
        let mut b = [0u8; 2];
        reader.read_exact(&mut b).map_err(io)?;
        (usize::from(u16::from_le_bytes(b)), 10)
    } else {
        let mut b = [0u8; 4];
        reader.read_exact(&mut b).map_err(io)?;
        let len = u32::from_le_bytes(b) as usize;
        (len, 12)
    };
    if header_len > MAX_HEADER_LEN {
        return Err(NpyError::BadHeader(format!(
            "header length {header_len} exceeds the limit of {MAX_HEADER_LEN} bytes"
        )));
    }
    let mut raw = vec![0u8; header_len];
    reader.read_exact(&mut raw).map_err(io)?;
    let text = if major == 3 {
        String::from_utf8(raw)
            .map_err(|_| NpyError::BadHeader("header is not valid UTF-8".to_string()))?
    } else {
        if !raw.is_ascii() {
            return Err(NpyError::BadHeader(format!(
                "header of a version {major}.0 file must be ASCII"
            )));
        }
        String::from_utf8(raw)
            .map_err(|_| NpyError::BadHeader("header is not valid ASCII".to_string()))?
    };
    if !text.ends_with('\n') {
        return Err(NpyError::BadHeader(
            "header does not end with a newline".to_string(),
        ));
    }
    let (descr, fortran, shape) = parse_header_dict(&text)?;
    let dtype = NpyDtype::from_descr(&descr)?;
    if fortran {
        return Err(NpyError::FortranOrder);
    }
    let header = NpyHeader {
        version: (major, minor),
        dtype,
        shape,
        data_offset: prefix + header_len,
    };
    if header.data_bytes().is_none() {
        return Err(NpyError::BadHeader(format!(
            "shape {:?} overflows the address space",
            header.shape
        )));
    }
    Ok(header)
}

/// Reads the header of the `.npy` file at `path` without reading its data.
///
/// # Errors
/// As [`read_header_from`]; [`NpyError::Io`] when the file cannot be opened.
pub fn read_header(path: &Path) -> Result<NpyHeader, NpyError> {
    let file = File::open(path).map_err(|e| NpyError::Io {
        context: format!("opening {}", path.display()),
        message: e.to_string(),
    })?;
    read_header_from(&mut BufReader::new(file), &path.display().to_string())
}

/// Reads the `.npy` file at `path` into an [`Array`].
///
/// # Errors
/// As [`read_header_from`]; [`NpyError::LengthMismatch`] when the file is shorter or longer
/// than the header's shape and dtype require (checked before the data is allocated).
///
/// # Example
/// ```
/// use gumbel_audit::audit::{npy, Array};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let path = std::env::temp_dir().join(format!("npy-doc-{}.npy", std::process::id()));
/// let a = Array::from_f64_matrix(2, 2, vec![1.0, 2.0, 3.0, f64::NAN])?;
/// npy::write(&path, &a)?;
/// let b = npy::read(&path)?;
/// std::fs::remove_file(&path)?;
/// assert_eq!(b.shape, vec![2, 2]);
/// assert!(b.to_f64()[3].is_nan());
/// # Ok(())
/// # }
/// ```
pub fn read(path: &Path) -> Result<Array, NpyError> {
    let file = File::open(path).map_err(|e| NpyError::Io {
        context: format!("opening {}", path.display()),
        message: e.to_string(),
    })?;
    let what = path.display().to_string();
    let file_len = file_len(&file, &what)?;
    let mut reader = BufReader::new(file);
    let header = read_header_from(&mut reader, &what)?;
    read_data(&mut reader, &header, file_len, &what)
}

/// The length of an open file, for [`read_data`].
///
/// # Errors
/// [`NpyError::Io`] when the file's metadata cannot be read.
pub fn file_len(file: &File, what: &str) -> Result<u64, NpyError> {
    Ok(file
        .metadata()
        .map_err(|e| NpyError::Io {
            context: format!("reading the size of {what}"),
            message: e.to_string(),
        })?
        .len())
}

/// Reads the data section that follows `header` (already read from `reader`) of a file of
/// `file_len` bytes: the length is checked against the header before anything is allocated.
/// With [`read_header_from`], this reads a file the caller opened itself (for example with
/// flags that refuse links and FIFOs) and lets it check the header before the data is read.
///
/// # Errors
/// [`NpyError::LengthMismatch`] when the file is shorter or longer than the header requires;
/// [`NpyError::Io`] when reading fails.
pub fn read_data(
    reader: &mut impl Read,
    header: &NpyHeader,
    file_len: u64,
    what: &str,
) -> Result<Array, NpyError> {
    let need = header.data_bytes().unwrap_or(usize::MAX) as u64;
    let found = file_len.saturating_sub(header.data_offset as u64);
    if need != found {
        return Err(NpyError::LengthMismatch {
            expected: need,
            found,
        });
    }
    let mut bytes = vec![0u8; need as usize];
    reader.read_exact(&mut bytes).map_err(|e| NpyError::Io {
        context: format!("reading the data of {what}"),
        message: e.to_string(),
    })?;
    decode(header, &bytes)
}

/// Parses a whole `.npy` file held in memory.
///
/// # Errors
/// As [`read`].
pub fn from_bytes(bytes: &[u8]) -> Result<Array, NpyError> {
    let mut cursor = bytes;
    let header = read_header_from(&mut cursor, "the buffer")?;
    let need = header.data_bytes().unwrap_or(usize::MAX) as u64;
    let found = cursor.len() as u64;
    if need != found {
        return Err(NpyError::LengthMismatch {
            expected: need,
            found,
        });
    }
    decode(&header, cursor)
}

fn decode(header: &NpyHeader, bytes: &[u8]) -> Result<Array, NpyError> {
    let data = match header.dtype {
        NpyDtype::F16 => ArrayData::F16(
            bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect(),
        ),
        NpyDtype::F32 => ArrayData::F32(
            bytes
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        NpyDtype::F64 => ArrayData::F64(
            bytes
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(eight(c)))
                .collect(),
        ),
        NpyDtype::I32 => ArrayData::I32(
            bytes
                .chunks_exact(4)
                .map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        ),
        NpyDtype::I64 => ArrayData::I64(
            bytes
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes(eight(c)))
                .collect(),
        ),
    };
    Array::new(header.shape.clone(), data).map_err(|e| NpyError::BadHeader(e.to_string()))
}

fn eight(c: &[u8]) -> [u8; 8] {
    let mut b = [0u8; 8];
    b.copy_from_slice(c);
    b
}

/// Encodes `array` as a complete `.npy` file (version 1.0, or 2.0 for a header above 65535
/// bytes), padded to 64 bytes as NumPy pads.
pub fn to_bytes(array: &Array) -> Vec<u8> {
    let dtype = NpyDtype::of(&array.data);
    let shape = match array.shape.len() {
        0 => "()".to_string(),
        1 => format!("({},)", array.shape[0]),
        _ => format!(
            "({})",
            array
                .shape
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let dict = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': {shape}, }}",
        dtype.descr()
    );
    // Pad with spaces so that preamble + header is a multiple of 64, the header ending in '\n';
    // version 2.0 only when the header does not fit a u16 length.
    let padded = |prefix: usize| {
        let pad = (64 - (prefix + dict.len() + 1) % 64) % 64;
        (pad, dict.len() + pad + 1)
    };
    let (mut major, mut prefix) = (1u8, 10usize);
    let (mut pad, mut header_len) = padded(prefix);
    if header_len > usize::from(u16::MAX) {
        (major, prefix) = (2, 12);
        (pad, header_len) = padded(prefix);
    }
    let mut out = Vec::with_capacity(prefix + header_len + array.data.len() * dtype.size());
    out.extend_from_slice(MAGIC);
    out.push(major);
    out.push(0);
    if major == 1 {
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header_len as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.extend(std::iter::repeat_n(b' ', pad));
    out.push(b'\n');
    match &array.data {
        ArrayData::F16(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        // bfloat16 bits are the upper half of the float32 they are.
        ArrayData::Bf16(v) => v
            .iter()
            .for_each(|&x| out.extend_from_slice(&(u32::from(x) << 16).to_le_bytes())),
        ArrayData::F32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        ArrayData::F64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        ArrayData::I32(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
        ArrayData::I64(v) => v
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes())),
    }
    out
}

/// Writes `array` to `path` as a `.npy` file (see [`to_bytes`]).
///
/// # Errors
/// [`NpyError::Io`] when the file cannot be created or written.
pub fn write(path: &Path, array: &Array) -> Result<(), NpyError> {
    let io = |e: std::io::Error| NpyError::Io {
        context: format!("writing {}", path.display()),
        message: e.to_string(),
    };
    let mut file = File::create(path).map_err(io)?;
    write_into(&mut file, array, &path.display().to_string())
}

/// Writes `array` as a `.npy` file into `writer` (a file the caller created, for example
/// with `create_new`), flushing at the end; `what` names it in errors.
///
/// # Errors
/// [`NpyError::Io`] when writing or flushing fails (a full disk among others).
pub fn write_into(writer: &mut impl Write, array: &Array, what: &str) -> Result<(), NpyError> {
    let io = |e: std::io::Error| NpyError::Io {
        context: format!("writing {what}"),
        message: e.to_string(),
    };
    writer.write_all(&to_bytes(array)).map_err(io)?;
    writer.flush().map_err(io)
}

/// A value of the header dict: the three kinds the format uses.
#[derive(Debug)]
enum Lit {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
}

/// Parses `{'descr': ..., 'fortran_order': ..., 'shape': (...), }` in any key order, with
/// Python's optional trailing commas and either quote style. Returns (descr, fortran, shape).
fn parse_header_dict(text: &str) -> Result<(String, bool, Vec<usize>), NpyError> {
    let bad = |m: &str| NpyError::BadHeader(format!("{m} in {:?}", text.trim_end()));
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.ws();
    if !p.eat(b'{') {
        return Err(bad("expected '{'"));
    }
    let (mut descr, mut fortran, mut shape) = (None, None, None);
    loop {
        p.ws();
        if p.eat(b'}') {
            break;
        }
        let key = p.string().ok_or_else(|| bad("expected a quoted key"))?;
        p.ws();
        if !p.eat(b':') {
            return Err(bad("expected ':' after a key"));
        }
        p.ws();
        let value = p.literal().ok_or_else(|| bad("unreadable value"))?;
        match (key.as_str(), value) {
            ("descr", Lit::Str(s)) => descr = Some(s),
            ("fortran_order", Lit::Bool(b)) => fortran = Some(b),
            ("shape", Lit::Tuple(t)) => shape = Some(t),
            ("descr" | "fortran_order" | "shape", v) => {
                return Err(NpyError::BadHeader(format!(
                    "key {key:?} has a value of the wrong kind ({v:?}) in {:?}",
                    text.trim_end()
                )));
            }
            (other, _) => {
                return Err(NpyError::BadHeader(format!(
                    "unexpected key {other:?} in {:?}",
                    text.trim_end()
                )));
            }
        }
        p.ws();
        if p.eat(b',') {
            continue;
        }
        p.ws();
        if p.eat(b'}') {
            break;
        }
        return Err(bad("expected ',' or '}'"));
    }
    p.ws();
    if p.i != p.s.len() {
        return Err(bad("trailing characters after the dict"));
    }
    match (descr, fortran, shape) {
        (Some(d), Some(f), Some(s)) => Ok((d, f, s)),
        _ => Err(bad(
            "the keys 'descr', 'fortran_order' and 'shape' are required",
        )),
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn string(&mut self) -> Option<String> {
        let q = self.peek()?;
        if q != b'\'' && q != b'"' {
            return None;
        }
        self.i += 1;
        let start = self.i;
        while self.peek()? != q {
            if self.peek()? == b'\\' {
                return None;
            }
            self.i += 1;
        }
        let s = std::str::from_utf8(&self.s[start..self.i])
            .ok()?
            .to_string();
        self.i += 1;
        Some(s)
    }

    fn literal(&mut self) -> Option<Lit> {
        match self.peek()? {
            b'\'' | b'"' => self.string().map(Lit::Str),
            b'T' if self.s[self.i..].starts_with(b"True") => {
                self.i += 4;
                Some(Lit::Bool(true))
            }
            b'F' if self.s[self.i..].starts_with(b"False") => {
                self.i += 5;
                Some(Lit::Bool(false))
            }
            b'(' => {
                self.i += 1;
                let mut dims = Vec::new();
                loop {
                    self.ws();
                    if self.eat(b')') {
                        return Some(Lit::Tuple(dims));
                    }
                    let start = self.i;
                    while matches!(self.peek(), Some(b'0'..=b'9')) {
                        self.i += 1;
                    }
                    // Python 2 era writers appended 'L' to longs.
                    let digits = std::str::from_utf8(&self.s[start..self.i]).ok()?;
                    dims.push(digits.parse::<usize>().ok()?);
                    self.eat(b'L');
                    self.ws();
                    if self.eat(b',') {
                        continue;
                    }
                    self.ws();
                    if self.eat(b')') {
                        return Some(Lit::Tuple(dims));
                    }
                    return None;
                }
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file as NEP 1 lays it out, built by hand: version, u16/u32 header length, dict, data.
    fn by_hand(major: u8, dict: &str, data: &[u8]) -> Vec<u8> {
        let mut v = MAGIC.to_vec();
        v.push(major);
        v.push(0);
        let header = format!("{dict}\n");
        if major == 1 {
            v.extend_from_slice(&(header.len() as u16).to_le_bytes());
        } else {
            v.extend_from_slice(&(header.len() as u32).to_le_bytes());
        }
        v.extend_from_slice(header.as_bytes());
        v.extend_from_slice(data);
        v
    }

    /// The exact bytes numpy 2.4 writes for `np.save(f, np.array([1.5, -2.0], dtype='<f8'))`:
    /// a 118-byte header padded so that 10 + 118 = 128 is a multiple of 64.
    fn numpy_f8_pair() -> Vec<u8> {
        let mut v = b"\x93NUMPY\x01\x00v\x00".to_vec();
        let dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }";
        v.extend_from_slice(dict.as_bytes());
        v.extend(std::iter::repeat_n(b' ', 118 - dict.len() - 1));
        v.push(b'\n');
        v.extend_from_slice(&1.5f64.to_le_bytes());
        v.extend_from_slice(&(-2.0f64).to_le_bytes());
        v
    }

    #[test]
    fn reads_numpy_layout() {
        let a = from_bytes(&numpy_f8_pair()).unwrap();
        assert_eq!(a.shape, vec![2]);
        assert_eq!(a.data, ArrayData::F64(vec![1.5, -2.0]));
    }

    #[test]
    fn writes_numpy_layout_byte_for_byte() {
        assert_eq!(to_bytes(&Array::from_f64(vec![1.5, -2.0])), numpy_f8_pair());
    }

    #[test]
    fn round_trips_every_dtype_and_shape() {
        let cases = vec![
            Array::new(
                vec![2, 3],
                ArrayData::F32(vec![0.5, -1.0, f32::INFINITY, 3.0, 4.0, 5.0]),
            )
            .unwrap(),
            Array::new(
                vec![3],
                ArrayData::F64(vec![f64::NAN, f64::NEG_INFINITY, 1e-300]),
            )
            .unwrap(),
            Array::new(vec![4], ArrayData::I32(vec![0, -1, i32::MAX, i32::MIN])).unwrap(),
            Array::new(vec![1, 2], ArrayData::I64(vec![i64::MIN, 7])).unwrap(),
            Array::new(vec![], ArrayData::F64(vec![2.5])).unwrap(),
            Array::new(vec![0, 5], ArrayData::F64(vec![])).unwrap(),
            Array::new(vec![3], ArrayData::F16(vec![0x3c00, 0x7c00, 0x0001])).unwrap(),
        ];
        for a in cases {
            let bytes = to_bytes(&a);
            assert_eq!(
                bytes.len() % 64,
                (a.data.len() * NpyDtype::of(&a.data).size()) % 64
            );
            let b = from_bytes(&bytes).unwrap();
            assert_eq!(a.shape, b.shape);
            // Compare bit patterns so that NaN round trips count.
            let bits = |d: &ArrayData| -> Vec<u64> {
                match d {
                    ArrayData::F32(v) => v.iter().map(|x| u64::from(x.to_bits())).collect(),
                    ArrayData::F64(v) => v.iter().map(|x| x.to_bits()).collect(),
                    ArrayData::I32(v) => v.iter().map(|&x| x as u64).collect(),
                    ArrayData::I64(v) => v.iter().map(|&x| x as u64).collect(),
                    ArrayData::F16(v) | ArrayData::Bf16(v) => {
                        v.iter().map(|&x| u64::from(x)).collect()
                    }
                }
            };
            assert_eq!(a.data.dtype_name(), b.data.dtype_name());
            assert_eq!(bits(&a.data), bits(&b.data));
        }
    }

    #[test]
    fn writes_version_two_when_the_header_needs_it() {
        // 25 000 dimensions of size 1 make a header above 65 535 bytes.
        let a = Array::new(vec![1; 25_000], ArrayData::I64(vec![42])).unwrap();
        let bytes = to_bytes(&a);
        assert_eq!(&bytes[6..8], &[2, 0]);
        let header_len = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        assert!(header_len > usize::from(u16::MAX));
        assert_eq!((12 + header_len) % 64, 0);
        assert_eq!(from_bytes(&bytes).unwrap(), a);
        // A small array stays at version 1.0.
        assert_eq!(&to_bytes(&Array::from_i64(vec![1]))[6..8], &[1, 0]);
    }

    #[test]
    fn versions_two_and_three_and_loose_dicts() {
        let data: Vec<u8> = [3i32, 4].iter().flat_map(|x| x.to_le_bytes()).collect();
        for major in [2, 3] {
            let f = by_hand(
                major,
                "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
                &data,
            );
            assert_eq!(from_bytes(&f).unwrap().data, ArrayData::I32(vec![3, 4]));
        }
        // Key order, double quotes, no trailing comma, Python 2 longs, 2-d.
        let f = by_hand(
            1,
            "{\"shape\": (1L, 2L), \"fortran_order\": False, \"descr\": \"<i4\"}",
            &data,
        );
        let a = from_bytes(&f).unwrap();
        assert_eq!(a.shape, vec![1, 2]);
    }

    #[test]
    fn refuses_what_it_does_not_support() {
        let eight = [0u8; 8];
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"PK\x03\x04 not npy".to_vec(), "does not start"),
            (b"\x93NUM".to_vec(), "does not start"),
            (
                by_hand(
                    1,
                    "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
                    &eight,
                ),
                "\">f8\"",
            ),
            (
                by_hand(
                    1,
                    "{'descr': '|b1', 'fortran_order': False, 'shape': (8,), }",
                    &eight,
                ),
                "\"|b1\"",
            ),
            (
                by_hand(
                    1,
                    "{'descr': '<c8', 'fortran_order': False, 'shape': (4,), }",
                    &eight,
                ),
                "\"<c8\"",
            ),
            (
                by_hand(
                    1,
                    "{'descr': '<f8', 'fortran_order': True, 'shape': (1,), }",
                    &eight,
                ),
                "Fortran",
            ),
            (
                by_hand(
                    1,
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }",
                    &eight,
                ),
                "holds 8 bytes but",
            ),
            (
                by_hand(
                    1,
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (0,), }",
                    &eight,
                ),
                "holds 8 bytes but",
            ),
            (
                by_hand(1, "{'descr': '<f8', 'shape': (1,), }", &eight),
                "are required",
            ),
            (
                by_hand(
                    1,
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), 'x': 'y'}",
                    &eight,
                ),
                "unexpected key",
            ),
            (
                by_hand(
                    1,
                    "{'descr': '<f8', 'fortran_order': 0, 'shape': (1,), }",
                    &eight,
                ),
                "unreadable value",
            ),
            (
                by_hand(
                    1,
                    "{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }",
                    &eight,
                ),
                "unreadable",
            ),
            (
                by_hand(
                    1,
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999999999999,), }",
                    &eight,
                ),
                "unreadable",
            ),
            (
                by_hand(
                    1,
                    "{'descr': '<f8', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }",
                    &eight,
                ),
                "overflows",
            ),
        ];
        for (bytes, needle) in cases {
            let msg = from_bytes(&bytes).unwrap_err().to_string();
            assert!(msg.contains(needle), "{msg:?} should mention {needle:?}");
        }
        let mut v = by_hand(
            1,
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
            &eight,
        );
        v[6] = 4;
        assert_eq!(
            from_bytes(&v).unwrap_err(),
            NpyError::UnsupportedVersion { major: 4, minor: 0 }
        );
        // A header length pointing past the end of the file.
        let mut v = numpy_f8_pair();
        v[8] = 0xff;
        v.truncate(40);
        assert!(matches!(from_bytes(&v), Err(NpyError::Io { .. })));
        // No newline at the end of the header.
        let mut v = numpy_f8_pair();
        v[127] = b' ';
        assert!(from_bytes(&v).unwrap_err().to_string().contains("newline"));
    }

    #[test]
    fn files_written_by_numpy() {
        // Fixtures made by numpy 2.4.6 (tests/fixtures/npy/README.md says how).
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/npy");
        let f64_2x3 = read(&dir.join("f8_2x3.npy")).unwrap();
        assert_eq!(f64_2x3.shape, vec![2, 3]);
        assert_eq!(
            f64_2x3.data,
            ArrayData::F64(vec![0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
        );
        let f32_v = read(&dir.join("f4_inf_nan.npy")).unwrap();
        match f32_v.data {
            ArrayData::F32(v) => {
                assert_eq!(v.len(), 3);
                assert_eq!(v[0], f32::INFINITY);
                assert_eq!(v[1], f32::NEG_INFINITY);
                assert!(v[2].is_nan());
            }
            other => panic!("expected float32, got {other:?}"),
        }
        assert_eq!(
            read(&dir.join("i4_4.npy")).unwrap().data,
            ArrayData::I32(vec![0, 1, -2, 2147483647])
        );
        assert_eq!(
            read(&dir.join("i8_scalar.npy")).unwrap().shape,
            Vec::<usize>::new()
        );
        let v2 = read(&dir.join("i8_v2.npy")).unwrap();
        assert_eq!(v2.data, ArrayData::I64(vec![-9223372036854775808, 3]));
        let big = read(&dir.join("f8_big_endian.npy")).unwrap_err();
        assert_eq!(big, NpyError::UnsupportedDtype(">f8".to_string()));
        let fortran = read(&dir.join("f8_fortran.npy")).unwrap_err();
        assert_eq!(fortran, NpyError::FortranOrder);
        let bools = read(&dir.join("b1.npy")).unwrap_err();
        assert_eq!(bools, NpyError::UnsupportedDtype("|b1".to_string()));
        // Ours are byte-identical to numpy's for the same array.
        let ours = to_bytes(&f64_2x3);
        let theirs = std::fs::read(dir.join("f8_2x3.npy")).unwrap();
        assert_eq!(ours, theirs);
    }
}
