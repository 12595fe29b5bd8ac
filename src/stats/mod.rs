//! Statistical tests that return result structs and state their error rates.
//!
//! Written here because statrs's p-values are wrong for a fully specified null
//! (shared/design/MATH.md §5); statrs stays the source of special functions and CDFs.
