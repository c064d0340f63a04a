//! What the file kinds' connections share: the path (a file or a glob), the engine's memory
//! limit and the statement timeout, and the guard's DuckDB policy.

use std::path::PathBuf;
use std::time::Duration;

use super::Limits;
use crate::core::guard::{DUCKDB_DENIED, Dialect};
use serde_json::{Map, Value as Json};

use crate::core::kind::{
    Context, FieldError, FieldSpec, Fields, GuardPolicy, Input, SecretChange, Validated,
};
use crate::home::Home;

pub const POLICY: GuardPolicy = GuardPolicy {
    dialect: Dialect::DuckDb,
    denied: DUCKDB_DENIED,
};

pub const MEMORY_FIELD: FieldSpec = FieldSpec::text(
    "memory_limit",
    "memory limit",
    "the most memory a query may take before it spills to disk (e.g. 256MiB, 2GiB)",
)
.placeholder(super::DEFAULT_MEMORY_LIMIT)
.default(super::DEFAULT_MEMORY_LIMIT);

pub const TIMEOUT_FIELD: FieldSpec = FieldSpec::text(
    "statement_timeout_s",
    "statement timeout (s)",
    "how long one query may run, in seconds",
)
.input(Input::Number {
    min: 1,
    max: 86_400,
})
.default("30");

/// The engine's limits as a connection stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineFields {
    pub memory_limit: String,
    pub statement_timeout_s: u64,
}

impl EngineFields {
    /// Reads `memory_limit` and `statement_timeout_s`, defaults filled in.
    pub fn read(f: &mut Fields<'_>) -> EngineFields {
        let memory = f.text("memory_limit").and_then(|m| match memory_size(&m) {
            Some(size) => Some(size),
            None => {
                f.error(
                    "memory_limit",
                    format!(
                        "\"{}\" is not a size: write a number and a unit, such as 256MiB or 2GB",
                        m.escape_debug()
                    ),
                );
                None
            }
        });
        let timeout = f.number("statement_timeout_s", 1, 86_400);
        EngineFields {
            memory_limit: memory.unwrap_or_else(|| super::DEFAULT_MEMORY_LIMIT.to_string()),
            statement_timeout_s: timeout.unwrap_or(30),
        }
    }

    pub fn limits(&self, home: &Home) -> Limits {
        Limits {
            memory_limit: self.memory_limit.clone(),
            timeout: Duration::from_secs(self.statement_timeout_s),
            spill: home.cache_dir().join("spill"),
        }
    }
}

/// `256MiB`, `2 GB`, `512mb`: a size DuckDB reads, written back without blanks; at least
/// 16 MiB (less than that and a query cannot start).
fn memory_size(text: &str) -> Option<String> {
    let t = text.trim();
    let digits = t
        .bytes()
        .take_while(|b| b.is_ascii_digit() || *b == b'.')
        .count();
    let (num, unit) = t.split_at(digits);
    let n: f64 = num.parse().ok()?;
    let unit = unit.trim();
    let scale: f64 = match unit.to_ascii_lowercase().as_str() {
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    };
    (n * scale >= 16.0 * 1024.0 * 1024.0).then(|| format!("{num}{unit}"))
}

