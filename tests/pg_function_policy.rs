//! The function policy against a superuser source on a real server with the contrib
//! extensions Debian's postgresql-15 ships (dblink, tablefunc, xml2, pg_surgery, pg_prewarm,
//! pg_visibility) and functions, operators and casts a superuser wrote: every statement the
//! security review got through is refused, and the server's state is checked afterwards
//! (rows, files in the data directory, the victim session alive, xid not advanced).
//! Ordinary analytical SQL and what `allow_functions` names still run.

mod common;

use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::pg;
use common::process::{add_postgres_source, error_detail, run_stdin, tdb, text};
use serde_json::{Value, json};

struct Fixture {
    db: String,
    home: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let c = pg::shared();
        let db = pg::unique("policy");
        c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
        c.psql(
            &db,
            "CREATE EXTENSION dblink; CREATE EXTENSION tablefunc; CREATE EXTENSION xml2;
             CREATE EXTENSION pg_surgery; CREATE EXTENSION pg_prewarm; CREATE EXTENSION pg_visibility;
             CREATE TABLE t (id int, v text);
             INSERT INTO t SELECT g, 'row ' || g FROM generate_series(1, 20) g;
             CREATE TABLE docs (id int, body text);
             INSERT INTO docs VALUES (1, '<doc><a>1</a></doc>');
             CREATE FUNCTION fkill(pid int) RETURNS boolean LANGUAGE sql
               AS 'SELECT pg_terminate_backend(pid)';
             CREATE FUNCTION fkill_row(r t) RETURNS boolean LANGUAGE sql
               AS 'SELECT pg_terminate_backend(r.id)';
             CREATE FUNCTION kill_op(a int, b int) RETURNS boolean LANGUAGE sql
               AS 'SELECT pg_terminate_backend(b)';
             CREATE OPERATOR ### (LEFTARG = int, RIGHTARG = int, FUNCTION = kill_op);
             CREATE OPERATOR #### (LEFTARG = int, RIGHTARG = bigint, FUNCTION = pg_terminate_backend);
             CREATE OPERATOR ~=~ (LEFTARG = int, RIGHTARG = int, FUNCTION = int4eq);",
        );
        // A cast belongs to the whole database, so it gets one of its own.
        let cast_db = pg::unique("policy_cast");
        c.psql("postgres", &format!("CREATE DATABASE \"{cast_db}\""));
        c.psql(
            &cast_db,
            "CREATE FUNCTION evil_cast(text) RETURNS int LANGUAGE sql
               AS 'SELECT pg_catalog.pg_terminate_backend(pg_catalog.int4in(pg_catalog.textout($1)))::int';
             CREATE CAST (text AS int) WITH FUNCTION evil_cast(text);",
        );
        let f = Fixture {
            db,
            home: tempfile::tempdir().unwrap(),
        };
        f.add(
            "su_cast",
            c.connection_json(&cast_db, pg::SUPERUSER, c.superuser_password()),
        );
        let conn = c.connection_json(&f.db, pg::SUPERUSER, c.superuser_password());
        f.add("su", conn.clone());
        let mut allowing = conn.clone();
        allowing["allow_functions"] = json!(["normal_rand", "dblink", "public.fkill_r*"]);
        f.add("allowing", allowing);
        let mut by_extension = conn;
        by_extension["allow_functions"] = json!(["tablefunc"]);
        f.add("by_extension", by_extension);
        f
    })
}

impl Fixture {
    fn cmd(&self) -> Command {
        tdb(&self.home.path().join("home"))
    }

    fn add(&self, name: &str, connection: Value) {
        add_postgres_source(&self.home.path().join("home"), name, connection);
    }

    fn query(&self, source: &str, sql: &str) -> Output {
        self.cmd()
            .args(["query", "--source", source, "--sql", sql, "--json"])
            .output()
            .unwrap()
    }

    fn psql(&self, sql: &str) -> String {
        pg::shared().psql(&self.db, sql).trim().to_string()
    }

