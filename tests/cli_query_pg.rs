//! `tdb query`, `tdb source schema/test` and the audit log, through the real binary against
//! a throwaway PostgreSQL cluster: as a superuser source and as a plain role.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::pg::{self, Cluster};
use common::process::{add_postgres_source, error_detail, run_stdin, tdb, text};
use serde_json::{Value, json};

struct Fixture {
    db: String,
    home: tempfile::TempDir,
    role: String,
}

/// One database and one home for the whole binary: sources `su` (superuser) and `ro`
/// (a plain role with SELECT only) both point `data` at `orders` (250 rows).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let c = pg::shared();
        let db = pg::unique("q");
        c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
        c.psql(
            &db,
            "CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2), status text, created_at timestamptz);
             INSERT INTO orders SELECT g, g * 1.5, CASE WHEN g % 3 = 0 THEN 'paid' WHEN g % 3 = 1 THEN 'pending' ELSE 'shipped' END,
                    timestamptz '2026-01-01 00:00:00+00' + g * interval '1 hour' FROM generate_series(1, 250) g;
             CREATE TABLE victims (v int);
             INSERT INTO victims VALUES (1), (2), (3);
             CREATE SEQUENCE s;
             CREATE SCHEMA \"Sales\";
             CREATE TABLE \"Sales\".\"Order Items\" (id int, \"select\" text);
             INSERT INTO \"Sales\".\"Order Items\" VALUES (1, 'a'), (2, 'b');
             CREATE VIEW paid_orders AS SELECT * FROM orders WHERE status = 'paid';",
        );
        let role = pg::unique("reader");
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        c.psql(
            "postgres",
            &format!("CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'"),
        );
        c.psql(
            &db,
            &format!(
                "GRANT USAGE ON SCHEMA public, \"Sales\" TO \"{role}\";
                 GRANT SELECT ON ALL TABLES IN SCHEMA public, \"Sales\" TO \"{role}\";
                 GRANT USAGE ON SEQUENCE s TO \"{role}\";"
            ),
        );
        let f = Fixture {
            db,
            home: tempfile::tempdir().unwrap(),
            role,
        };
        let mut su = c.connection_json(&f.db, pg::SUPERUSER, c.superuser_password());
        su["table"] = json!("orders");
        f.add("su", su);
        let mut ro = c.connection_json(&f.db, &f.role, &password);
        ro["table"] = json!("orders");
        f.add("ro", ro);
        let whole = c.connection_json(&f.db, &f.role, &password);
        f.add("whole", whole);
        let mut items = c.connection_json(&f.db, &f.role, &password);
        items["table"] = json!("Order Items");
        items["schema"] = json!("Sales");
        f.add("items", items);
        f
    })
}

impl Fixture {
    fn home(&self) -> PathBuf {
        self.home.path().join("home")
    }

    fn cmd(&self) -> Command {
        tdb(&self.home())
    }

    fn add(&self, name: &str, connection: Value) {
        add_postgres_source(&self.home(), name, connection);
    }

    /// Runs a query; SQL holding a NUL (which argv cannot carry) goes through `--sql -`.
    fn query(&self, source: &str, sql: &str, limit: Option<usize>) -> Output {
        let mut c = self.cmd();
        let via_stdin = sql.contains('\0');
        c.args([
            "query",
            "--source",
            source,
            "--sql",
            if via_stdin { "-" } else { sql },
            "--json",
        ]);
        if let Some(l) = limit {
            c.args(["--limit", &l.to_string()]);
        }
        if via_stdin {
            run_stdin(&mut c, sql)
        } else {
            c.output().unwrap()
        }
    }

