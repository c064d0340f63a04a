//! SQLite database files as sources, against the real engine: values cell by cell against
//! the `sqlite3` CLI on the same file, the schema as SQLite declares it, the whole-database
//! view, a file another program is writing, and files that are not databases.
//! (Registration, limits, hostile SQL, cancel and the audit lines are the conformance
//! suite's: `cargo test --test conformance sqlite::`.)

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::process::{error_detail, tdb, text};
use serde_json::Value;

fn sqlite3() -> Command {
    let probe = Command::new("sqlite3").arg("--version").output();
    assert!(
        probe.is_ok_and(|o| o.status.success()),
        "these tests compare with the sqlite3 CLI: install it (Debian: apt-get install sqlite3), \
         or run .ci/run, which does"
    );
    Command::new("sqlite3")
}

/// Runs SQL through the `sqlite3` CLI, failing the test on an error.
fn sqlite3_sql(db: &Path, sql: &str) -> String {
    let out = sqlite3().arg(db).arg(sql).output().unwrap();
    assert!(out.status.success(), "sqlite3: {}", text(&out.stderr));
    text(&out.stdout)
}

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn db(&self) -> PathBuf {
        self.dir.path().canonicalize().unwrap().join("shop.db")
    }

    fn run(&self, args: &[&str]) -> Output {
        tdb(&self.home()).args(args).output().unwrap()
    }

    /// `tdb source add NAME --type sqlite --path PATH [--table T] --json`.
    fn try_add(&self, name: &str, path: &Path, table: Option<&str>) -> Output {
        let mut args = vec!["source", "add", name, "--type", "sqlite", "--json"];
        let p = path.to_str().unwrap();
        args.extend(["--path", p]);
        if let Some(t) = table {
            args.extend(["--table", t]);
        }
        self.run(&args)
    }

    fn add(&self, name: &str, table: Option<&str>) {
        let out = self.try_add(name, &self.db(), table);
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    fn query(&self, source: &str, sql: &str, format: &str) -> Output {
        self.run(&["query", "--source", source, "--sql", sql, format])
    }
}

/// A value of every storage class and the awkward cases of each.
const AWKWARD: &str = "
CREATE TABLE t (k INTEGER PRIMARY KEY, i INTEGER, r REAL, s TEXT, b BLOB, v VARCHAR(12), n NUMERIC);
INSERT INTO t VALUES
 (1, 0, 0.1, 'plain', x'00ff10', 'abc', 10),
 (2, -1, 10.5, '', x'', '', 1.5),
 (3, 9223372036854775807, 2.5e15, 'a\"b,c', NULL, NULL, NULL),
 (4, -9223372036854775808, 1e-30, 'line1
line2', x'41', 'ünï', '007'),
 (5, NULL, 100.0, 'tab	and ; semi', NULL, '日本語', 'x'),
 (6, 42, -2.75, '😀 👩‍💻 e\u{301}', NULL, 'καλη', 1e3),
 (7, 7, 1.0e300, ' leading and trailing ', NULL, '  ', -0),
 (8, 8, 123456.789, 'back\\slash', NULL, 'x', 3.0);
";

/// `--csv` output split into rows and fields (RFC 4180: quotes, doubled quotes, newlines).
fn parse_csv(s: &str) -> Vec<Vec<Option<String>>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => {
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                row.push(cell(&mut field, &mut was_quoted));
            }
            (false, '\r') => {}
            (false, '\n') => {
                row.push(cell(&mut field, &mut was_quoted));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => field.push(c),
        }
    }
    rows
}

/// An unquoted empty field is NULL, a quoted one the empty string (psql's and sqlite3's
/// convention, and tdb's).
fn cell(field: &mut String, quoted: &mut bool) -> Option<String> {
    let v = std::mem::take(field);
    let out = if v.is_empty() && !*quoted {
        None
    } else {
        Some(v)
    };
    *quoted = false;
    out
}

