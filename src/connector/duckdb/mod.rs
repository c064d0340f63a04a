//! The DuckDB kind: a DuckDB database file, opened read-only by the columnar engine
//! ([`crate::connector::duck`]), or one table of it. Remote targets (MotherDuck, `md:`)
//! need extensions fetched at run time and are not supported.

use std::io::Read;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::connector::duck::kind::{
    EngineFields, MEMORY_FIELD, POLICY, TIMEOUT_FIELD, file_target, validate_file,
};
use crate::connector::duck::{DuckConnector, DuckSource, Layout};
use crate::connector::{Connector, SourceKind, StoredSecret, admit_file};
use crate::core::kind::{
    Context, FieldError, FieldSpec, GuardPolicy, KindRules, Validated,
};
use crate::core::source::{Connection, SourceRecord};
use crate::core::{Error, Result};
use crate::home::Home;

/// The DuckDB kind, as the registration list names it.
pub static KIND: DuckDb = DuckDb;

pub struct DuckDb;

/// A DuckDB database file; the path is absolute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DuckDbConnection {
    pub path: PathBuf,
    /// The table behind `data`; `None` makes the source the whole database.
    #[serde(default)]
    pub table: Option<String>,
    pub memory_limit: String,
    pub statement_timeout_s: u64,
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::text("path", "path", "the DuckDB database file (opened read-only)")
        .placeholder("a .duckdb file")
        .required(),
    FieldSpec::text("table", "table", "the table behind `data` (default: none, the whole database)")
        .placeholder("behind `data` (optional)"),
    MEMORY_FIELD,
    TIMEOUT_FIELD,
];

/// Where a DuckDB database file says what it is: bytes 8 to 11 of its first block.
const MAGIC: &[u8; 4] = b"DUCK";

impl KindRules for DuckDb {
    fn name(&self) -> &'static str {
        "duckdb"
    }

    fn about(&self) -> &'static str {
        "a DuckDB database file, or one table of it (read-only; no MotherDuck)"
    }

    fn fields(&self) -> &'static [FieldSpec] {
        FIELDS
    }

    fn validate(
        &self,
        input: &Map<String, Json>,
        cx: &Context<'_>,
    ) -> Result<Validated, Vec<FieldError>> {
        validate_file(input, cx, (self.name(), FIELDS), Some("table"), |path, table, engine| {
            DuckDbConnection {
                path,
                table,
                memory_limit: engine.memory_limit,
                statement_timeout_s: engine.statement_timeout_s,
            }
        })
    }

    fn target(&self, stored: &Map<String, Json>) -> String {
        file_target(stored, Some("table"))
    }

    fn policy(&self) -> GuardPolicy {
        POLICY
    }

    fn starter_sql(&self, stored: &Map<String, Json>, label: &str) -> String {
        if self.shape(stored).whole_database {
            format!(
                "-- {label} is a whole database: its tables are in the schema pane\n\
                 -- (Enter there inserts a name here). Its tables:\n\
                 SELECT table_schema, table_name, table_type FROM information_schema.tables\n\
                 ORDER BY table_schema, table_name"
            )
        } else {
            "SELECT * FROM data".to_string()
        }
    }
}

impl SourceKind for DuckDb {
    fn open(
        &self,
        record: &SourceRecord,
        _secret: StoredSecret,
        home: &Home,
    ) -> Result<Box<dyn Connector>> {
        let spec: DuckDbConnection = record.connection.spec()?;
        let engine = EngineFields {
            memory_limit: spec.memory_limit,
            statement_timeout_s: spec.statement_timeout_s,
        };
        Ok(Box::new(DuckConnector::new(DuckSource {
            layout: Layout::Database {
                path: spec.path,
                table: spec.table,
            },
            limits: engine.limits(home),
            policy: POLICY,
            what: "a DuckDB database",
        })))
    }

    /// The file must be a regular file holding a DuckDB database; links are resolved so the
    /// record names the file itself.
    fn admit(&self, connection: Connection) -> Result<Connection> {
        let mut spec: DuckDbConnection = connection.spec()?;
        let (mut file, real) = admit_file(&spec.path)?;
        let mut head = [0u8; 12];
        let is_duckdb = file.read_exact(&mut head).is_ok() && &head[8..12] == MAGIC;
        if !is_duckdb {
            return Err(Error::Invalid(format!(
                "connection.path: not a DuckDB database: {}",
                spec.path.display()
            )));
        }
        spec.path = real;
        Connection::from_spec(connection.kind(), &spec)
    }
}
