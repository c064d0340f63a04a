//! The PostgreSQL connector against a real throwaway server (see `common/pg.rs`), as a
//! superuser and as a plain role with only SELECT rights.

mod common;

use std::os::unix::fs::PermissionsExt;

use common::pg::{self, Cluster};
use secrecy::SecretString;
use serde_json::{Value as Json, json};
use tdb::connector::Connector;
use tdb::connector::postgres::PgConnector;
use tdb::connector::postgres::{PgConnection, Postgres, SslMode};
use tdb::core::Error;
use tdb::core::guard::Guarded;
use tdb::core::secret::StoredSecret;
use tdb::core::source::{SourceRecord, Status};
use tdb::core::value::{ResultSet, Value};
use tokio_util::sync::CancellationToken;

fn record(name: &str, spec: &PgConnection) -> SourceRecord {
    SourceRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.into(),
        connection: Postgres::connection(spec).unwrap(),
        has_password: true,
        description: String::new(),
        tags: Vec::new(),
        registered_by: "test".into(),
        registered_at: "2026-01-01T00:00:00Z".into(),
        status: Status::Active,
    }
}

fn connector(spec: PgConnection, password: Option<&str>) -> PgConnector {
    let secret = match password {
        Some(p) => StoredSecret::Present(SecretString::from(p.to_string())),
        None => StoredSecret::None,
    };
    PgConnector::new(&record("src", &spec), spec, secret).unwrap()
}

