//! `tdb query --all` on the network kinds beside PostgreSQL, against real servers: MariaDB
//! (the result read as it arrives, in its read-only transaction) and ClickHouse (the HTTP
//! response read as it arrives) stream every row past any limit, and stopping early (a
//! closed pipe) stops the server's work.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::process::{run_stdin, tdb, text};
use serde_json::{Value, json};

const ROWS: usize = 25_000;

fn add(home: &Path, name: &str, kind: &str, connection: &Value) {
    let body = json!({"name": name, "source_type": kind, "connection": connection});
    let out = run_stdin(
        tdb(home).args(["source", "add", "--from-json", "-", "--json"]),
        &body.to_string(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn all(home: &Path, source: &str, sql: &str) -> std::process::Output {
    tdb(home)
        .args(["query", "--source", source, "--sql", sql, "--all", "--tsv"])
        .output()
        .unwrap()
}

fn query_line(home: &Path, sql: &str) -> Value {
    std::fs::read_to_string(home.join("tdb_audit.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .rev()
        .find(|l| l["event"] == "query" && l["sql"] == sql)
        .expect("a query line")
}

/// Every line `n\tlabel n` for 1..=ROWS, with the header.
fn expected() -> String {
    let mut want = String::from("id\tlabel\n");
    for i in 1..=ROWS {
        want.push_str(&format!("{i}\tlabel {i}\n"));
    }
    want
}

#[test]
fn mariadb_streams_every_row() {
    let s = common::mariadb::shared();
    let db = common::mariadb::unique("all");
    s.create_database(&db);
    s.sql(
        &db,
        &format!(
            "CREATE TABLE t (id int PRIMARY KEY, label varchar(40));
             INSERT INTO t SELECT seq, CONCAT('label ', seq) FROM seq_1_to_{ROWS};"
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut conn = s.connection_json(&db, common::mariadb::ROOT_USER, s.root_password());
    conn["table"] = json!("t");
    add(&home, "m", "mariadb", &conn);
    let sql = "SELECT id, label FROM data ORDER BY id";
    let out = all(&home, "m", sql);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout) == expected(), "every row, in order");
    let line = query_line(&home, sql);
    assert_eq!(line["rows_returned"], ROWS as u64);
    assert_eq!(line["bytes"], out.stdout.len() as u64);

    // A reader that stops early ends it; the next query on the source works.
    let mut child = tdb(&home)
        .args(["query", "--source", "m", "--all", "--sql", sql])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = Command::new("head")
        .args(["-n", "3"])
        .stdin(child.stdout.take().unwrap())
        .output()
        .unwrap();
    assert!(child.wait().unwrap().success());
    head.stdout.truncate(64);
    assert!(text(&head.stdout).starts_with("id,label\n1,label 1\n"));
    assert!(all(&home, "m", "SELECT 1 AS one").status.success());
}

#[test]
fn clickhouse_streams_every_row() {
    let s = common::clickhouse::shared();
    let table = format!("all_{}", std::process::id());
    s.sql(&format!(
        "CREATE TABLE {table} (id UInt32, label String) ENGINE = MergeTree ORDER BY id"
    ));
    s.sql(&format!(
        "INSERT INTO {table} SELECT number + 1, concat('label ', toString(number + 1)) \
         FROM system.numbers LIMIT {ROWS}"
    ));
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    add(&home, "ch", "clickhouse", &s.connection_json(Some(&table)));
    let sql = "SELECT id, label FROM data ORDER BY id";
    let out = all(&home, "ch", sql);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout) == expected(), "every row, in order");
    let line = query_line(&home, sql);
    assert_eq!(line["rows_returned"], ROWS as u64);
    assert_eq!(line["bytes"], out.stdout.len() as u64);
}
