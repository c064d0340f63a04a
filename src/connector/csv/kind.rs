//! What a CSV source is: a file, how its fields are separated, whether it has a header.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use std::path::PathBuf;

use super::CsvConnector;
use crate::connector::{Connector, SourceKind, StoredSecret, admit_file};
use crate::core::kind::{
    Context, FieldError, FieldSpec, Fields, GuardPolicy, Input, Kind, KindRules, SecretChange,
    Validated,
};
use crate::core::source::{Connection, SourceRecord};
use crate::core::Result;
use crate::home::Home;

/// The CSV kind, as the registration list names it.
pub static KIND: Csv = Csv;

pub struct Csv;

impl Csv {
    /// A stored connection of this kind, for tests and tools that build one.
    pub fn connection(spec: &CsvConnection) -> Result<Connection> {
        Connection::from_spec(Kind(&KIND), spec)
    }
}

/// A CSV file; the path is absolute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvConnection {
    pub path: PathBuf,
    pub delimiter: char,
    pub has_header: bool,
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::text("path", "path", "the CSV file (relative paths resolve here)")
        .placeholder("a .csv file")
        .required(),
    FieldSpec::text("delimiter", "delimiter", "one character between fields (\\t for a tab)")
        .placeholder(", (\\t for a tab)")
        .default(","),
    FieldSpec::text("has_header", "header row", "whether the first line names the columns")
        .input(Input::Bool)
        .default("true"),
];

impl KindRules for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn about(&self) -> &'static str {
        "a CSV or TSV file, imported for the columnar engine and queried as the table data"
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
        let delimiter = match f.string("delimiter") {
            None => Some(','),
            Some(d) => match parse_delimiter(&d) {
                Ok(c) => Some(c),
                Err(why) => {
                    f.error("delimiter", why);
                    None
                }
            },
        };
        let has_header = f.boolean("has_header").unwrap_or(true);
        f.finish(
            || {
                serde_json::to_value(CsvConnection {
                    path: path.unwrap_or_default(),
                    delimiter: delimiter.unwrap_or(','),
                    has_header,
                })
                .unwrap_or(Json::Null)
            },
            SecretChange::Keep,
        )
    }

    fn target(&self, stored: &Map<String, Json>) -> String {
        stored
            .get("path")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    }

    fn policy(&self) -> GuardPolicy {
        crate::connector::duck::kind::POLICY
    }

    fn sql_note(&self) -> Option<&'static str> {
        Some("DuckDB SQL")
    }

    /// A tab shows as `\t`, the way it is typed.
    fn to_form(&self, stored: &Map<String, Json>) -> Map<String, Json> {
        let mut out = Map::new();
        if let Some(p) = stored.get("path") {
            out.insert("path".into(), p.clone());
        }
        let delimiter = match stored.get("delimiter").and_then(Json::as_str) {
            Some("\t") => "\\t",
            Some(d) => d,
            None => ",",
        };
        out.insert("delimiter".into(), Json::String(delimiter.into()));
        let header = stored.get("has_header").and_then(Json::as_bool);
        out.insert("has_header".into(), Json::Bool(header.unwrap_or(true)));
        out
    }
}

impl SourceKind for Csv {
    fn open(
        &self,
        record: &SourceRecord,
        _secret: StoredSecret,
        home: &Home,
    ) -> Result<Box<dyn Connector>> {
        let spec: CsvConnection = record.connection.spec()?;
        Ok(Box::new(CsvConnector::new(record, spec, home)?))
    }

    /// The file must be there and be a regular file: opened, not only looked at, since a
    /// FIFO or a device would hang every later command (`open_regular` refuses them without
    /// blocking). Symbolic links are resolved so the record names the file itself.
    fn admit(&self, connection: Connection) -> Result<Connection> {
        let mut spec: CsvConnection = connection.spec()?;
        spec.path = admit_file(&spec.path)?.1;
        Csv::connection(&spec)
    }
}

fn parse_delimiter(d: &str) -> Result<char, String> {
    let c = match d {
        "\\t" | "tab" | "TAB" => '\t',
        _ => {
            let mut chars = d.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(format!(
                        "must be one character, got \"{}\"",
                        d.escape_debug()
                    ));
                }
            }
        }
    };
    if !c.is_ascii() || c == '"' || c == '\n' || c == '\r' {
        return Err(format!(
            "\"{}\" cannot separate fields (use one ASCII character other than a quote or newline)",
            c.escape_debug()
        ));
    }
    Ok(c)
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
    fn validation_resolves_paths_and_reads_nothing() {
        let cx = Context {
            cwd: Path::new("/nowhere"),
            user_home: Some(Path::new("/home/a")),
        };
        let v = KIND
            .validate(
                &obj(json!({"path":"a.csv","delimiter":"\\t","has_header":false})),
                &cx,
            )
            .unwrap();
        assert_eq!(
            Json::Object(v.stored),
            json!({"path":"/nowhere/a.csv","delimiter":"\t","has_header":false})
        );
        let e = KIND
            .validate(&obj(json!({"path":"", "delimiter":";;"})), &cx)
            .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["path", "delimiter"]);
    }

    #[test]
    fn admission_checks_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = CsvConnection {
            path: dir.path().join("missing.csv"),
            delimiter: ',',
            has_header: true,
        };
        let e = KIND
            .admit(Csv::connection(&missing).unwrap())
            .unwrap_err();
        assert!(
            e.detail().starts_with("connection.path: no such file"),
            "{e}"
        );
        let e = KIND
            .admit(
                Csv::connection(&CsvConnection {
                    path: dir.path().into(),
                    ..missing.clone()
                })
                .unwrap(),
            )
            .unwrap_err();
        assert!(e.detail().contains("is a directory"), "{e}");
        std::fs::write(dir.path().join("a.csv"), "x\n1\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("a.csv"), dir.path().join("l.csv")).unwrap();
        let linked = CsvConnection {
            path: dir.path().join("l.csv"),
            ..missing
        };
        let admitted = KIND.admit(Csv::connection(&linked).unwrap()).unwrap();
        let spec: CsvConnection = admitted.spec().unwrap();
        assert_eq!(spec.path, std::fs::canonicalize(dir.path().join("a.csv")).unwrap());
    }
}
