//! The Excel kind: one sheet of an `.xlsx` workbook (`sheet`, default the first), read with
//! calamine into a DuckDB database of tdb's ([`import`]) and queried there by the columnar
//! engine ([`crate::connector::duck`]), like the other file kinds.

mod import;

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use crate::connector::duck::kind::{
    EngineFields, MEMORY_FIELD, POLICY, TIMEOUT_FIELD, file_target, validate_file,
};
use crate::connector::duck::{DuckConnector, DuckSource, Layout};
use crate::connector::{Connector, SourceKind, StoredSecret, admit_file};
use crate::core::kind::{
    Context, FieldError, FieldSpec, GuardPolicy, KindRules, Shape, Validated,
};
use crate::core::source::{Connection, SourceRecord};
use crate::core::{Error, Result};
use crate::home::Home;

/// The Excel kind, as the registration list names it.
pub static KIND: Excel = Excel;

pub struct Excel;

/// An `.xlsx` workbook and the sheet `data` names; the path is absolute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExcelConnection {
    pub path: PathBuf,
    /// `None`: the workbook's first sheet.
    #[serde(default)]
    pub sheet: Option<String>,
    pub memory_limit: String,
    pub statement_timeout_s: u64,
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::text("path", "path", "the .xlsx workbook (read, never written)")
        .placeholder("a .xlsx file")
        .required(),
    FieldSpec::text("sheet", "sheet", "the sheet behind `data` (default: the first)")
        .placeholder("the first sheet"),
    MEMORY_FIELD,
    TIMEOUT_FIELD,
];

/// An `.xlsx` file is a zip archive.
const ZIP_MAGIC: &[u8; 4] = b"PK\x03\x04";

impl KindRules for Excel {
    fn name(&self) -> &'static str {
        "excel"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["xlsx"]
    }

    fn about(&self) -> &'static str {
        "one sheet of an Excel workbook (.xlsx), imported for the columnar engine"
    }

    fn fields(&self) -> &'static [FieldSpec] {
        FIELDS
    }

    fn validate(
        &self,
        input: &Map<String, Json>,
        cx: &Context<'_>,
    ) -> Result<Validated, Vec<FieldError>> {
        validate_file(input, cx, (self.name(), FIELDS), Some("sheet"), |path, sheet, engine| {
            ExcelConnection {
                path,
                sheet,
                memory_limit: engine.memory_limit,
                statement_timeout_s: engine.statement_timeout_s,
            }
        })
    }

    fn target(&self, stored: &Map<String, Json>) -> String {
        file_target(stored, Some("sheet"))
    }

    fn policy(&self) -> GuardPolicy {
        POLICY
    }

    /// A sheet is one table: never a whole database.
    fn shape(&self, _stored: &Map<String, Json>) -> Shape {
        Shape::default()
    }
}

impl SourceKind for Excel {
    fn open(
        &self,
        record: &SourceRecord,
        _secret: StoredSecret,
        home: &Home,
    ) -> Result<Box<dyn Connector>> {
        let spec: ExcelConnection = record.connection.spec()?;
        let engine = EngineFields {
            memory_limit: spec.memory_limit,
            statement_timeout_s: spec.statement_timeout_s,
        };
        let book = import::Workbook {
            path: spec.path.clone(),
            sheet: spec.sheet,
            cache_dir: home.cache_dir(),
            source_id: record.id.to_string(),
        };
        Ok(Box::new(DuckConnector::new(DuckSource {
            layout: Layout::Imported {
                path: spec.path,
                import: Arc::new(book),
            },
            limits: engine.limits(home),
            policy: POLICY,
            what: "an Excel source",
        })))
    }

    /// The file must be a regular file holding a zip archive (an `.xlsx`); links resolved.
    fn admit(&self, connection: Connection) -> Result<Connection> {
        let mut spec: ExcelConnection = connection.spec()?;
        let (mut file, real) = admit_file(&spec.path)?;
        let mut head = [0u8; 4];
        if !(file.read_exact(&mut head).is_ok() && &head == ZIP_MAGIC) {
            return Err(Error::Invalid(format!(
                "connection.path: not an .xlsx workbook: {}",
                spec.path.display()
            )));
        }
        spec.path = real;
        Connection::from_spec(connection.kind(), &spec)
    }
}
