//! What a SQLite source is: a database file, and optionally the table `data` names.

use std::io::Read;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::SqliteConnector;
use crate::connector::{Connector, SourceKind, StoredSecret, admit_file};
use crate::core::guard::{Dialect, SQLITE_DENIED};
use crate::core::kind::{
    Context, FieldError, FieldSpec, Fields, GuardPolicy, Kind, KindRules, SecretChange,
    Validated,
};
use crate::core::source::{Connection, SourceRecord};
use crate::core::{Error, Result};
use crate::home::Home;

/// The SQLite kind, as the registration list names it.
pub static KIND: Sqlite = Sqlite;

pub struct Sqlite;

impl Sqlite {
    /// A stored connection of this kind, for tests and tools that build one.
    pub fn connection(spec: &SqliteConnection) -> Result<Connection> {
        Connection::from_spec(Kind(&KIND), spec)
    }
}

/// A SQLite database file; the path is absolute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SqliteConnection {
    pub path: PathBuf,
    /// The table behind the `data` alias; `None` makes the source the whole database.
    #[serde(default)]
    pub table: Option<String>,
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::text("path", "path", "the SQLite database file (opened read-only)")
        .placeholder("a .db / .sqlite file")
        .required(),
    FieldSpec::text("table", "table", "the table behind `data` (default: none, the whole database)")
        .placeholder("behind `data` (optional)"),
];

/// Every SQLite database file starts with these 16 bytes.
const MAGIC: &[u8; 16] = b"SQLite format 3\0";

impl KindRules for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["sqlite3"]
    }

    fn about(&self) -> &'static str {
        "a SQLite database file, or one table of it"
    }

    fn fields(&self) -> &'static [FieldSpec] {
        FIELDS
    }

    fn validate(
        &self,
        input: &Map<String, Json>,
        cx: &Context<'_>,
    ) -> Result<Validated, Vec<FieldError>> {
        let mut f = Fields::new(input, self.name(), FIELDS);
        let path = f.required_text("path").map(|p| cx.resolve(&p));
        let table = f.text("table");
        f.finish(
            || {
                serde_json::to_value(SqliteConnection {
                    path: path.unwrap_or_default(),
                    table,
                })
                .unwrap_or(Json::Null)
            },
            SecretChange::Keep,
        )
    }

    fn target(&self, stored: &Map<String, Json>) -> String {
        let path = stored.get("path").and_then(Json::as_str).unwrap_or("");
        match stored.get("table").and_then(Json::as_str) {
            Some(t) => format!("{path} ({t})"),
            None => path.to_string(),
        }
    }

    fn policy(&self) -> GuardPolicy {
        GuardPolicy {
            dialect: Dialect::Sqlite,
            denied: SQLITE_DENIED,
        }
    }

    fn starter_sql(&self, stored: &Map<String, Json>, label: &str) -> String {
        if self.shape(stored).whole_database {
            format!(
                "-- {label} is a whole database: its tables are in the schema pane\n\
                 -- (Enter there inserts a name here). Its tables:\n\
                 SELECT type, name FROM sqlite_schema\n\
                 WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'\n\
                 ORDER BY name"
            )
        } else {
            "SELECT * FROM data".to_string()
        }
    }
}

impl SourceKind for Sqlite {
    fn open(
        &self,
        record: &SourceRecord,
        _secret: StoredSecret,
        _home: &Home,
    ) -> Result<Box<dyn Connector>> {
        let spec: SqliteConnection = record.connection.spec()?;
        Ok(Box::new(SqliteConnector::new(spec)))
    }

    /// The file must be a regular file holding a SQLite database (or be empty, which SQLite
    /// reads as an empty database). Symbolic links are resolved so the record names the
    /// file itself.
    fn admit(&self, connection: Connection) -> Result<Connection> {
        let mut spec: SqliteConnection = connection.spec()?;
        let (mut file, real) = admit_file(&spec.path)?;
        let mut head = [0u8; 16];
        // An empty file is an empty database to SQLite.
        let empty = file.metadata().is_ok_and(|m| m.len() == 0);
        let is_sqlite = empty || (file.read_exact(&mut head).is_ok() && &head == MAGIC);
        if !is_sqlite {
            return Err(Error::Invalid(format!(
                "connection.path: not a SQLite database: {}",
                spec.path.display()
            )));
        }
        spec.path = real;
        Sqlite::connection(&spec)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::path::Path;

    fn obj(v: Json) -> Map<String, Json> {
        match v {
            Json::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn a_path_and_an_optional_table() {
        let cx = Context {
            cwd: Path::new("/data"),
            user_home: None,
        };
        let v = KIND.validate(&obj(json!({"path": "shop.db"})), &cx).unwrap();
        assert_eq!(
            Json::Object(v.stored.clone()),
            json!({"path": "/data/shop.db", "table": null})
        );
        assert!(KIND.shape(&v.stored).whole_database);
        let e = KIND
            .validate(&obj(json!({"table": "", "timeout": 3})), &cx)
            .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["timeout", "path", "table"]);
    }

    #[test]
    fn admission_wants_a_sqlite_file() {
        let dir = tempfile::tempdir().unwrap();
        let spec = |name: &str| SqliteConnection {
            path: dir.path().join(name),
            table: None,
        };
        std::fs::write(dir.path().join("text.db"), "hello, this is not a database").unwrap();
        let e = KIND
            .admit(Sqlite::connection(&spec("text.db")).unwrap())
            .unwrap_err();
        assert!(e.detail().starts_with("connection.path: not a SQLite database"), "{e}");
        let e = KIND
            .admit(Sqlite::connection(&spec("gone.db")).unwrap())
            .unwrap_err();
        assert!(e.detail().starts_with("connection.path: no such file"), "{e}");
        std::fs::write(dir.path().join("empty.db"), "").unwrap();
        assert!(KIND.admit(Sqlite::connection(&spec("empty.db")).unwrap()).is_ok());
    }
}