/// A database with fixtures, and a connector for it as the superuser and as a plain role.
struct Fixture {
    cluster: &'static Cluster,
    db: String,
    role: String,
    role_password: String,
    users: Vec<(&'static str, PgConnector)>,
}

async fn fixture(setup: &str) -> Fixture {
    let cluster = pg::shared();
    let db = cluster.create_database("conn").await;
    if !setup.is_empty() {
        cluster.exec(&db, setup).await;
    }
    let (role, role_password) = cluster.create_role("reader").await;
    cluster.grant_read(&db, &role).await;
    let superuser = connector(
        cluster.pg_connection(&db, pg::SUPERUSER),
        Some(cluster.superuser_password()),
    );
    let plain = connector(cluster.pg_connection(&db, &role), Some(&role_password));
    Fixture {
        cluster,
        db,
        role,
        role_password,
        users: vec![("superuser", superuser), ("plain role", plain)],
    }
}

async fn run(c: &PgConnector, sql: &str, limit: usize) -> Result<ResultSet, Error> {
    c.query(&raw(sql, limit), CancellationToken::new()).await
}

async fn ok(c: &PgConnector, sql: &str, limit: usize) -> ResultSet {
    run(c, sql, limit)
        .await
        .unwrap_or_else(|e| panic!("query failed: {sql}\n{e:?}"))
}

fn failed(r: Result<ResultSet, Error>) -> String {
    match r {
        Err(Error::QueryFailed(m)) => m,
        other => panic!("expected QueryFailed, got {other:?}"),
    }
}

fn unreachable_msg(r: Result<impl std::fmt::Debug, Error>) -> String {
    match r {
        Err(Error::Unreachable(m)) => m,
        other => panic!("expected Unreachable, got {other:?}"),
    }
}

fn first_row_json(rs: &ResultSet) -> Vec<Json> {
    rs.rows[0].iter().map(Value::to_json).collect()
}

const TYPES_SETUP: &str = "
    CREATE EXTENSION citext;
    CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
    CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
";

#[tokio::test]
async fn values_map_as_the_contract_says() {
    let f = fixture(TYPES_SETUP).await;
    // (expression, expected JSON, expected type name)
    let cases: Vec<(&str, Json, &str)> = vec![
        ("1::int2", json!(1), "smallint"),
        ("(-2147483648)::int4", json!(-2147483648i64), "integer"),
        (
            "9223372036854775807::int8",
            json!(9223372036854775807i64),
            "bigint",
        ),
        ("1.1::float4", json!(1.1), "real"),
        ("0.1::float8", json!(0.1), "double precision"),
        ("'NaN'::float8", json!("NaN"), "double precision"),
        ("'-Infinity'::float4", json!("-Infinity"), "real"),
        (
            "12345678901234567890.000000000001::numeric",
            json!("12345678901234567890.000000000001"),
            "numeric",
        ),
        ("1.50::numeric(10,2)", json!("1.50"), "numeric"),
        ("'NaN'::numeric", json!("NaN"), "numeric"),
        ("true", json!(true), "boolean"),
        ("'héllo'::text", json!("héllo"), "text"),
        ("'v'::varchar(10)", json!("v"), "character varying"),
        ("'ab'::char(4)", json!("ab  "), "character"),
        ("'nm'::name", json!("nm"), "name"),
        ("'MiXed'::citext", json!("MiXed"), "citext"),
        ("'2024-02-29'::date", json!("2024-02-29"), "date"),
        ("'0044-03-15 BC'::date", json!("0044-03-15 BC"), "date"),
        ("'infinity'::date", json!("infinity"), "date"),
        (
            "'13:14:15.25'::time",
            json!("13:14:15.25"),
            "time without time zone",
        ),
        (
            "'13:14:15+05:30'::timetz",
            json!("13:14:15+05:30"),
            "time with time zone",
        ),
        (
            "'2024-05-06 07:08:09.123456'::timestamp",
            json!("2024-05-06T07:08:09.123456"),
            "timestamp without time zone",
        ),
        (
            "'2024-05-06 07:08:09.5+02'::timestamptz",
            json!("2024-05-06T05:08:09.5Z"),
            "timestamp with time zone",
        ),
        (
            "'-infinity'::timestamptz",
            json!("-infinity"),
            "timestamp with time zone",
        ),
        (
            "'1 year 2 mons 3 days 04:05:06.5'::interval",
            json!("1 year 2 mons 3 days 04:05:06.5"),
            "interval",
        ),
        (
            "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid",
            json!("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
            "uuid",
        ),
        (
            r#"'{"b": [1, 2.5, null], "a": "x"}'::json"#,
            json!({"b": [1, 2.5, null], "a": "x"}),
            "json",
        ),
        (
            r#"'{"k": {"n": 1}}'::jsonb"#,
            json!({"k": {"n": 1}}),
            "jsonb",
        ),
        (r"'\xdeadbeef'::bytea", json!("\\xdeadbeef"), "bytea"),
        (
            "ARRAY[1, NULL, 3]::int4[]",
            json!([1, null, 3]),
            "integer[]",
        ),
        (
            r#"ARRAY['a', 'b c', NULL, 'q"t']::text[]"#,
            json!(["a", "b c", null, "q\"t"]),
            "text[]",
        ),
        (
            "'{{1,2},{3,4}}'::int8[]",
            json!([[1, 2], [3, 4]]),
            "bigint[]",
        ),
        ("'{}'::int4[]", json!([]), "integer[]"),
        (
            "ARRAY[1.10, 2]::numeric[]",
            json!(["1.10", "2"]),
            "numeric[]",
        ),
        (
            "ARRAY['1 day', NULL]::interval[]",
            json!(["1 day", null]),
            "interval[]",
        ),
        ("'happy'::mood", json!("happy"), "mood"),
        ("ARRAY['sad', 'ok']::mood[]", json!(["sad", "ok"]), "mood[]"),
        // Result columns carry the base type of a domain.
        ("7::posint", json!(7), "integer"),
        ("'192.168.0.1'::inet", json!("192.168.0.1"), "inet"),
        ("'10.0.0.0/8'::cidr", json!("10.0.0.0/8"), "cidr"),
        ("1234.56::money", json!("$1,234.56"), "money"),
        ("4000000000::oid", json!(4000000000i64), "oid"),
        (
            "'08:00:2b:01:02:03'::macaddr",
            json!("08:00:2b:01:02:03"),
            "macaddr",
        ),
        ("'[1,5)'::int4range", json!("[1,5)"), "int4range"),
        ("'(1,2)'::point", json!("(1,2)"), "point"),
        ("'((0,0),(1,1))'::box", json!("(1,1),(0,0)"), "box"),
        (
            "ARRAY['((0,0),(1,1))', '((2,2),(3,3))']::box[]",
            json!(["(1,1),(0,0)", "(3,3),(2,2)"]),
            "box[]",
        ),
        (
            "ARRAY['10.1.2.3', NULL]::inet[]",
            json!(["10.1.2.3", null]),
            "inet[]",
        ),
        ("'NULL'::xml", json!("NULL"), "xml"),
        ("B''::varbit", json!(""), "bit varying"),
        ("NULL::inet", Json::Null, "inet"),
        ("B'1011'", json!("1011"), "bit"),
        (
            "'a fat cat'::tsvector",
            json!("'a' 'cat' 'fat'"),
            "tsvector",
        ),
        ("ROW(1, 'x')", json!("(1,x)"), "record"),
        ("'pg_class'::regclass", json!("pg_class"), "regclass"),
        ("'x'::\"char\"", json!("x"), "char"),
        ("pg_sleep(0)", json!(""), "void"),
        ("NULL::int4", Json::Null, "integer"),
        ("NULL::interval", Json::Null, "interval"),
        ("NULL::jsonb", Json::Null, "jsonb"),
    ];
    let select: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, (e, _, _))| format!("{e} AS c{i}"))
        .collect();
    let sql = format!("SELECT {}", select.join(", "));
    for (who, c) in &f.users {
        let rs = ok(c, &sql, 10).await;
        assert_eq!(rs.rows.len(), 1, "{who}");
        let got = first_row_json(&rs);
        for (i, (expr, want, ty)) in cases.iter().enumerate() {
            assert_eq!(&got[i], want, "{who}: {expr}");
            assert_eq!(rs.columns[i].type_name, *ty, "{who}: type of {expr}");
            assert_eq!(rs.columns[i].name, format!("c{i}"), "{who}");
        }
    }
}

