//! One connector per source type behind one trait. The backend and the command line hold a
//! `Box<dyn Connector>` and never care which kind it is.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use secrecy::SecretString;
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use crate::core::Result;
use crate::core::guard::{Dialect, Guarded, TableName};
use crate::core::source::{Connection, SourceRecord};
use crate::core::value::ResultSet;
use crate::home::Home;

pub mod csv;
pub mod postgres;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// How far a long preparation (a CSV import) has got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub rows: u64,
    pub bytes: u64,
    pub total_bytes: u64,
    pub done: bool,
}

pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;

/// A column as seed 000's schema response shows it, with the column-level metadata of seed
/// 001 beside `name` and `type`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableInfo {
    pub schema: String,
    pub name: String,
    /// `table`, `view`, … (not part of the JSON shape).
    #[serde(skip)]
    pub kind: String,
    pub columns: Vec<ColumnInfo>,
}

/// What `tdb source schema` reports: the columns behind `data`, and, when the source is a
/// whole database, every user table and view.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaInfo {
    pub columns: Vec<ColumnInfo>,
    pub tables: Option<Vec<TableInfo>>,
}

/// What a successful test found worth saying beyond "reachable".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestReport {
    /// Things the user should know, one sentence each: a role that can write, say.
    pub warnings: Vec<String>,
}

/// The password a connector may use, as the registry could recover it.
#[derive(Debug, Clone)]
pub enum StoredSecret {
    None,
    Present(SecretString),
    /// Stored, but this machine's key cannot decrypt it (a registry copied elsewhere).
    Undecryptable,
}

pub trait Connector: Send + Sync {
    /// The SQL dialect the guard parses with.
    fn dialect(&self) -> Dialect;

    /// The table `data` names, if the source has one.
    fn data_table(&self) -> Option<TableName>;

    /// Makes the source ready to query (a CSV import), reporting progress; `cancel` stops it
    /// (Esc, Ctrl-C, a signal), like a query.
    fn prepare(
        &self,
        progress: Option<ProgressFn>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<()>>;

    /// Runs a guarded statement, reading at most `limit + 1` rows; `truncated` says whether
    /// the extra row existed. `cancel` stops it on the server. A connector whose engine has
    /// functions of its own resolves `guarded.calls` there first and refuses with
    /// [`crate::core::Error::Invalid`] what its policy does not allow.
    fn query<'a>(
        &'a self,
        guarded: &'a Guarded,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<ResultSet>>;

    fn schema(&self) -> BoxFuture<'_, Result<SchemaInfo>>;

    /// Checks the source can be reached right now, and says what is worth knowing about
    /// the access it has.
    fn test(&self) -> BoxFuture<'_, Result<TestReport>>;
}

/// The connector for a record.
pub fn open(
    record: &SourceRecord,
    secret: StoredSecret,
    home: &Home,
) -> Result<Box<dyn Connector>> {
    Ok(match &record.connection {
        Connection::Postgres(spec) => {
            Box::new(postgres::PgConnector::new(record, spec.clone(), secret)?)
        }
        Connection::Csv(spec) => Box::new(csv::CsvConnector::new(record, spec.clone(), home)?),
    })
}
