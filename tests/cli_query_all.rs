//! `tdb query --all` through the real binary: every row streamed with no row limit, the
//! same bytes `psql --csv` writes for the same query on a real PostgreSQL (but for the
//! differences the README names: `true`/`false`, the empty string as `""`, ISO 8601
//! timestamps), CSV and SQLite sources too, `--output` written whole or not at all, SIGINT
//! cancelling on the server, and the audit line counting the rows and bytes.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::pg::{self, Cluster};
use common::process::{add_csv_source, add_postgres_source, tdb, text};
use serde_json::{Value, json};

/// Rows of the `big` table: 10^5, of every kind of value CSV must quote or leave empty.
/// (Booleans and empty strings are written on purpose unlike psql: see the README.)
const ROWS: usize = 100_000;

struct Fixture {
    db: String,
    home: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let c = pg::shared();
        let db = pg::unique("all");
        c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
        c.psql(
            &db,
            &format!(
                "CREATE TABLE big (id int PRIMARY KEY, amount numeric(12,3), note text,
                                   ratio float8, day date);
                 INSERT INTO big
                 SELECT g, g * 1.125,
                        CASE WHEN g % 7 = 0 THEN NULL
                             WHEN g % 7 = 1 THEN E'tab\\there ' || g
                             WHEN g % 7 = 2 THEN 'comma, ' || g
                             WHEN g % 7 = 3 THEN 'quote \"' || g || '\"'
                             WHEN g % 7 = 4 THEN E'line\\nbreak ' || g
                             ELSE 'plain ' || g END,
                        g / 3.0, date '2020-01-01' + g % 3000
                 FROM generate_series(1, {ROWS}) g;"
            ),
        );
        let f = Fixture {
            db,
            home: tempfile::tempdir().unwrap(),
        };
        let mut conn = c.connection_json(&f.db, pg::SUPERUSER, c.superuser_password());
        conn["table"] = json!("big");
        add_postgres_source(&f.home(), "pg", conn);
        f
    })
}

impl Fixture {
    fn home(&self) -> PathBuf {
        self.home.path().join("home")
    }