/// Reads a file kind's connection: `path` as typed, resolved (glob characters survive),
/// the one optional name inside the file that `inner` calls it (`table`, `sheet`) when the
/// kind has one, and the engine's fields; `store` makes the kind's stored form of them.
pub fn validate_file<T: serde::Serialize>(
    input: &Map<String, Json>,
    cx: &Context<'_>,
    (kind, fields): (&str, &'static [FieldSpec]),
    inner: Option<&str>,
    store: impl FnOnce(PathBuf, Option<String>, EngineFields) -> T,
) -> Result<Validated, Vec<FieldError>> {
    let mut f = Fields::new(input, kind, fields);
    let path = f.required_text("path").map(|p| cx.resolve(&p));
    let name = inner.and_then(|key| f.text(key));
    let engine = EngineFields::read(&mut f);
    f.finish(
        || {
            serde_json::to_value(store(path.unwrap_or_default(), name, engine))
                .unwrap_or(Json::Null)
        },
        SecretChange::Keep,
    )
}

/// A file source in lists: its path, and the name `inner` calls inside it when one is set
/// (`/data/shop.duckdb (orders)`).
pub fn file_target(stored: &Map<String, Json>, inner: Option<&str>) -> String {
    let path = stored.get("path").and_then(Json::as_str).unwrap_or("");
    match inner.and_then(|key| stored.get(key)).and_then(Json::as_str) {
        Some(name) => format!("{path} ({name})"),
        None => path.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_limits_are_sizes_with_units() {
        assert_eq!(memory_size("256MiB").as_deref(), Some("256MiB"));
        assert_eq!(memory_size(" 2 GB ").as_deref(), Some("2GB"));
        assert_eq!(memory_size("1.5gib").as_deref(), Some("1.5gib"));
        assert_eq!(memory_size("256"), None);
        assert_eq!(memory_size("1MB"), None);
        assert_eq!(memory_size("lots"), None);
    }
}

/// A kind whose files are read in place (Parquet, JSON): the same fields and rules, a
/// different table function.
pub struct InPlace {
    pub name: &'static str,
    pub about: &'static str,
    /// The table function that reads the files (`read_parquet`).
    pub reader: &'static str,
    /// Its named arguments after the list of files (`, union_by_name = true`).
    pub options: &'static str,
    /// Names a source in messages (`a Parquet source`).
    pub what: &'static str,
    pub fields: &'static [FieldSpec],
}

/// A file (or glob) read in place; the path is absolute.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InPlaceConnection {
    pub path: PathBuf,
    pub memory_limit: String,
    pub statement_timeout_s: u64,
}

impl crate::core::kind::KindRules for InPlace {
    fn name(&self) -> &'static str {
        self.name
    }

    fn about(&self) -> &'static str {
        self.about
    }

    fn fields(&self) -> &'static [FieldSpec] {
        self.fields
    }

    fn validate(
        &self,
        input: &Map<String, Json>,
        cx: &Context<'_>,
    ) -> Result<Validated, Vec<FieldError>> {
        validate_file(
            input,
            cx,
            (self.name, self.fields),
            None,
            |path, _, engine| InPlaceConnection {
                path,
                memory_limit: engine.memory_limit,
                statement_timeout_s: engine.statement_timeout_s,
            },
        )
    }

    fn target(&self, stored: &Map<String, Json>) -> String {
        file_target(stored, None)
    }

    fn policy(&self) -> GuardPolicy {
        POLICY
    }

    /// Never a whole database: `data` is the files' rows.
    fn shape(
        &self,
        _stored: &serde_json::Map<String, serde_json::Value>,
    ) -> crate::core::kind::Shape {
        crate::core::kind::Shape::default()
    }
}

impl crate::connector::SourceKind for InPlace {
    fn open(
        &self,
        record: &crate::core::source::SourceRecord,
        _secret: crate::connector::StoredSecret,
        home: &Home,
    ) -> crate::core::Result<Box<dyn crate::connector::Connector>> {
        let spec: InPlaceConnection = record.connection.spec()?;
        let engine = EngineFields {
            memory_limit: spec.memory_limit,
            statement_timeout_s: spec.statement_timeout_s,
        };
        Ok(Box::new(super::DuckConnector::new(super::DuckSource {
            layout: super::Layout::Files {
                path: spec.path,
                reader: self.reader,
                options: self.options,
            },
            limits: engine.limits(home),
            policy: POLICY,
            what: self.what,
        })))
    }

    fn admit(
        &self,
        connection: crate::core::source::Connection,
    ) -> crate::core::Result<crate::core::source::Connection> {
        let mut spec: InPlaceConnection = connection.spec()?;
        spec.path = super::admit_files(&spec.path)?;
        crate::core::source::Connection::from_spec(connection.kind(), &spec)
    }
}

/// The fields of a kind read in place: `path`, then the engine's limits.
pub const IN_PLACE_FIELDS: &[FieldSpec] = &[
    FieldSpec::text(
        "path",
        "path",
        "the file, or a glob such as logs/*.parquet whose every match is one table",
    )
    .placeholder("a file or a glob")
    .required(),
    MEMORY_FIELD,
    TIMEOUT_FIELD,
];