/// Our own binary decoding of numeric and timestamps, checked against the server's text.
#[tokio::test]
async fn binary_decoding_matches_the_server_text() {
    let f = fixture("").await;
    let numerics = "SELECT x, x::text FROM unnest(ARRAY[
        0, -0.0, 1, -1, 0.5, 10000, 99999999, 100000000, 0.0001, 0.00001, 1e-20, -123.456,
        1234567890123456789012345678901234567890.0123456789, 1e100, 0.000000001230,
        'NaN', 'Infinity', '-Infinity']::numeric[]) x";
    let timestamps = "SELECT x, to_char(x, 'YYYY-MM-DD\"T\"HH24:MI:SS.US') FROM unnest(ARRAY[
        '2000-01-01 00:00:00', '1999-12-31 23:59:59.999999', '1970-01-01', '1900-02-28 12:00',
        '2400-02-29 01:02:03.000004', '1582-10-04', '0001-01-01', '9999-12-31 23:59:59'
        ]::timestamp[]) x";
    for (who, c) in &f.users {
        let rs = ok(c, numerics, 100).await;
        assert_eq!(rs.rows.len(), 18);
        for row in &rs.rows {
            let Value::Text(text) = &row[1] else {
                panic!("{who}: text column")
            };
            assert_eq!(row[0], Value::Numeric(text.clone()), "{who}");
        }
        let rs = ok(c, timestamps, 100).await;
        for row in &rs.rows {
            let Value::Text(text) = &row[1] else {
                panic!("{who}: text column")
            };
            // to_char always prints six fraction digits; we print them as PostgreSQL does.
            let want = text.trim_end_matches('0').trim_end_matches('.');
            assert_eq!(row[0].to_json(), json!(want), "{who}");
        }
    }
}

#[tokio::test]
async fn odd_columns_survive_the_text_cast() {
    let f = fixture(
        "CREATE TABLE t (id int, span interval); INSERT INTO t VALUES (1, '1 day'), (2, NULL);",
    )
    .await;
    for (who, c) in &f.users {
        let rs = ok(
            c,
            "SELECT 1, 1, '2 days'::interval AS d, '3 days'::interval AS d",
            10,
        )
        .await;
        let names: Vec<&str> = rs.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["?column?", "?column?", "d", "d"], "{who}");
        assert_eq!(
            first_row_json(&rs),
            vec![json!(1), json!(1), json!("2 days"), json!("3 days")],
            "{who}"
        );
        // ORDER BY, a trailing semicolon and comment, and a CTE inside the wrapper.
        let rs = ok(
            c,
            "WITH x AS (SELECT * FROM t) SELECT span, id FROM x ORDER BY id DESC; -- done",
            10,
        )
        .await;
        let rows: Vec<Vec<Json>> = rs
            .rows
            .iter()
            .map(|r| r.iter().map(Value::to_json).collect())
            .collect();
        assert_eq!(
            rows,
            vec![vec![json!(null), json!(2)], vec![json!("1 day"), json!(1)]]
        );
    }
}

