//! The CSV connector (placeholder: lands with issue 4).

use super::{BoxFuture, Connector, ProgressFn, SchemaInfo};
use crate::core::guard::{Dialect, TableName};
use crate::core::source::{CsvConnection, SourceRecord};
use crate::core::value::ResultSet;
use crate::core::{Error, Result};
use tokio_util::sync::CancellationToken;

pub struct CsvConnector;

impl CsvConnector {
    pub fn new(
        _record: &SourceRecord,
        _spec: CsvConnection,
        _home: &crate::home::Home,
    ) -> Result<Self> {
        Err(Error::Unreachable(
            "the csv connector is not built yet".into(),
        ))
    }
}

impl Connector for CsvConnector {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn data_table(&self) -> Option<TableName> {
        None
    }
    fn prepare(&self, _p: Option<ProgressFn>) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
    fn query<'a>(
        &'a self,
        _sql: &'a str,
        _limit: usize,
        _c: CancellationToken,
    ) -> BoxFuture<'a, Result<ResultSet>> {
        Box::pin(async { Err(Error::QueryFailed("not built".into())) })
    }
    fn schema(&self) -> BoxFuture<'_, Result<SchemaInfo>> {
        Box::pin(async { Err(Error::QueryFailed("not built".into())) })
    }
    fn test(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Err(Error::QueryFailed("not built".into())) })
    }
}
