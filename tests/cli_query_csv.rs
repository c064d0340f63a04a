//! `tdb query` on CSV sources through the real binary: the guard's hostile SQL is refused
//! and the cache is untouched; answers match values computed here; a changed file changes
//! the answer; missing and broken files give clear errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Self {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn tdb(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_tdb"))
            .arg("--home")
            .arg(self.home())
            .args(args)
            .output()
            .unwrap()
    }

    fn add(&self, name: &str, file: &Path) {
        let out = self.tdb(&[
            "source",
            "add",
            name,
            "--type",
            "csv",
            "--path",
            file.to_str().unwrap(),
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn query(&self, source: &str, sql: &str, limit: &str) -> Output {
        self.tdb(&[
            "query", "--source", source, "--sql", sql, "--limit", limit, "--json",
        ])
    }

    fn ok(&self, source: &str, sql: &str, limit: &str) -> Value {
        let out = self.query(source, sql, limit);
        assert!(
            out.status.success(),
            "{sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn cache_digest(&self) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(self.home().join("cache"))
            .unwrap()
            .flatten()
            .map(|e| {
                let bytes = std::fs::read(e.path()).unwrap();
                (
                    e.file_name().to_string_lossy().into_owned(),
                    hex::encode(Sha256::digest(&bytes)),
                )
            })
            .collect();
        files.sort();
        files
    }
}

fn detail(out: &Output) -> String {
    let v: Value = serde_json::from_slice(&out.stderr).unwrap_or_else(|_| {
        panic!(
            "stderr is not JSON: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["error"]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// A deterministic orders file and the values a correct engine must compute from it.
fn orders(dir: &Path, n: usize) -> (PathBuf, Vec<(i64, f64, &'static str)>) {
    let statuses = ["paid", "pending", "shipped"];
    let mut rows = Vec::new();
    let mut text = String::from("id,total,status,note\n");
    for i in 1..=n {
        let total = (i * 37 % 1000) as f64 / 4.0;
        let status = statuses[i % 3];
        rows.push((i as i64, total, status));
        text.push_str(&format!(
            "{i},{total},{status},\"note, with \"\"quotes\"\" {i}\"\n"
        ));
    }
    let path = dir.join("orders.csv");
    std::fs::write(&path, text).unwrap();
    (path, rows)
}

const HOSTILE: &[&str] = &[
    "DELETE FROM data",
    "INSERT INTO data VALUES (1, 2, 'x', 'y')",
    "UPDATE data SET total = 0",
    "DROP TABLE data",
    "DROP VIEW data",
    "CREATE TABLE evil (x INTEGER)",
    "CREATE MACRO evil(a) AS a",
    "ALTER TABLE data ADD COLUMN pwned INTEGER",
    "ATTACH '/tmp/tdb_evil.db' AS evil",
    "DETACH main",
    "INSTALL httpfs",
    "LOAD httpfs",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "PRAGMA enable_profiling",
    "CHECKPOINT",
    "COPY data TO '/tmp/tdb_evil.csv'",
    "COPY (SELECT 1) TO '/tmp/tdb_evil.parquet' (FORMAT parquet)",
    "EXPORT DATABASE '/tmp/tdb_evil_export'",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('/etc/passwd')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM '/etc/passwd'",
    "SELECT getenv('HOME')",
    "SELECT 1; DELETE FROM data",
    "SELECT 1; DROP TABLE data",
    "WITH d AS (DELETE FROM data RETURNING *) SELECT * FROM d",
    "BEGIN; DELETE FROM data; COMMIT",
    "SELECT 'x'; -- harmless\nDROP TABLE data",
];

#[test]
fn hostile_sql_is_refused_and_the_cache_is_unchanged() {
    let env = Env::new();
    let (path, _) = orders(env.dir.path(), 50);
    env.add("orders", &path);
    // Build the cache first, so there is something to protect.
    env.ok("orders", "SELECT count(*) AS n FROM data", "10");
    let before = env.cache_digest();
    assert!(!before.is_empty());
    for sql in HOSTILE {
        let out = env.query("orders", sql, "10");
        assert_eq!(
            out.status.code(),
            Some(10),
            "not refused: {sql}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(detail(&out).starts_with("SQL validation failed: "), "{sql}");
    }
    // Oversize, too.
    let big = format!("SELECT {}1", "1+".repeat(5000));
    assert_eq!(env.query("orders", &big, "10").status.code(), Some(10));
    assert_eq!(env.cache_digest(), before, "the cache changed");
    for f in [
        "/tmp/tdb_evil.db",
        "/tmp/tdb_evil.csv",
        "/tmp/tdb_evil.parquet",
        "/tmp/tdb_evil_export",
    ] {
        assert!(!Path::new(f).exists(), "{f} was created");
    }
    assert_eq!(
        env.ok("orders", "SELECT count(*) AS n FROM data", "10")["rows"],
        json!([{"n": 50}])
    );
}

#[test]
fn answers_match_values_computed_independently() {
    let env = Env::new();
    let (path, rows) = orders(env.dir.path(), 2000);
    env.add("orders", &path);
    let v = env.ok(
        "orders",
        "SELECT status, count(*) AS n, sum(total) AS total FROM data GROUP BY status ORDER BY status",
        "100",
    );
    for row in v["rows"].as_array().unwrap() {
        let status = row["status"].as_str().unwrap();
        let mine: Vec<f64> = rows.iter().filter(|r| r.2 == status).map(|r| r.1).collect();
        assert_eq!(row["n"], mine.len(), "{status}");
        let sum: f64 = mine.iter().sum();
        assert!(
            (row["total"].as_f64().unwrap() - sum).abs() < 1e-6,
            "{status}"
        );
    }
    let v = env.ok(
        "orders",
        "SELECT max(id) AS m, min(total) AS lo FROM data",
        "1",
    );
    assert_eq!(v["rows"][0]["m"], 2000);
    let lo = rows.iter().map(|r| r.1).fold(f64::MAX, f64::min);
    assert_eq!(v["rows"][0]["lo"], json!(lo));
    let v = env.ok("orders", "SELECT note FROM data WHERE id = 7", "1");
    assert_eq!(v["rows"][0]["note"], "note, with \"quotes\" 7");
    // Limits and truncation.
    let v = env.ok("orders", "SELECT * FROM data", "100");
    assert_eq!(
        (v["rows_returned"].clone(), v["truncated"].clone()),
        (json!(100), json!(true))
    );
    let v = env.ok("orders", "SELECT * FROM data LIMIT 5", "100");
    assert_eq!(
        (v["rows_returned"].clone(), v["truncated"].clone()),
        (json!(5), json!(false))
    );
    let v = env.ok("orders", "SELECT * FROM data WHERE id <= 1000", "1000");
    assert_eq!(
        (v["rows_returned"].clone(), v["truncated"].clone()),
        (json!(1000), json!(false))
    );
    // Schema reports the inferred types.
    let out = env.tdb(&["source", "schema", "orders", "--json"]);
    let s: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        s["columns"],
        json!([
            {"name":"id","type":"BIGINT","not_null":false,"primary_key":false,"references":null,"comment":null},
            {"name":"total","type":"DOUBLE","not_null":false,"primary_key":false,"references":null,"comment":null},
            {"name":"status","type":"VARCHAR","not_null":false,"primary_key":false,"references":null,"comment":null},
            {"name":"note","type":"VARCHAR","not_null":false,"primary_key":false,"references":null,"comment":null}
        ])
    );
}

#[test]
fn a_changed_file_changes_the_answer() {
    let env = Env::new();
    let path = env.dir.path().join("t.csv");
    std::fs::write(&path, "x\n1\n2\n").unwrap();
    env.add("t", &path);
    assert_eq!(
        env.ok("t", "SELECT sum(x) AS s FROM data", "1")["rows"],
        json!([{"s": 3}])
    );
    std::fs::write(&path, "x\n1\n2\n39\n").unwrap();
    assert_eq!(
        env.ok("t", "SELECT sum(x) AS s FROM data", "1")["rows"],
        json!([{"s": 42}])
    );
}

#[test]
fn missing_and_broken_files_say_what_is_wrong() {
    let env = Env::new();
    let path = env.dir.path().join("gone.csv");
    std::fs::write(&path, "a\n1\n").unwrap();
    env.add("gone", &path);
    std::fs::remove_file(&path).unwrap();
    let out = env.query("gone", "SELECT * FROM data", "10");
    assert_eq!(out.status.code(), Some(13));
    assert!(detail(&out).contains("gone.csv"), "{}", detail(&out));

    let ragged = env.dir.path().join("ragged.csv");
    std::fs::write(&ragged, "a,b\n1,2\n3\n").unwrap();
    env.add("ragged", &ragged);
    let out = env.query("ragged", "SELECT * FROM data", "10");
    assert_eq!(out.status.code(), Some(14));
    assert!(detail(&out).contains("line 3"), "{}", detail(&out));
}
