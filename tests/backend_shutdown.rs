//! Quitting the UI while a query runs, at the backend's end: however little time the
//! backend is given to cancel, once `shutdown` returns the query's start has its closing
//! line in the audit log, so tdb's exit never leaves a query unaccounted for.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::process::add_csv_source;
use serde_json::Value;
use tdb::backend::protocol::{Request, RequestId, Response};

/// Long enough for a loaded machine; only a failure waits this long.
const PATIENCE: Duration = Duration::from_secs(60);

fn audit_lines(home: &Path) -> Vec<Value> {
    std::fs::read_to_string(home.join("tdb_audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn a_query_running_when_the_grace_runs_out_is_still_closed_in_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("n.csv");
    std::fs::write(&csv, "n\n1\n").unwrap();
    let home = dir.path().join("home");
    add_csv_source(&home, "n", &csv);
    let (rt, mut h) = common::backend::start(&home, dir.path());
    // Seconds of work for SQLite, stopped only by a cancel.
    let sql = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c \
               WHERE x < 2000000000) SELECT count(*) FROM c";
    h.requests
        .send(Request::Query {
            id: RequestId(1),
            source_id: "n".into(),
            sql: sql.into(),
            limit: 10,
            idle: std::time::Duration::from_secs(120),
        })
        .unwrap();
    let deadline = Instant::now() + PATIENCE;
    let query_id = loop {
        let started = audit_lines(&home)
            .into_iter()
            .find(|l| l["event"] == "query_started");
        if let Some(line) = started {
            break line["query_id"].as_str().unwrap().to_string();
        }
        assert!(Instant::now() < deadline, "the query never started");
        // An early answer would be a refusal: say which.
        if let Ok(Response::QueryDone { result, .. }) = h.responses.try_recv() {
            panic!("the query ended before it started: {result:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };

    // No grace at all: the backend is stopped where it stands.
    rt.block_on(h.shutdown(Duration::ZERO));

    let closing: Vec<Value> = audit_lines(&home)
        .into_iter()
        .filter(|l| l["query_id"] == query_id.as_str() && l["event"] != "query_started")
        .collect();
    assert_eq!(closing.len(), 1, "{closing:?}");
    assert_eq!(closing[0]["event"], "query_failed", "{:?}", closing[0]);
    let detail = closing[0]["detail"].as_str().unwrap();
    assert!(
        detail == "query cancelled" || detail.starts_with("tdb stopped before the query ended"),
        "{detail:?}"
    );
}
