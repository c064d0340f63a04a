//! What a source says of its tables and columns, as plain data: connectors produce it, the
//! command line prints it and the terminal UI draws it, none of them knowing the others.

use serde::{Deserialize, Serialize};

/// A column as seed 000's schema response shows it, with the column-level metadata of seed
/// 001 beside `name` and `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    pub name: String,
    /// The engine's own spelling, modifiers included (`numeric(20,10)`, `character
    /// varying(45)`, a domain's name).
    #[serde(rename = "type")]
    pub type_name: String,
    pub not_null: bool,
    pub primary_key: bool,
    /// The column a foreign key points at, as `schema.table(column)`.
    pub references: Option<String>,
    pub comment: Option<String>,
}

impl ColumnInfo {
    /// A column the source says nothing more about than its name and type.
    pub fn new(name: impl Into<String>, type_name: impl Into<String>) -> Self {
        ColumnInfo {
            name: name.into(),
            type_name: type_name.into(),
            not_null: false,
            primary_key: false,
            references: None,
            comment: None,
        }
    }
}

/// A table or view of a source, for the schema browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    pub schema: String,
    pub name: String,
    /// `table`, `view`, … (not part of the JSON shape).
    #[serde(skip)]
    pub kind: String,
    pub columns: Vec<ColumnInfo>,
    #[serde(flatten)]
    pub about: TableAbout,
}

/// What an engine says of a table beyond its columns (ClickHouse: its engine and keys).
/// Absent fields stay out of the JSON, so kinds that say none of it keep the seed's shape.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TableAbout {
    /// The rows the engine knows the table holds without counting them (a Parquet file's
    /// footer, DuckDB's catalog).
    #[serde(rename = "row_count", skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub engine: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sorting_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

impl TableAbout {
    pub fn is_empty(&self) -> bool {
        *self == TableAbout::default()
    }

    /// One line for people: `ReplacingMergeTree ORDER BY id PARTITION BY toYYYYMM(day) — note`.
    pub fn summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(n) = self.rows {
            parts.push(format!("{} rows", crate::core::value::thousands(n)));
        }
        if let Some(e) = &self.engine {
            parts.push(e.clone());
        }
        if let Some(k) = &self.sorting_key {
            parts.push(format!("ORDER BY {k}"));
        }
        if let Some(k) = &self.partition_key {
            parts.push(format!("PARTITION BY {k}"));
        }
        if let Some(c) = &self.comment {
            parts.push(format!("— {c}"));
        }
        (!parts.is_empty()).then(|| parts.join(" "))
    }
}

/// What `tdb source schema` reports: the columns behind `data`, and, when the source is a
/// whole database, every user table and view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaInfo {
    pub columns: Vec<ColumnInfo>,
    /// What the engine says of the table behind `data`, when the source names one.
    pub about: TableAbout,
    pub tables: Option<Vec<TableInfo>>,
}
