//! The audit trail has no gaps, through the real binary: a statement reaches PostgreSQL only
//! after its `query_started` line is on disk, a log that cannot be written stops the query
//! before the server sees it, a signal cancels the query on the server and still leaves its
//! `query_failed` line, oversize SQL is audited by length and hash in a small line, tdb
//! never changes the mode of a file it did not create, and edits are audited.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::pg;
use common::process::{add_postgres_source, run_stdin, tdb, text};
use serde_json::{Value, json};
use sha2::Digest;

/// Only a failure waits this long.
const PATIENCE: Duration = Duration::from_secs(60);

/// A database on the shared cluster, a role whose every statement the server logs
/// (`log_statement = all`), and a home with the source `pg` for that role.
struct Fixture {
    db: String,
    home: tempfile::TempDir,
    password: String,
    role: String,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let c = pg::shared();
        let db = pg::unique("gaps");
        c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
        let role = pg::unique("auditee");
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        c.psql(
            "postgres",
            &format!(
                "CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}';
                 ALTER ROLE \"{role}\" SET log_statement = 'all';"
            ),
        );
        c.psql(
            &db,
            &format!(
                "GRANT CONNECT ON DATABASE \"{db}\" TO \"{role}\";
                 CREATE TABLE slow (x int);
                 GRANT SELECT ON slow TO \"{role}\";
                 CREATE FUNCTION not_built_in() RETURNS int LANGUAGE sql AS 'SELECT 1';"
            ),
        );
        let f = Fixture {
            db,
            home: tempfile::tempdir().unwrap(),
            password,
            role,
        };
        // Longer than any wait below, so a query left running cannot end by its timeout
        // before a test gives up on it.
        let mut connection = c.connection_json(&f.db, &f.role, &f.password);
        connection["statement_timeout_s"] = json!(300);
        add_postgres_source(&f.home(), "pg", connection);
        f
    })
}

impl Fixture {
    fn home(&self) -> PathBuf {
        self.home.path().join("home")
    }

    fn log(&self) -> PathBuf {
        self.home().join("tdb_audit.jsonl")
    }
}

fn error_of(out: &Output) -> Value {
    serde_json::from_slice::<Value>(&out.stderr)
        .unwrap_or_else(|_| panic!("stderr is not JSON: {}", text(&out.stderr)))["error"]
        .clone()
}

