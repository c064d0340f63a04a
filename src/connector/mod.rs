//! One connector per source type behind one trait. The backend and the command line hold a
//! `Box<dyn Connector>` and never care which kind it is.

use std::future::Future;
use std::pin::Pin;
use tokio_util::sync::CancellationToken;

use crate::core::Result;
use crate::core::guard::{Dialect, Guarded, TableName};
use crate::core::progress::ProgressFn;
use crate::core::schema::SchemaInfo;
use crate::core::secret::StoredSecret;
use crate::core::source::{Connection, SourceRecord};
use crate::core::value::ResultSet;
use crate::home::Home;

pub mod csv;
pub mod postgres;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a successful test found worth saying beyond "reachable".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestReport {
    /// Things the user should know, one sentence each: a role that can write, say.
    pub warnings: Vec<String>,
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
    /// [`crate::core::Error::Rejected`] what its policy does not allow.
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
