//! `tdb serve` under load on loopback, bounded in time: 16 clients at once for a few seconds
//! of `POST /v1/query` (1,000 rows from PostgreSQL, and `select 1` from a CSV source). No
//! request may fail, the audit log must hold exactly one `query` line per answered query,
//! with its `query_started` line, and `tdb audit verify` must find the chain whole.
//! (`benches/serve_bench.sh` measures the same with wrk, for the figures.)

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, Instant};

use common::pg;
use common::process::{add_csv_source, run_stdin, tdb, text};
use common::serve::{Server, create_key};
use serde_json::{Value, json};

const CLIENTS: usize = 16;
const FOR: Duration = Duration::from_secs(4);

fn audit_lines(home: &Path) -> Vec<Value> {
    std::fs::read_to_string(home.join("tdb_audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Runs `body` from [`CLIENTS`] threads for [`FOR`]; returns the answers' statuses.
fn load(server: &Server, key: &str, body: &str, rows: usize) -> Vec<u16> {
    std::thread::scope(|s| {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                s.spawn(|| {
                    let mut statuses = Vec::new();
                    let started = Instant::now();
                    while started.elapsed() < FOR {
                        let r = server.post("/v1/query", key, body);
                        if r.status == 200 {
                            assert_eq!(r.json()["rows_returned"], json!(rows), "{}", r.body);
                        }
                        statuses.push(r.status);
                    }
                    statuses
                })
            })
            .collect();
        clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect()
    })
}

#[test]
fn sixteen_clients_at_once_lose_nothing_and_every_query_is_audited() {
    let home = tempfile::tempdir().unwrap();
    let csv = home.path().join("people.csv");
    std::fs::write(&csv, "id,email\n1,a@example.com\n2,b@example.com\n").unwrap();
    add_csv_source(home.path(), "people", &csv);
    let c = pg::shared();
    let db = pg::unique("load");
    c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
    c.psql(
        &db,
        "CREATE TABLE t AS SELECT g AS id, 'row ' || g AS label, g * 1.5 AS amount \
         FROM generate_series(1, 5000) g",
    );
    let mut conn = c.connection_json(&db, pg::SUPERUSER, c.superuser_password());
    conn["table"] = json!("t");
    let body = json!({"name": "warehouse", "source_type": "postgres", "connection": conn});
    let out = run_stdin(
        tdb(home.path()).args(["source", "add", "--from-json", "-"]),
        &body.to_string(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let key = create_key(home.path(), "load", &[]);
    let server = Server::start(home.path());

    let pg_body =
        json!({"source_id": "warehouse", "sql": "SELECT * FROM data ORDER BY id", "limit": 1000})
            .to_string();
    let csv_body = json!({"source_id": "people", "sql": "select 1 AS one", "limit": 1}).to_string();
    let mut answered = 0;
    for (body, rows) in [(&pg_body, 1000), (&csv_body, 1)] {
        let statuses = load(&server, &key, body, rows);
        let failed: Vec<_> = statuses.iter().filter(|s| **s != 200).collect();
        assert!(
            failed.is_empty(),
            "{} of {} failed: {failed:?}",
            failed.len(),
            statuses.len()
        );
        assert!(
            statuses.len() >= CLIENTS,
            "only {} requests",
            statuses.len()
        );
        answered += statuses.len();
    }

    let lines = audit_lines(home.path());
    let queries: Vec<&Value> = lines.iter().filter(|l| l["event"] == "query").collect();
    assert_eq!(
        queries.len(),
        answered,
        "one query line per answered request"
    );
    let started: HashSet<&str> = lines
        .iter()
        .filter(|l| l["event"] == "query_started")
        .filter_map(|l| l["query_id"].as_str())
        .collect();
    for q in &queries {
        let id = q["query_id"].as_str().unwrap_or_else(|| panic!("{q}"));
        assert!(started.contains(id), "no query_started before {q}");
        assert!(
            q["api_key"].as_str().is_some_and(|p| key.starts_with(p)),
            "{q}"
        );
    }
    let verify = tdb(home.path()).args(["audit", "verify"]).output().unwrap();
    assert!(verify.status.success(), "{}", text(&verify.stderr));
}