fn lines(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Everything the server has logged so far (it logs the auditee's every statement).
fn server_log() -> String {
    pg::shared().psql(
        "postgres",
        "SELECT pg_read_file(current_setting('data_directory') || '/../server.log')",
    )
}

/// Sessions other than ours whose current or last statement holds `marker`.
/// The lines of `sql` in `log`: a `query_started` and one `closing` line with its
/// `query_id`, and nothing else; returns the closing line.
fn started_then(log: &Path, sql: &str, closing: &str) -> Value {
    let mine: Vec<Value> = lines(log).into_iter().filter(|l| l["sql"] == sql).collect();
    let events: Vec<&str> = mine.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["query_started", closing]);
    assert_eq!(mine[0]["query_id"], mine[1]["query_id"]);
    mine[1].clone()
}

/// A query cut short: audited as cancelled, and gone from the server (not left sleeping
/// for the rest of its minute) well within its statement timeout.
fn assert_cancelled_and_audited(f: &Fixture, log: &Path, sql: &str, marker: &str, sent: Instant) {
    let failed = started_then(log, sql, "query_failed");
    assert!(
        failed["detail"].as_str().unwrap().contains("cancelled"),
        "{failed}"
    );
    while sessions_with(f, marker) > 0 {
        assert!(
            sent.elapsed() < Duration::from_secs(15),
            "the server still runs the query"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn sessions_with(f: &Fixture, marker: &str) -> usize {
    pg::shared()
        .psql(
            &f.db,
            &format!(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE pid <> pg_backend_pid() AND query LIKE '%{marker}%'"
            ),
        )
        .trim()
        .parse()
        .unwrap()
}

fn mkfifo(path: &Path, mode: u32) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid C string; mkfifo has no other preconditions.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), mode) }, 0, "mkfifo");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn a_log_that_cannot_be_written_stops_the_query_before_the_server_sees_it() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo, 0o644);
    let cases = [
        (PathBuf::from("/dev/full"), "a character device"),
        (dir.path().join("missing/tdb_audit.jsonl"), "No such file"),
        (dir.path().to_path_buf(), "a folder"),
        (fifo.clone(), "a FIFO"),
    ];
    let mut markers = Vec::new();
    for (path, why) in &cases {
        let marker = pg::unique("never_run");
        let out = tdb(&f.home())
            .arg("--audit-log")
            .arg(path)
            .args(["query", "--source", "pg", "--json", "--sql"])
            .arg(format!("SELECT '{marker}' AS m"))
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(15),
            "{}: {}",
            path.display(),
            text(&out.stderr)
        );
        let e = error_of(&out);
        assert_eq!(e["status"], 500);
        let detail = e["detail"].as_str().unwrap();
        assert!(detail.contains("not run"), "{detail}");
        assert!(detail.contains(&path.display().to_string()), "{detail}");
        assert!(detail.contains(why), "{detail}");
        assert!(out.stdout.is_empty());
        markers.push(marker);
    }
    assert_eq!(mode(&fifo), 0o644, "the FIFO's mode was changed");

    // The same kind of statement with a log that works does reach the server's log, so
    // the markers' absence means the server never saw them.
    let seen = pg::unique("was_run");
    let out = tdb(&f.home())
        .args(["query", "--source", "pg", "--json", "--sql"])
        .arg(format!("SELECT '{seen}' AS m"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = server_log();
    assert!(
        log.contains(&seen),
        "the server log does not show statements"
    );
    for m in &markers {
        assert!(!log.contains(m.as_str()), "the server saw {m}");
    }
    // The working log has the statement's lines in order: started, then the result.
    let mine: Vec<Value> = lines(&f.log())
        .into_iter()
        .filter(|l| l["sql"].as_str().is_some_and(|s| s.contains(&seen)))
        .collect();
    let events: Vec<&str> = mine.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["query_started", "query"]);
    assert_eq!(mine[0]["query_id"], mine[1]["query_id"]);
    assert_eq!(mine[0]["executed_sql"], mine[1]["executed_sql"]);
    assert!(uuid::Uuid::parse_str(mine[0]["query_id"].as_str().unwrap()).is_ok());
}

#[test]
fn files_tdb_did_not_create_keep_their_mode() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let csv = dir.path().join("t.csv");
    std::fs::write(&csv, "a\n1\n").unwrap();
    let out = tdb(&home)
        .args(["source", "add", "t", "--type", "csv", "--path"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let query = |log: &Path| {
        tdb(&home)
            .arg("--audit-log")
            .arg(log)
            .args([
                "query",
                "--source",
                "t",
                "--sql",
                "SELECT a FROM data",
                "--json",
            ])
            .output()
            .unwrap()
    };

    // A log someone made readable on purpose is written and stays as it was.
    let shared = dir.path().join("shared.jsonl");
    std::fs::write(&shared, "").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = query(&shared);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&shared), 0o644);
    assert_eq!(lines(&shared).len(), 2);
    // The head file is tdb's own: created private.
    assert_eq!(mode(&dir.path().join("shared.jsonl.head")), 0o600);

    // A FIFO (what /dev/null is to tdb: not a file) is refused, and keeps its mode.
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo, 0o644);
    let out = query(&fifo);
    assert_eq!(out.status.code(), Some(15), "{}", text(&out.stderr));
    assert_eq!(mode(&fifo), 0o644);
    assert!(!dir.path().join("fifo.head").exists());

    // A null device of our own, as /dev/null is (only root may make one).
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let null = dir.path().join("null");
        let c = std::ffi::CString::new(null.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid C string; 1:3 is the null device.
        let made = unsafe { libc::mknod(c.as_ptr(), libc::S_IFCHR | 0o666, libc::makedev(1, 3)) };
        assert_eq!(made, 0, "mknod");
        std::fs::set_permissions(&null, std::fs::Permissions::from_mode(0o666)).unwrap();
        let out = query(&null);
        assert_eq!(out.status.code(), Some(15), "{}", text(&out.stderr));
        assert!(
            error_of(&out)["detail"]
                .as_str()
                .unwrap()
                .contains("a character device")
        );
        assert_eq!(mode(&null), 0o666, "the device's mode was changed");
    }
}

