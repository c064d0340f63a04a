//! The SQL sent is the SQL written: through the real binary against a throwaway PostgreSQL
//! cluster, the server receives the user's own text (changed only for the `data` alias and
//! the row limit), reads comments and quotes the way the guard did, and reports error
//! positions as lines and columns of what the user typed.

mod common;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::OnceLock;

use common::pg;
use common::process::{add_postgres_source, run_stdin, tdb, text};
use serde_json::{Value, json};

struct Fixture {
    home: tempfile::TempDir,
}

/// One database with `orders` (3 rows) behind the `data` alias of source `pg`.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let c = pg::shared();
        let db = pg::unique("sqltext");
        c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
        c.psql(
            &db,
            "CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2));
             INSERT INTO orders VALUES (1, 1.5), (2, 3), (3, 4.5);",
        );
        let f = Fixture {
            home: tempfile::tempdir().unwrap(),
        };
        let mut conn = c.connection_json(&db, pg::SUPERUSER, c.superuser_password());
        conn["table"] = json!("orders");
        add_postgres_source(&f.home(), "pg", conn);
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

    fn query(&self, sql: &str) -> Output {
        run_stdin(
            self.cmd()
                .args(["query", "--source", "pg", "--sql", "-", "--json"]),
            sql,
        )
    }

    fn ok(&self, sql: &str) -> Value {
        let out = self.query(sql);
        assert!(
            out.status.success(),
            "{sql:?}: exit {:?}: {}",
            out.status.code(),
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// The error detail of a query that must fail with `code`.
    fn fails(&self, sql: &str, code: i32) -> String {
        let out = self.query(sql);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{sql:?}: {}",
            text(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stderr)
            .unwrap_or_else(|_| panic!("stderr is not JSON: {}", text(&out.stderr)));
        v["error"]["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The audit line of the successful run of `sql` (tests run in parallel).
    fn audit_of(&self, sql: &str) -> Value {
        let log = std::fs::read_to_string(self.home().join("tdb_audit.jsonl")).unwrap();
        log.lines()
            .rev()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|v| v["event"] == "query" && v["sql"] == sql)
            .unwrap_or_else(|| panic!("no audit line for {sql:?}"))
    }
}

#[test]
fn the_server_receives_the_written_text_with_its_comments() {
    let f = fixture();
    let sql = "SELECT current_query() AS q, /* keep me */ count(*)\n  FROM data -- the table\n;";
    let v = f.ok(sql);
    let sent = "SELECT current_query() AS q, /* keep me */ count(*)\n  FROM \"public\".\"orders\" AS data LIMIT 101";
    assert_eq!(v["rows"][0]["q"], sent);
    assert_eq!(v["rows"][0]["count"], 3);
    assert_eq!(f.audit_of(sql)["executed_sql"], sent);
}

#[test]
fn hex_looking_numbers_mean_what_the_server_says() {
    // PostgreSQL 15 rejects `0x1F`; a re-printed tree used to send a bit string instead.
    let detail = fixture().fails("select 0x1F", 14);
    assert!(detail.contains("trailing junk"), "{detail}");
    assert!(
        detail.contains("SQLSTATE 42601, at line 1, column 8"),
        "{detail}"
    );
}

#[test]
fn error_positions_point_into_the_written_text() {
    let f = fixture();
    // The `data` alias (which grows by 21 characters) comes before the error and the added
    // LIMIT after it; the server counts from the start of the rewritten text.
    let sql = "SELECT id,\n       total\nFROM data\nWHERE nosuch > 1\nORDER BY id";
    let detail = f.fails(sql, 14);
    assert!(
        detail
            .starts_with("column \"nosuch\" does not exist (SQLSTATE 42703, at line 4, column 7)"),
        "{detail}"
    );
    // After two resolved `data`s, one aliased by the user and one not.
    let detail = f.fails(
        "SELECT a.id FROM data a JOIN data ON a.id = data.nosuch",
        14,
    );
    assert!(
        detail.contains("(SQLSTATE 42703, at line 1, column 45)"),
        "{detail}"
    );
    // Tabs and multi-byte characters count as one column each.
    let detail = f.fails("SELECT 'é',\t\tnope FROM data", 14);
    assert!(detail.contains("at line 1, column 14)"), "{detail}");
}

#[test]
fn the_hint_and_sqlstate_stay() {
    let detail = fixture().fails("SELECT id FROM data\nWHERE id = lower(1)", 14);
    assert!(
        detail.contains("(SQLSTATE 42883, at line 2, column 12)"),
        "{detail}"
    );
    assert!(detail.contains("\nHINT: "), "{detail}");
}

/// Where sqlparser and PostgreSQL could read a token differently, they must agree: the
/// number of columns the server returns is the number the guard saw.
#[test]
fn comments_and_quotes_are_read_as_the_server_reads_them() {
    let f = fixture();
    let cases: &[(&str, &[&str])] = &[
        ("SELECT 1 AS a /* /* nested */ , 2 AS b */", &["a"]),
        ("SELECT 1 AS a -- comment ends at CR\r, 2 AS b", &["a", "b"]),
        ("SELECT E'it\\'s' AS a, 'back\\' AS b", &["a", "b"]),
        ("SELECT 1 AS x$$, 2 AS y$$", &["x$$", "y$$"]),
        ("SELECT $q$ ' -- $q$ AS a, $$/*$$ AS b", &["a", "b"]),
        ("SELECT U&'d\\0061t\\+000061' AS a", &["a"]),
    ];
    for (sql, columns) in cases {
        let v = f.ok(sql);
        assert_eq!(v["columns"], json!(columns), "{sql:?}");
    }
    let v = f.ok("SELECT E'it\\'s' AS a, 'back\\' AS b, U&'d\\0061t\\+000061' AS c");
    assert_eq!(
        v["rows"][0],
        json!({"a": "it's", "b": "back\\", "c": "data"})
    );
}

#[test]
fn table_commands_and_from_only_run() {
    let f = fixture();
    let v = f.ok("table data order by id desc limit 2");
    assert_eq!(
        v["rows"],
        json!([{"id": 3, "total": "4.50"}, {"id": 2, "total": "3.00"}])
    );
    let sql = "SELECT count(*) AS n FROM ONLY data";
    let v = f.ok(sql);
    assert_eq!(v["rows"], json!([{"n": 3}]));
    assert_eq!(
        f.audit_of(sql)["executed_sql"],
        "SELECT count(*) AS n FROM ONLY \"public\".\"orders\" AS data LIMIT 101"
    );
}

#[test]
fn explain_shows_the_plan_and_show_a_setting() {
    let f = fixture();
    let v = f.ok("EXPLAIN (COSTS OFF) SELECT * FROM data WHERE id = 1");
    assert_eq!(v["columns"], json!(["QUERY PLAN"]));
    let plan: Vec<&str> = v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["QUERY PLAN"].as_str())
        .collect();
    assert!(plan.iter().any(|l| l.contains("orders")), "{plan:?}");
    // ANALYZE runs the query, still inside the read-only transaction.
    let v = f.ok("EXPLAIN ANALYZE SELECT count(*) FROM data");
    assert!(v["rows_returned"].as_u64().unwrap() > 0);
    let v = f.ok("SHOW transaction_read_only");
    assert_eq!(v["rows"], json!([{"transaction_read_only": "on"}]));
    let v = f.ok("show search_path");
    assert_eq!(v["columns"], json!(["search_path"]));
    // What EXPLAIN ANALYZE would run is checked like the query alone.
    let detail = f.fails("EXPLAIN ANALYZE SELECT pg_advisory_lock(1)", 10);
    assert!(detail.contains("(advisory locks)"), "{detail}");
    let detail = f.fails("EXPLAIN ANALYZE DELETE FROM orders", 10);
    assert_eq!(
        detail,
        "SQL validation failed: Only SELECT statements are allowed"
    );
}

#[test]
fn statements_sqlparser_cannot_parse_run_with_the_limit_and_positions_of_the_written_text() {
    let f = fixture();
    let v = f.ok("SELECT a FROM ROWS FROM (generate_series(1, 200)) AS t(a) -- all of them");
    assert_eq!(v["rows_returned"], json!(100));
    assert_eq!(v["truncated"], json!(true));
    assert_eq!(v["rows"][0], json!({"a": 1}));
    // `data` right after FROM is the source's table there too.
    let v = f.ok(
        "SELECT id, sum(id) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING \
         EXCLUDE CURRENT ROW) AS s FROM data ORDER BY id LIMIT 2",
    );
    assert_eq!(v["rows_returned"], json!(2));
    let v = f.ok("SELECT COLLATION FOR ('a'::text) AS c;");
    assert_eq!(v["rows"], json!([{"c": "\"default\""}]));
    // The wrapping subquery comes before the error: the position is still the written one.
    let detail = f.fails("SELECT COLLATION FOR ('a'),\n  nope", 14);
    assert!(
        detail.contains("(SQLSTATE 42703, at line 2, column 3)"),
        "{detail}"
    );
    // A denied function in a shape only the token check reads.
    let detail = f.fails("SELECT xmlelement(name x, pg_terminate_backend(1))", 10);
    assert!(detail.contains("pg_terminate_backend"), "{detail}");
}
