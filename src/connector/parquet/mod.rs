//! The Parquet kind: one file or a glob of them, read in place by the columnar engine
//! ([`crate::connector::duck`]). The row count is the files' own (from their footers).

use crate::connector::duck::kind::{IN_PLACE_FIELDS, InPlace};

/// The Parquet kind, as the registration list names it.
pub static KIND: InPlace = InPlace {
    name: "parquet",
    about: "Parquet files: one, or every match of a glob, read in place as one table",
    reader: "read_parquet",
    // Files of a glob written at different times may differ in columns.
    options: ", union_by_name = true",
    what: "a Parquet source",
    fields: IN_PLACE_FIELDS,
};