/// Runs `select pg_sleep(60)` and sends `signal` to tdb once the server runs it.
fn signal_during_a_query(signal: i32) {
    let f = fixture();
    let marker = pg::unique("slept");
    let sql = format!("SELECT pg_sleep(60), '{marker}' AS m");
    let child = tdb(&f.home())
        .args(["query", "--source", "pg", "--json", "--sql", &sql])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    while sessions_with(f, &marker) == 0 {
        assert!(
            Instant::now() < deadline,
            "the query never reached the server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let sent = Instant::now();
    // SAFETY: sending a signal to our own child, whose pid is live until we wait for it.
    assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(128 + signal),
        "{:?}: {}",
        out.status,
        text(&out.stderr)
    );
    let e = error_of(&out);
    assert!(e["detail"].as_str().unwrap().contains("cancelled"), "{e}");
    assert!(out.stdout.is_empty());

    assert_cancelled_and_audited(f, &f.log(), &sql, &marker, sent);
    assert!(server_log().contains("canceling statement due to user request"));
}

#[test]
fn sigint_cancels_the_query_on_the_server_and_audits_it() {
    signal_during_a_query(libc::SIGINT);
}

#[test]
fn sigterm_cancels_the_query_on_the_server_and_audits_it() {
    signal_during_a_query(libc::SIGTERM);
}

#[test]
fn sighup_cancels_the_query_on_the_server_and_audits_it() {
    signal_during_a_query(libc::SIGHUP);
}

/// A home with a CSV source `t`, for what needs no server.
fn csv_home(dir: &Path) -> PathBuf {
    let home = dir.join("home");
    let csv = dir.join("t.csv");
    std::fs::write(&csv, "a\n1\n").unwrap();
    let out = tdb(&home)
        .args(["source", "add", "t", "--type", "csv", "--path"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    home
}

fn last_line(home: &Path) -> (String, Value) {
    let raw = std::fs::read_to_string(home.join("tdb_audit.jsonl")).unwrap();
    let last = raw.lines().last().unwrap().to_string();
    let v = serde_json::from_str(&last).unwrap();
    (last, v)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The process's peak memory, from the kernel's accounting of the reaped child. It is
/// reaped by `wait4` (which returns that accounting), not by `Child::wait`.
#[allow(clippy::zombie_processes)]
fn run_measured(cmd: &mut Command, stdin: Stdio) -> (i32, u64) {
    let child = cmd
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waiting for our own child, which nothing else reaps.
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    assert!(libc::WIFEXITED(status));
    (libc::WEXITSTATUS(status), usage.ru_maxrss as u64 * 1024)
}

#[test]
fn oversize_sql_is_refused_and_audited_by_length_and_hash() {
    let dir = tempfile::tempdir().unwrap();
    let home = csv_home(dir.path());

    // 15 MB on stdin: refused, and the line says how long it was and what it hashes to.
    let sql = format!("SELECT {}1", "1+".repeat(7_500_000));
    let out = run_stdin(
        tdb(&home).args(["query", "--source", "t", "--sql", "-", "--json"]),
        &sql,
    );
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    let detail = error_of(&out)["detail"].as_str().unwrap().to_string();
    assert!(
        detail.starts_with("SQL validation failed: the SQL is 15000008 characters long"),
        "{detail}"
    );
    let (raw, line) = last_line(&home);
    assert!(raw.len() < 4096, "a {} byte line", raw.len());
    assert_eq!(line["event"], "query_rejected");
    assert_eq!(line["sql"], sql[..1000]);
    assert_eq!(line["sql_chars"], 15_000_008);
    assert_eq!(line["sql_bytes"], 15_000_008);
    assert_eq!(line["sql_sha256"], sha256_hex(sql.as_bytes()));
    assert_eq!(line["sql_cut"], false);
    assert_eq!(line["detail"], detail.as_str());

    // A long argument (as long as one may be) is audited the same way.
    let arg = format!("SELECT '{}'", "é".repeat(60_000));
    let out = tdb(&home)
        .args(["query", "--source", "t", "--json", "--sql", &arg])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    let (raw, line) = last_line(&home);
    assert!(raw.len() < 4096, "a {} byte line", raw.len());
    assert_eq!(line["sql"], arg.chars().take(1000).collect::<String>());
    assert_eq!(line["sql_chars"], arg.chars().count());
    assert_eq!(line["sql_bytes"], arg.len());
    assert_eq!(line["sql_sha256"], sha256_hex(arg.as_bytes()));

    // SQL of exactly the largest size accepted still reaches the guard whole.
    let edge = format!("SELECT '{}'", "x".repeat(10_000 - 9));
    let out = run_stdin(
        tdb(&home).args(["query", "--source", "t", "--sql", "-", "--json"]),
        &edge,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn endless_stdin_is_cut_in_bounded_memory_and_the_line_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let home = csv_home(dir.path());
    let query = || {
        let mut c = tdb(&home);
        c.args(["query", "--source", "t", "--sql", "-", "--json"]);
        c
    };
    let small = dir.path().join("small.sql");
    std::fs::write(&small, "SELECT a FROM data").unwrap();
    let (code, baseline) = run_measured(
        &mut query(),
        Stdio::from(std::fs::File::open(&small).unwrap()),
    );
    assert_eq!(code, 0);
    let (code, peak) = run_measured(
        &mut query(),
        Stdio::from(std::fs::File::open("/dev/zero").unwrap()),
    );
    assert_eq!(code, 10);
    // What was read is hashed, not held: far less than the 16 MiB read.
    assert!(
        peak < baseline + (8 << 20),
        "peak {peak} bytes against {baseline} for a small query"
    );
    let (raw, line) = last_line(&home);
    // The prefix's 1,000 NULs are written as \u0000 each.
    assert!(raw.len() < 8192, "a {} byte line", raw.len());
    assert_eq!(line["event"], "query_rejected");
    assert_eq!(line["sql_cut"], true);
    assert_eq!(line["sql_bytes"], 16 << 20);
    assert_eq!(line["sql_sha256"], sha256_hex(&vec![0u8; 16 << 20]));
    assert_eq!(line["sql"], "\u{0}".repeat(1000));
    let detail = line["detail"].as_str().unwrap();
    assert!(detail.contains("stopped reading"), "{detail}");
}

#[test]
fn source_edits_and_new_passwords_are_audited_without_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let body = json!({"name": "orders", "source_type": "postgres", "description": "old",
        "connection": {"host": "db.internal", "dbname": "prod", "user": "reader",
                       "password": "first-secret-5d1"}});
    let out = run_stdin(
        tdb(&home).args(["source", "add", "--from-json", "-", "--json"]),
        &body.to_string(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = tdb(&home)
        .args([
            "source",
            "edit",
            "orders",
            "--name",
            "orders_eu",
            "--description",
            "Order records",
            "--connection",
            r#"{"port":6432,"password":"second-secret-7a2"}"#,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (_, line) = last_line(&home);
    assert_eq!(line["event"], "source_updated");
    assert_eq!(line["source_name"], "orders_eu");
    assert_eq!(
        line["changed"],
        json!([
            "name",
            "description",
            "connection.port",
            "connection.password"
        ])
    );
    assert_eq!(line["previous_values"]["name"], "orders");
    assert_eq!(line["new_values"]["description"], "Order records");
    assert_eq!(line["new_values"]["connection.port"], 6432);

    // An edit of the description only does not claim the password changed.
    let out = tdb(&home)
        .args(["source", "edit", "orders_eu", "--tag", "eu"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (_, line) = last_line(&home);
    assert_eq!(line["changed"], json!(["tags"]));

    let out = run_stdin(
        tdb(&home).args(["source", "set-password", "orders_eu"]),
        "third-secret-9c3\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (_, line) = last_line(&home);
    assert_eq!(line["event"], "source_updated");
    assert_eq!(line["changed"], json!(["connection.password"]));

    let log = std::fs::read_to_string(home.join("tdb_audit.jsonl")).unwrap();
    for secret in ["first-secret-5d1", "second-secret-7a2", "third-secret-9c3"] {
        assert!(!log.contains(secret), "{secret} is in the audit log");
    }
    let out = tdb(&home).args(["audit", "verify"]).output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn a_statement_the_source_refuses_closes_its_start_as_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let db = dir.path().join("t.db");
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute_batch("CREATE TABLE data (a INTEGER); INSERT INTO data VALUES (1);")
        .unwrap();
    let out = tdb(&home)
        .args(["source", "add", "t", "--type", "sqlite", "--path"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The guard lets this through; SQLite's own policy in tdb refuses it before running it.
    let sql = "SELECT * FROM pragma_database_list";
    let out = tdb(&home)
        .args(["query", "--source", "t", "--json", "--sql", sql])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    let detail = error_of(&out)["detail"].as_str().unwrap().to_string();
    assert!(detail.starts_with("SQL validation failed: "), "{detail}");
    let all = lines(&home.join("tdb_audit.jsonl"));
    let mine: Vec<&Value> = all.iter().filter(|l| l["sql"] == sql).collect();
    let events: Vec<&str> = mine.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["query_started", "query_rejected"]);
    assert_eq!(mine[0]["query_id"], mine[1]["query_id"]);
    assert_eq!(mine[1]["detail"], detail.as_str());
    let reg = tdb::registry::Registry::open(&tdb::home::Home::at(&home)).unwrap();
    let source = reg.get("t").unwrap();
    let history = reg.history(&source.id, 10).unwrap();
    assert_eq!(history[0].sql, sql);
    assert_eq!(history[0].outcome, tdb::core::history::Outcome::Rejected);
}

#[test]
fn a_function_the_server_policy_refuses_closes_its_start_as_rejected() {
    let f = fixture();
    let marker = pg::unique("policy");
    let sql = format!("SELECT not_built_in(), '{marker}' AS m");
    let out = tdb(&f.home())
        .args(["query", "--source", "pg", "--json", "--sql", &sql])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    let detail = error_of(&out)["detail"].as_str().unwrap().to_string();
    assert!(detail.starts_with("SQL validation failed: "), "{detail}");
    let closing = started_then(&f.log(), &sql, "query_rejected");
    assert_eq!(closing["detail"], detail.as_str());
}

#[test]
fn a_run_dropped_before_it_ends_still_closes_its_start() {
    let f = fixture();
    let marker = pg::unique("dropped");
    let sql = format!("SELECT pg_sleep(60), '{marker}' AS m");
    let mut engine = tdb::backend::engine::Engine::open(&tdb::home::Home::at(f.home())).unwrap();
    let planned = engine.plan("pg", &sql, 10).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let run = planned.run(tokio_util::sync::CancellationToken::new(), None);
        tokio::pin!(run);
        let deadline = Instant::now() + PATIENCE;
        loop {
            tokio::select! {
                r = &mut run => panic!("the query ended: {:?}", r.map(|o| o.result.rows.len())),
                _ = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
            // The runtime is ours alone: psql blocks it, and the query goes on meanwhile.
            if sessions_with(f, &marker) > 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the query never reached the server"
            );
        }
        // Dropped here, as a runtime shutting down drops its tasks.
    });
    let mine: Vec<Value> = lines(&f.log())
        .into_iter()
        .filter(|l| l["sql"] == sql.as_str())
        .collect();
    let events: Vec<&str> = mine.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["query_started", "query_failed"]);
    assert_eq!(mine[0]["query_id"], mine[1]["query_id"]);
    assert!(
        mine[1]["detail"]
            .as_str()
            .unwrap()
            .contains("tdb stopped before the query ended"),
        "{}",
        mine[1]
    );
}

#[test]
fn an_edit_from_the_ui_backend_is_audited_without_its_password() {
    use tdb::backend;
    use tdb::backend::protocol::{Request, RequestId, Response};
    use tdb::core::draft::{Password, SourceDraft};

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let body = json!({"name": "orders", "source_type": "postgres",
        "connection": {"host": "db.internal", "dbname": "prod", "user": "reader",
                       "password": "ui-old-secret-41"}});
    let out = run_stdin(
        tdb(&home).args(["source", "add", "--from-json", "-", "--json"]),
        &body.to_string(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let home = tdb::home::Home::at(&home);
    let rec = tdb::registry::Registry::open(&home)
        .unwrap()
        .get("orders")
        .unwrap();
    let before = SourceDraft::from_record(&rec);
    let mut draft = before.clone();
    draft.description = "edited in the UI".into();
    draft.connection.insert("port".into(), json!("6432"));
    draft.password = Some(Password::new("ui-new-secret-42"));

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let saved = rt.block_on(async {
        let clipboard = tdb::clipboard::Clipboard::new(
            tdb::clipboard::ClipboardEnv::default(),
            dir.path().join("clipboard.txt"),
        );
        let mut h = backend::spawn_with(home.clone(), clipboard).unwrap();
        h.requests
            .send(Request::EditSource {
                id: RequestId(7),
                source_id: rec.id.clone(),
                before: Box::new(before),
                draft: Box::new(draft),
            })
            .unwrap();
        let saved = loop {
            match tokio::time::timeout(PATIENCE, h.responses.recv()).await {
                Ok(Some(Response::SourceSaved {
                    id: RequestId(7),
                    result,
                })) => {
                    break result;
                }
                Ok(Some(_)) => {}
                other => panic!("no answer from the backend: {other:?}"),
            }
        };
        h.shutdown(Duration::from_secs(2)).await;
        saved
    });
    assert!(saved.is_ok(), "{saved:?}");
    let (_, line) = last_line(home.root());
    assert_eq!(line["event"], "source_updated");
    assert_eq!(line["source_id"], rec.id.as_str());
    assert_eq!(
        line["changed"],
        json!(["description", "connection.port", "connection.password"])
    );
    assert_eq!(line["new_values"]["connection.port"], 6432);
    let log = std::fs::read_to_string(home.audit_path()).unwrap();
    assert!(!log.contains("ui-old-secret-41") && !log.contains("ui-new-secret-42"));
}

/// The UI (in a real terminal) runs `select pg_sleep(60)`; `signal` reaches tdb meanwhile.
fn ui_signal_during_a_query(signal: i32) {
    use common::tmux::Tmux;
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    // A home of its own whose one source has a table, so the editor starts with one line.
    let home = dir.path().join("home");
    let c = pg::shared();
    let mut connection = c.connection_json(&f.db, &f.role, &f.password);
    connection["table"] = json!("slow");
    connection["statement_timeout_s"] = json!(300);
    let body = json!({"name": "ui", "source_type": "postgres", "connection": connection});
    let out = run_stdin(
        tdb(&home).args(["source", "add", "--from-json", "-", "--json"]),
        &body.to_string(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pid_file = dir.path().join("pid");
    let status_file = dir.path().join("status");
    let t = Tmux::start(dir.path());
    t.wait_for("the shell prompt", |s| s.contains("e2e$"));
    // The inner shell becomes tdb (exec), so its pid is tdb's; the outer one keeps the status.
    t.type_text(&format!(
        "sh -c 'echo $$ > {}; exec {} --home {}'; echo \"exit=$?\" > {}",
        pid_file.display(),
        env!("CARGO_BIN_EXE_tdb"),
        home.display(),
        status_file.display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("the editor", |s| {
        s.contains("ui postgres") && s.contains("SELECT * FROM data")
    });
    let marker = pg::unique("ui_slept");
    let sql = format!("SELECT pg_sleep(60), '{marker}' AS m");
    t.keys(&["C-a", "C-k"]);
    t.type_text(&sql);
    t.keys(&["F5"]);
    let deadline = Instant::now() + PATIENCE;
    while sessions_with(f, &marker) == 0 {
        assert!(
            Instant::now() < deadline,
            "the query never reached the server:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let sent = Instant::now();
    // SAFETY: the pid of the tdb this test started, still running (its query is).
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
    let status = loop {
        let s = std::fs::read_to_string(&status_file).unwrap_or_default();
        if s.ends_with('\n') {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "tdb did not exit:\n{}",
            t.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.trim(), format!("exit={}", 128 + signal));

    assert_cancelled_and_audited(f, &home.join("tdb_audit.jsonl"), &sql, &marker, sent);
}

#[test]
fn the_ui_cancels_and_audits_its_query_on_sighup() {
    ui_signal_during_a_query(libc::SIGHUP);
}

#[test]
fn the_ui_cancels_and_audits_its_query_on_sigterm() {
    ui_signal_during_a_query(libc::SIGTERM);
}

#[test]
fn the_ui_shows_an_unwritable_log_as_an_error_and_keeps_running() {
    use common::tui::Harness;
    use tdb::tui::panes::results::ResultsView;

    let dir = tempfile::tempdir().unwrap();
    let home_dir = csv_home(dir.path());
    let home = tdb::home::Home::at(&home_dir);
    // The log's path is taken by a folder: nothing can be audited, so nothing may run.
    std::fs::remove_file(home.audit_path()).unwrap();
    std::fs::create_dir(home.audit_path()).unwrap();
    let mut h = Harness::new(&home, 120, 40);
    h.run_sql("SELECT a FROM data");
    match &h.app.results {
        ResultsView::Failed {
            heading, message, ..
        } => {
            assert_eq!(*heading, "Audit log unavailable");
            assert!(message.contains("the query was not run"), "{message}");
            assert!(message.contains("a folder"), "{message}");
        }
        _ => panic!("not an error:\n{}", h.screen()),
    }
    assert!(
        h.screen().contains("Audit log unavailable"),
        "{}",
        h.screen()
    );

    // Once the log can be written again, the same UI runs the query.
    std::fs::remove_dir(home.audit_path()).unwrap();
    h.run_sql("SELECT a FROM data");
    assert!(
        matches!(&h.app.results, ResultsView::Done(_)),
        "{}",
        h.screen()
    );
    let events: Vec<String> = lines(home.audit_path())
        .iter()
        .map(|l| l["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(events, ["query_started", "query"]);
}

#[test]
fn the_statement_waits_for_its_started_line_while_the_connection_does_not() {
    let f = fixture();
    let c = pg::shared();
    // A role of its own, so its sessions are this test's alone.
    let role = pg::unique("waiter");
    c.psql(
        "postgres",
        &format!(
            "CREATE ROLE \"{role}\" LOGIN PASSWORD '{pw}';
             ALTER ROLE \"{role}\" SET log_statement = 'all';
             GRANT CONNECT ON DATABASE \"{db}\" TO \"{role}\";",
            pw = f.password,
            db = f.db
        ),
    );
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    add_postgres_source(&home, "pg", c.connection_json(&f.db, &role, &f.password));
    let log = dir.path().join("audit.jsonl");
    std::fs::write(&log, "").unwrap();
    // Another tdb holding the log's lock, as one writing a line does.
    let held = std::fs::File::options().append(true).open(&log).unwrap();
    held.lock().unwrap();

    let marker = pg::unique("waited");
    let sql = format!("SELECT '{marker}' AS m");
    let child = tdb(&home)
        .arg("--audit-log")
        .arg(&log)
        .args(["query", "--source", "pg", "--json", "--sql", &sql])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sessions = || {
        c.psql(
            "postgres",
            &format!("SELECT count(*) FROM pg_stat_activity WHERE usename = '{role}'"),
        )
        .trim()
        .parse::<usize>()
        .unwrap()
    };
    // The connection is made while the line waits for the lock...
    let since = Instant::now();
    while sessions() == 0 {
        assert!(since.elapsed() < PATIENCE, "tdb never connected");
        std::thread::sleep(Duration::from_millis(20));
    }
    // ...but the statement is not sent: the line is not on disk yet.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !server_log().contains(&marker),
        "the server saw the statement first"
    );
    assert!(lines(&log).is_empty());

    held.unlock().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(server_log().contains(&marker));
    started_then(&log, &sql, "query");
}
