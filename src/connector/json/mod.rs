//! The JSON kind: a JSON array of objects or JSON lines (one object per line), one file or
//! a glob, read in place by the columnar engine ([`crate::connector::duck`]), which finds
//! the layout and the columns' types itself.

use crate::connector::duck::kind::{IN_PLACE_FIELDS, InPlace};

/// The JSON kind, as the registration list names it.
pub static KIND: InPlace = InPlace {
    name: "json",
    about: "JSON files (an array of objects, or JSON lines): one, or every match of a glob",
    reader: "read_json",
    options: ", format = 'auto', union_by_name = true",
    what: "a JSON source",
    fields: IN_PLACE_FIELDS,
};