#[tokio::test]
async fn truncated_exactly_when_more_rows_existed() {
    let f = fixture("CREATE TABLE t AS SELECT g AS n FROM generate_series(1, 10) g;").await;
    for (who, c) in &f.users {
        let cases = [
            // (sql, limit, rows returned, truncated)
            ("SELECT n FROM t ORDER BY n", 10, 10, false),
            ("SELECT n FROM t ORDER BY n", 11, 10, false),
            ("SELECT n FROM t ORDER BY n", 9, 9, true),
            ("SELECT n FROM t ORDER BY n", 1, 1, true),
            ("SELECT n FROM t ORDER BY n LIMIT 50", 5, 5, true),
            ("SELECT n FROM t ORDER BY n LIMIT 3", 5, 3, false),
            ("SELECT n FROM t ORDER BY n LIMIT 5", 5, 5, false),
            ("SELECT n FROM t ORDER BY n LIMIT 6", 5, 5, true),
            ("SELECT n FROM t WHERE false", 5, 0, false),
        ];
        for (sql, limit, n, truncated) in cases {
            let rs = ok(c, sql, limit).await;
            assert_eq!(rs.rows.len(), n, "{who}: {sql} limit {limit}");
            assert_eq!(rs.truncated, truncated, "{who}: {sql} limit {limit}");
            let firsts: Vec<Json> = rs.rows.iter().map(|r| r[0].to_json()).collect();
            let want: Vec<Json> = (1..=n as i64).map(|i| json!(i)).collect();
            assert_eq!(firsts, want, "{who}: {sql}");
        }
    }
}

#[tokio::test]
async fn a_million_rows_are_never_read_past_the_limit() {
    let f = fixture("").await;
    for (who, c) in &f.users {
        let rs = ok(c, "SELECT g FROM generate_series(1, 1000000) g", 1000).await;
        assert_eq!(rs.rows.len(), 1000, "{who}");
        assert!(rs.truncated, "{who}");
        assert_eq!(rs.rows[999][0], Value::Int(1000));
        // Row 1002 would divide by zero: the server must never be asked for it, even with a
        // user LIMIT far above the request's limit.
        for sql in [
            "SELECT g, 1 / (1002 - g) FROM generate_series(1, 1000000) g",
            "SELECT g, 1 / (1002 - g) FROM generate_series(1, 1000000) g LIMIT 1000000",
        ] {
            let rs = ok(c, sql, 1000).await;
            assert_eq!(rs.rows.len(), 1000, "{who}: {sql}");
            assert!(rs.truncated, "{who}: {sql}");
        }
        // The same query with a limit that reaches row 1002 shows the row really is poison.
        let msg = failed(
            run(
                c,
                "SELECT 1 / (1002 - g) FROM generate_series(1, 2000) g",
                1001,
            )
            .await,
        );
        assert!(msg.contains("division by zero"), "{who}: {msg}");
    }
}