    fn ok(&self, source: &str, sql: &str, limit: Option<usize>) -> Value {
        let out = self.query(source, sql, limit);
        assert!(
            out.status.success(),
            "{source}: {sql}: exit {:?}: {}",
            out.status.code(),
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn psql(&self, sql: &str) -> String {
        pg::shared().psql(&self.db, sql).trim().to_string()
    }

    fn audit_lines(&self) -> Vec<Value> {
        std::fs::read_to_string(self.home().join("tdb_audit.jsonl"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// What must not change, whatever hostile SQL was sent.
#[derive(Debug, PartialEq)]
struct ServerState {
    relations: String,
    victims: String,
    sequence: String,
    large_objects: String,
    slots: String,
    advisory_locks: String,
    auto_conf: String,
    prepared: String,
}

fn server_state(f: &Fixture) -> ServerState {
    ServerState {
        relations: f.psql(
            "SELECT string_agg(n.nspname || '.' || c.relname, ',' ORDER BY 1) FROM pg_class c
             JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog','information_schema','pg_toast')",
        ),
        victims: f.psql("SELECT string_agg(v::text, ',' ORDER BY v) FROM victims"),
        sequence: f.psql("SELECT last_value || '/' || is_called FROM s"),
        large_objects: f.psql("SELECT count(*) FROM pg_largeobject_metadata"),
        slots: f.psql("SELECT count(*) FROM pg_replication_slots"),
        advisory_locks: f.psql("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'"),
        auto_conf: f.psql("SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%auto.conf'"),
        prepared: f.psql("SELECT count(*) FROM pg_prepared_xacts"),
    }
}

const HOSTILE: &[&str] = &[
    // Plain writes and DDL.
    "DELETE FROM orders",
    "INSERT INTO victims VALUES (99)",
    "UPDATE victims SET v = 0",
    "MERGE INTO victims t USING (SELECT 1 AS v) s ON t.v = s.v WHEN MATCHED THEN DELETE",
    "TRUNCATE victims",
    "DROP TABLE victims",
    "CREATE TABLE evil (x int)",
    "ALTER TABLE victims ADD COLUMN pwned int",
    "GRANT ALL ON victims TO PUBLIC",
    "ALTER SYSTEM SET work_mem = '1GB'",
    // Multiple statements.
    "SELECT 1; DELETE FROM victims",
    "SELECT 1; DROP TABLE victims",
    "SELECT 1 /* ; */ ; DELETE FROM victims -- ",
    "SELECT 1;\n-- harmless\nDROP TABLE victims",
    // Write CTEs, at any depth, referenced or not.
    "WITH d AS (DELETE FROM victims RETURNING *) SELECT * FROM d",
    "WITH d AS (DELETE FROM victims RETURNING 1) SELECT 1",
    "WITH a AS (SELECT 1), b AS (UPDATE victims SET v = v + 1 RETURNING v) SELECT * FROM a",
    "SELECT * FROM (WITH x AS (INSERT INTO victims VALUES (7) RETURNING *) SELECT * FROM x) s",
    // SELECT INTO and locking clauses.
    "SELECT * INTO newtable FROM orders",
    "SELECT * FROM orders FOR UPDATE",
    "SELECT * FROM orders FOR SHARE",
    "SELECT * FROM orders FOR NO KEY UPDATE",
    // COPY.
    "COPY orders TO '/tmp/tdb_pwned_copy'",
    "COPY (SELECT 1) TO PROGRAM 'touch /tmp/tdb_pwned_program'",
    // Session and transaction tricks.
    "SET statement_timeout = 0",
    "RESET ALL",
    "BEGIN; DELETE FROM victims; COMMIT",
    "COMMIT; DELETE FROM victims",
    "SET TRANSACTION READ WRITE; DELETE FROM victims",
    "DO $$ BEGIN DELETE FROM victims; END $$",
    "PREPARE p AS DELETE FROM victims",
    "EXPLAIN ANALYZE DELETE FROM victims",
    "VACUUM victims",
    "LISTEN ch",
    // Side-effect functions in expressions and in FROM / LATERAL.
    "SELECT set_config('default_transaction_read_only', 'off', false)",
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
    "SELECT PG_TERMINATE_BACKEND(1)",
    "SELECT \"pg_terminate_backend\"(1)",
    "SELECT * FROM pg_catalog.pg_terminate_backend(1)",
    "SELECT x.* FROM orders, LATERAL (SELECT pg_advisory_lock(orders.id)) x",
    "SELECT pg_advisory_lock(42)",
    "SELECT id FROM orders WHERE pg_try_advisory_lock(id)",
    "SELECT lo_create(0)",
    "SELECT lo_import('/etc/passwd')",
    "SELECT pg_read_file('/etc/passwd')",
    "SELECT * FROM pg_ls_dir('.')",
    "SELECT nextval('s')",
    "SELECT (SELECT setval('s', 1000))",
    "SELECT * FROM pg_create_physical_replication_slot('evil')",
    "SELECT pg_create_logical_replication_slot('evil', 'test_decoding')",
    "SELECT pg_notify('ch', 'x')",
    "SELECT pg_stat_reset()",
    "SELECT pg_reload_conf()",
    "SELECT query_to_xml('delete from victims', true, true, '')",
    "SELECT dblink_exec('dbname=postgres', 'drop table victims')",
    // NUL.
    "SELECT 'x'\u{0}; DROP TABLE victims",
];

fn oversize() -> String {
    format!("SELECT {}1", "1+".repeat(5000))
}

#[test]
fn hostile_sql_is_refused_and_nothing_persists() {
    let f = fixture();
    let before = server_state(f);
    let mut inputs: Vec<String> = HOSTILE.iter().map(|s| s.to_string()).collect();
    inputs.push(oversize());
    assert!(inputs.len() >= 40);
    for source in ["su", "ro"] {
        for sql in &inputs {
            let out = f.query(source, sql, None);
            assert_eq!(
                out.status.code(),
                Some(10),
                "{source}: not refused: {sql}\nstdout: {}\nstderr: {}",
                text(&out.stdout),
                text(&out.stderr)
            );
            let d = error_detail(&out);
            assert!(d.starts_with("SQL validation failed: "), "{sql}: {d}");
            assert!(out.stdout.is_empty(), "{sql}: printed rows");
        }
    }
    assert_eq!(server_state(f), before, "something persisted on the server");
    assert!(!std::path::Path::new("/tmp/tdb_pwned_program").exists());
    assert!(!std::path::Path::new("/tmp/tdb_pwned_copy").exists());
    // Every refusal is audited as query_rejected, never as a query.
    let rejected = f
        .audit_lines()
        .iter()
        .filter(|l| l["event"] == "query_rejected")
        .count();
    assert!(rejected >= 2 * inputs.len(), "{rejected} refusals audited");
    // The seed's message for a plain write.
    let out = f.query("ro", "DELETE FROM orders", None);
    assert_eq!(
        error_detail(&out),
        "SQL validation failed: Only SELECT statements are allowed"
    );
}

#[test]
fn other_sessions_survive_hostile_sql() {
    let f = fixture();
    // A session of another client, which backend signalling would end.
    let c = pg::shared();
    let mut victim = Command::new("psql")
        .args(["-X", "-q", "-h", c.host(), "-p", &c.port().to_string()])
        .args([
            "-U",
            pg::SUPERUSER,
            "-d",
            &f.db,
            "-c",
            "SELECT pg_sleep(20) /* bystander */",
        ])
        .env("PGPASSWORD", c.superuser_password())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while f.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%/* bystander */%' AND pid <> pg_backend_pid()") != "1" {
        assert!(Instant::now() < deadline, "the bystander never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    for sql in [
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid <> pg_backend_pid()",
        "SELECT pg_cancel_backend(pid) FROM pg_stat_activity",
        "SELECT * FROM pg_stat_activity, LATERAL pg_terminate_backend(pid)",
    ] {
        assert_eq!(f.query("su", sql, None).status.code(), Some(10), "{sql}");
    }
    assert_eq!(
        f.psql("SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%/* bystander */%' AND pid <> pg_backend_pid()"),
        "1",
        "the bystander session was killed"
    );
    let _ = victim.kill();
    let _ = victim.wait();
}

#[test]
fn legitimate_queries_pass() {
    let f = fixture();
    let cases: &[(&str, Value)] = &[
        (
            "SELECT count(*) AS total FROM data",
            json!([{"total": 250}]),
        ),
        (
            "SELECT status, count(*) AS n FROM data GROUP BY status ORDER BY status",
            json!([{"status":"paid","n":83},{"status":"pending","n":84},{"status":"shipped","n":83}]),
        ),
        (
            "WITH t AS (SELECT * FROM orders WHERE total > 300) SELECT count(*) AS n FROM t",
            json!([{"n": 50}]),
        ),
        (
            "SELECT o.id, p.status FROM orders o JOIN orders p ON p.id = o.id WHERE o.id <= 2 ORDER BY 1",
            json!([{"id":1,"status":"pending"},{"id":2,"status":"shipped"}]),
        ),
        (
            "SELECT id, sum(total) OVER (ORDER BY id) AS running FROM data ORDER BY id LIMIT 3",
            json!([{"id":1,"running":"1.50"},{"id":2,"running":"4.50"},{"id":3,"running":"9.00"}]),
        ),
        (
            "VALUES (1, 'a'), (2, 'b')",
            json!([{"column1":1,"column2":"a"},{"column1":2,"column2":"b"}]),
        ),
        (
            "SELECT 1 AS x UNION SELECT 2 ORDER BY 1",
            json!([{"x":1},{"x":2}]),
        ),
        (
            "SELECT g FROM generate_series(1, 3) g",
            json!([{"g":1},{"g":2},{"g":3}]),
        ),
        (
            "SELECT $$delete from victims$$ AS s",
            json!([{"s":"delete from victims"}]),
        ),
        (
            "SELECT 'DROP TABLE victims; --' AS s -- DELETE FROM victims",
            json!([{"s":"DROP TABLE victims; --"}]),
        ),
        (
            "SELECT \"delete\" FROM (SELECT 1 AS \"delete\") x",
            json!([{"delete":1}]),
        ),
        (
            "SELECT total::text AS t FROM data WHERE status ILIKE 'pa%' ORDER BY id LIMIT 1",
            json!([{"t":"4.50"}]),
        ),
        ("SELECT '{\"a\":1}'::jsonb ->> 'a' AS a", json!([{"a":"1"}])),
        ("SELECT ARRAY[1,2,3] AS a", json!([{"a":[1,2,3]}])),
        ("/* DELETE */ SELECT 1 AS one", json!([{"one":1}])),
        ("SELECT pg_sleep(0)::text AS slept", json!([{"slept":""}])),
        ("SELECT count(*) AS n FROM paid_orders", json!([{"n":83}])),
        ("TABLE victims", json!([{"v":1},{"v":2},{"v":3}])),
        (
            "SELECT created_at FROM data WHERE id = 1",
            json!([{"created_at":"2026-01-01T01:00:00Z"}]),
        ),
    ];
    assert!(cases.len() >= 15);
    for source in ["su", "ro"] {
        for (sql, rows) in cases {
            let v = f.ok(source, sql, None);
            assert_eq!(&v["rows"], rows, "{source}: {sql}");
            assert_eq!(v["sql"], *sql);
            assert_eq!(v["truncated"], false);
            assert_eq!(v["rows_returned"], rows.as_array().unwrap().len());
        }
    }
}

#[test]
fn standard_conforming_strings_cannot_be_turned_against_the_guard() {
    let f = fixture();
    // The database default says off; the connector forces it on in its transaction, so this
    // stays two harmless strings instead of a call to pg_terminate_backend.
    let c = pg::shared();
    let db = pg::unique("scs");
    c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
    c.psql(
        "postgres",
        &format!("ALTER DATABASE \"{db}\" SET standard_conforming_strings = off"),
    );
    let mut conn = c.connection_json(&db, pg::SUPERUSER, c.superuser_password());
    conn["table"] = json!("t");
    let name = pg::unique("scs_src");
    f.add(&name, conn);
    let sql = r"SELECT 'a\', ' , pg_terminate_backend(pg_backend_pid()) --' AS b";
    let v = f.ok(&name, sql, None);
    assert_eq!(v["columns"], json!(["?column?", "b"]));
    assert_eq!(
        v["rows"][0]["b"],
        " , pg_terminate_backend(pg_backend_pid()) --"
    );
}

#[test]
fn limit_and_truncation_case_by_case() {
    let f = fixture();
    // (sql, --limit, rows_returned, truncated)
    let cases: &[(&str, Option<usize>, usize, bool)] = &[
        ("SELECT * FROM data", None, 100, true),
        ("SELECT * FROM data", Some(250), 250, false),
        ("SELECT * FROM data", Some(249), 249, true),
        ("SELECT * FROM data", Some(1000), 250, false),
        ("SELECT * FROM data LIMIT 5", None, 5, false),
        ("SELECT * FROM data LIMIT 500", Some(10), 10, true),
        ("SELECT * FROM data LIMIT 10", Some(10), 10, false),
        ("SELECT * FROM data FETCH FIRST 3 ROWS ONLY", None, 3, false),
        ("SELECT * FROM data ORDER BY id OFFSET 245", None, 5, false),
        (
            "SELECT * FROM data ORDER BY id LIMIT 10 OFFSET 245",
            None,
            5,
            false,
        ),
        (
            "SELECT id FROM data UNION ALL SELECT id FROM data",
            Some(1000),
            500,
            false,
        ),
        (
            "SELECT id FROM data UNION ALL SELECT id FROM data",
            Some(499),
            499,
            true,
        ),
        ("SELECT * FROM data LIMIT ALL", Some(10), 10, true),
        ("SELECT * FROM data;", Some(300), 250, false),
        (
            "SELECT * FROM data -- trailing comment",
            Some(300),
            250,
            false,
        ),
        ("SELECT * FROM data WHERE id <= 100", Some(100), 100, false),
        ("SELECT * FROM data WHERE id <= 101", Some(100), 100, true),
        ("SELECT 1 AS one", Some(1), 1, false),
    ];
    for (sql, limit, n, truncated) in cases {
        let v = f.ok("ro", sql, *limit);
        assert_eq!(v["rows_returned"], *n, "{sql} {limit:?}");
        assert_eq!(v["rows"].as_array().unwrap().len(), *n, "{sql}");
        assert_eq!(v["truncated"], *truncated, "{sql} {limit:?}");
    }
    // The audit line shows the LIMIT the guard added.
    let v = f.ok(
        "ro",
        "SELECT id FROM data WHERE id < 3 ORDER BY id",
        Some(7),
    );
    assert_eq!(v["rows"], json!([{"id":1},{"id":2}]));
    let last = f
        .audit_lines()
        .into_iter()
        .rev()
        .find(|l| l["sql"] == "SELECT id FROM data WHERE id < 3 ORDER BY id")
        .unwrap();
    assert_eq!(last["event"], "query");
    assert!(
        last["executed_sql"].as_str().unwrap().ends_with("LIMIT 8"),
        "{last}"
    );
    assert!(
        last["executed_sql"]
            .as_str()
            .unwrap()
            .contains("\"public\".\"orders\"")
    );
    // Out-of-range limits are field errors.
    for bad in ["0", "1001", "-5"] {
        let out = f
            .cmd()
            .args([
                "query", "--source", "ro", "--sql", "SELECT 1", "--limit", bad, "--json",
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(10), "--limit {bad}");
        assert!(error_detail(&out).starts_with("limit:"));
    }
}

#[test]
fn the_data_alias_case_by_case() {
    let f = fixture();
    let one = |source: &str, sql: &str| f.ok(source, sql, None)["rows"].clone();
    assert_eq!(
        one("ro", "SELECT data.id FROM data ORDER BY 1 LIMIT 1"),
        json!([{"id":1}])
    );
    assert_eq!(
        one("ro", "SELECT d.id FROM data d ORDER BY 1 LIMIT 1"),
        json!([{"id":1}])
    );
    assert_eq!(
        one("ro", "SELECT count(*) AS n FROM DATA"),
        json!([{"n":250}])
    );
    assert_eq!(
        one("ro", "SELECT count(*) AS n FROM \"data\""),
        json!([{"n":250}])
    );
    // A CTE named data shadows the alias.
    assert_eq!(
        one("ro", "WITH data AS (SELECT 42 AS id) SELECT id FROM data"),
        json!([{"id":42}])
    );
    // In subqueries and joins.
    assert_eq!(
        one(
            "ro",
            "SELECT count(*) AS n FROM (SELECT * FROM data WHERE id > 200) s"
        ),
        json!([{"n":50}])
    );
    assert_eq!(
        one(
            "ro",
            "SELECT count(*) AS n FROM data a JOIN data b ON a.id = b.id"
        ),
        json!([{"n":250}])
    );
    // The real name still works.
    assert_eq!(
        one("ro", "SELECT count(*) AS n FROM orders"),
        json!([{"n":250}])
    );
    // A quoted, schema-qualified table with a keyword-named column.
    assert_eq!(
        one("items", "SELECT id, \"select\" FROM data ORDER BY id"),
        json!([{"id":1,"select":"a"},{"id":2,"select":"b"}])
    );
    // No table registered: `data` is just a name, and here no such table exists.
    let out = f.query("whole", "SELECT * FROM data", None);
    assert_eq!(out.status.code(), Some(14), "{}", text(&out.stderr));
    assert!(
        error_detail(&out).contains("\"data\" does not exist"),
        "{}",
        error_detail(&out)
    );
    assert_eq!(
        one("whole", "SELECT count(*) AS n FROM orders"),
        json!([{"n":250}])
    );
}

#[test]
fn output_formats() {
    let f = fixture();
    let out = f
        .cmd()
        .args([
            "query",
            "--source",
            "ro",
            "--sql",
            "SELECT id, status FROM data ORDER BY id",
            "--limit",
            "2",
            "--csv",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "id,status\n1,pending\n2,shipped\n");
    let out = f
        .cmd()
        .args([
            "query",
            "--source",
            "ro",
            "--sql",
            "SELECT 'a\tb' AS x, NULL AS y",
            "--tsv",
        ])
        .output()
        .unwrap();
    assert_eq!(text(&out.stdout), "x\ty\na\\tb\t\\N\n");
    let out = f
        .cmd()
        .args([
            "query",
            "--source",
            "ro",
            "--sql",
            "SELECT id FROM data ORDER BY id",
            "--limit",
            "2",
        ])
        .output()
        .unwrap();
    let human = text(&out.stdout);
    assert!(human.contains("2 rows · more exist"), "{human}");
    // --sql - reads stdin.
    let out = run_stdin(
        f.cmd()
            .args(["query", "--source", "ro", "--sql", "-", "--json"]),
        "SELECT 7 AS seven",
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rows"], json!([{"seven":7}]));
}

#[test]
fn schema_of_a_table_and_of_a_database() {
    let f = fixture();
    let out = f
        .cmd()
        .args(["source", "schema", "ro", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["source_name"], "ro");
    let name_type: Vec<(String, String)> = v["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().into(),
                c["type"].as_str().unwrap().into(),
            )
        })
        .collect();
    let want = [
        ("id", "integer"),
        ("total", "numeric(10,2)"),
        ("status", "text"),
        ("created_at", "timestamp with time zone"),
    ];
    assert_eq!(name_type, want.map(|(n, t)| (n.to_string(), t.to_string())));
    assert_eq!(v["columns"][0]["primary_key"], json!(true));
    assert_eq!(v["columns"][0]["not_null"], json!(true));
    assert!(v.get("tables").is_none());
    assert!(v["inspected_at"].as_str().unwrap().ends_with('Z'));

    let out = f
        .cmd()
        .args(["source", "schema", "whole", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let tables = v["tables"].as_array().unwrap();
    let names: Vec<String> = tables
        .iter()
        .map(|t| {
            format!(
                "{}.{}",
                t["schema"].as_str().unwrap(),
                t["name"].as_str().unwrap()
            )
        })
        .collect();
    for want in [
        "public.orders",
        "public.victims",
        "public.paid_orders",
        "Sales.Order Items",
    ] {
        assert!(
            names.contains(&want.to_string()),
            "{want} missing from {names:?}"
        );
    }
}

#[test]
fn test_reports_latency_and_status_and_unreachable_is_13() {
    let f = fixture();
    let out = f
        .cmd()
        .args(["source", "test", "ro", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["status"], "active");
    assert!(v["latency_ms"].as_f64().unwrap() >= 0.0);

    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let name = pg::unique("down");
    f.add(
        &name,
        json!({"host":"127.0.0.1","port":port,"dbname":"x","user":"u","password":"hunter2-do-not-leak","table":"t"}),
    );
    let out = f
        .cmd()
        .args(["source", "test", &name, "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(13));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["status"], "failed");
    let show: Value = serde_json::from_slice(
        &f.cmd()
            .args(["source", "show", &name, "--json"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    assert_eq!(show["status"], "failed");
    let out = f.query(&name, "SELECT 1", None);
    assert_eq!(out.status.code(), Some(13));
    let d = error_detail(&out);
    assert!(d.contains(&format!("127.0.0.1:{port}")), "{d}");
    for o in [&out.stdout, &out.stderr] {
        assert!(!text(o).contains("hunter2-do-not-leak"));
    }
    let audit = std::fs::read_to_string(f.home().join("tdb_audit.jsonl")).unwrap();
    assert!(!audit.contains("hunter2-do-not-leak"));
    assert!(!audit.contains(pg::shared().superuser_password()));
}

#[test]
fn a_killed_server_gives_14_and_a_restart_recovers() {
    let f = fixture();
    let c = Cluster::start();
    let mut conn = c.connection_json("postgres", pg::SUPERUSER, c.superuser_password());
    conn["table"] = json!("pg_class");
    let name = pg::unique("crashy");
    f.add(&name, conn);
    let mut child = f
        .cmd()
        .args([
            "query",
            "--source",
            &name,
            "--sql",
            "SELECT pg_sleep(60) AS s, 'crashme' AS marker",
            "--json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while c
        .psql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%''crashme''%' AND pid <> pg_backend_pid()")
        .trim()
        != "1"
    {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!("the query ended early ({status}): {}", text(&out.stderr));
        }
        assert!(Instant::now() < deadline, "the query never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    c.kill();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(14), "{}", text(&out.stderr));
    let d = error_detail(&out);
    assert!(d.contains("lost the connection"), "{d}");
    c.restart();
    let v = f.ok(&name, "SELECT 1 AS back", None);
    assert_eq!(v["rows"], json!([{"back":1}]));
    let failed = f
        .audit_lines()
        .into_iter()
        .any(|l| l["event"] == "query_failed" && l["source_name"] == name.as_str());
    assert!(failed, "the failure was not audited");
}

#[test]
fn audit_lines_follow_the_contract_and_verify_names_an_edited_line() {
    let f = fixture();
    let marker = pg::unique("audit");
    let sql = format!("SELECT '{marker}' AS m");
    f.ok("ro", &sql, None);
    let line = f
        .audit_lines()
        .into_iter()
        .find(|l| l["sql"] == sql.as_str() && l["event"] == "query")
        .unwrap();
    let keys: Vec<&str> = line
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "seq",
            "event",
            "query_id",
            "source_id",
            "source_name",
            "sql",
            "executed_sql",
            "rows_returned",
            "truncated",
            "duration_ms",
            "actor",
            "ssh_client",
            "session",
            "timestamp",
            "prev_sha256"
        ]
    );
    assert_eq!(line["rows_returned"], 1);
    assert_eq!(line["source_name"], "ro");

    // A copy of the log, edited, fails verify at the edited line.
    let copy = tempfile::tempdir().unwrap();
    let log = copy.path().join("log.jsonl");
    std::fs::copy(f.home().join("tdb_audit.jsonl"), &log).unwrap();
    let head = f.home().join("tdb_audit.jsonl.head");
    if head.exists() {
        std::fs::copy(&head, copy.path().join("log.jsonl.head")).unwrap();
    }
    let verify = |path: &PathBuf| {
        f.cmd()
            .arg("--audit-log")
            .arg(path)
            .args(["audit", "verify", "--json"])
            .output()
            .unwrap()
    };
    let out = verify(&log);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let text_log = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<String> = text_log.lines().map(str::to_string).collect();
    let target = lines.len() / 2;
    lines[target] = lines[target].replacen("\"event\"", "\"event\" ", 1);
    std::fs::write(&log, lines.join("\n") + "\n").unwrap();
    let out = verify(&log);
    assert!(!out.status.success());
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["line"], target + 1);
}