#[test]
fn every_value_is_the_one_sqlite3_prints() {
    let env = Env::new();
    sqlite3_sql(&env.db(), AWKWARD);
    env.add("shop", Some("t"));
    let columns = "k, i, r, s, v, n, typeof(n) AS tn, hex(b) AS hb";
    let sql = format!("SELECT {columns} FROM t ORDER BY k");
    let ours = env.query("shop", &sql, "--csv");
    assert!(ours.status.success(), "{}", text(&ours.stderr));
    let theirs = sqlite3()
        .args(["-csv", "-header"])
        .arg(env.db())
        .arg(&sql)
        .output()
        .unwrap();
    assert!(theirs.status.success(), "{}", text(&theirs.stderr));
    let ours = parse_csv(&text(&ours.stdout));
    let theirs = parse_csv(&text(&theirs.stdout));
    assert_eq!(ours.len(), 9, "{ours:?}");
    assert_eq!(ours.len(), theirs.len());
    let mut compared = 0;
    for (r, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a.len(), b.len(), "row {r}");
        for (c, (x, y)) in a.iter().zip(b).enumerate() {
            let column = &ours[0][c];
            // README "Values": a REAL is printed the shortest way that reads back as the
            // same double; sqlite3 keeps 15 digits and always a decimal point. The values
            // must be equal; their spelling may differ.
            let real = column.as_deref() == Some("r") && r > 0;
            if real {
                let parse = |v: &Option<String>| v.as_deref().map(|s| s.parse::<f64>().unwrap());
                assert_eq!(parse(x), parse(y), "row {r} r: tdb {x:?}, sqlite3 {y:?}");
            } else {
                assert_eq!(x, y, "row {r} column {column:?}");
            }
            compared += 1;
        }
    }
    assert_eq!(compared, 9 * 8);

    // Blobs: tdb shows bytes as \x and hex, the way it shows PostgreSQL's bytea.
    let out = env.query("shop", "SELECT b FROM t ORDER BY k LIMIT 2", "--csv");
    assert_eq!(text(&out.stdout), "b\n\\x00ff10\n\\x\n");
    // In JSON, integers stay integers however big, and '' stays apart from NULL.
    let out = env.query(
        "shop",
        "SELECT i, v FROM t WHERE k IN (2, 3) ORDER BY k",
        "--json",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["rows"],
        serde_json::json!([{"i": -1, "v": ""}, {"i": 9223372036854775807_i64, "v": null}])
    );
}

