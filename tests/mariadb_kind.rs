//! The MariaDB kind against a real server, beyond the conformance suite: every type family
//! compared cell by cell with the `mariadb` CLI, the schema as the server spells it, a second
//! wall behind the guard, stored functions, TLS modes, a killed server, an unroutable host,
//! and Esc in the real binary stopping a `SLEEP` on the server.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::mariadb::{self, ROOT_USER};
use common::process::{error_detail, run_stdin, tdb, text};
use common::tmux::{PATIENCE, Tmux};
use secrecy::SecretString;
use serde_json::{Value as Json, json};
use tdb::connector::Connector;
use tdb::connector::mysql::{MARIADB, MySqlConnection, MySqlConnector, SslMode};
use tdb::core::guard::Guarded;
use tdb::core::secret::StoredSecret;
use tdb::core::source::{SourceRecord, Status};
use tdb::core::value::Value;
use tokio_util::sync::CancellationToken;

fn add(home: &Path, name: &str, connection: &Json) {
    let body = json!({"name": name, "source_type": "mariadb", "connection": connection});
    let out = run_stdin(
        tdb(home).args(["source", "add", "--from-json", "-", "--json"]),
        &body.to_string(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn query(home: &Path, source: &str, sql: &str, format: &str) -> std::process::Output {
    tdb(home)
        .args([
            "query", "--source", source, "--sql", sql, "--limit", "1000", format,
        ])
        .output()
        .unwrap()
}

fn root_connection(db: &str) -> Json {
    let s = mariadb::shared();
    s.connection_json(db, ROOT_USER, s.root_password())
}

/// Every type family, with the values that trip clients up: the largest unsigned bigint,
/// decimals wider than a double, doubles the server prints with an exponent, zero dates,
/// negative times, JSON whose key order and digits must survive, bits, binary bytes.
const TYPES_TABLE: &str = "
CREATE TABLE every_type (
  id int PRIMARY KEY,
  ti tinyint, si smallint unsigned, mi mediumint, i int, bi bigint, bu bigint unsigned,
  zf int(6) unsigned zerofill,
  de decimal(38,10), fl float, do double,
  da date, dt datetime(6), ts timestamp(3) NULL, tm time(2), yr year,
  ch char(3), vc varchar(40), tx text, bn binary(4), vb varbinary(8), bl blob,
  en enum('small','large'), st set('red','green','blue'),
  js json, bt bit(10), b1 bit(1)
) DEFAULT CHARSET utf8mb4;
SET SESSION sql_mode = '';
INSERT INTO every_type VALUES
 (1, -128, 65535, -8388608, -2147483648, -9223372036854775808, 18446744073709551615,
  42, 1234567890123456789012345678.0123456789, 3.14159274, 1e15,
  '2024-02-29', '2024-02-29 23:59:59.999999', '2038-01-19 03:14:07.499', '-838:59:59.99', 2155,
  'ab', 'héllo wörld — 日本語', 'long text ✓', x'00010203', x'ff00', x'deadbeef00',
  'large', 'red,blue', '{\"z\": 1, \"a\": [1.50, 2e3], \"z\": 2}', b'1010101010', b'1'),
 (2, 127, 0, 8388607, 2147483647, 9223372036854775807, 0,
  0, -0.0000000001, -1.5e-7, -2.2250738585072014e-308,
  '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '00:00:00', 0,
  '', '', '', x'', x'', x'',
  '', '', '[]', b'0', b'0'),
 (3, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
";

/// Columns whose CLI output is raw bytes: compared through the server's HEX()/BIN().
fn cli_expression(column: &str) -> String {
    match column {
        "bn" | "vb" | "bl" => {
            format!("IF({column} IS NULL, NULL, CONCAT('\\\\x', LOWER(HEX({column}))))")
        }
        "bt" => "LPAD(BIN(bt), 10, '0')".into(),
        "b1" => "BIN(b1)".into(),
        other => other.to_string(),
    }
}

/// A field of tdb's `--tsv` as its text: `\\`, `\t`, `\n`, `\r` undone (`\N` is NULL and
/// stays).
fn tsv_unescape(field: &str) -> String {
    if field == "\\N" {
        return field.to_string();
    }
    let mut out = String::new();
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('t') => out.push('\t'),
                Some('n') => out.push('\n'),
                Some('r') => out.push('\r'),
                Some(other) => out.push(other),
                None => out.push('\\'),
            },
            (c, false) => out.push(c),
        }
    }
    out
}

#[test]
fn values_match_the_mariadb_cli_cell_by_cell() {
    let s = mariadb::shared();
    let db = mariadb::unique("types");
    s.create_database(&db);
    s.sql(&db, TYPES_TABLE);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    add(&home, "types", &root_connection(&db));

    let columns: Vec<String> = s
        .value(
            &db,
            "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM \
             information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'every_type'",
        )
        .split(',')
        .map(String::from)
        .collect();
    let select: Vec<String> = columns.iter().map(|c| cli_expression(c)).collect();
    let cli = s.sql(
        &db,
        &format!("SELECT {} FROM every_type ORDER BY id", select.join(", ")),
    );
    let cli_rows: Vec<Vec<&str>> = cli
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    let offset = s.value(
        &db,
        "SELECT TIME_FORMAT(TIMEDIFF(NOW(), UTC_TIMESTAMP()), '%H:%i')",
    );
    let offset = if offset.starts_with('-') {
        offset
    } else {
        format!("+{offset}")
    };

    let out = query(
        &home,
        "types",
        "SELECT * FROM every_type ORDER BY id",
        "--tsv",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tsv = text(&out.stdout);
    let tdb_rows: Vec<Vec<&str>> = tsv
        .lines()
        .skip(1)
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(tdb_rows.len(), 3, "{tsv}");
    let mut compared = 0;
    for (r, (mine, theirs)) in tdb_rows.iter().zip(&cli_rows).enumerate() {
        assert_eq!(mine.len(), columns.len(), "row {r}: {tsv}");
        for (c, name) in columns.iter().enumerate() {
            let want = match theirs[c] {
                "NULL" => "\\N".to_string(),
                v if name == "ts" && !v.starts_with("0000") => format!("{v}{offset}"),
                v => v.to_string(),
            };
            assert_eq!(tsv_unescape(mine[c]), want, "row {r} column {name}");
            compared += 1;
        }
    }
    assert_eq!(compared, 3 * 27);

    // JSON: integers past 2^63 and the server's doubles as numbers with their digits,
    // decimals as strings, NULL as null, JSON text untouched.
    let out = query(
        &home,
        "types",
        "SELECT bu, de, do, fl, js, bt, ts FROM every_type WHERE id = 1",
        "--json",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let raw = text(&out.stdout);
    for fragment in [
        r#""bu":18446744073709551615"#,
        r#""de":"1234567890123456789012345678.0123456789""#,
        r#""do":1e15"#,
        r#""fl":3.14159"#,
        r#""bt":"1010101010""#,
    ] {
        assert!(raw.contains(fragment), "{fragment} in {raw}");
    }
    let v: Json = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        v["rows"][0]["js"],
        json!("{\"z\": 1, \"a\": [1.50, 2e3], \"z\": 2}")
    );
    assert!(
        v["rows"][0]["ts"].as_str().unwrap().ends_with(&offset),
        "{raw}"
    );
    let types = &v["columns"];
    assert_eq!(types, &json!(["bu", "de", "do", "fl", "js", "bt", "ts"]));
}

#[test]
fn schema_spells_types_as_the_server_does() {
    let s = mariadb::shared();
    let db = mariadb::unique("schema");
    s.create_database(&db);
    s.sql(
        &db,
        "CREATE TABLE customers (id int unsigned PRIMARY KEY, name varchar(80) NOT NULL COMMENT 'who');
         CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int unsigned,
           total decimal(12,2) NOT NULL, status enum('new','paid'),
           FOREIGN KEY (customer_id) REFERENCES customers (id));
         CREATE VIEW paid AS SELECT id, total FROM orders WHERE status = 'paid';",
    );
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    add(&home, "shop", &root_connection(&db));
    let out = tdb(&home)
        .args(["source", "schema", "shop", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    let tables = v["tables"].as_array().unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["customers", "orders", "paid"]);
    let orders = &tables[1]["columns"];
    assert_eq!(orders[1]["type"], "int(10) unsigned");
    assert_eq!(orders[1]["references"], "customers(id)");
    assert_eq!(orders[2]["type"], "decimal(12,2)");
    assert_eq!(orders[2]["not_null"], true);
    assert_eq!(orders[3]["type"], "enum('new','paid')");
    assert_eq!(tables[0]["columns"][0]["primary_key"], true);
    assert_eq!(tables[0]["columns"][1]["comment"], "who");

    let mut one = root_connection(&db);
    one["table"] = json!("orders");
    add(&home, "orders", &one);
    let out = tdb(&home)
        .args(["source", "schema", "orders", "--json"])
        .output()
        .unwrap();
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["columns"].as_array().unwrap().len(), 4, "{v}");
    assert!(v.get("tables").is_none_or(Json::is_null), "{v}");
    // DESCRIBE and SHOW CREATE TABLE take `data` for the table, as SELECT does.
    let out = query(&home, "orders", "DESCRIBE data", "--json");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rows"][2]["Type"], "decimal(12,2)", "{v}");
    let out = query(
        &home,
        "orders",
        "SHOW COLUMNS FROM data LIKE 'total'",
        "--json",
    );
    assert!(
        text(&out.stdout).contains(r#""Field":"total""#),
        "{}",
        text(&out.stderr)
    );
    let out = query(&home, "orders", "SHOW CREATE TABLE data", "--json");
    assert!(
        text(&out.stdout).contains("CREATE TABLE `orders`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn stored_functions_need_allow_functions() {
    let s = mariadb::shared();
    let db = mariadb::unique("funcs");
    s.create_database(&db);
    s.sql(
        &db,
        "CREATE TABLE hits (n int);
         DELIMITER //
         CREATE FUNCTION bump() RETURNS int MODIFIES SQL DATA
           BEGIN INSERT INTO hits VALUES (1); RETURN 1; END//
         DELIMITER ;
         CREATE FUNCTION twice(x int) RETURNS int DETERMINISTIC RETURN x * 2;",
    );
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    add(&home, "f", &root_connection(&db));
    for sql in [
        "SELECT bump()",
        &format!("SELECT `{db}`.bump()"),
        "SELECT twice(2)",
    ] {
        let out = query(&home, "f", sql, "--json");
        assert_eq!(out.status.code(), Some(10), "{sql}: {}", text(&out.stderr));
        assert!(error_detail(&out).contains("allow_functions"), "{sql}");
    }
    assert_eq!(s.value(&db, "SELECT COUNT(*) FROM hits"), "0");
    // Built-ins need no permission.
    let out = query(
        &home,
        "f",
        "SELECT CONCAT('a', UPPER('b')), ROUND(2.5)",
        "--json",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let out = tdb(&home)
        .args([
            "source",
            "edit",
            "f",
            "--connection",
            r#"{"allow_functions":["twice"]}"#,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = query(&home, "f", "SELECT twice(21) AS x", "--json");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains(r#""x":42"#));
    let out = query(&home, "f", "SELECT bump()", "--json");
    assert_eq!(out.status.code(), Some(10));
}

/// A CA that signed nothing the server has.
fn other_ca(dir: &Path) -> std::path::PathBuf {
    let cert = dir.join("other-ca.pem");
    if !cert.exists() {
        let out = std::process::Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
            ])
            .arg("/CN=not the server's CA")
            .arg("-keyout")
            .arg(dir.join("other-ca.key"))
            .arg("-out")
            .arg(&cert)
            .output()
            .expect("run openssl");
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    cert
}

#[test]
fn tls_modes() {
    let s = mariadb::shared();
    let db = mariadb::unique("tls");
    s.create_database(&db);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let ca = s.ca_cert();
    for (name, mode, host, ok) in [
        ("required", "required", "127.0.0.1", true),
        ("preferred", "preferred", "127.0.0.1", true),
        ("verify-ca", "verify_ca", "127.0.0.1", true),
        ("verify-identity", "verify_identity", "localhost", true),
        ("verify-ca-other-ca", "verify_ca", "127.0.0.1", false),
        (
            "verify-identity-other-ca",
            "verify_identity",
            "localhost",
            false,
        ),
    ] {
        let mut conn = root_connection(&db);
        conn["ssl_mode"] = json!(mode);
        conn["host"] = json!(host);
        let trusted = if ok { ca.clone() } else { other_ca(dir.path()) };
        conn["ssl_ca"] = json!(trusted.to_str().unwrap());
        add(&home, name, &conn);
        let out = query(
            &home,
            name,
            "SELECT VARIABLE_VALUE FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher'",
            "--json",
        );
        if ok {
            assert!(out.status.success(), "{name}: {}", text(&out.stderr));
            let v: Json = serde_json::from_slice(&out.stdout).unwrap();
            let cipher = v["rows"][0]["VARIABLE_VALUE"].as_str().unwrap_or("");
            assert!(!cipher.is_empty(), "{name}: not encrypted: {v}");
        } else {
            assert_eq!(out.status.code(), Some(13), "{name}: {}", text(&out.stderr));
            assert!(
                error_detail(&out).contains("TLS"),
                "{name}: {}",
                text(&out.stderr)
            );
        }
    }
}

fn connector(server: &mariadb::Server, db: &str) -> MySqlConnector {
    let spec = MySqlConnection {
        host: server.host().into(),
        port: server.port(),
        dbname: db.into(),
        user: ROOT_USER.into(),
        password_env: None,
        table: None,
        ssl_mode: SslMode::Disabled,
        ssl_ca: None,
        connect_timeout_s: 5,
        statement_timeout_s: 60,
        allow_functions: Vec::new(),
        ssh: None,
    };
    let record = SourceRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: "lib".into(),
        connection: MARIADB.connection(&spec).unwrap(),
        has_password: true,
        description: String::new(),
        tags: Vec::new(),
        registered_by: "test".into(),
        registered_at: "2026-01-01T00:00:00Z".into(),
        status: Status::Active,
    };
    let secret = StoredSecret::Present(SecretString::from(server.root_password().to_string()));
    MySqlConnector::new(&record, spec, secret).unwrap()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn raw(sql: &str) -> Guarded {
    Guarded {
        executed_sql: sql.into(),
        limit: 10,
        calls: Default::default(),
        positions: Default::default(),
    }
}

/// The guard is the first wall; the server's own parser and the read-only transaction are
/// the second. SQL handed straight to the connector, past the guard, still cannot write.
#[test]
fn a_chained_statement_never_runs_even_past_the_guard() {
    let s = mariadb::shared();
    let db = mariadb::unique("wall");
    s.create_database(&db);
    s.sql(&db, "CREATE TABLE t (n int); INSERT INTO t VALUES (1);");
    let c = connector(s, &db);
    let rt = runtime();
    for sql in [
        "SELECT 1; DELETE FROM t",
        "DELETE FROM t",
        "INSERT INTO t VALUES (2)",
    ] {
        let r = rt.block_on(c.query(&raw(sql), CancellationToken::new()));
        assert!(r.is_err(), "{sql}: {r:?}");
    }
    let e = rt
        .block_on(c.query(&raw("DELETE FROM t"), CancellationToken::new()))
        .unwrap_err();
    assert!(e.detail().contains("READ ONLY"), "{e}");
    assert_eq!(s.value(&db, "SELECT COUNT(*) FROM t"), "1");
}

/// One process, one pool: after the server restarts, the pooled connections are dead, and
/// the next query still works (the UI must not need a restart).
#[test]
fn the_pool_recovers_after_a_server_restart() {
    let server = mariadb::Server::start();
    let db = mariadb::unique("restart");
    server.create_database(&db);
    let c = connector(&server, &db);
    let rt = runtime();
    let rs = rt
        .block_on(c.query(&raw("SELECT 1 AS n"), CancellationToken::new()))
        .unwrap();
    assert_eq!(rs.rows, vec![vec![Value::Int(1)]]);
    server.kill();
    let e = rt
        .block_on(c.query(&raw("SELECT 2 AS n"), CancellationToken::new()))
        .unwrap_err();
    assert!(matches!(e.exit_code(), 13 | 14), "{e}");
    server.restart();
    let rs = rt
        .block_on(c.query(&raw("SELECT 3 AS n"), CancellationToken::new()))
        .unwrap();
    assert_eq!(rs.rows, vec![vec![Value::Int(3)]]);
}

#[test]
fn a_killed_server_fails_the_query_and_the_next_one_works() {
    let server = mariadb::Server::start();
    let db = mariadb::unique("kill");
    server.create_database(&db);
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    add(
        &home,
        "k",
        &server.connection_json(&db, ROOT_USER, server.root_password()),
    );
    let child = tdb(&home)
        .args(["query", "--source", "k", "--sql", "SELECT SLEEP(60)"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    while server.value(
        &db,
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(60)%'",
    ) != "1"
    {
        assert!(Instant::now() < deadline, "the query never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    server.kill();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(14), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("lost the connection"),
        "{}",
        text(&out.stderr)
    );
    server.restart();
    let out = query(&home, "k", "SELECT 7 AS n", "--json");
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn an_unroutable_host_fails_within_the_connect_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    // TEST-NET-1 (RFC 5737): never routed, so the connection attempt hangs until the timeout.
    add(
        &home,
        "far",
        &json!({"host": "192.0.2.1", "port": 3306, "dbname": "x", "user": "u",
                "connect_timeout_s": 2, "ssl_mode": "disabled"}),
    );
    let started = Instant::now();
    let out = query(&home, "far", "SELECT 1", "--json");
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    let detail = error_detail(&out);
    assert!(detail.contains("192.0.2.1:3306"), "{detail}");
    assert!(took < Duration::from_secs(2 + 8), "took {took:?}");
}

#[test]
fn esc_stops_a_sleep_on_the_server() {
    let s = mariadb::shared();
    let db = mariadb::unique("esc");
    s.create_database(&db);
    s.sql(&db, "CREATE TABLE t (n int)");
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut conn = root_connection(&db);
    conn["table"] = json!("t");
    add(&home, "slow", &conn);
    let t = Tmux::start(dir.path());
    t.wait_for("the shell prompt", |s| s.contains("$"));
    t.type_text(&format!(
        "{} --home {}",
        env!("CARGO_BIN_EXE_tdb"),
        home.display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("the UI", |s| {
        s.contains("SELECT * FROM data") && s.contains("● slow mariadb")
    });
    let marker = mariadb::unique("sleepy");
    t.keys(&["C-a", "C-k"]);
    t.type_text(&format!("SELECT SLEEP(60), '{marker}' AS m"));
    t.keys(&["F5"]);
    t.wait_for("the spinner", |s| s.contains("running on slow"));
    let running = format!(
        "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
         WHERE ID <> CONNECTION_ID() AND INFO LIKE '%{marker}%'"
    );
    let deadline = Instant::now() + PATIENCE;
    while s.value(&db, &running) != "1" {
        assert!(Instant::now() < deadline, "the slow query never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    t.keys(&["Escape"]);
    t.wait_for("the cancel", |s| s.contains("Query on slow cancelled."));
    while s.value(&db, &running) != "0" {
        assert!(
            Instant::now() < deadline,
            "the server still runs the cancelled query"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The same session queries again at once.
    t.keys(&["C-a", "C-k"]);
    t.type_text("SELECT 40 + 2 AS answer");
    t.keys(&["F5"]);
    t.wait_for("the next result", |s| s.contains("1 row"));
    t.keys(&["C-q"]);
}

/// A server in a named time zone: each TIMESTAMP reads as the CLI shows it, with the offset
/// the session was pinned to; DATETIME, which has no zone, unchanged.
#[test]
fn timestamps_carry_the_session_offset() {
    let server = mariadb::Server::start();
    let tz = std::process::Command::new("mariadb-tzinfo-to-sql")
        .args(["/usr/share/zoneinfo/Asia/Kolkata", "Asia/Kolkata"])
        .output()
        .expect("run mariadb-tzinfo-to-sql (package mariadb-server)");
    assert!(tz.status.success(), "{}", text(&tz.stderr));
    server.sql("mysql", &text(&tz.stdout));
    server.sql("mysql", "SET GLOBAL time_zone = 'Asia/Kolkata'");
    let db = mariadb::unique("tz");
    server.create_database(&db);
    server.sql(
        &db,
        "CREATE TABLE t (ts timestamp NULL, dt datetime);
         SET time_zone = '+00:00';
         INSERT INTO t VALUES ('2024-07-01 12:00:00', '2024-07-01 12:00:00');",
    );
    assert_eq!(
        server.value(&db, "SELECT CONCAT(ts, ' ', dt) FROM t"),
        "2024-07-01 17:30:00 2024-07-01 12:00:00",
        "the CLI's session is in the server's zone"
    );
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    add(
        &home,
        "tz",
        &server.connection_json(&db, ROOT_USER, server.root_password()),
    );
    let out = query(
        &home,
        "tz",
        "SELECT ts, dt, @@session.time_zone AS zone FROM t",
        "--json",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Json = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["rows"][0],
        json!({"ts": "2024-07-01 17:30:00+05:30", "dt": "2024-07-01 12:00:00", "zone": "+05:30"})
    );
}
