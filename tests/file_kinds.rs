//! The file kinds on the columnar engine through the real binary, beyond the conformance
//! suite: a glob reads every match as one table (and sees a new match on the next query),
//! the schema knows Parquet's row count without a scan, a changed workbook is imported
//! again, files the engine cannot read fail with their path named, and a missing engine
//! library says where tdb looked and how to get it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use tdb::connector::duck::engine::{Database, quote_literal};

mod common;
#[path = "conformance/files.rs"]
#[allow(dead_code)]
mod files;
#[path = "conformance/suite.rs"]
#[allow(dead_code)]
mod suite;

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().canonicalize().unwrap().join(name)
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tdb"));
        c.arg("--home").arg(self.path("home")).args(args);
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args, &[]);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn rows(&self, source: &str, sql: &str) -> Value {
        let out = self.ok(&["query", "--source", source, "--json", "--sql", sql]);
        serde_json::from_str::<Value>(&out).unwrap()["rows"].clone()
    }
}

fn engine(sql: &str) {
    let db = Database::open(None, &[]).unwrap();
    db.connect().unwrap().execute(sql).unwrap();
}

fn parquet(path: &Path, from: i64, to: i64) {
    engine(&format!(
        "COPY (SELECT range AS n FROM range({from}, {to})) TO {} (FORMAT parquet)",
        quote_literal(&path.to_string_lossy())
    ));
}

#[test]
fn a_glob_is_one_table_of_every_match_and_sees_new_files() {
    let e = Env::new();
    std::fs::create_dir(e.path("logs")).unwrap();
    parquet(&e.path("logs/a.parquet"), 0, 100);
    parquet(&e.path("logs/b.parquet"), 100, 250);
    let glob = e.path("logs/*.parquet");
    e.ok(&[
        "source",
        "add",
        "logs",
        "--type",
        "parquet",
        "--path",
        glob.to_str().unwrap(),
    ]);
    let sql = "SELECT count(*) AS c, min(n) AS lo, max(n) AS hi FROM data";
    assert_eq!(e.rows("logs", sql), json!([{"c": 250, "lo": 0, "hi": 249}]));
    let schema: Value =
        serde_json::from_str(&e.ok(&["source", "schema", "logs", "--json"])).unwrap();
    assert_eq!(schema["table"]["row_count"], json!(250), "{schema}");
    assert_eq!(schema["columns"][0]["type"], json!("BIGINT"), "{schema}");
    parquet(&e.path("logs/c.parquet"), 250, 300);
    assert_eq!(e.rows("logs", sql), json!([{"c": 300, "lo": 0, "hi": 299}]));
    // A glob that matches nothing is refused when the source is stored.
    let none = e.path("logs/*.json");
    let out = e.run(
        &[
            "source",
            "add",
            "none",
            "--type",
            "json",
            "--path",
            none.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(10));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no file matches"));
}

#[test]
fn a_changed_workbook_is_imported_again() {
    let e = Env::new();
    let book = e.path("book.xlsx");
    let sheet = |rows: &[(i64, &str)]| {
        let mut r = vec![vec![json!("id"), json!("name")]];
        r.extend(rows.iter().map(|(i, s)| vec![json!(i), json!(s)]));
        common::xlsx::write_xlsx(&book, &[("people", r)]);
    };
    sheet(&[(1, "ada"), (2, "grace")]);
    e.ok(&[
        "source",
        "add",
        "people",
        "--type",
        "excel",
        "--path",
        book.to_str().unwrap(),
    ]);
    let sql = "SELECT id, name FROM data ORDER BY id";
    assert_eq!(
        e.rows("people", sql),
        json!([{"id": 1, "name": "ada"}, {"id": 2, "name": "grace"}])
    );
    std::thread::sleep(std::time::Duration::from_millis(20));
    sheet(&[(1, "ada"), (2, "grace"), (3, "katherine")]);
    assert_eq!(
        e.rows("people", "SELECT count(*) AS c FROM data"),
        json!([{"c": 3}])
    );
    // One import kept in the cache, not one per version.
    let caches = std::fs::read_dir(e.path("home/cache"))
        .unwrap()
        .flatten()
        .filter(|f| f.file_name().to_string_lossy().contains(".excel-"))
        .count();
    assert_eq!(caches, 1);
    // Deleting the cache is safe.
    std::fs::remove_dir_all(e.path("home/cache")).unwrap();
    assert_eq!(
        e.rows("people", "SELECT count(*) AS c FROM data"),
        json!([{"c": 3}])
    );
    let out = e.run(
        &[
            "source",
            "add",
            "other",
            "--type",
            "excel",
            "--path",
            book.to_str().unwrap(),
            "--connection",
            r#"{"sheet":"nope"}"#,
        ],
        &[],
    );
    assert!(out.status.success());
    let out = e.run(&["query", "--source", "other", "--sql", "SELECT 1"], &[]);
    assert_eq!(out.status.code(), Some(14));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no sheet named \"nope\" (its sheets: people)"),
        "{err}"
    );
}

#[test]
fn unreadable_files_and_a_missing_engine_say_so() {
    let e = Env::new();
    let fake = e.path("fake.parquet");
    std::fs::write(&fake, "this is not parquet").unwrap();
    e.ok(&[
        "source",
        "add",
        "fake",
        "--type",
        "parquet",
        "--path",
        fake.to_str().unwrap(),
    ]);
    let out = e.run(
        &["query", "--source", "fake", "--sql", "SELECT * FROM data"],
        &[],
    );
    assert_eq!(out.status.code(), Some(14));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(fake.to_str().unwrap()), "{err}");
    let out = e.run(
        &["query", "--source", "fake", "--sql", "SELECT 1"],
        &[("TDB_DUCKDB_LIB", "/nonexistent/libduckdb.so")],
    );
    assert_eq!(out.status.code(), Some(13));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("libduckdb.so")
            && err.contains("TDB_DUCKDB_LIB")
            && err.contains("cargo build"),
        "{err}"
    );
}
