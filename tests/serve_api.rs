//! `tdb serve` through a real HTTP connection: the seeds' bodies sent verbatim get the
//! seeds' statuses and shapes (000 Sources, 002 Query), every status they list is reached,
//! keys are checked (none, wrong, revoked, out of scope, not admin, rate), a large body is
//! refused, and no password reaches a response, the server's output, its log or the audit
//! log.

mod common;

use std::path::Path;

use common::process::{add_csv_source, tdb, text};
use common::serve::{Resp, Server, create_key};
use serde_json::{Value, json};

/// Seed 000 "Register a source", verbatim.
const SEED_000_REGISTER: &str = r#"{
"name": "orders",
"source_type": "postgres",
"connection": {
"host": "db.internal",
"port": 5432,
"dbname": "production",
"user": "tdb_reader",
"password": "s3cret",
"table": "orders",
"schema": "public"
},
"description": "Order records",
"tags": ["production", "finance"]
}"#;

/// Seed 002 "Run a query", verbatim.
const SEED_002_QUERY: &str = r#"{
"source_id": "a1b2c3d4-e5f6-...",
"sql": "SELECT id, email, country FROM data WHERE country = 'US'",
"limit": 100
}"#;

/// Seed 002's curl examples, their `-d` bodies verbatim.
const SEED_002_DELETE: &str = r#"{"source_id":"...","sql":"DELETE FROM orders"}"#;
const SEED_002_COUNT: &str = r#"{"source_id":"<ID>","sql":"SELECT COUNT(*) AS total FROM data"}"#;
const SEED_002_GROUP: &str = r#"{
  "source_id": "<ID>",
  "sql": "SELECT country, COUNT(*) AS n FROM data GROUP BY country ORDER BY n DESC",
  "limit": 20
}"#;

const PEOPLE: &str =
    "id,email,country\n1,alice@example.com,US\n2,bob@example.com,US\n3,chloe@example.fr,FR\n";

/// A home whose sources are named the way the seeds' bodies refer to them (`source_id`
/// may be a name): `a1b2c3d4-e5f6-...`, `<ID>` and `...`, all on the seed's people.
fn seeded_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let csv = home.path().join("people.csv");
    std::fs::write(&csv, PEOPLE).unwrap();
    for name in ["a1b2c3d4-e5f6-...", "<ID>", "..."] {
        add_csv_source(home.path(), name, &csv);
    }
    home
}