    /// A session that would be killed by the hostile statements: a psql sleeping on the
    /// server. Its pid is what the statements aim at.
    fn victim(&self) -> Victim {
        let c = pg::shared();
        let tag = pg::unique("victim");
        let child = Command::new(c.bin_path("psql"))
            .arg(c.superuser_url(&self.db))
            .args([
                "-X",
                "-q",
                "-c",
                &format!("SELECT pg_sleep(120) /* {tag} */"),
            ])
            .env("PGAPPNAME", &tag)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start psql for the victim session");
        let mut victim = Victim { child, pid: 0 };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let pid = self.psql(&format!(
                "SELECT pid FROM pg_stat_activity WHERE application_name = '{tag}' AND state = 'active'"
            ));
            if let Ok(pid) = pid.parse::<i32>() {
                victim.pid = pid;
                return victim;
            }
            assert!(
                Instant::now() < deadline,
                "the victim session did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn alive(&self, pid: i32) -> bool {
        self.psql(&format!(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = {pid}"
        )) == "1"
    }

    /// The rows of `t` with their physical places, and the advisory locks held.
    fn state(&self) -> String {
        self.psql(
            "SELECT (SELECT string_agg(ctid || '=' || id || ':' || v, ',' ORDER BY id) FROM t) || '|' ||
                    (SELECT count(*) FROM pg_locks WHERE locktype = 'advisory')",
        )
    }
}

/// A psql session on the server, ended when dropped.
struct Victim {
    child: Child,
    pid: i32,
}

impl Drop for Victim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn refused(f: &Fixture, source: &str, sql: &str, fragment: &str) {
    let out = f.query(source, sql);
    assert_eq!(
        out.status.code(),
        Some(10),
        "{sql}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let d = error_detail(&out);
    assert!(
        d.starts_with("SQL validation failed: ") && d.contains(fragment),
        "{sql}: want {fragment:?} in {d:?}"
    );
}

fn rows(f: &Fixture, source: &str, sql: &str) -> Vec<Value> {
    let out = f.query(source, sql);
    assert!(
        out.status.success(),
        "{sql}: exit {:?}: {}",
        out.status.code(),
        text(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["rows"].as_array().cloned().unwrap_or_default()
}

#[test]
fn sql_text_runners_and_extension_functions_are_refused_and_change_nothing() {
    let f = fixture();
    let c = pg::shared();
    let victim = f.victim();
    let pid = victim.pid;
    let before = f.state();
    let conninfo = format!(
        "host={} port={} dbname={} user={} password={}",
        c.host(),
        c.port(),
        f.db,
        pg::SUPERUSER,
        c.superuser_password()
    );
    let cases: Vec<(String, &str)> = vec![
        (
            format!(
                "select * from crosstab($q$select 1::text,1::text,dblink_exec('{conninfo}','insert into t values (999,''x'')')$q$) as ct(a text,b text)"
            ),
            "crosstab (extension tablefunc)",
        ),
        (
            format!("select * from crosstab('select 1::text, 1::text, pg_terminate_backend({pid})::text') as ct(a text, b text)"),
            "crosstab",
        ),
        (
            format!("select * from xpath_table('id', 'body', 'docs', '/doc/a', 'pg_terminate_backend({pid})') as x(id int, a text)"),
            "xpath_table (extension xml2)",
        ),
        (
            "select * from crosstab('select pg_read_file(''PG_VERSION''), 1::text, 1::text') as ct(a text, b text)".into(),
            "crosstab",
        ),
        (
            "select * from crosstab('select 1::text, 1::text, pg_advisory_lock(1)::text') as ct(a text, b text)".into(),
            "crosstab",
        ),
        (
            "select heap_force_kill('t'::regclass, array['(0,1)']::tid[])".into(),
            "heap_force_kill (extension pg_surgery)",
        ),
        (
            "select heap_force_freeze('t'::regclass, array['(0,2)']::tid[])".into(),
            "heap_force_freeze (extension pg_surgery)",
        ),
        (
            "select pg_truncate_visibility_map('t'::regclass)".into(),
            "pg_truncate_visibility_map (extension pg_visibility)",
        ),
        (
            "select autoprewarm_dump_now()".into(),
            "autoprewarm_dump_now (extension pg_prewarm)",
        ),
        (
            "select pg_prewarm('t'::regclass)".into(),
            "pg_prewarm (extension pg_prewarm)",
        ),
        (
            format!("select fkill({pid})"),
            "function public.fkill,",
        ),
        (
            format!("select 1 ### {pid}"),
            "operator ### (function public.kill_op)",
        ),
        (
            format!("select {pid} #### 0::bigint"),
            "operator #### (function pg_catalog.pg_terminate_backend)",
        ),
        (
            "select x.fkill_row from t x".into(),
            "function public.fkill_row",
        ),
        (
            "select public.FKILL(1)".into(),
            "function public.fkill",
        ),
        (
            "select count(*) from dblink('dbname=postgres', 'select 1') as d(x int)".into(),
            "dblink",
        ),
    ];
    for (sql, fragment) in &cases {
        refused(f, "su", sql, fragment);
    }
    for sql in [
        format!("select '{pid}'::text::int"),
        format!("select CAST('{pid}'::text AS integer)"),
    ] {
        refused(
            f,
            "su_cast",
            &sql,
            "cast to integer (function public.evil_cast)",
        );
    }
    assert!(f.alive(pid), "the victim session was killed");
    assert_eq!(f.state(), before, "the server's state changed");
    assert!(
        !c.data_dir().join("autoprewarm.blocks").exists(),
        "autoprewarm_dump_now wrote its file"
    );
    drop(victim);
}

#[test]
fn transaction_ids_are_not_consumed() {
    let f = fixture();
    let before: i64 = f.psql("SELECT txid_current()").parse().unwrap();
    for sql in [
        "select txid_current()",
        "select pg_current_xact_id()",
        "select * from crosstab('select txid_current()::text, 1::text, 1::text') as ct(a text, b text)",
    ] {
        refused(f, "su", sql, "");
    }
    let after: i64 = f.psql("SELECT txid_current()").parse().unwrap();
    assert_eq!(
        after,
        before + 1,
        "tdb's statements consumed transaction ids"
    );
}

#[test]
fn ordinary_analytics_on_built_ins_still_run() {
    let f = fixture();
    let cases = [
        (
            "select count(*), sum(id), avg(id)::numeric(10,2) from t where v like 'row %'",
            1,
        ),
        (
            "select date_trunc('day', now()) = date_trunc('day', now())",
            1,
        ),
        (
            "select id, rank() over (order by id desc) from t order by id limit 3",
            3,
        ),
        (
            "select string_agg(v, ',' order by id) from t where id between 1 and 3",
            1,
        ),
        (
            "select g, g * 2, g % 3, -g, abs(-g), ceil(g / 3.0), floor(g / 3.0) from generate_series(1, 4) g",
            4,
        ),
        (
            "select '{\"a\": [1, 2]}'::jsonb -> 'a' ->> 0, jsonb_path_query_first('{\"a\":1}', '$.a')",
            1,
        ),
        (
            "select regexp_replace(v, '[0-9]+', 'n'), upper(v), length(v) from t limit 2",
            2,
        ),
        (
            "select x.id, x.v from t x where x.id in (1, 2) and x.v is distinct from 'z'",
            2,
        ),
        (
            "select '5'::int + 1, cast('2024-01-01' as date), interval '1 day', 'a' || 'b'",
            1,
        ),
        (
            "select percentile_cont(0.5) within group (order by id) from t",
            1,
        ),
        (
            "select array_agg(id) filter (where id < 3), array[1, 2] && array[2, 3] from t",
            1,
        ),
        (
            "select * from unnest(array[1, 2, 3]) with ordinality as u(v, n)",
            3,
        ),
        (
            "select case id when 1 then 'one' else 'many' end, nullif(id, 2), coalesce(null, id) from t order by id limit 2",
            2,
        ),
        ("select xpath('/doc/a/text()', body::xml) from docs", 1),
        (
            "select to_tsvector('english', v) @@ to_tsquery('english', 'row') from t limit 1",
            1,
        ),
        (
            "select current_user, current_setting('search_path') is not null",
            1,
        ),
    ];
    for (sql, n) in cases {
        assert_eq!(rows(f, "su", sql).len(), n, "{sql}");
    }
}

#[test]
fn allow_functions_lets_through_what_it_names_and_nothing_else() {
    let f = fixture();
    let victim = f.victim();
    let pid = victim.pid;
    // By name.
    assert_eq!(
        rows(
            f,
            "allowing",
            "select count(*) as n from normal_rand(5, 0, 1)"
        )[0]["n"],
        json!(5)
    );
    // An allowed extension's function the deny list covers stays refused.
    refused(
        f,
        "allowing",
        "select dblink_exec('dbname=postgres', 'select 1')",
        "dblink and foreign execution",
    );
    // The neighbours of what is named are not let through.
    refused(
        f,
        "allowing",
        "select * from crosstab('select 1::text, 1::text, 1::text') as ct(a text, b text)",
        "crosstab",
    );
    refused(
        f,
        "allowing",
        &format!("select fkill({pid})"),
        "public.fkill",
    );
    // A trailing * on a qualified name.
    let rs = rows(
        f,
        "allowing",
        "select x.fkill_row as k from t x where false",
    );
    assert!(rs.is_empty());
    // By extension: every function of tablefunc, none of the others.
    assert_eq!(
        rows(
            f,
            "by_extension",
            "select * from crosstab('select ''a''::text, ''b''::text, ''c''::text') as ct(r text, c text)"
        )
        .len(),
        1
    );
    refused(
        f,
        "by_extension",
        "select heap_force_kill('t'::regclass, array['(0,1)']::tid[])",
        "pg_surgery",
    );
    assert!(f.alive(pid));
    drop(victim);
}

#[test]
fn a_bad_allow_list_is_refused_at_registration() {
    let f = fixture();
    let c = pg::shared();
    for bad in [
        json!("postgis"),
        json!([""]),
        json!(["a.b.c"]),
        json!(["st_*x"]),
        json!([1]),
    ] {
        let mut conn = c.connection_json(&f.db, pg::SUPERUSER, c.superuser_password());
        conn["allow_functions"] = bad.clone();
        let body =
            json!({"name": pg::unique("bad"), "source_type": "postgres", "connection": conn});
        let out = run_stdin(
            f.cmd()
                .args(["source", "add", "--from-json", "-", "--json"]),
            &body.to_string(),
        );
        assert_eq!(out.status.code(), Some(10), "{bad}: {}", text(&out.stderr));
        assert!(
            error_detail(&out).contains("connection.allow_functions"),
            "{bad}"
        );
    }
}

#[test]
fn the_source_shows_its_allow_list_and_an_edit_changes_it() {
    let f = fixture();
    let c = pg::shared();
    f.add(
        "editable",
        c.connection_json(&f.db, pg::SUPERUSER, c.superuser_password()),
    );
    let crosstab = "select * from crosstab('select ''a''::text, ''b''::text, ''c''::text') as ct(r text, c text)";
    refused(f, "editable", crosstab, "tablefunc");
    let out = f
        .cmd()
        .args([
            "source",
            "edit",
            "editable",
            "--connection",
            r#"{"allow_functions":["tablefunc"]}"#,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(rows(f, "editable", crosstab).len(), 1);
    let out = f
        .cmd()
        .args(["source", "show", "allowing", "--json"])
        .output()
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["connection"]["allow_functions"],
        json!(["normal_rand", "dblink", "public.fkill_r*"])
    );
}

#[test]
fn source_test_says_what_the_role_could_change() {
    let f = fixture();
    let c = pg::shared();
    let test = |source: &str| -> Value {
        let out = f
            .cmd()
            .args(["source", "test", source, "--json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let warnings = |v: &Value| -> Vec<String> {
        v["warnings"]
            .as_array()
            .unwrap_or_else(|| panic!("no warnings list in {v}"))
            .iter()
            .map(|w| w.as_str().unwrap_or_default().to_string())
            .collect()
    };
    let su = warnings(&test("su"));
    assert_eq!(su.len(), 1, "{su:?}");
    assert!(su[0].contains("is a superuser"), "{su:?}");
    assert!(su[0].contains("pg_read_all_data"), "{su:?}");

    let writer = pg::unique("writer");
    let reader = pg::unique("reader");
    c.psql(
        &f.db,
        &format!(
            "CREATE ROLE \"{writer}\" LOGIN PASSWORD 'pw-w'; CREATE ROLE \"{reader}\" LOGIN PASSWORD 'pw-r';
             GRANT SELECT, INSERT ON t TO \"{writer}\"; GRANT pg_write_server_files TO \"{writer}\";
             GRANT pg_read_all_data TO \"{reader}\";"
        ),
    );
    for (name, role, password) in [("w", &writer, "pw-w"), ("r", &reader, "pw-r")] {
        let mut conn = c.connection_json(&f.db, role, password);
        conn["table"] = json!("t");
        f.add(name, conn);
    }
    let w = warnings(&test("w"));
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("may write server files"), "{w:?}");
    assert!(w[1].contains("may change table \"t\""), "{w:?}");
    assert!(warnings(&test("r")).is_empty());
    let human = f.cmd().args(["source", "test", "su"]).output().unwrap();
    assert!(
        text(&human.stdout).contains("warning: role"),
        "{}",
        text(&human.stdout)
    );
}
