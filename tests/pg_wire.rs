//! What a PostgreSQL server, or a result, can make tdb allocate, and no cleartext password
//! over an unencrypted wire: against real servers (the throwaway clusters of `common/pg.rs`),
//! a hostile fake one on loopback, and the real binary with its peak memory measured.

mod common;

use common::process::tdb;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};

use common::pg::{self, Cluster, Options};
use secrecy::SecretString;
use serde_json::{Value as Json, json};
use tdb::connector::Connector;
use tdb::connector::postgres::PgConnector;
use tdb::connector::postgres::{PgConnection, Postgres, SslMode};
use tdb::core::Error;
use tdb::core::guard::Guarded;
use tdb::core::secret::StoredSecret;
use tdb::core::source::{SourceRecord, Status};
use tdb::core::value::{ResultBudget, ResultSet, Value};
use tokio_util::sync::CancellationToken;

fn record(spec: &PgConnection) -> SourceRecord {
    SourceRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: "src".into(),
        connection: Postgres::connection(spec).unwrap(),
        has_password: true,
        description: String::new(),
        tags: Vec::new(),
        registered_by: "test".into(),
        registered_at: "2026-01-01T00:00:00Z".into(),
        status: Status::Active,
    }
}

fn connector(spec: PgConnection, password: &str) -> PgConnector {
    let secret = StoredSecret::Present(SecretString::from(password.to_string()));
    PgConnector::new(&record(&spec), spec, secret).unwrap()
}

async fn run(c: &PgConnector, sql: &str, limit: usize) -> Result<ResultSet, Error> {
    let statement = Guarded {
        executed_sql: sql.to_string(),
        limit,
        calls: Default::default(),
        positions: Default::default(),
    };
    c.query(&statement, CancellationToken::new()).await
}

fn superuser(cluster: &Cluster) -> PgConnector {
    connector(
        cluster.pg_connection("postgres", pg::SUPERUSER),
        cluster.superuser_password(),
    )
}

#[tokio::test]
async fn rows_past_the_byte_budget_end_the_result_as_truncated() {
    let c = superuser(pg::shared()).with_result_budget(ResultBudget::new(1 << 20));
    // 300,000 bytes a row: three fit in 1 MiB, the fourth would not.
    let sql = "SELECT g, repeat('x', 300000) FROM generate_series(1, 10) g";
    let rs = run(&c, sql, 100).await.unwrap();
    assert_eq!(rs.rows.len(), 3);
    assert!(rs.truncated);
    assert_eq!(rs.rows[2][0], Value::Int(3));
    assert!(matches!(&rs.rows[2][1], Value::Text(t) if t.len() == 300_000));
    // The connection that was cut short is not reused half-read: the next query is whole.
    let rs = run(&c, "SELECT g FROM generate_series(1, 5) g", 100)
        .await
        .unwrap();
    assert_eq!(rs.rows.len(), 5);
    assert!(!rs.truncated);
    // Under the budget the row limit alone decides, as before.
    let rs = run(&c, sql, 2).await.unwrap();
    assert_eq!((rs.rows.len(), rs.truncated), (2, true));
}

#[tokio::test]
async fn a_row_larger_than_the_budget_is_a_clear_error_and_the_source_stays_usable() {
    let c = superuser(pg::shared()).with_result_budget(ResultBudget::new(1 << 20));
    let msg = match run(&c, "SELECT 1, repeat('x', 2000000)", 10).await {
        Err(Error::QueryFailed(m)) => m,
        other => panic!("expected QueryFailed, got {other:?}"),
    };
    assert!(msg.starts_with("a row of 20000"), "{msg}");
    assert!(
        msg.contains("exceeds the result budget of 1 MiB; select fewer or smaller columns"),
        "{msg}"
    );
    let rs = run(&c, "SELECT 42", 10).await.unwrap();
    assert_eq!(rs.rows, vec![vec![Value::Int(42)]]);
}

/// A cluster that asks TCP clients for their password in cleartext, with or without TLS.
fn cleartext_cluster(tls: bool) -> Cluster {
    Cluster::start_with(Options {
        tls,
        cleartext_passwords: true,
        netns: None,
    })
}

#[tokio::test]
async fn cleartext_passwords_go_only_where_the_source_allows_them() {
    let cluster = cleartext_cluster(false);
    let mut spec = cluster.pg_connection("postgres", pg::SUPERUSER);
    assert_eq!(spec.sslmode, SslMode::Prefer);
    let pw = cluster.superuser_password();
    let c = connector(spec.clone(), pw);
    for r in [
        run(&c, "SELECT 1", 1).await.map(drop),
        c.test().await.map(drop),
    ] {
        let msg = match r {
            Err(Error::Unreachable(m)) => m,
            other => panic!("expected Unreachable, got {other:?}"),
        };
        assert_eq!(
            msg,
            format!(
                "the server at 127.0.0.1:{} asks for the password in cleartext over an \
                 unencrypted connection; refused (use sslmode=require, or sslmode=disable to \
                 allow it)",
                cluster.port()
            )
        );
    }
    spec.sslmode = SslMode::Disable;
    let rs = run(&connector(spec.clone(), pw), "SELECT 7", 1)
        .await
        .unwrap();
    assert_eq!(rs.rows, vec![vec![Value::Int(7)]]);
    // A Unix socket has no wire to listen on: sslmode does not apply there.
    spec.host = cluster.socket_dir().display().to_string();
    spec.sslmode = SslMode::Prefer;
    let rs = run(&connector(spec, pw), "SELECT 8", 1).await.unwrap();
    assert_eq!(rs.rows, vec![vec![Value::Int(8)]]);
}

