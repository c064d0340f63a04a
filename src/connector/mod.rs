//! One connector per source kind behind one trait. The backend and the command line hold a
//! `Box<dyn Connector>` and never care which kind it is.
//!
//! Each kind lives in its own folder: its connection fields and rules ([`KindRules`]), how
//! to open its connector ([`SourceKind`]), and the connector itself. The [`kinds!`] line at
//! the bottom of this file is the one place that lists them.

use std::future::Future;
use std::pin::Pin;
use tokio_util::sync::CancellationToken;

use crate::core::guard::{Guarded, TableName};
use crate::core::kind::{GuardPolicy, Kind, KindRules};
use crate::core::progress::ProgressFn;
use crate::core::schema::SchemaInfo;
use crate::core::secret::StoredSecret;
use crate::core::source::{Connection, SourceRecord};
use crate::core::value::ResultSet;
use crate::core::{Error, Result};
use crate::home::Home;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a successful test found worth saying beyond "reachable".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestReport {
    /// Things the user should know, one sentence each: a role that can write, say.
    pub warnings: Vec<String>,
    /// The SSH hop, when the source has one.
    pub tunnel: Option<TunnelTiming>,
}

/// The SSH hop of a test: which, and how long it took to come up (`None`: it was up).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TunnelTiming {
    pub via: String,
    pub setup: Option<std::time::Duration>,
}

impl TunnelTiming {
    pub fn of(t: &ssh::Tunnel) -> TunnelTiming {
        TunnelTiming {
            via: t.label(),
            setup: t.take_start_time(),
        }
    }
}

pub trait Connector: Send + Sync {
    /// How the guard checks this source's SQL.
    fn policy(&self) -> GuardPolicy;

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

    /// Runs a statement guarded with no row limit ([`crate::core::guard::guard_unlimited`]),
    /// handing its rows to `sink` a batch at a time, each when the sink asks for it; between
    /// batches the statement stays open in its read-only snapshot, for up to `hold` each.
    /// Returns the rows handed over. `cancel` stops it on the server, as for a query.
    fn stream<'a>(
        &'a self,
        guarded: &'a Guarded,
        sink: &'a mut dyn RowSink,
        hold: Hold,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<u64>>;

    fn schema(&self) -> BoxFuture<'_, Result<SchemaInfo>>;

    /// Checks the source can be reached right now, and says what is worth knowing about
    /// the access it has.
    fn test(&self) -> BoxFuture<'_, Result<TestReport>>;
}

/// A source kind: its rules, and how to reach a source of it.
pub trait SourceKind: KindRules {
    /// The connector for a stored source of this kind.
    fn open(
        &self,
        record: &SourceRecord,
        secret: StoredSecret,
        home: &Home,
    ) -> Result<Box<dyn Connector>>;

    /// The checks a new or edited connection must pass before it is stored that touch the
    /// disk (a file exists and is a regular file); may also settle what validation could
    /// not (a path with its links resolved). Never blocks for long: no network.
    fn admit(&self, connection: Connection) -> Result<Connection> {
        Ok(connection)
    }
}

/// Declares the kinds of this build: one module each with the kinds it defines (a module
/// may serve several names, as one MySQL connector serves `mysql` and `mariadb`), listed in
/// the order help shows them.
macro_rules! kinds {
    ($($module:ident => [$($kind:ident),+]),+ $(,)?) => {
        $(pub mod $module;)+

        /// Every kind this build has.
        pub static KINDS: &[&dyn SourceKind] = &[$($(&$module::$kind),+),+];
    };
}

kinds! {
    postgres => [KIND],
    csv => [KIND],
    sqlite => [KIND],
    mysql => [MYSQL, MARIADB],
    clickhouse => [KIND],
    parquet => [KIND],
    json => [KIND],
    excel => [KIND],
    duckdb => [KIND],
    tdb => [KIND],
}

/// What the network kinds share.
pub mod net;
/// Rows read a batch at a time.
pub mod stream;
pub use stream::{Hold, RowSink};
pub mod ssh;

/// The columnar engine the file kinds share (DuckDB).
pub mod duck;

/// The read-only SQLite engine the kinds that query through SQLite share.
pub mod sqlite_ro;

/// The names `source_type` takes in this build, for messages and help.
pub fn kind_names() -> Vec<&'static str> {
    KINDS.iter().map(|k| k.name()).collect()
}

fn lookup(name: &str) -> Option<&'static dyn SourceKind> {
    KINDS
        .iter()
        .copied()
        .find(|k| k.name() == name || k.aliases().contains(&name))
}

/// The kind called `name` (or one of its aliases); an unknown name lists the known ones.
pub fn find_kind(name: &str) -> Result<Kind> {
    lookup(name).map(|k| Kind(k)).ok_or_else(|| {
        Error::Invalid(format!(
            "invalid source_type \"{}\": this build has {}",
            name.escape_debug(),
            kind_names().join(", ")
        ))
    })
}

fn source_kind(kind: Kind) -> Result<&'static dyn SourceKind> {
    lookup(kind.name())
        .ok_or_else(|| Error::Internal(format!("the {kind} kind is not registered in this build")))
}

/// The connector for a record.
pub fn open(
    record: &SourceRecord,
    secret: StoredSecret,
    home: &Home,
) -> Result<Box<dyn Connector>> {
    source_kind(record.connection.kind())?.open(record, secret, home)
}

/// A file a connection names, checked when the source is stored: opened (never blocking: a
/// FIFO or a device is refused at once) and its links resolved, so the record names the file
/// itself. A problem is a `connection.path` error, as validation words them.
pub fn admit_file(path: &std::path::Path) -> Result<(std::fs::File, std::path::PathBuf)> {
    let (file, _) = crate::core::regular_file::open_regular(path).map_err(|e| {
        Error::Invalid(format!(
            "connection.path: {}: {}",
            e.reason(),
            path.display()
        ))
    })?;
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    Ok((file, real))
}

/// A connection about to be stored, after its kind's checks that touch the disk.
pub fn admit(connection: Connection) -> Result<Connection> {
    source_kind(connection.kind())?.admit(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_kinds_list_the_known_ones() {
        let e = find_kind("mysqlx").unwrap_err();
        assert_eq!(e.exit_code(), 10);
        assert!(e.detail().contains("source_type"), "{e}");
        assert!(e.detail().contains("postgres, csv"), "{e}");
        assert_eq!(find_kind("postgresql").unwrap().name(), "postgres");
    }

    #[test]
    fn kinds_have_distinct_names_and_well_formed_fields() {
        let mut names: Vec<&str> = KINDS
            .iter()
            .flat_map(|k| std::iter::once(k.name()).chain(k.aliases().iter().copied()))
            .collect();
        let n = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), n, "a name or alias is used twice");
        for k in KINDS {
            let keys: Vec<&str> = k.fields().iter().map(|f| f.key).collect();
            for (i, key) in keys.iter().enumerate() {
                assert!(!keys[..i].contains(key), "{}: {key} twice", k.name());
                assert!(
                    key.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                    "{}: {key}",
                    k.name()
                );
            }
            assert!(!k.about().is_empty());
        }
    }
}