fn keys_of(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn audit_lines(home: &Path) -> Vec<Value> {
    std::fs::read_to_string(home.join("tdb_audit.jsonl"))
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn seed_000_sources_api_verbatim() {
    let home = tempfile::tempdir().unwrap();
    let admin = create_key(home.path(), "ops", &["--admin"]);
    let server = Server::start(home.path());

    let created = server.post("/v1/sources", &admin, SEED_000_REGISTER);
    assert_eq!(created.status, 201, "{}", created.body);
    let rec = created.json();
    assert_eq!(
        keys_of(&rec),
        [
            "id",
            "name",
            "source_type",
            "connection",
            "description",
            "tags",
            "registered_by",
            "registered_at",
            "status"
        ]
    );
    assert_eq!(rec["name"], "orders");
    assert_eq!(rec["source_type"], "postgres");
    assert_eq!(rec["connection"]["host"], "db.internal");
    assert_eq!(rec["connection"]["port"], 5432);
    assert_eq!(rec["connection"]["table"], "orders");
    // CONTRACT's masking wins over the seed's example.
    assert_eq!(rec["connection"]["password"], "********");
    assert_eq!(rec["description"], "Order records");
    assert_eq!(rec["tags"], json!(["production", "finance"]));
    assert_eq!(rec["registered_by"], admin[..13]);
    assert_eq!(rec["status"], "active");
    let id = rec["id"].as_str().unwrap().to_string();

    let dup = server.post("/v1/sources", &admin, SEED_000_REGISTER);
    assert_eq!(dup.status, 409, "{}", dup.body);
    let bad_type = server.post(
        "/v1/sources",
        &admin,
        &SEED_000_REGISTER
            .replace("\"postgres\"", "\"oracle\"")
            .replace("\"orders\",\n\"source_type", "\"o2\",\n\"source_type"),
    );
    assert_eq!(bad_type.status, 400, "{}", bad_type.body);
    assert!(
        bad_type.detail().contains("postgres"),
        "the kinds are listed: {}",
        bad_type.body
    );

    let listed = server.get("/v1/sources", &admin);
    assert_eq!(listed.status, 200);
    let list = listed.json();
    assert_eq!(
        keys_of(&list[0]),
        [
            "id",
            "name",
            "source_type",
            "description",
            "tags",
            "registered_at"
        ]
    );
    assert_eq!(listed.header("x-total-count"), Some("1"));

    let shown = server.get(&format!("/v1/sources/{id}"), &admin);
    assert_eq!(shown.status, 200);
    assert_eq!(shown.json(), rec);
    let by_name = server.get("/v1/sources/orders", &admin);
    assert_eq!(by_name.json()["id"], id.as_str());

    // db.internal does not resolve here: registered, but unreachable.
    let schema = server.get(&format!("/v1/sources/{id}/schema"), &admin);
    assert_eq!(schema.status, 503, "{}", schema.body);
    assert!(!schema.detail().is_empty());

    let missing = server.get("/v1/sources/a1b2c3d4-e5f6-0000", &admin);
    assert_eq!(missing.status, 404);
    assert_eq!(missing.detail(), "source not found: a1b2c3d4-e5f6-0000");
    let missing_schema = server.get("/v1/sources/nope/schema", &admin);
    assert_eq!(missing_schema.status, 404);

    let deleted = server.request("DELETE", &format!("/v1/sources/{id}"), Some(&admin), None);
    assert_eq!(deleted.status, 204, "{}", deleted.body);
    assert_eq!(deleted.body, "");
    assert_eq!(server.get(&format!("/v1/sources/{id}"), &admin).status, 404);
    let q = server.post(
        "/v1/query",
        &admin,
        &json!({"source_id": id, "sql": "SELECT 1"}).to_string(),
    );
    assert_eq!(q.status, 404, "queries after a delete are 404: {}", q.body);
    let again = server.request("DELETE", &format!("/v1/sources/{id}"), Some(&admin), None);
    assert_eq!(again.status, 404);

    // Soft delete: the record stays for the audit trail; force=true removes it.
    let re = server.post("/v1/sources", &admin, SEED_000_REGISTER);
    assert_eq!(re.status, 201, "the name is free again: {}", re.body);
    let id2 = re.json()["id"].as_str().unwrap().to_string();
    let hard = server.request(
        "DELETE",
        &format!("/v1/sources/{id2}?force=true"),
        Some(&admin),
        None,
    );
    assert_eq!(hard.status, 204);
    let db = rusqlite::Connection::open(home.path().join("registry.db")).unwrap();
    let kept: i64 = db
        .query_row(
            "SELECT count(*) FROM sources WHERE id IN (?1, ?2)",
            [&id, &id2],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        kept, 1,
        "the soft-deleted record stays, the forced one is gone"
    );

    let events: Vec<String> = audit_lines(home.path())
        .iter()
        .map(|l| {
            format!(
                "{} {}",
                l["event"].as_str().unwrap(),
                l["api_key"].as_str().unwrap_or("-")
            )
        })
        .collect();
    let prefix = &admin[..13];
    assert_eq!(
        events,
        [
            format!("source_registered {prefix}"),
            format!("source_deleted {prefix}"),
            format!("source_registered {prefix}"),
            format!("source_deleted {prefix}"),
        ]
    );
}

#[test]
fn seed_002_query_api_verbatim() {
    let home = seeded_home();
    let key = create_key(home.path(), "alice", &[]);
    let server = Server::start(home.path());

    let ok = server.post("/v1/query", &key, SEED_002_QUERY);
    assert_eq!(ok.status, 200, "{}", ok.body);
    let v = ok.json();
    assert_eq!(
        keys_of(&v),
        [
            "source_id",
            "sql",
            "columns",
            "rows",
            "rows_returned",
            "truncated",
            "executed_at"
        ]
    );
    assert_eq!(
        v["sql"],
        "SELECT id, email, country FROM data WHERE country = 'US'"
    );
    assert_eq!(v["columns"], json!(["id", "email", "country"]));
    assert_eq!(
        v["rows"],
        json!([
            {"id": 1, "email": "alice@example.com", "country": "US"},
            {"id": 2, "email": "bob@example.com", "country": "US"}
        ])
    );
    assert_eq!(v["rows_returned"], 2);
    assert_eq!(v["truncated"], false);
    assert!(v["executed_at"].as_str().unwrap().ends_with('Z'));

    let count = server.post("/v1/query", &key, SEED_002_COUNT);
    assert_eq!(count.status, 200, "{}", count.body);
    assert_eq!(count.json()["rows"], json!([{"total": 3}]));
    let group = server.post("/v1/query", &key, SEED_002_GROUP);
    assert_eq!(group.status, 200, "{}", group.body);
    assert_eq!(group.json()["rows"][0], json!({"country": "US", "n": 2}));

    let refused = server.post("/v1/query", &key, SEED_002_DELETE);
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(keys_of(&refused.json()), ["detail"]);
    assert!(
        refused.detail().starts_with("SQL validation failed: "),
        "{}",
        refused.body
    );
    // Logged as a warning with the key's prefix (the seed), besides its query_rejected line.
    let log = server.log();
    assert!(
        log.contains("WARN")
            && log.contains(&format!("key={}", &key[..13]))
            && log.contains("refused: SQL validation failed"),
        "{log}"
    );

    let truncated = server.post(
        "/v1/query",
        &key,
        r#"{"source_id":"<ID>","sql":"SELECT * FROM data ORDER BY id","limit":2}"#,
    );
    assert_eq!(truncated.json()["truncated"], true);
    assert_eq!(truncated.json()["rows_returned"], 2);

    let unknown = server.post("/v1/query", &key, &SEED_002_COUNT.replace("<ID>", "nope"));
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.detail(), "source not found: nope");

    let failed = server.post(
        "/v1/query",
        &key,
        r#"{"source_id":"<ID>","sql":"SELECT no_such_column FROM data"}"#,
    );
    assert_eq!(failed.status, 500, "{}", failed.body);
    assert!(
        failed.detail().contains("no_such_column"),
        "{}",
        failed.body
    );

    for (body, why) in [
        (
            r#"{"source_id":"<ID>","sql":"SELECT 1","limit":1001}"#,
            "limit",
        ),
        (
            r#"{"source_id":"<ID>","sql":"SELECT 1","limit":0}"#,
            "limit",
        ),
        (r#"{"source_id":"<ID>"}"#, "sql"),
        (r#"{"source_id":"<ID>","sql":""}"#, "empty"),
        ("not json", "request body"),
    ] {
        let r = server.post("/v1/query", &key, body);
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        assert!(r.detail().contains(why), "{body}: {}", r.body);
    }
    let long = json!({"source_id": "<ID>", "sql": format!("SELECT 1 {}", " ".repeat(10_000))});
    let r = server.post("/v1/query", &key, &long.to_string());
    assert_eq!(r.status, 400, "{}", r.body);

    // The audit lines of the successful queries name the key's prefix and the client.
    let lines = audit_lines(home.path());
    let done: Vec<&Value> = lines.iter().filter(|l| l["event"] == "query").collect();
    assert_eq!(done.len(), 4);
    for l in &done {
        assert_eq!(l["api_key"], key[..13], "{l}");
        assert_eq!(l["client"], "127.0.0.1", "{l}");
    }
    let started = lines
        .iter()
        .filter(|l| l["event"] == "query_started")
        .count();
    let closed = lines
        .iter()
        .filter(|l| {
            ["query", "query_failed"].contains(&l["event"].as_str().unwrap())
                && l["query_id"].is_string()
        })
        .count();
    assert_eq!(started, closed, "every started query has its closing line");
    assert!(
        !lines.iter().any(|l| l.to_string().contains(&key)),
        "the whole key is never audited"
    );
    let verify = tdb(home.path()).args(["audit", "verify"]).output().unwrap();
    assert!(verify.status.success(), "{}", text(&verify.stdout));
}

#[test]
fn keys_are_checked_on_every_endpoint_but_healthz() {
    let home = seeded_home();
    let key = create_key(home.path(), "alice", &[]);
    let gone = create_key(home.path(), "bob", &[]);
    let revoked = tdb(home.path())
        .args(["key", "revoke", "bob"])
        .output()
        .unwrap();
    assert!(revoked.status.success());
    let server = Server::start(home.path());

    let health = server.request("GET", "/healthz", None, None);
    assert_eq!(health.status, 200);
    assert_eq!(health.json(), json!({"status": "ok"}));

    let wrong = format!("tdbk_{}", "x".repeat(43));
    for (path, method) in [
        ("/v1/sources", "GET"),
        ("/v1/sources/%3CID%3E", "GET"),
        ("/v1/query", "POST"),
        ("/v1/metrics", "GET"),
        ("/v1/sources/%3CID%3E/health", "GET"),
    ] {
        for k in [
            None,
            Some(wrong.as_str()),
            Some(gone.as_str()),
            Some("Basic abc"),
        ] {
            let body = (method == "POST").then_some(SEED_002_COUNT);
            let r = server.request(method, path, k, body);
            assert_eq!(r.status, 401, "{method} {path} with {k:?}: {}", r.body);
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
            assert!(!r.detail().is_empty());
        }
    }
    let malformed = server.raw(
        b"GET /v1/sources HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: tdbk_nobearer\r\n\r\n",
    );
    assert_eq!(malformed.status, 401);
    assert_eq!(server.get("/v1/sources", &key).status, 200);
    let listed = tdb(home.path())
        .args(["key", "list", "--json"])
        .output()
        .unwrap();
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert!(
        listed[0]["last_used_at"].is_string(),
        "a used key says when: {listed}"
    );

    let metrics = server.get("/v1/metrics", &key).json();
    assert!(
        metrics["auth_failures"].as_u64().unwrap() >= 21,
        "{metrics}"
    );
    // Auth failures are warnings in the server's log, without the token.
    let log = server.log();
    assert!(
        log.contains("WARN") && log.contains("invalid or revoked API key"),
        "{log}"
    );
    assert!(!log.contains(&gone) && !log.contains(&wrong));

    let nowhere = server.get("/v1/nothing", &key);
    assert_eq!(nowhere.status, 404);
    assert_eq!(keys_of(&nowhere.json()), ["detail"]);
    let method = server.request("PUT", "/v1/query", Some(&key), Some("{}"));
    assert_eq!(method.status, 405);
}

#[test]
fn a_key_sees_only_its_sources_and_only_admins_change_them() {
    let home = seeded_home();
    let csv = home.path().join("people.csv");
    add_csv_source(home.path(), "finance", &csv);
    let edit = tdb(home.path())
        .args(["source", "edit", "finance", "--tag", "money"])
        .output()
        .unwrap();
    assert!(edit.status.success(), "{}", text(&edit.stderr));
    let scoped = create_key(home.path(), "alice", &["--sources", "<ID>"]);
    let tagged = create_key(home.path(), "fin", &["--tag", "money"]);
    let admin = create_key(home.path(), "ops", &["--admin"]);
    let server = Server::start(home.path());

    let names = |key: &str| -> Vec<String> {
        server
            .get("/v1/sources", key)
            .json()
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&scoped), ["<ID>"]);
    assert_eq!(names(&tagged), ["finance"]);
    assert_eq!(names(&admin).len(), 4);

    for key in [&scoped, &tagged] {
        let other = if key == &scoped { "finance" } else { "<ID>" };
        let r = server.get(
            &format!(
                "/v1/sources/{}",
                other.replace('<', "%3C").replace('>', "%3E")
            ),
            key,
        );
        assert_eq!(r.status, 404, "{}", r.body);
        let q = server.post(
            "/v1/query",
            key,
            &json!({"source_id": other, "sql": "SELECT 1"}).to_string(),
        );
        assert_eq!(q.status, 404, "out of scope is not found: {}", q.body);
        assert_eq!(q.detail(), format!("source not found: {other}"));
    }
    assert_eq!(
        server.post("/v1/query", &scoped, SEED_002_COUNT).status,
        200
    );

    let refused = server.post("/v1/sources", &scoped, SEED_000_REGISTER);
    assert_eq!(refused.status, 403, "{}", refused.body);
    let del = server.request("DELETE", "/v1/sources/finance", Some(&tagged), None);
    assert_eq!(del.status, 403);
    let patch = server.request(
        "PATCH",
        "/v1/sources/finance",
        Some(&tagged),
        Some(r#"{"description":"x"}"#),
    );
    assert_eq!(patch.status, 403);

    // Pagination and the tag filter (seed 001).
    let page = server.get("/v1/sources?limit=2&offset=1", &admin);
    assert_eq!(page.header("x-total-count"), Some("4"));
    let page = page.json();
    assert_eq!(page.as_array().unwrap().len(), 2);
    assert_eq!(page[0]["name"], "<ID>");
    let by_tag = server.get("/v1/sources?tag=money", &admin).json();
    assert_eq!(by_tag.as_array().unwrap().len(), 1);
    assert_eq!(server.get("/v1/sources?limit=0", &admin).status, 400);
    assert_eq!(server.get("/v1/sources?bogus=1", &admin).status, 400);
}

#[test]
fn the_rate_limit_answers_429_with_retry_after() {
    let home = seeded_home();
    let key = create_key(home.path(), "slow", &["--rate", "3/min"]);
    let other = create_key(home.path(), "free", &[]);
    let server = Server::start(home.path());
    let statuses: Vec<u16> = (0..5)
        .map(|_| server.post("/v1/query", &key, SEED_002_COUNT).status)
        .collect();
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    let limited = server.post("/v1/query", &key, SEED_002_COUNT);
    assert_eq!(limited.status, 429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(
        (1..=20).contains(&retry),
        "a token comes back every 20 s: {retry}"
    );
    assert!(limited.detail().contains("rate limit"));
    // Another key has its own bucket.
    assert_eq!(server.post("/v1/query", &other, SEED_002_COUNT).status, 200);
    assert!(
        server.get("/v1/metrics", &other).json()["rate_limited"]
            .as_u64()
            .unwrap()
            >= 3
    );
}

#[test]
fn a_body_of_one_mebibyte_is_refused() {
    let home = seeded_home();
    let key = create_key(home.path(), "alice", &[]);
    let server = Server::start(home.path());
    let sql = format!("SELECT '{}'", "x".repeat(1 << 20));
    let body = json!({"source_id": "<ID>", "sql": sql}).to_string();
    let r = server.post("/v1/query", &key, &body);
    assert_eq!(r.status, 413, "{}", &r.body[..r.body.len().min(200)]);
    assert!(r.detail().contains("too large"));
    let r = server.post("/v1/sources", &key, &body);
    assert_eq!(r.status, 413);
    // The server is still there.
    assert_eq!(server.post("/v1/query", &key, SEED_002_COUNT).status, 200);
}

#[test]
fn lifecycle_operations_of_seed_001() {
    let home = seeded_home();
    let admin = create_key(home.path(), "ops", &["--admin"]);
    let server = Server::start(home.path());

    let patched = server.request(
        "PATCH",
        "/v1/sources/<ID>"
            .replace('<', "%3C")
            .replace('>', "%3E")
            .as_str(),
        Some(&admin),
        Some(r#"{"name":"people","description":"the seed's people","tags":["demo"]}"#),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    let rec = patched.json();
    assert_eq!(rec["name"], "people");
    assert_eq!(rec["tags"], json!(["demo"]));
    let nothing = server.request("PATCH", "/v1/sources/people", Some(&admin), Some("{}"));
    assert_eq!(nothing.status, 400);
    let clash = server.request(
        "PATCH",
        "/v1/sources/people",
        Some(&admin),
        Some(r#"{"name":"..."}"#),
    );
    assert_eq!(clash.status, 409);

    let tested = server.post("/v1/sources/people/test", &admin, "");
    assert_eq!(tested.status, 200, "{}", tested.body);
    let t = tested.json();
    assert_eq!(
        keys_of(&t),
        [
            "source_id",
            "ok",
            "latency_ms",
            "status",
            "detail",
            "warnings"
        ]
    );
    assert_eq!(t["ok"], true);
    assert_eq!(t["status"], "active");

    let schema = server.get("/v1/sources/people/schema", &admin);
    assert_eq!(schema.status, 200, "{}", schema.body);
    let s = schema.json();
    assert_eq!(
        keys_of(&s),
        ["source_id", "source_name", "columns", "inspected_at"]
    );
    assert_eq!(s["columns"][1]["name"], "email");
    assert_eq!(s["columns"][1]["type"], "VARCHAR");

    for _ in 0..3 {
        assert_eq!(
            server
                .post(
                    "/v1/query",
                    &admin,
                    r#"{"source_id":"people","sql":"SELECT 1"}"#
                )
                .status,
            200
        );
    }
    // The file goes away: the source fails, then comes back.
    let csv = home.path().join("people.csv");
    std::fs::rename(&csv, home.path().join("away.csv")).unwrap();
    let down = server.post("/v1/sources/people/test", &admin, "");
    assert_eq!(down.json()["ok"], false);
    assert_eq!(down.json()["status"], "failed");
    std::fs::rename(home.path().join("away.csv"), &csv).unwrap();
    assert_eq!(
        server.post("/v1/sources/people/test", &admin, "").json()["ok"],
        true
    );

    let health = server.get("/v1/sources/people/health", &admin);
    assert_eq!(health.status, 200);
    let h = health.json();
    assert_eq!(h["status"], "active");
    assert_eq!(h["checks"], 7);
    assert_eq!(h["uptime_percent"], 85.7);
    assert_eq!(h["history"][0]["kind"], "test");
    assert_eq!(h["history"][0]["ok"], true);
    assert!(h["avg_response_ms"].as_f64().unwrap() >= 0.0);
    let changes: Vec<(String, String)> = h["status_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["from"].as_str().unwrap().into(),
                c["to"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            ("failed".into(), "active".into()),
            ("active".into(), "failed".into())
        ]
    );

    let m = server.get("/v1/metrics", &admin).json();
    assert!(m["requests"].as_u64().unwrap() >= 10);
    assert_eq!(m["queries"]["ok"], 3);
    assert_eq!(m["sources"][0]["source_name"], "people");
    assert_eq!(m["sources"][0]["capacity"], 8);
    assert_eq!(m["sources"][0]["in_use"], 0);
}

#[test]
fn no_password_reaches_a_response_a_log_or_the_audit_log() {
    let home = tempfile::tempdir().unwrap();
    let admin = create_key(home.path(), "ops", &["--admin"]);
    let server = Server::start(home.path());
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let new_password = format!("pw2-{}", uuid::Uuid::new_v4().simple());
    let body = SEED_000_REGISTER
        .replace("s3cret", &password)
        .replace("db.internal", "127.0.0.1")
        .replace("5432", "1");
    let mut answers: Vec<Resp> = vec![server.post("/v1/sources", &admin, &body)];
    assert_eq!(answers[0].status, 201, "{}", answers[0].body);
    answers.push(server.get("/v1/sources/orders", &admin));
    answers.push(server.get("/v1/sources", &admin));
    answers.push(server.get("/v1/sources/orders/schema", &admin));
    answers.push(server.post("/v1/sources/orders/test", &admin, ""));
    answers.push(server.post(
        "/v1/query",
        &admin,
        r#"{"source_id":"orders","sql":"SELECT 1"}"#,
    ));
    answers.push(server.request(
        "PATCH",
        "/v1/sources/orders/credentials",
        Some(&admin),
        Some(&json!({"password": new_password}).to_string()),
    ));
    answers.push(server.post(
        "/v1/query",
        &admin,
        r#"{"source_id":"orders","sql":"SELECT 1"}"#,
    ));
    answers.push(server.get("/v1/sources/orders/health", &admin));
    answers.push(server.get("/v1/metrics", &admin));
    assert_eq!(answers[3].status, 503, "{}", answers[3].body);
    assert_eq!(answers[5].status, 503, "{}", answers[5].body);
    assert_eq!(answers[6].status, 200, "{}", answers[6].body);
    assert_eq!(answers[6].json()["connection"]["password"], "********");
    let audit = std::fs::read_to_string(home.path().join("tdb_audit.jsonl")).unwrap();
    assert!(audit.contains("source_updated"));
    let mut everything = audit;
    for a in &answers {
        everything.push_str(&a.body);
    }
    drop(answers);
    let mut server = server;
    assert_eq!(server.stop(), Some(0));
    everything.push_str(&server.stderr());
    everything.push_str(&server.log());
    for secret in [&password, &new_password, &admin] {
        assert!(!everything.contains(secret.as_str()), "{secret} leaked");
    }
}

#[test]
fn a_non_loopback_address_needs_tls_or_insecure_http() {
    let home = tempfile::tempdir().unwrap();
    let out = tdb(home.path())
        .args(["serve", "--listen", "0.0.0.0:0", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--insecure-http"));
    let mut open = Server::start_with(home.path(), &["--listen", "0.0.0.0:0", "--insecure-http"]);
    assert_eq!(open.request("GET", "/healthz", None, None).status, 200);
    assert_eq!(open.stop(), Some(0));
}
