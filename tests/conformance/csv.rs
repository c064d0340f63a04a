//! CSV files for the conformance suite: `samples.csv` and `numbers.csv` in a folder of
//! their own per test, imported for the columnar engine and queried with DuckDB's SQL.

use std::path::PathBuf;

use serde_json::{Value, json};

use super::files::duckdb_hostile;
use super::suite::{Fixture, NUMBERS, SAMPLES, Secret, Table, Unreachable, folder_state};

pub struct Csv {
    dir: tempfile::TempDir,
}

impl Csv {
    /// The folder, as the kernel names it (the registry keeps canonical paths).
    fn folder(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    fn file(&self, table: Table) -> PathBuf {
        self.folder().join(format!("{}.csv", table.name()))
    }
}

/// Every field quoted, quotes doubled; NULL is an empty, unquoted field.
fn field(v: Option<&str>) -> String {
    v.map_or(String::new(), |s| format!("\"{}\"", s.replace('"', "\"\"")))
}

impl Fixture for Csv {
    const KIND: &'static str = "csv";

    fn create() -> Self {
        let f = Csv {
            dir: tempfile::tempdir().unwrap(),
        };
        let mut samples = String::from("id,label,note\n");
        for s in SAMPLES {
            samples.push_str(&format!(
                "{},{},{}\n",
                s.id,
                field(Some(s.label)),
                field(s.note)
            ));
        }
        std::fs::write(f.file(Table::Samples), samples).unwrap();
        let numbers: String = std::iter::once("n".to_string())
            .chain((1..=NUMBERS).map(|n| n.to_string()))
            .map(|l| l + "\n")
            .collect();
        std::fs::write(f.file(Table::Numbers), numbers).unwrap();
        f
    }

    fn connection(&self, table: Table) -> Value {
        json!({"path": self.file(table).to_str().unwrap()})
    }

    fn secret(&self) -> Option<Secret> {
        None
    }

    fn whole_database(&self) -> Option<Value> {
        None
    }

    fn sample_types(&self) -> [&'static str; 3] {
        ["BIGINT", "VARCHAR", "VARCHAR"]
    }

    /// README "Sources": an empty field, quoted or not, is read as NULL.
    fn empty_string(&self) -> Value {
        Value::Null
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
        false
    }

    fn unreachable(&self, add: &mut dyn FnMut(Value)) -> Unreachable {
        let path = self.folder().join("gone.csv");
        std::fs::write(&path, "a\n1\n").unwrap();
        add(json!({"path": path.to_str().unwrap()}));
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