#[tokio::test]
async fn writes_are_refused_by_the_server() {
    let f = fixture(
        "CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2);
         CREATE SEQUENCE s;",
    )
    .await;
    // The plain role may write, so only the read-only transaction stands in the way.
    f.cluster
        .exec(
            &f.db,
            &format!(
                "GRANT INSERT, UPDATE, DELETE, TRUNCATE ON t TO \"{r}\";
                 GRANT USAGE, UPDATE ON SEQUENCE s TO \"{r}\";
                 GRANT CREATE ON SCHEMA public TO \"{r}\";
                 GRANT TEMPORARY ON DATABASE \"{db}\" TO \"{r}\";",
                r = f.role,
                db = f.db
            ),
        )
        .await;
    let attempts = [
        ("INSERT INTO t VALUES (3)", "read-only transaction"),
        ("UPDATE t SET n = n + 1", "read-only transaction"),
        ("DELETE FROM t", "read-only transaction"),
        ("SELECT nextval('s')", "read-only transaction"),
        ("SELECT setval('s', 100)", "read-only transaction"),
        ("CREATE TABLE made_by_test (x int)", "read-only transaction"),
        (
            "CREATE TEMP TABLE tmp_by_test (x int)",
            "read-only transaction",
        ),
        (
            "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d",
            "read-only transaction",
        ),
        ("SELECT 1; DELETE FROM t", "multiple commands"),
        ("DROP TABLE t", "read-only transaction"),
        ("TRUNCATE t", "read-only transaction"),
    ];
    for (who, c) in &f.users {
        for (sql, want) in attempts {
            let msg = failed(run(c, sql, 10).await);
            assert!(msg.contains(want), "{who}: {sql}: {msg}");
            assert!(msg.contains("SQLSTATE"), "{who}: {sql}: {msg}");
        }
        // Allowed in a read-only transaction, but rolled back: nothing may remain.
        ok(c, "SELECT lo_create(0)", 10).await;
        // `SET TRANSACTION READ WRITE` comes too late: our first statement already ran.
        let msg = failed(run(c, "SET TRANSACTION READ WRITE", 10).await);
        assert!(msg.contains("before any query"), "{who}: {msg}");
        // The connection pool still works after all those errors.
        assert_eq!(
            ok(c, "SELECT count(*) FROM t", 10).await.rows[0][0],
            Value::Int(2)
        );
    }
    let admin = f.cluster.connect(&f.db).await;
    let row = admin
        .query_one(
            "SELECT (SELECT count(*) FROM t), (SELECT last_value FROM s), (SELECT is_called FROM s),
                    to_regclass('made_by_test') IS NULL, (SELECT count(*) FROM pg_largeobject_metadata)",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 2);
    assert_eq!(row.get::<_, i64>(1), 1);
    assert!(!row.get::<_, bool>(2));
    assert!(row.get::<_, bool>(3));
    assert_eq!(row.get::<_, i64>(4), 0);
}

#[tokio::test]
async fn statement_timeout_fails_the_query() {
    let f = fixture("").await;
    let cluster = f.cluster;
    let mut spec = cluster.pg_connection(&f.db, &f.role);
    spec.statement_timeout_s = 1;
    let c = connector(spec, Some(&f.role_password));
    let msg = failed(run(&c, "SELECT pg_sleep(20)", 10).await);
    assert!(msg.contains("statement timeout"), "{msg}");
    assert!(msg.contains("57014"), "{msg}");
    assert_eq!(ok(&c, "SELECT 1", 10).await.rows.len(), 1);
}

/// The backend running `tag`'s query, from another session: (pid, seconds it has run).
async fn find_backend(admin: &tokio_postgres::Client, tag: &str) -> Option<(i32, String)> {
    admin
        .query_opt(
            "SELECT pid, state FROM pg_stat_activity
             WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()",
            &[&tag],
        )
        .await
        .unwrap()
        .map(|r| (r.get(0), r.get::<_, Option<String>>(1).unwrap_or_default()))
}

#[tokio::test]
async fn cancel_reaches_the_server() {
    let f = fixture("").await;
    let admin = f.cluster.connect("postgres").await;
    for (who, c) in &f.users {
        let tag = pg::unique("cancel_tag");
        let sql = format!("SELECT pg_sleep(3600) /* {tag} */");
        let token = CancellationToken::new();
        let watcher = async {
            // Wait until the server runs the query, then cancel it.
            let pid = loop {
                let row = admin
                    .query_opt(
                        "SELECT pid FROM pg_stat_activity
                         WHERE state = 'active' AND query LIKE '%' || $1 || '%'
                           AND pid <> pg_backend_pid()",
                        &[&tag],
                    )
                    .await
                    .unwrap();
                if let Some(r) = row {
                    break r.get::<_, i32>(0);
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            };
            token.cancel();
            pid
        };
        let statement = raw(&sql, 10);
        let (result, pid) = tokio::join!(c.query(&statement, token.clone()), watcher);
        assert!(matches!(result, Err(Error::Cancelled)), "{who}: {result:?}");
        // The backend stops running the sleep. A cancel that only dropped the task would leave
        // it active until the 30 s statement timeout; the deadline below is shorter than that,
        // so only a cancel that reached the server gets through it.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let state = admin
                .query_opt("SELECT state FROM pg_stat_activity WHERE pid = $1", &[&pid])
                .await
                .unwrap()
                .map(|r| r.get::<_, Option<String>>(0));
            match state {
                None => break,
                Some(Some(s)) if s != "active" => break,
                _ => {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "{who}: the backend still runs the cancelled query"
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await
                }
            }
        }
        assert!(
            find_backend(&admin, &tag)
                .await
                .is_none_or(|(_, s)| s != "active")
        );
    }
}

#[tokio::test]
async fn unreachable_port_names_host_and_port_never_the_password() {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut spec = pg::shared().pg_connection("postgres", "nobody");
    spec.port = port;
    let c = connector(spec, Some("hunter2-secret"));
    for r in [
        run(&c, "SELECT 1", 10).await.map(|_| ()),
        c.test().await.map(|_| ()),
        c.schema().await.map(|_| ()),
    ] {
        let msg = unreachable_msg(r);
        assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }
    // A name that does not resolve.
    let mut spec = pg::shared().pg_connection("postgres", "nobody");
    spec.host = "no-such-host.invalid".into();
    let msg = unreachable_msg(connector(spec, Some("hunter2-secret")).test().await);
    assert!(msg.contains("no-such-host.invalid:"), "{msg}");
}

#[tokio::test]
async fn a_silent_server_times_out_as_unreachable() {
    // Accepts TCP connections (the kernel's backlog) but never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut spec = pg::shared().pg_connection("postgres", "nobody");
    spec.port = port;
    spec.connect_timeout_s = 1;
    spec.sslmode = SslMode::Disable;
    let msg = unreachable_msg(connector(spec, Some("pw")).test().await);
    assert!(msg.contains(&format!("127.0.0.1:{port}")), "{msg}");
    assert!(msg.contains("no answer within 1 s"), "{msg}");
    drop(listener);
}

#[tokio::test]
async fn bad_or_missing_passwords_are_clear() {
    let f = fixture("").await;
    let spec = f.cluster.pg_connection(&f.db, &f.role);
    let msg = unreachable_msg(connector(spec.clone(), Some("wrong-pw-77")).test().await);
    assert!(msg.contains("password authentication failed"), "{msg}");
    assert!(msg.contains(&f.role), "{msg}");
    assert!(!msg.contains("wrong-pw-77"), "{msg}");
    assert!(!msg.contains(&f.role_password), "{msg}");

    let c = PgConnector::new(
        &record("my src", &spec),
        spec.clone(),
        StoredSecret::Undecryptable,
    )
    .unwrap();
    let msg = unreachable_msg(run(&c, "SELECT 1", 1).await);
    assert!(msg.contains("tdb source set-password 'my src'"), "{msg}");

    let mut env_spec = spec.clone();
    let var = pg::unique("TDB_TEST_PW").to_uppercase();
    env_spec.password_env = Some(var.clone());
    let c = connector(env_spec.clone(), None);
    let msg = unreachable_msg(c.test().await);
    assert!(msg.contains(&var) && msg.contains("not set"), "{msg}");
    // SAFETY: the variable is unique to this test; nothing else reads or writes it.
    unsafe { std::env::set_var(&var, &f.role_password) };
    let c = connector(env_spec, None);
    assert!(c.test().await.is_ok());
    let rs = ok(&c, "SELECT current_user::text", 1).await;
    assert_eq!(rs.rows[0][0], Value::Text(f.role.clone()));
}

#[tokio::test]
async fn pgpass_is_honoured_only_when_private() {
    let f = fixture("").await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pgpass");
    std::fs::write(
        &path,
        format!(
            "# test\nother:1:*:*:nope\n127.0.0.1:{}:{}:{}:{}\n",
            f.cluster.port(),
            f.db,
            f.role,
            f.role_password.replace('\\', "\\\\").replace(':', "\\:")
        ),
    )
    .unwrap();
    // SAFETY: only this test reads PGPASSFILE (the others store their passwords).
    unsafe { std::env::set_var("PGPASSFILE", &path) };
    let spec = f.cluster.pg_connection(&f.db, &f.role);

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let c = connector(spec.clone(), None);
    let rs = ok(&c, "SELECT current_user::text", 1).await;
    assert_eq!(rs.rows[0][0], Value::Text(f.role.clone()));

    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let msg = unreachable_msg(connector(spec, None).test().await);
    assert!(msg.contains("password"), "{msg}");
    assert!(msg.contains("set-password"), "{msg}");
    assert!(!msg.contains(&f.role_password), "{msg}");
    // SAFETY: as above.
    unsafe { std::env::remove_var("PGPASSFILE") };
}

#[tokio::test]
async fn a_killed_server_fails_the_query_and_a_restart_recovers() {
    let cluster = Cluster::start();
    let spec = cluster.pg_connection("postgres", pg::SUPERUSER);
    let c = connector(spec, Some(cluster.superuser_password()));
    // Two connections in the pool, so one sits idle (and dies) through the restart.
    let (a, b) = tokio::join!(
        run(&c, "SELECT pg_sleep(0.2)", 1),
        run(&c, "SELECT pg_sleep(0.2)", 1)
    );
    a.unwrap();
    b.unwrap();

    let admin = cluster.connect("postgres").await;
    let tag = pg::unique("kill_tag");
    let sql = format!("SELECT pg_sleep(30) /* {tag} */");
    let killer = async {
        while find_backend(&admin, &tag)
            .await
            .is_none_or(|(_, s)| s != "active")
        {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        cluster.kill();
    };
    let (result, ()) = tokio::join!(run(&c, &sql, 10), killer);
    let msg = failed(result);
    assert!(
        msg.contains("ended the connection") || msg.contains("lost the connection"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("127.0.0.1:{}", cluster.port())),
        "{msg}"
    );

    cluster.restart();
    for _ in 0..3 {
        let rs = ok(&c, "SELECT 42", 1).await;
        assert_eq!(rs.rows[0][0], Value::Int(42));
    }
}

#[tokio::test]
async fn schema_of_a_table_and_of_a_database() {
    let f = fixture(
        "CREATE TYPE mood AS ENUM ('sad', 'happy');
         CREATE TABLE orders (id integer, customer_id integer, total numeric(10,2),
                              status varchar(20), created_at timestamp, tags text[], m mood);
         CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
         CREATE MATERIALIZED VIEW order_count AS SELECT count(*) AS n FROM orders;
         CREATE SCHEMA hidden;
         CREATE TABLE hidden.secrets (k text);",
    )
    .await;
    for (who, _) in &f.users {
        let (user, password) = if *who == "superuser" {
            (
                pg::SUPERUSER.to_string(),
                f.cluster.superuser_password().to_string(),
            )
        } else {
            (f.role.clone(), f.role_password.clone())
        };
        let mut spec = f.cluster.pg_connection(&f.db, &user);
        spec.table = Some("orders".into());
        let c = connector(spec.clone(), Some(&password));
        let info = c.schema().await.unwrap();
        let cols: Vec<(&str, &str)> = info
            .columns
            .iter()
            .map(|c| (c.name.as_str(), c.type_name.as_str()))
            .collect();
        assert_eq!(
            cols,
            [
                ("id", "integer"),
                ("customer_id", "integer"),
                ("total", "numeric(10,2)"),
                ("status", "character varying(20)"),
                ("created_at", "timestamp without time zone"),
                ("tags", "text[]"),
                ("m", "mood"),
            ],
            "{who}"
        );
        assert!(info.tables.is_none());
        let dt = c.data_table().unwrap();
        assert_eq!(
            (dt.schema.as_deref(), dt.name.as_str()),
            (Some("public"), "orders")
        );

        spec.table = Some("nope".into());
        let msg = failed(
            connector(spec.clone(), Some(&password))
                .schema()
                .await
                .map(|_| ResultSet::default()),
        );
        assert!(msg.contains("\"public\".\"nope\""), "{msg}");

        spec.table = None;
        let c = connector(spec, Some(&password));
        assert!(c.data_table().is_none());
        let info = c.schema().await.unwrap();
        assert!(info.columns.is_empty());
        let tables = info.tables.unwrap();
        let listed: Vec<(String, String, String, usize)> = tables
            .iter()
            .map(|t| {
                (
                    t.schema.clone(),
                    t.name.clone(),
                    t.kind.clone(),
                    t.columns.len(),
                )
            })
            .collect();
        let mut want = vec![];
        if *who == "superuser" {
            want.push((
                "hidden".to_string(),
                "secrets".to_string(),
                "table".to_string(),
                1,
            ));
        }
        want.extend([
            ("public".into(), "big_orders".into(), "view".into(), 2),
            (
                "public".into(),
                "order_count".into(),
                "materialized view".into(),
                1,
            ),
            ("public".into(), "orders".into(), "table".into(), 7),
        ]);
        assert_eq!(listed, want, "{who}");
        let view = tables.iter().find(|t| t.name == "big_orders").unwrap();
        assert_eq!(view.columns[1].type_name, "numeric(10,2)");
    }
}

#[tokio::test]
async fn test_connects_and_placeholders_are_refused() {
    let f = fixture("").await;
    for (who, c) in &f.users {
        c.test().await.unwrap_or_else(|e| panic!("{who}: {e:?}"));
        let msg = failed(run(c, "SELECT $1::int", 10).await);
        assert!(msg.contains("placeholder"), "{who}: {msg}");
        let msg = failed(run(c, "SELEC 1", 10).await);
        assert!(
            msg.contains("syntax error") && msg.contains("42601"),
            "{who}: {msg}"
        );
        assert_eq!(ok(c, "SELECT 1", 10).await.rows.len(), 1);
    }
}

#[tokio::test]
async fn sslmode_is_followed() {
    let cluster = pg::shared();
    let db = cluster.create_database("tls").await;
    let ssl_sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    let with_mode = |mode: SslMode, host: &str| {
        let mut spec = cluster.pg_connection(&db, pg::SUPERUSER);
        spec.sslmode = mode;
        spec.host = host.into();
        connector(spec, Some(cluster.superuser_password()))
    };
    for (mode, want) in [
        (SslMode::Disable, false),
        (SslMode::Prefer, true),
        (SslMode::Require, true),
    ] {
        let rs = ok(&with_mode(mode, "127.0.0.1"), ssl_sql, 1).await;
        assert_eq!(rs.rows[0][0], Value::Bool(want), "{mode:?}");
    }

    // Without our CA, nothing verifies (the system store does not know it).
    // SAFETY: only this test reads PGSSLROOTCERT (the others do not verify certificates).
    unsafe { std::env::set_var("PGSSLROOTCERT", "/nonexistent/root.crt") };
    let msg = unreachable_msg(with_mode(SslMode::VerifyCa, "127.0.0.1").test().await);
    assert!(msg.contains("root certificates"), "{msg}");
    // SAFETY: as above.
    unsafe { std::env::remove_var("PGSSLROOTCERT") };
    let msg = unreachable_msg(with_mode(SslMode::VerifyFull, "localhost").test().await);
    assert!(msg.contains("localhost:"), "{msg}");

    // SAFETY: as above.
    unsafe { std::env::set_var("PGSSLROOTCERT", cluster.ca_cert()) };
    // The certificate names localhost: verify-ca ignores the name, verify-full does not.
    let rs = ok(&with_mode(SslMode::VerifyCa, "127.0.0.1"), ssl_sql, 1).await;
    assert_eq!(rs.rows[0][0], Value::Bool(true));
    let rs = ok(&with_mode(SslMode::VerifyFull, "localhost"), ssl_sql, 1).await;
    assert_eq!(rs.rows[0][0], Value::Bool(true));
    let msg = unreachable_msg(with_mode(SslMode::VerifyFull, "127.0.0.1").test().await);
    assert!(msg.contains("127.0.0.1:"), "{msg}");
    assert!(msg.to_lowercase().contains("certificate"), "{msg}");
    // SAFETY: as above.
    unsafe { std::env::remove_var("PGSSLROOTCERT") };
}

#[tokio::test]
async fn prefer_falls_back_when_the_server_has_no_tls() {
    let cluster = Cluster::start();
    let ssl_sql = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()";
    let mut spec = cluster.pg_connection("postgres", pg::SUPERUSER);
    let rs = ok(
        &connector(spec.clone(), Some(cluster.superuser_password())),
        ssl_sql,
        1,
    )
    .await;
    assert_eq!(rs.rows[0][0], Value::Bool(false));
    spec.sslmode = SslMode::Require;
    let msg = unreachable_msg(
        connector(spec, Some(cluster.superuser_password()))
            .test()
            .await,
    );
    assert!(msg.contains("does not support TLS"), "{msg}");
}

/// A statement sent to the connector as is, past the guard: what the connector must stand
/// on its own against.
fn raw(sql: &str, limit: usize) -> Guarded {
    Guarded {
        executed_sql: sql.to_string(),
        limit,
        calls: Default::default(),
        positions: Default::default(),
    }
}