    fn audit_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.home().join("tdb_audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// What `psql --csv` writes for `sql`.
fn psql_csv(c: &Cluster, db: &str, sql: &str) -> Vec<u8> {
    let out = Command::new(c.bin_path("psql"))
        .arg("-h")
        .arg(c.socket_dir())
        .args(["-p", &c.port().to_string(), "-U", pg::SUPERUSER, "-d", db])
        .args(["-X", "-q", "--csv", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .unwrap();
    assert!(out.status.success(), "psql: {}", text(&out.stderr));
    out.stdout
}

fn all(home: &Path, source: &str, sql: &str, extra: &[&str]) -> Output {
    tdb(home)
        .args(["query", "--source", source, "--sql", sql, "--all"])
        .args(extra)
        .output()
        .unwrap()
}

/// The audit line that closed the last query of `sql`.
fn last_query_line(lines: &[Value], sql: &str) -> Value {
    lines
        .iter()
        .rev()
        .find(|l| l["sql"] == sql && l["event"] != "query_started")
        .cloned()
        .unwrap_or_else(|| panic!("no audit line for {sql}"))
}

#[test]
fn every_row_leaves_as_psql_writes_it() {
    let f = fixture();
    let c = pg::shared();
    let sql = "SELECT * FROM data ORDER BY id";
    let out = all(&f.home(), "pg", sql, &["--csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stderr.is_empty(), "no notice: {}", text(&out.stderr));
    let want = psql_csv(c, &f.db, "SELECT * FROM big ORDER BY id");
    assert_eq!(out.stdout.len(), want.len(), "the same bytes as psql --csv");
    assert!(out.stdout == want, "the same bytes as psql --csv");
    // Every row: the header and ROWS records (some hold line breaks inside quotes).
    assert!(want.len() > ROWS * 20);

    let line = last_query_line(&f.audit_lines(), sql);
    assert_eq!(line["event"], "query");
    assert_eq!(line["rows_returned"], ROWS as u64);
    assert_eq!(line["bytes"], want.len() as u64);
    assert_eq!(line["truncated"], false);
    let executed = line["executed_sql"].as_str().unwrap();
    assert!(!executed.contains("LIMIT"), "no limit added: {executed}");
}

#[test]
fn booleans_and_empty_strings_keep_tdbs_own_csv_rules() {
    let f = fixture();
    let sql = "SELECT '' AS e, NULL::text AS n, true AS t, false AS f";
    let out = all(&f.home(), "pg", sql, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "e,n,t,f\n\"\",,true,false\n");
}

#[test]
fn tsv_and_json_lines_stream_every_row_too() {
    let f = fixture();
    let sql = "SELECT id, note FROM data WHERE id <= 30000 ORDER BY id";
    let out = all(&f.home(), "pg", sql, &["--jsonl"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 30000);
    assert_eq!(lines[0], json!({"id": 1, "note": "tab\there 1"}));
    assert_eq!(lines[6], json!({"id": 7, "note": null}));
    assert_eq!(lines[29999]["id"], 30000);

    let out = all(&f.home(), "pg", sql, &["--tsv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = text(&out.stdout);
    let rows: Vec<&str> = body.lines().collect();
    assert_eq!(rows.len(), 30001, "a header and one line per row");
    assert_eq!(rows[0], "id\tnote");
    assert_eq!(rows[1], "1\ttab\\there 1");
    assert_eq!(rows[4], "4\tline\\nbreak 4");
    assert_eq!(rows[7], "7\t\\N");
}

#[test]
fn output_is_written_whole_and_an_existing_file_needs_force() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.csv");
    let sql = "SELECT id, amount FROM data ORDER BY id";
    let file_arg = file.to_str().unwrap();
    let out = all(&f.home(), "pg", sql, &["--output", file_arg]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    let written = std::fs::read(&file).unwrap();
    let want = psql_csv(
        pg::shared(),
        &f.db,
        "SELECT id, amount FROM big ORDER BY id",
    );
    assert!(written == want, "the file holds what psql --csv writes");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let line = last_query_line(&f.audit_lines(), sql);
    assert_eq!(line["bytes"], want.len() as u64);

    // An existing file is refused before anything runs, and left as it was.
    std::fs::write(&file, "mine").unwrap();
    let before = f.audit_lines().len();
    let out = all(&f.home(), "pg", sql, &["--output", file_arg]);
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "mine");
    assert_eq!(f.audit_lines().len(), before, "nothing ran");

    let out = all(&f.home(), "pg", sql, &["--output", file_arg, "--force"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::read(&file).unwrap() == want);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left.len(), 1, "no temporary file left: {left:?}");
}

#[test]
fn bad_command_lines_are_refused() {
    let f = fixture();
    let out = all(&f.home(), "pg", "SELECT 1", &["--limit", "5"]);
    assert_eq!(out.status.code(), Some(2), "--all has no limit");
    let out = tdb(&f.home())
        .args(["query", "--source", "pg", "--sql", "SELECT 1", "--jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "--jsonl needs --all");
    let out = all(&f.home(), "pg", "SELECT 1", &["--json"]);
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    let out = all(&f.home(), "pg", "DELETE FROM data", &[]);
    assert_eq!(out.status.code(), Some(10), "the guard still applies");
    let out = all(&f.home(), "nope", "SELECT 1", &[]);
    assert_eq!(out.status.code(), Some(11));
    let out = all(&f.home(), "pg", "SELECT 1/0", &[]);
    assert_eq!(out.status.code(), Some(14), "{}", text(&out.stderr));
}

#[test]
fn sigint_cancels_on_the_server_and_leaves_no_file() {
    let f = fixture();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slow.csv");
    let marker = pg::unique("allslept");
    let sql = format!("SELECT pg_sleep(60), '{marker}' AS m");
    let child = tdb(&f.home())
        .args([
            "query", "--source", "pg", "--all", "--sql", &sql, "--output",
        ])
        .arg(&file)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sessions = || -> usize {
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
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while sessions() == 0 {
        assert!(
            Instant::now() < deadline,
            "the query never reached the server"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: a signal to our own child, whose pid is live until we wait for it.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let deadline = Instant::now() + Duration::from_secs(15);
    while sessions() > 0 {
        assert!(Instant::now() < deadline, "the server still runs the query");
        std::thread::sleep(Duration::from_millis(50));
    }
    let line = last_query_line(&f.audit_lines(), &sql);
    assert_eq!(line["event"], "query_failed");
    assert!(
        line["detail"].as_str().unwrap().contains("cancelled"),
        "{line}"
    );
    assert!(!file.exists());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_csv_source_streams_every_row_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    let mut body = String::from("id,name\n");
    for i in 0..400_000 {
        body.push_str(&format!(
            "{i},person number {i} with a longer name to take room\n"
        ));
    }
    std::fs::write(&csv, &body).unwrap();
    let home = dir.path().join("home");
    add_csv_source(&home, "people", &csv);
    let out = all(&home, "people", "SELECT * FROM data", &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout) == body, "every row, as the file has them");

    // The rows are written as they come: four times the rows (96 MB of them, against
    // 24 MB) cost no more memory than the engine's working set, which does not grow with
    // the rows (each of its threads reads a row group ahead of the writer).
    let rss = |sql: &str| {
        max_rss_of(
            tdb(&home)
                .args(["query", "--source", "people", "--all", "--sql", sql])
                .stdout(Stdio::null()),
        )
    };
    let once = rss("SELECT * FROM data");
    let four_times = rss("SELECT d.* FROM data d, range(4)");
    assert!(
        four_times < once + (16 << 20),
        "max RSS {four_times} bytes for four times the {} bytes of rows, {once} for them once",
        body.len()
    );
}

#[test]
fn a_sqlite_source_streams_every_row() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.sqlite");
    {
        let conn = rusqlite::Connection::open(&db).unwrap();
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
             INSERT INTO t SELECT i, CASE WHEN i % 10 = 0 THEN NULL ELSE 'v' || i END FROM n;",
        )
        .unwrap();
    }
    let home = dir.path().join("home");
    let out = tdb(&home)
        .args(["source", "add", "lite", "--type", "sqlite", "--path"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = all(&home, "lite", "SELECT id, v FROM t ORDER BY id", &["--tsv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body = text(&out.stdout);
    let lines: Vec<&str> = body.lines().collect();
    assert_eq!(lines.len(), 5001);
    assert_eq!(lines[1], "1\tv1");
    assert_eq!(lines[10], "10\t\\N");
    assert_eq!(lines[5000], "5000\t\\N");
}

/// The peak resident memory of a command run to its end: its `VmHWM`, read until it
/// exits (`ru_maxrss` would count the test process's own memory, copied at fork).
fn max_rss_of(cmd: &mut Command) -> u64 {
    let mut child = cmd.spawn().unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(s) = std::fs::read_to_string(&status)
            && let Some(kb) = s
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        {
            peak = peak.max(kb * 1024);
        }
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success());
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(peak > 0, "the process was seen running");
    peak
}
