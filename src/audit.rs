//! The append-only, hash-chained audit log (placeholder: lands with issue 3).
