//! The read-only SQL guard (placeholder: the real one lands with issue 3).

use super::error::{Error, Result};

/// The SQL dialect a source speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

/// A table the `data` alias resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableName {
    pub schema: Option<String>,
    pub name: String,
}

pub const MAX_SQL_CHARS: usize = 10_000;
pub const MAX_LIMIT: usize = 1000;
pub const DEFAULT_LIMIT: usize = 100;

/// SQL the guard accepted, rewritten for execution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guarded {
    pub executed_sql: String,
    pub limit: usize,
}

pub fn guard(
    _sql: &str,
    _dialect: Dialect,
    _data_table: Option<&TableName>,
    _limit: usize,
) -> Result<Guarded> {
    Err(Error::Invalid(
        "SQL validation failed: the guard is not built yet".into(),
    ))
}
