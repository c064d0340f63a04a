//! `tdb serve` under pressure: a source's line of queries past its cap (503 after the queue
//! timeout), and SIGTERM in the middle of a query: the listener closes, the query is
//! cancelled after the grace period, answered 500, and audited to its end.

mod common;

use std::time::Duration;

use common::process::{add_csv_source, tdb, text};
use common::serve::{Server, create_key};
use serde_json::{Value, json};

/// A query SQLite takes minutes over: it ends only when cancelled.
const ENDLESS: &str = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c WHERE x < 5000000000) SELECT count(*) AS n FROM c";

fn audit_lines(home: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(home.join("tdb_audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Waits until the server reports `n` queries running (each check is one request).
fn wait_running(server: &Server, key: &str, n: u64) {
    loop {
        let m = server.get("/v1/metrics", key).json();
        if m["queries"]["running"].as_u64() == Some(n) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_full_source_answers_503_and_sigterm_cancels_and_audits_what_runs() {
    let home = tempfile::tempdir().unwrap();
    let csv = home.path().join("p.csv");
    std::fs::write(&csv, "id,name\n1,ann\n").unwrap();
    add_csv_source(home.path(), "p", &csv);
    add_csv_source(home.path(), "q", &csv);
    let key = create_key(home.path(), "alice", &[]);
    let mut server = Server::start_with(
        home.path(),
        &[
            "--max-per-source",
            "1",
            "--queue-timeout-s",
            "1",
            "--grace-s",
            "1",
        ],
    );
    let slow = json!({"source_id": "p", "sql": ENDLESS}).to_string();
    let addr_server = &server;
    std::thread::scope(|s| {
        let running = s.spawn(|| addr_server.post("/v1/query", &key, &slow));
        wait_running(addr_server, &key, 1);
        let busy = addr_server.post("/v1/query", &key, r#"{"source_id":"p","sql":"SELECT 1"}"#);
        assert_eq!(busy.status, 503, "{}", busy.body);
        assert!(busy.detail().contains("busy"), "{}", busy.body);
        // Another source has its own line.
        let other = addr_server.post("/v1/query", &key, r#"{"source_id":"q","sql":"SELECT 1"}"#);
        assert_eq!(other.status, 200, "{}", other.body);
        let m = addr_server.get("/v1/metrics", &key).json();
        let p = m["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["source_name"] == "p")
            .unwrap()
            .clone();
        assert_eq!(p["in_use"], 1, "{m}");
        assert_eq!(p["queue_timeouts"], 1, "{m}");

        // SIGTERM: the running query is cancelled after the grace period and answered.
        let pid = addr_server.pid();
        // SAFETY: kill only signals the server this test started.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let answer = running.join().unwrap();
        assert_eq!(answer.status, 500, "{}", answer.body);
        assert!(answer.detail().contains("shutting down"), "{}", answer.body);
    });
    assert_eq!(server.stop(), Some(0), "{}", server.stderr());
    let err = server.stderr();
    assert!(
        err.contains("SIGTERM: stopped accepting; 1 queries running"),
        "{err}"
    );
    assert!(err.contains("cancelling 1 queries"), "{err}");

    let lines = audit_lines(home.path());
    let started: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "query_started")
        .collect();
    assert_eq!(started.len(), 2, "the refused query never started");
    for s in started {
        let id = &s["query_id"];
        let ends: Vec<&str> = lines
            .iter()
            .filter(|l| &l["query_id"] == id && l["event"] != "query_started")
            .map(|l| l["event"].as_str().unwrap())
            .collect();
        let expected = if s["sql"] == ENDLESS {
            "query_failed"
        } else {
            "query"
        };
        assert_eq!(ends, [expected], "{s}");
    }
    let verify = tdb(home.path()).args(["audit", "verify"]).output().unwrap();
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

/// A query past its source's statement timeout is stopped on the server and answered 500
/// naming the timeout, well before the client would give up; it is audited as failed and the
/// next query on the source runs.
#[test]
fn the_sources_statement_timeout_is_the_requests() {
    use common::pg;
    use common::process::run_stdin;
    use std::time::Instant;

    let home = tempfile::tempdir().unwrap();
    let c = pg::shared();
    let db = pg::unique("srvto");
    c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
    let mut conn = c.connection_json(&db, pg::SUPERUSER, c.superuser_password());
    conn["statement_timeout_s"] = json!(1);
    let body = json!({"name": "slow", "source_type": "postgres", "connection": conn});
    let out = run_stdin(
        tdb(home.path()).args(["source", "add", "--from-json", "-"]),
        &body.to_string(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = create_key(home.path(), "alice", &[]);
    let server = Server::start(home.path());
    let marker = pg::unique("sleepy");
    let sql = format!("SELECT pg_sleep(60), '{marker}' AS m");
    let started = Instant::now();
    let r = server.post(
        "/v1/query",
        &key,
        &json!({"source_id": "slow", "sql": sql}).to_string(),
    );
    let took = started.elapsed();
    assert_eq!(r.status, 500, "{}", r.body);
    assert!(r.detail().contains("statement timeout"), "{}", r.body);
    assert!(took < Duration::from_secs(20), "answered after {took:?}");
    let running = c.psql(
        "postgres",
        &format!(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%{marker}%' \
             AND pid <> pg_backend_pid()"
        ),
    );
    assert_eq!(running.trim(), "0", "the sleep still runs on the server");
    let failed = audit_lines(home.path())
        .into_iter()
        .filter(|l| l["event"] == "query_failed")
        .count();
    assert_eq!(failed, 1);
    let next = server.post(
        "/v1/query",
        &key,
        r#"{"source_id":"slow","sql":"SELECT 1 AS one"}"#,
    );
    assert_eq!(next.status, 200, "{}", next.body);
}