#[test]
fn the_schema_is_what_sqlite_declares() {
    let env = Env::new();
    sqlite3_sql(
        &env.db(),
        "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, city VARCHAR(20));
         CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL
             REFERENCES customers(id), total NUMERIC(10,2), note);
         CREATE VIEW big AS SELECT * FROM orders WHERE total > 50;
         CREATE INDEX orders_by_customer ON orders(customer_id);",
    );
    env.add("shop", None);
    let out = env.run(&["source", "schema", "shop", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tables: Vec<(&str, &str)> = v["tables"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["schema"].as_str().unwrap(), t["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        tables,
        [("main", "big"), ("main", "customers"), ("main", "orders")]
    );
    let orders = &v["tables"][2]["columns"];
    let col = |i: usize| {
        let c = &orders[i];
        (
            c["name"].as_str().unwrap().to_string(),
            c["type"].as_str().unwrap().to_string(),
            c["not_null"].as_bool().unwrap(),
            c["primary_key"].as_bool().unwrap(),
            c["references"].as_str().map(String::from),
        )
    };
    assert_eq!(col(0), ("id".into(), "INTEGER".into(), false, true, None));
    assert_eq!(
        col(1),
        (
            "customer_id".into(),
            "INTEGER".into(),
            true,
            false,
            Some("customers(id)".into())
        )
    );
    assert_eq!(col(2).1, "NUMERIC(10,2)");
    assert_eq!(col(3).1, "", "a column declared without a type has none");

    // One table behind `data`: its columns, no list of tables.
    env.add("orders", Some("orders"));
    let out = env.run(&["source", "schema", "orders", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["columns"].as_array().unwrap().len(), 4);
    assert!(v.get("tables").is_none(), "{v}");
    let out = env.query("orders", "SELECT count(*) AS n FROM data", "--csv");
    assert_eq!(text(&out.stdout), "n\n0\n");
}

#[test]
fn a_whole_database_has_no_data_and_says_which_tables_it_has() {
    let env = Env::new();
    sqlite3_sql(
        &env.db(),
        "CREATE TABLE b (x); CREATE TABLE a (y); INSERT INTO a VALUES (1);",
    );
    env.add("shop", None);
    let out = env.run(&[
        "query",
        "--source",
        "shop",
        "--sql",
        "SELECT * FROM data",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(14), "{}", text(&out.stderr));
    let detail = error_detail(&out);
    assert!(detail.contains("whole database"), "{detail}");
    assert!(detail.contains("its tables: a, b"), "{detail}");
    let out = env.query("shop", "SELECT y FROM a", "--csv");
    assert_eq!(text(&out.stdout), "y\n1\n");
}

#[test]
fn a_file_another_program_is_writing_reads_consistently_and_is_never_locked() {
    let env = Env::new();
    sqlite3_sql(
        &env.db(),
        "PRAGMA journal_mode = WAL; CREATE TABLE t (n INTEGER); INSERT INTO t VALUES (1), (2);",
    );
    env.add("live", Some("t"));
    // A writer holds a write transaction with rows not yet committed.
    let mut writer = sqlite3()
        .arg(env.db())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = writer.stdin.take().unwrap();
    writeln!(
        stdin,
        "BEGIN IMMEDIATE; INSERT INTO t VALUES (3); SELECT 'held';"
    )
    .unwrap();
    stdin.flush().unwrap();
    let mut ready = [0u8; 5];
    std::io::Read::read_exact(writer.stdout.as_mut().unwrap(), &mut ready).unwrap();
    assert_eq!(&ready, b"held\n");
    // tdb reads the committed rows and neither waits for the writer nor blocks it.
    let out = env.query("live", "SELECT count(*) AS n FROM data", "--csv");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "n\n2\n");
    writeln!(stdin, "COMMIT;").unwrap();
    drop(stdin);
    let done = writer.wait_with_output().unwrap();
    assert!(done.status.success(), "{}", text(&done.stderr));
    let out = env.query("live", "SELECT count(*) AS n FROM data", "--csv");
    assert_eq!(text(&out.stdout), "n\n3\n");
}

#[test]
fn files_that_are_not_databases_are_refused_with_the_reason() {
    let env = Env::new();
    let d = env.dir.path().canonicalize().unwrap();
    std::fs::write(d.join("notes.db"), "just some text, not a database").unwrap();
    let notes = d.join("notes.db");
    let out = env.try_add("n", &notes, None);
    assert_eq!(out.status.code(), Some(10));
    assert!(
        error_detail(&out).starts_with("connection.path: not a SQLite database"),
        "{}",
        error_detail(&out)
    );
    let fifo = d.join("pipe.db");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let out = env.try_add("p", &fifo, None);
    assert_eq!(out.status.code(), Some(10));
    assert!(
        error_detail(&out).contains("FIFO"),
        "{}",
        error_detail(&out)
    );

    // A database replaced by a FIFO after registration: refused at once, not waited on.
    sqlite3_sql(&env.db(), "CREATE TABLE t (x);");
    env.add("shop", Some("t"));
    std::fs::remove_file(env.db()).unwrap();
    let made = Command::new("mkfifo").arg(env.db()).status().unwrap();
    assert!(made.success());
    let out = env.run(&[
        "query",
        "--source",
        "shop",
        "--sql",
        "SELECT * FROM data",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    assert!(
        error_detail(&out).contains("not a regular file"),
        "{}",
        error_detail(&out)
    );
}