#[tokio::test]
async fn cleartext_inside_tls_is_fine() {
    let cluster = cleartext_cluster(true);
    let spec = cluster.pg_connection("postgres", pg::SUPERUSER);
    let c = connector(spec, cluster.superuser_password());
    let rs = run(
        &c,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        1,
    )
    .await
    .unwrap();
    assert_eq!(rs.rows, vec![vec![Value::Bool(true)]]);
}

/// A fake server: declines TLS, reads the startup message, then answers with a message
/// header of length 0x7ffffff0 and streams up to 256 MiB of its "body" for as long as the
/// client reads, so a client that believed the header would buffer all of it.
fn hostile_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming().take(4) {
            let Ok(mut s) = conn else { continue };
            std::thread::spawn(move || {
                let _ = serve_hostile(&mut s);
            });
        }
    });
    port
}

fn serve_hostile(s: &mut TcpStream) -> std::io::Result<()> {
    let read_message = |s: &mut TcpStream| -> std::io::Result<Vec<u8>> {
        let mut len = [0u8; 4];
        s.read_exact(&mut len)?;
        let mut body = vec![0u8; (u32::from_be_bytes(len) as usize).saturating_sub(4)];
        s.read_exact(&mut body)?;
        Ok(body)
    };
    let first = read_message(s)?;
    if first.starts_with(&80_877_103u32.to_be_bytes()) {
        s.write_all(b"N")?;
        read_message(s)?;
    }
    s.write_all(&[b'R', 0x7f, 0xff, 0xff, 0xf0])?;
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..256 {
        s.write_all(&chunk)?;
    }
    Ok(())
}

/// Runs the real binary to its end and returns its status, stdout, stderr and peak
/// resident memory in KiB (`ru_maxrss` from `wait4`).
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also gives its peak memory"
)]
fn run_measured(cmd: &mut Command) -> (ExitStatus, String, String, i64) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let mut stderr = String::new();
    let _ = err.read_to_string(&mut stderr);
    let stdout = reader.join().unwrap();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: the pid is our own child, not yet reaped (Child::wait was never called).
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    (
        ExitStatus::from_raw(status),
        stdout,
        stderr,
        usage.ru_maxrss,
    )
}

fn audit_events(home: &Path) -> Vec<Json> {
    std::fs::read_to_string(home.join("tdb_audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_hostile_length_header_fails_fast_in_little_memory() {
    let port = hostile_server();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    common::process::add_postgres_source(
        &home,
        "evil",
        json!({"host": "127.0.0.1", "port": port, "dbname": "d", "user": "u",
               "password": "pw", "sslmode": "prefer", "connect_timeout_s": 30}),
    );
    let (status, _, stderr, peak_kib) =
        run_measured(tdb(&home).args(["query", "--source", "evil", "--sql", "SELECT 1", "--json"]));
    // The 256 MiB the server streamed after its header were never buffered.
    assert!(peak_kib < 48 * 1024, "peak RSS {peak_kib} KiB");
    assert_eq!(status.code(), Some(13), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the server at 127.0.0.1:{port} sent a message of 2147483632 bytes (type R), more \
             than the result budget of 64 MiB"
        )),
        "{stderr}"
    );
}

#[test]
fn huge_rows_through_the_binary_end_in_an_error_or_a_truncated_result_never_an_abort() {
    let cluster = pg::shared();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    common::process::add_postgres_source(
        &home,
        "su",
        cluster.connection_json("postgres", pg::SUPERUSER, cluster.superuser_password()),
    );
    // The query: each row is 100 MB, over the default 64 MiB budget.
    let sql = "SELECT repeat('x', 100000000) FROM generate_series(1, 10)";
    let (status, _, stderr, peak_kib) =
        run_measured(tdb(&home).args(["query", "--source", "su", "--sql", sql, "--json"]));
    assert_eq!(status.code(), Some(14), "{stderr}");
    assert!(
        stderr.contains("bytes exceeds the result budget of 64 MiB; select fewer or smaller"),
        "{stderr}"
    );
    assert!(peak_kib < 64 * 1024, "peak RSS {peak_kib} KiB");
    let last = audit_events(&home).pop().unwrap();
    assert_eq!(last["event"], "query_failed", "{last}");

    // 20 rows of 10 MB: six fit in 64 MiB; the result says more exist, and tdb holds about
    // the budget, not the 200 MB the rows add up to.
    let sql = "SELECT g, repeat('x', 10000000) AS big FROM generate_series(1, 20) g";
    let (status, stdout, stderr, peak_kib) =
        run_measured(tdb(&home).args(["query", "--source", "su", "--sql", sql, "--json"]));
    assert!(status.success(), "{stderr}");
    let out: Json = serde_json::from_str(&stdout).unwrap();
    assert_eq!(out["rows_returned"], 6);
    assert_eq!(out["truncated"], true);
    assert!(peak_kib < 256 * 1024, "peak RSS {peak_kib} KiB");

    // TDB_RESULT_BYTES sets the budget, and a value that is not a size is refused.
    let mut cmd = tdb(&home);
    cmd.env("TDB_RESULT_BYTES", "20M")
        .args(["query", "--source", "su", "--sql", sql, "--json"]);
    let (status, stdout, stderr, _) = run_measured(&mut cmd);
    assert!(status.success(), "{stderr}");
    let out: Json = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (&out["rows_returned"], &out["truncated"]),
        (&json!(2), &json!(true))
    );
    let mut cmd = tdb(&home);
    cmd.env("TDB_RESULT_BYTES", "lots")
        .args(["query", "--source", "su", "--sql", "SELECT 1"]);
    let (status, _, stderr, _) = run_measured(&mut cmd);
    assert_eq!(status.code(), Some(10), "{stderr}");
    assert!(
        stderr.contains("TDB_RESULT_BYTES: \"lots\" is not a size"),
        "{stderr}"
    );
}
