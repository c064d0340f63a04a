//! The file kinds on the columnar engine (Parquet, JSON, DuckDB databases) for the
//! conformance suite: the standard dataset written by DuckDB itself into a folder of its own
//! per test, queried in DuckDB's SQL.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use tdb::connector::duck::engine::{Database, quote_literal};

use super::suite::{Fixture, NUMBERS, SAMPLES, Secret, Table, Unreachable, folder_state};

/// How the dataset is laid out on disk for one kind.
pub trait Layout {
    const KIND: &'static str;
    /// Writes `samples` and `numbers` into `dir` from the engine's tables of those names.
    fn write(dir: &Path, sql: &mut dyn FnMut(&str));
    fn connection(dir: &Path, table: Table) -> Value;
    fn whole_database(dir: &Path) -> Option<Value>;
    /// A file standing for the source, copied and removed for the unreachable case.
    fn file(dir: &Path) -> PathBuf;
}

pub struct Files<L: Layout> {
    dir: tempfile::TempDir,
    _layout: std::marker::PhantomData<L>,
}

impl<L: Layout> Files<L> {
    fn folder(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }
}

fn lit(p: &Path) -> String {
    quote_literal(&p.to_string_lossy())
}

/// Statements DuckDB would run with effects beyond the query, or reads beyond the source's
/// files; paths they name are in `dir`.
pub fn duckdb_hostile(dir: &Path) -> Vec<String> {
    let p = |name: &str| lit(&dir.join(name));
    let mut v: Vec<String> = [
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET lock_configuration = false",
        "RESET enable_external_access",
        "PRAGMA enable_profiling",
        "CHECKPOINT",
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_csv_auto('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_blob('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM read_parquet('https://example.com/x.parquet')",
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM \"/etc/os-release.csv\"",
        "SELECT getenv('HOME')",
        "SELECT * FROM query('SELECT 1')",
        "SELECT * FROM sqlite_scan('/tmp/x.db', 't')",
        "SELECT * FROM duckdb_secrets()",
        "CALL pragma_version()",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("ATTACH {} AS evil", p("evil.db")));
    v.push(format!("COPY (SELECT 1) TO {}", p("evil.csv")));
    v.push(format!(
        "COPY data TO {} (FORMAT parquet)",
        p("copy.parquet")
    ));
    v.push(format!("EXPORT DATABASE {}", p("exported")));
    v.push(format!("SELECT * FROM read_json({})", p("evil.json")));
    v
}

impl<L: Layout> Fixture for Files<L> {
    const KIND: &'static str = L::KIND;

    fn create() -> Self {
        let f = Files::<L> {
            dir: tempfile::tempdir().unwrap(),
            _layout: std::marker::PhantomData,
        };
        let db = Database::open(None, &[]).unwrap();
        let conn = db.connect().unwrap();
        let rows: Vec<String> = SAMPLES
            .iter()
            .map(|s| {
                format!(
                    "({}, {}, {})",
                    s.id,
                    quote_literal(s.label),
                    s.note.map_or("NULL".to_string(), quote_literal)
                )
            })
            .collect();
        conn.execute(&format!(
            "CREATE TABLE samples AS SELECT CAST(id AS BIGINT) AS id, label, note \
             FROM (VALUES {}) v(id, label, note) ORDER BY id; \
             CREATE TABLE numbers AS SELECT range + 1 AS n FROM range({NUMBERS})",
            rows.join(", ")
        ))
        .unwrap();
        L::write(&f.folder(), &mut |sql| conn.execute(sql).unwrap());
        f
    }

    fn connection(&self, table: Table) -> Value {
        L::connection(&self.folder(), table)
    }

    fn secret(&self) -> Option<Secret> {
        None
    }

    fn whole_database(&self) -> Option<Value> {
        L::whole_database(&self.folder())
    }

    fn sample_types(&self) -> [&'static str; 3] {
        ["BIGINT", "VARCHAR", "VARCHAR"]
    }

    fn empty_string(&self) -> Value {
        json!("")
    }

    fn slow_sql(&self, marker: &str) -> String {
        format!(
            "SELECT count(*) AS n, '{marker}' AS marker FROM range(1000000000000) t(x) \
             WHERE x % 7 = 3"
        )
    }

    fn running(&self, _marker: &str) -> Option<usize> {
        None
    }

    fn has_statement_timeout(&self) -> bool {
        true
    }

    fn unreachable(&self, add: &mut dyn FnMut(Value)) -> Unreachable {
        let original = L::file(&self.folder());
        let name = original.file_name().unwrap().to_string_lossy().into_owned();
        let path = self.folder().join(format!("gone-{name}"));
        std::fs::copy(&original, &path).unwrap();
        let mut conn = L::connection(&self.folder(), Table::Samples);
        conn["path"] = json!(path.to_str().unwrap());
        add(conn);
        std::fs::remove_file(&path).unwrap();
        Unreachable {
            target: path.display().to_string(),
            secret: None,
        }
    }

    fn hostile(&self) -> Vec<String> {
        duckdb_hostile(&self.folder())
    }

    fn state(&self) -> Vec<String> {
        folder_state(&self.folder())
    }
}

pub struct ParquetFiles;

impl Layout for ParquetFiles {
    const KIND: &'static str = "parquet";

    fn write(dir: &Path, sql: &mut dyn FnMut(&str)) {
        for t in ["samples", "numbers"] {
            sql(&format!(
                "COPY {t} TO {} (FORMAT parquet)",
                lit(&dir.join(format!("{t}.parquet")))
            ));
        }
    }

    fn connection(dir: &Path, table: Table) -> Value {
        json!({"path": dir.join(format!("{}.parquet", table.name())).to_str().unwrap()})
    }

    fn whole_database(_dir: &Path) -> Option<Value> {
        None
    }

    fn file(dir: &Path) -> PathBuf {
        dir.join("samples.parquet")
    }
}

/// `samples` as a JSON array of objects, `numbers` as JSON lines: both layouts pass.
pub struct JsonFiles;

impl Layout for JsonFiles {
    const KIND: &'static str = "json";

    fn write(dir: &Path, sql: &mut dyn FnMut(&str)) {
        sql(&format!(
            "COPY samples TO {} (FORMAT json, ARRAY true)",
            lit(&dir.join("samples.json"))
        ));
        sql(&format!(
            "COPY numbers TO {} (FORMAT json)",
            lit(&dir.join("numbers.json"))
        ));
    }

    fn connection(dir: &Path, table: Table) -> Value {
        json!({"path": dir.join(format!("{}.json", table.name())).to_str().unwrap()})
    }

    fn whole_database(_dir: &Path) -> Option<Value> {
        None
    }

    fn file(dir: &Path) -> PathBuf {
        dir.join("samples.json")
    }
}

/// Both tables in one DuckDB database file.
pub struct DuckDbFile;

impl Layout for DuckDbFile {
    const KIND: &'static str = "duckdb";

    fn write(dir: &Path, sql: &mut dyn FnMut(&str)) {
        sql(&format!(
            "ATTACH {} AS file; CREATE TABLE file.samples AS SELECT * FROM samples; \
             CREATE TABLE file.numbers AS SELECT * FROM numbers; DETACH file",
            lit(&dir.join("data.duckdb"))
        ));
    }

    fn connection(dir: &Path, table: Table) -> Value {
        json!({"path": dir.join("data.duckdb").to_str().unwrap(), "table": table.name()})
    }

    fn whole_database(dir: &Path) -> Option<Value> {
        Some(json!({"path": dir.join("data.duckdb").to_str().unwrap()}))
    }

    fn file(dir: &Path) -> PathBuf {
        dir.join("data.duckdb")
    }
}

/// `samples` and `numbers` as two sheets of one workbook.
pub struct ExcelBook;

impl Layout for ExcelBook {
    const KIND: &'static str = "excel";

    fn write(dir: &Path, _sql: &mut dyn FnMut(&str)) {
        let mut samples = vec![vec![json!("id"), json!("label"), json!("note")]];
        samples.extend(SAMPLES.iter().map(|s| {
            vec![
                json!(s.id),
                json!(s.label),
                s.note.map_or(Value::Null, |n| json!(n)),
            ]
        }));
        let mut numbers = vec![vec![json!("n")]];
        numbers.extend((1..=NUMBERS).map(|n| vec![json!(n)]));
        crate::common::xlsx::write_xlsx(
            &dir.join("book.xlsx"),
            &[("samples", samples), ("numbers", numbers)],
        );
    }

    fn connection(dir: &Path, table: Table) -> Value {
        json!({"path": dir.join("book.xlsx").to_str().unwrap(), "sheet": table.name()})
    }

    fn whole_database(_dir: &Path) -> Option<Value> {
        None
    }

    fn file(dir: &Path) -> PathBuf {
        dir.join("book.xlsx")
    }
}
