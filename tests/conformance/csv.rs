//! CSV files for the conformance suite: `samples.csv` and `numbers.csv` in a folder of
//! their own per test, queried with SQLite's SQL.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

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

/// Statements SQLite would run with effects beyond the query (files, pragmas, schema);
/// paths they name are in `dir`. A SQLite-file kind refuses the same.
pub fn sqlite_hostile(dir: &Path) -> Vec<String> {
    let d = dir.display();
    let mut v: Vec<String> = [
        "REPLACE INTO data (id, label) VALUES (1, 'x')",
        "INSERT OR REPLACE INTO data (id, label) VALUES (1, 'x')",
        "DETACH DATABASE main",
        "PRAGMA journal_mode = WAL",
        "PRAGMA writable_schema = 1",
        "PRAGMA query_only = 0",
        "VACUUM",
        "REINDEX",
        "ANALYZE",
        "SAVEPOINT s",
        "CREATE TRIGGER t AFTER INSERT ON data BEGIN DELETE FROM data; END",
        "CREATE VIRTUAL TABLE v USING fts5(x)",
        "SELECT load_extension('/tmp/evil.so')",
        "SELECT readfile('/etc/passwd')",
        "SELECT * FROM fsdir('/')",
        "SELECT edit('x', 'vi')",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("ATTACH DATABASE '{d}/evil.db' AS evil"));
    v.push(format!("VACUUM INTO '{d}/copy.db'"));
    v.push(format!("SELECT writefile('{d}/evil.txt', 'x')"));
    v
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
        ["integer", "text", "text"]
    }

    /// README "Sources": an empty field, quoted or not, is read as NULL.
    fn empty_string(&self) -> Value {
        Value::Null
    }

    fn slow_sql(&self, marker: &str) -> String {
        format!(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000) \
             SELECT count(*) AS n, '{marker}' AS marker FROM c"
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
        sqlite_hostile(&self.folder())
    }

    fn state(&self) -> Vec<String> {
        folder_state(&self.folder())
    }
}
