//! Lists of numbers on the command line: inline (`--logits 0,-1.5,2`) or from a file
//! (`--logits @path`, `--logits @-` for standard input).
//!
//! One argument is limited by the operating system (Linux: 128 KiB per argument), so a list of
//! k = 10⁵ logits can only be given from a file. A file is either
//! - text: numbers separated by commas, spaces, tabs or newlines (`inf`, `-inf`, `nan` are read
//!   as numbers so that the library, not the parser, judges them), or
//! - a NumPy `.npy` file (recognised by its magic `\x93NUMPY`) holding a 1-D float64 or
//!   float32 array (float32 values are widened exactly).

use std::io::Read;

use gumbel_audit::audit::npy;
use gumbel_audit::audit::target::ArrayData;

/// Largest file read for one list: 2^30 bytes (1 GiB), far above k = 10⁵ in any format.
pub(crate) const MAX_LIST_FILE_BYTES: u64 = 1 << 30;

/// The `.npy` magic string.
const NPY_MAGIC: &[u8] = b"\x93NUMPY";

/// Reads the list given to `flag`: inline comma-separated numbers, or `@path` / `@-` (module
/// doc).
pub(crate) fn read_list(flag: &str, text: &str) -> Result<Vec<f64>, String> {
    match text.strip_prefix('@') {
        Some(source) => parse_file(flag, source, &read_source(flag, source)?),
        None => parse_separated(flag, text, |c: char| c == ','),
    }
}

/// Parses the content of the file `@source` given to `flag`: a `.npy` file or separated text
/// (module doc). Separate from the reading so that the fuzz targets (`fuzz/`) reach it.
pub(crate) fn parse_file(flag: &str, source: &str, bytes: &[u8]) -> Result<Vec<f64>, String> {
    if bytes.starts_with(NPY_MAGIC) {
        parse_npy(flag, source, bytes)
    } else {
        let text = std::str::from_utf8(bytes).map_err(|_| {
            format!("{flag} @{source}: the file is neither UTF-8 text nor a .npy file")
        })?;
        parse_separated(flag, text, |c: char| c == ',' || c.is_whitespace())
    }
}

fn read_source(flag: &str, source: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let result = if source == "-" {
        std::io::stdin()
            .lock()
            .take(MAX_LIST_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
    } else {
        std::fs::File::open(source)
            .and_then(|f| f.take(MAX_LIST_FILE_BYTES + 1).read_to_end(&mut bytes))
    };
    let name = if source == "-" {
        "standard input"
    } else {
        source
    };
    result.map_err(|e| format!("{flag} @{source}: cannot read {name}: {e}"))?;
    if bytes.len() as u64 > MAX_LIST_FILE_BYTES {
        return Err(format!(
            "{flag} @{source}: {name} is larger than {MAX_LIST_FILE_BYTES} bytes, the limit for one list"
        ));
    }
    Ok(bytes)
}

fn parse_npy(flag: &str, source: &str, bytes: &[u8]) -> Result<Vec<f64>, String> {
    let array = npy::from_bytes(bytes).map_err(|e| format!("{flag} @{source}: {e}"))?;
    if array.shape.len() != 1 {
        return Err(format!(
            "{flag} @{source}: the .npy array has shape {:?}: it must be 1-D",
            array.shape
        ));
    }
    match array.data {
        ArrayData::F64(v) => Ok(v),
        ArrayData::F32(v) => Ok(v.into_iter().map(f64::from).collect()),
        other => Err(format!(
            "{flag} @{source}: the .npy array is {}: it must be float64 or float32",
            other.dtype_name()
        )),
    }
}

/// Splits at `sep`; inline lists keep empty items (an error), files skip runs of separators.
fn parse_separated(flag: &str, text: &str, sep: fn(char) -> bool) -> Result<Vec<f64>, String> {
    let inline = !sep(' ');
    let items: Vec<&str> = if inline {
        text.split(sep).map(str::trim).collect()
    } else {
        text.split(sep).filter(|s| !s.is_empty()).collect()
    };
    if items.iter().all(|s| s.is_empty()) {
        return Err(format!("{flag} is empty: give comma-separated numbers"));
    }
    items
        .into_iter()
        .map(|item| {
            item.parse::<f64>()
                .map_err(|_| format!("{flag}: cannot read '{item}' as a number"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_lists() {
        assert_eq!(read_list("--x", "0,-1.5, 2").unwrap(), vec![0.0, -1.5, 2.0]);
        assert_eq!(
            read_list("--x", "-inf,1").unwrap(),
            vec![f64::NEG_INFINITY, 1.0]
        );
        assert!(read_list("--x", "1,,2").is_err());
        assert!(read_list("--x", "").is_err());
        assert!(read_list("--x", "1 2").unwrap_err().contains("'1 2'"));
    }

    #[test]
    fn files_text_and_npy() {
        let dir = std::env::temp_dir().join(format!("ga-cli-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let text = dir.join("l.txt");
        std::fs::write(&text, "0, -1.5\n2\t-inf\n\n").unwrap();
        let got = read_list("--logits", &format!("@{}", text.display())).unwrap();
        assert_eq!(got, vec![0.0, -1.5, 2.0, f64::NEG_INFINITY]);
        let path = dir.join("l.npy");
        let array =
            gumbel_audit::audit::target::Array::new(vec![3], ArrayData::F32(vec![0.5, -1.0, 3.0]))
                .unwrap();
        npy::write(&path, &array).unwrap();
        let got = read_list("--logits", &format!("@{}", path.display())).unwrap();
        assert_eq!(got, vec![0.5, -1.0, 3.0]);
        let bad = dir.join("i.npy");
        let ints =
            gumbel_audit::audit::target::Array::new(vec![2], ArrayData::I64(vec![1, 2])).unwrap();
        npy::write(&bad, &ints).unwrap();
        let err = read_list("--logits", &format!("@{}", bad.display())).unwrap_err();
        assert!(err.contains("--logits") && err.contains("float64"), "{err}");
        let err = read_list("--y", "@/nonexistent/x").unwrap_err();
        assert!(err.starts_with("--y @/nonexistent/x: cannot read"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
