//! The ClickHouse kind against a real server (Debian's 18.16): values compared cell by cell
//! with `clickhouse-client --format TabSeparated`, the hostile list (refused, or failing on
//! the server with nothing changed and nothing fetched from a URL), a cancelled query gone
//! from system.processes, a server killed mid-query, an unreachable one, and the password
//! kept out of every output.

mod common;

use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::clickhouse::{SECRET_PASSWORD, SECRET_USER, Server};
use common::process::{run_stdin, tdb, text};
use serde_json::{Value as Json, json};

fn add(home: &Path, name: &str, connection: &Json) {
    let body = json!({"name": name, "source_type": "clickhouse", "connection": connection});
    let out = run_stdin(
        tdb(home).args(["source", "add", "--from-json", "-", "--json"]),
        &body.to_string(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn query(home: &Path, source: &str, sql: &str) -> std::process::Output {
    tdb(home)
        .args([
            "query", "--source", source, "--sql", sql, "--limit", "1000", "--json",
        ])
        .output()
        .unwrap()
}

/// ClickHouse's TSV unescaping, written apart from the connector's.
fn unescape(field: &str) -> String {
    let mut out = String::new();
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('0') => out.push('\0'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some(o) => out.push(o),
            None => out.push('\\'),
        }
    }
    out
}

const TYPES: &str = "
CREATE TABLE every_type (
  id UInt32, u8 UInt8, u16 UInt16, u32 UInt32, u64 UInt64, i8 Int8, i16 Int16, i32 Int32,
  i64 Int64, f32 Float32, f64 Float64, d32 Decimal32(3), d64 Decimal(18, 6),
  d128 Decimal128(10), s String, fs FixedString(4), dd Date, dt DateTime,
  dtz DateTime('Asia/Kathmandu'), n Nullable(Int64), ns Nullable(String), arr Array(String),
  arn Array(Nullable(UInt64)), tup Tuple(UInt8, String, Date), e8 Enum8('a' = 1, 'b\\'q' = 2),
  e16 Enum16('x' = 1000), u UUID, lc LowCardinality(String), ip4 UInt32
) ENGINE = MergeTree ORDER BY id;
INSERT INTO every_type VALUES
 (1, 255, 65535, 4294967295, 18446744073709551615, -128, -32768, -2147483648,
  -9223372036854775808, 3.4028235e38, 1e-300, 1.5, 123456789012.123456,
  12345678901234567890.0123456789, 'tab\\there\\nnew \\\\ back\\'q', 'ab', '2024-02-29',
  '2024-03-31 01:30:00', '2024-06-01 12:00:00', NULL, NULL, ['x', 'y\\'z', 'tab\\t'],
  [1, NULL, 18446744073709551615], (7, 'it\\'s', '2000-01-01'), 'b\\'q', 'x',
  '01234567-89ab-cdef-0123-456789abcdef', 'low', 16909060),
 (2, 0, 0, 0, 9007199254740993, 0, 0, 0, 0, nan, inf, -0.001, -0.000001, 0, 'é😀', 'abcd',
  '1970-01-01', '1970-01-01 00:00:01', '2020-01-01 05:45:00', 42, '', [], [], (0, '', '1970-01-01'),
  'a', 'x', '00000000-0000-0000-0000-000000000000', '', 0);
";

#[test]
fn values_match_clickhouse_client() {
    let s = Server::start();
    for statement in TYPES.split(";\n").map(str::trim).filter(|t| !t.is_empty()) {
        s.sql(statement);
    }
    let home = tempfile::tempdir().unwrap();
    add(home.path(), "ch", &s.connection_json(Some("every_type")));
    let sql = "SELECT * FROM every_type ORDER BY id";
    let want = s.sql(sql);
    let out = query(home.path(), "ch", &sql.replace("every_type", "data"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // Integers past 2^53 leave with every digit.
    assert!(stdout.contains(r#""u64":18446744073709551615"#), "{stdout}");
    assert!(stdout.contains(r#""u64":9007199254740993"#), "{stdout}");
    let got: Json = serde_json::from_str(&stdout).unwrap();
    let columns: Vec<String> = got["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let rows = got["rows"].as_array().unwrap();
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(rows.len(), want.len());
    for (row, line) in rows.iter().zip(want) {
        for (name, field) in columns.iter().zip(line.split('\t')) {
            let cell = &row[name.as_str()];
            let composite = ["arr", "arn", "tup"].contains(&name.as_str());
            let expected = if composite {
                field.to_string()
            } else {
                unescape(field)
            };
            let shown = match cell {
                Json::Null => "\\N".to_string(),
                Json::String(t) => t.clone(),
                other => other.to_string(),
            };
            let expected = if field == "\\N" {
                "\\N".to_string()
            } else {
                expected
            };
            match cell {
                // The JSON tree holds a double: compared as one (the raw digits of the wide
                // integers are checked in the text above).
                Json::Number(n) if n.is_f64() => {
                    assert_eq!(n.as_f64(), expected.parse::<f64>().ok(), "column {name}")
                }
                _ => assert_eq!(shown, expected, "column {name}"),
            }
            if ["u8", "i64", "u64"].contains(&name.as_str()) {
                assert!(cell.is_number(), "{name}: {cell}");
            }
            if name.starts_with('d') && name.len() <= 4 && name != "dd" && name != "dt" {
                assert!(cell.is_string(), "decimal {name} keeps its digits: {cell}");
            }
        }
    }
}

/// A loopback listener that counts every connection made to it.
fn listener() -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for conn in l.incoming().flatten() {
            counted.fetch_add(1, Ordering::SeqCst);
            let mut conn = conn;
            let mut buf = [0u8; 1024];
            let _ = conn.set_read_timeout(Some(Duration::from_millis(200)));
            let _ = conn.read(&mut buf);
        }
    });
    (port, hits)
}

#[test]
fn hostile_statements_change_and_fetch_nothing() {
    let s = Server::start();
    s.sql("CREATE TABLE t (id UInt64, tags Array(String)) ENGINE = MergeTree ORDER BY id");
    s.sql("INSERT INTO t VALUES (1, ['a']), (2, [])");
    let (port, hits) = listener();
    let home = tempfile::tempdir().unwrap();
    add(home.path(), "ch", &s.connection_json(Some("t")));
    let url = format!("http://127.0.0.1:{port}/x");
    let hostile = [
        format!("SELECT * FROM url('{url}', CSV, 'a String')"),
        format!(
            "SELECT * FROM data WHERE id IN (SELECT toUInt64(a) FROM url('{url}', CSV, 'a String'))"
        ),
        "SELECT * FROM file('/etc/passwd', CSV, 'a String')".into(),
        "SELECT * FROM remote('127.0.0.1', system.one)".into(),
        "SELECT * FROM remoteSecure('127.0.0.1', system.one)".into(),
        "SELECT * FROM cluster('c', system.one)".into(),
        "SELECT * FROM mysql('127.0.0.1:3306', 'd', 't', 'u', 'p')".into(),
        "SELECT * FROM jdbc('x', 'y')".into(),
        "SELECT * FROM odbc('x', 'y')".into(),
        "SELECT * FROM s3('http://127.0.0.1/b', 'CSV', 'a String')".into(),
        "SELECT * FROM hdfs('hdfs://127.0.0.1/x', 'CSV', 'a String')".into(),
        "SELECT * FROM executable('cat', 'CSV', 'a String')".into(),
        "SELECT * FROM input('a String')".into(),
        "SELECT 1 SETTINGS readonly = 0".into(),
        "SELECT 1 SETTINGS max_execution_time = 0".into(),
        "SELECT * FROM data INTO OUTFILE '/tmp/tdb-ch-out'".into(),
        "SELECT 1 FORMAT JSON".into(),
        "INSERT INTO t VALUES (3)".into(),
        "ALTER TABLE t DELETE WHERE 1".into(),
        "DROP TABLE t".into(),
        "TRUNCATE TABLE t".into(),
        "SET readonly = 0".into(),
        "KILL QUERY WHERE 1".into(),
        "OPTIMIZE TABLE t".into(),
        "SYSTEM SHUTDOWN".into(),
        "SELECT 1; DROP TABLE t".into(),
        "CREATE TABLE u (a UInt8) ENGINE = Memory".into(),
    ];
    for sql in &hostile {
        let out = query(home.path(), "ch", sql);
        let code = out.status.code();
        assert!(
            matches!(code, Some(10) | Some(14)),
            "{sql}: exit {code:?}\n{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert_eq!(s.sql("SELECT count() FROM t"), "2\n", "{sql}");
    }
    assert!(!Path::new("/tmp/tdb-ch-out").exists());
    assert_eq!(s.sql("EXISTS TABLE u"), "0\n");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "the url() target was reached"
    );

    // ClickHouse's own syntax is accepted.
    for sql in [
        "SELECT arrayMap(x -> x * 2, [1, 2]) AS m",
        "SELECT id, a FROM data ARRAY JOIN tags AS a",
        "SELECT id, count() FROM data GROUP BY id WITH TOTALS",
        "SELECT id FROM data LIMIT 1 BY id",
        "DESCRIBE data",
    ] {
        let out = query(home.path(), "ch", sql);
        assert!(out.status.success(), "{sql}: {}", text(&out.stderr));
    }
}

#[test]
fn unreachable_server_exits_13_within_the_connect_timeout() {
    // Nothing listens on port 1 of the loopback.
    let port = 1;
    let home = tempfile::tempdir().unwrap();
    add(
        home.path(),
        "gone",
        &json!({"host": "127.0.0.1", "port": port, "connect_timeout_s": 2}),
    );
    let started = Instant::now();
    let out = query(home.path(), "gone", "SELECT 1");
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn the_password_never_shows() {
    let s = Server::start();
    let home = tempfile::tempdir().unwrap();
    let mut c = s.connection_json(None);
    c["user"] = json!(SECRET_USER);
    c["password"] = json!(SECRET_PASSWORD);
    add(home.path(), "sec", &c);
    let out = query(home.path(), "sec", "SELECT 1 AS one");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut seen = format!("{}{}", text(&out.stdout), text(&out.stderr));
    let show = tdb(home.path())
        .args(["source", "show", "sec", "--json"])
        .output()
        .unwrap();
    seen.push_str(&text(&show.stdout));
    // A wrong password: refused as unreachable, the password not echoed.
    let mut bad = c.clone();
    bad["password"] = json!("wrong-pw-123");
    add(home.path(), "bad", &bad);
    let out = query(home.path(), "bad", "SELECT 1");
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    seen.push_str(&text(&out.stderr));
    seen.push_str(&std::fs::read_to_string(home.path().join("tdb_audit.jsonl")).unwrap());
    assert!(!seen.contains(SECRET_PASSWORD), "{seen}");
    assert!(!seen.contains("wrong-pw-123"), "{seen}");
}

const LONG: &str = "SELECT count() FROM (SELECT number FROM system.numbers LIMIT 100000000000)";

fn running(s: &Server) -> String {
    s.sql("SELECT count() FROM system.processes WHERE query LIKE '%LIMIT 100000000000%' AND query NOT LIKE '%system.processes%'")
}

#[test]
fn a_cancelled_query_is_gone_from_the_server() {
    let s = Server::start();
    let home = tempfile::tempdir().unwrap();
    add(home.path(), "ch", &s.connection_json(None));
    let child = tdb(home.path())
        .args(["query", "--source", "ch", "--sql", LONG, "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while running(&s) != "1\n" {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the query never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let out = child.wait_with_output().unwrap();
    // A query cut short by SIGINT ends as the shell's convention has it.
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    let started = Instant::now();
    while running(&s) != "0\n" {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still running on the server"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_server_killed_mid_query_fails_it_and_the_next_works() {
    let s = Server::start();
    let home = tempfile::tempdir().unwrap();
    add(home.path(), "ch", &s.connection_json(None));
    let child = tdb(home.path())
        .args(["query", "--source", "ch", "--sql", LONG, "--json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while running(&s) != "1\n" {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the query never started"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    s.kill();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(14), "{}", text(&out.stderr));
    s.restart();
    let out = query(home.path(), "ch", "SELECT 1 AS one");
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `FINAL` after `data` merges a ReplacingMergeTree's parts on read, with `data.col` still
/// resolving; the schema names the engine and its keys, for one table and for a database.
#[test]
fn final_reads_merged_rows_and_the_schema_names_the_engine() {
    let s = Server::start();
    s.sql(
        "CREATE TABLE versions (id UInt32, v UInt32, day Date) \
         ENGINE = ReplacingMergeTree(v) PARTITION BY toYYYYMM(day) ORDER BY id",
    );
    // Two inserts, two parts: until a merge, a plain read sees both versions.
    s.sql("INSERT INTO versions VALUES (1, 1, '2024-05-01')");
    s.sql("INSERT INTO versions VALUES (1, 2, '2024-05-01')");
    assert_eq!(s.sql("SELECT count() FROM versions"), "2\n");
    let home = tempfile::tempdir().unwrap();
    add(home.path(), "ch", &s.connection_json(Some("versions")));
    let out = query(
        home.path(),
        "ch",
        "SELECT data.id, data.v FROM data FINAL WHERE data.id = 1",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let got: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(got["rows"], json!([{"id": 1, "v": 2}]), "{got}");

    let schema = |source: &str| {
        let out = tdb(home.path())
            .args(["source", "schema", source, "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<Json>(&out.stdout).unwrap()
    };
    let about = json!({
        "engine": "ReplacingMergeTree",
        "sorting_key": "id",
        "partition_key": "toYYYYMM(day)",
    });
    assert_eq!(schema("ch")["table"], about);
    add(home.path(), "db", &s.connection_json(None));
    let tables = schema("db")["tables"].clone();
    let versions = tables
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "versions")
        .unwrap_or_else(|| panic!("{tables}"));
    for (k, v) in about.as_object().unwrap() {
        assert_eq!(&versions[k], v, "{versions}");
    }
    // For people: the engine and its keys beside the table.
    let out = tdb(home.path())
        .args(["source", "schema", "ch"])
        .output()
        .unwrap();
    assert!(
        text(&out.stdout)
            .contains("data: ReplacingMergeTree ORDER BY id PARTITION BY toYYYYMM(day)"),
        "{}",
        text(&out.stdout)
    );
}

/// The server closes an idle kept-alive connection; a query sent on it as it closes is sent
/// again on a new connection instead of failing. A current-thread runtime that sleeps past
/// the keep-alive time makes the crossing certain: the connection's task is not polled, so
/// it has not seen the close when the next query picks the connection up.
#[test]
fn a_kept_connection_the_server_closed_is_replaced_not_failed() {
    use tdb::connector::Connector;
    use tdb::connector::clickhouse::{ClickHouseConnection, ClickHouseConnector, KIND};
    use tdb::core::guard::Guarded;
    use tdb::core::secret::StoredSecret;
    use tdb::core::source::{SourceRecord, Status};
    use tdb::core::value::Value;
    use tokio_util::sync::CancellationToken;

    let s = Server::start_keeping_alive(1);
    let spec = ClickHouseConnection {
        host: "127.0.0.1".into(),
        port: s.http_port(),
        dbname: "default".into(),
        user: "default".into(),
        password_env: None,
        table: None,
        secure: false,
        connect_timeout_s: 5,
        statement_timeout_s: 30,
        ssh: None,
    };
    let record = SourceRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: "ch".into(),
        connection: KIND.connection(&spec).unwrap(),
        has_password: false,
        description: String::new(),
        tags: Vec::new(),
        registered_by: "test".into(),
        registered_at: "2026-01-01T00:00:00Z".into(),
        status: Status::Active,
    };
    let c = ClickHouseConnector::new(&record, spec, StoredSecret::None).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let run = |n: i64| {
        let sql = Guarded {
            executed_sql: format!("SELECT {n} AS n"),
            limit: 10,
            calls: Default::default(),
            positions: Default::default(),
        };
        rt.block_on(c.query(&sql, CancellationToken::new()))
    };
    for n in 0..3 {
        let got = run(n).unwrap_or_else(|e| panic!("query {n}: {e}"));
        assert_eq!(got.rows[0][0], Value::Int(n));
        std::thread::sleep(Duration::from_millis(2500));
    }
}

/// Esc in the real binary stops a long ClickHouse query on the server (KILL QUERY), and the
/// same session queries again at once.
#[test]
fn esc_stops_a_long_query_on_the_server() {
    use common::tmux::{PATIENCE, Tmux};

    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    add(&home, "ch", &s.connection_json(None));
    let t = Tmux::start(dir.path());
    t.wait_for("the shell prompt", |s| s.contains("$"));
    t.type_text(&format!(
        "{} --home {}",
        env!("CARGO_BIN_EXE_tdb"),
        home.display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("the UI", |s| s.contains("● ch clickhouse"));
    t.keys(&["C-l"]);
    t.type_text(LONG);
    t.keys(&["F5"]);
    t.wait_for("the spinner", |s| s.contains("running on ch"));
    let deadline = Instant::now() + PATIENCE;
    while running(&s) != "1\n" {
        assert!(Instant::now() < deadline, "the long query never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    t.keys(&["Escape"]);
    t.wait_for("the cancel", |s| s.contains("Query on ch cancelled."));
    while running(&s) != "0\n" {
        assert!(
            Instant::now() < deadline,
            "the server still runs the cancelled query"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    t.keys(&["C-l"]);
    t.type_text("SELECT 40 + 2 AS answer");
    t.keys(&["F5"]);
    t.wait_for("the next result", |s| s.contains("1 row"));
    t.keys(&["C-q"]);
}
