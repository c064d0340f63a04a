//! A SQLite database file for the conformance suite: `samples` and `numbers` in one file,
//! in a folder of its own per test.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::suite::{Fixture, NUMBERS, SAMPLES, Secret, Table, Unreachable, folder_state};

/// Statements SQLite would run with effects beyond the query (files, pragmas, schema);
/// paths they name are in `dir`.
fn sqlite_hostile(dir: &Path) -> Vec<String> {
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

pub struct Sqlite {
    dir: tempfile::TempDir,
}

impl Sqlite {
    /// The folder, as the kernel names it (the registry keeps canonical paths).
    fn folder(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap()
    }

    fn file(&self) -> PathBuf {
        self.folder().join("data.db")
    }
}

impl Fixture for Sqlite {
    const KIND: &'static str = "sqlite";

    fn create() -> Self {
        let f = Sqlite {
            dir: tempfile::tempdir().unwrap(),
        };
        let mut db = rusqlite::Connection::open(f.file()).unwrap();
        let tx = db.transaction().unwrap();
        tx.execute_batch(
            "CREATE TABLE samples (id INTEGER PRIMARY KEY, label TEXT NOT NULL, note TEXT);
             CREATE TABLE numbers (n INTEGER);",
        )
        .unwrap();
        for s in SAMPLES {
            tx.execute(
                "INSERT INTO samples VALUES (?1, ?2, ?3)",
                rusqlite::params![s.id, s.label, s.note],
            )
            .unwrap();
        }
        for n in 1..=NUMBERS {
            tx.execute("INSERT INTO numbers VALUES (?1)", [n]).unwrap();
        }
        tx.commit().unwrap();
        f
    }

    fn connection(&self, table: Table) -> Value {
        json!({"path": self.file().to_str().unwrap(), "table": table.name()})
    }

    fn secret(&self) -> Option<Secret> {
        None
    }

    fn whole_database(&self) -> Option<Value> {
        Some(json!({"path": self.file().to_str().unwrap()}))
    }

    fn sample_types(&self) -> [&'static str; 3] {
        ["INTEGER", "TEXT", "TEXT"]
    }

    fn empty_string(&self) -> Value {
        json!("")
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
        let path = self.folder().join("gone.db");
        std::fs::copy(self.file(), &path).unwrap();
        add(json!({"path": path.to_str().unwrap(), "table": "samples"}));
        std::fs::remove_file(&path).unwrap();
        Unreachable {
            target: path.display().to_string(),
            secret: None,
        }
    }

    fn hostile(&self) -> Vec<String> {
        let mut v = sqlite_hostile(&self.folder());
        v.extend(
            [
                "DELETE FROM samples",
                "UPDATE numbers SET n = 0",
                "DROP TABLE numbers",
                "WITH x AS (SELECT 1) DELETE FROM samples",
                "PRAGMA main.user_version = 7",
                "SELECT * FROM sqlite_schema; DELETE FROM samples",
            ]
            .map(String::from),
        );
        v
    }

    fn state(&self) -> Vec<String> {
        folder_state(&self.folder())
    }
}
