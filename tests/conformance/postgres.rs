//! PostgreSQL for the conformance suite: one database on the binary's throwaway cluster
//! holds the standard dataset; sources log in as the cluster's superuser, so what keeps
//! hostile SQL out is tdb and not the server's permissions.

use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};

use super::suite::{Fixture, NUMBERS, SAMPLES, Secret, Table, Unreachable, unreachable_server};
use crate::common::pg;

pub struct Postgres {
    db: &'static str,
    /// Paths hostile SQL names for the server to write; none may appear.
    traps: [PathBuf; 2],
}

/// The dataset's database, created once per test binary.
fn database() -> &'static str {
    static DB: OnceLock<String> = OnceLock::new();
    DB.get_or_init(|| {
        let c = pg::shared();
        let db = pg::unique("conformance");
        c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
        let rows: Vec<String> = SAMPLES
            .iter()
            .map(|s| {
                let note = s.note.map_or("NULL".to_string(), dollar_quoted);
                format!("({}, {}, {note})", s.id, dollar_quoted(s.label))
            })
            .collect();
        c.psql(
            &db,
            &format!(
                "CREATE TABLE samples (id integer PRIMARY KEY, label text NOT NULL, note text);
                 INSERT INTO samples VALUES {};
                 CREATE TABLE numbers AS SELECT g AS n FROM generate_series(1, {NUMBERS}) g;",
                rows.join(", ")
            ),
        );
        db
    })
}

/// Any text but NUL as a literal, with nothing inside it read as an escape.
fn dollar_quoted(s: &str) -> String {
    assert!(!s.contains("$tdb$") && !s.contains('\0'));
    format!("$tdb${s}$tdb$")
}

impl Postgres {
    fn psql(&self, sql: &str) -> String {
        pg::shared().psql(self.db, sql).trim().to_string()
    }
}

impl Fixture for Postgres {
    const KIND: &'static str = "postgres";

    fn create() -> Self {
        let tmp = std::env::temp_dir();
        Postgres {
            db: database(),
            traps: [
                tmp.join(pg::unique("tdb_conformance_copy")),
                tmp.join(pg::unique("tdb_conformance_program")),
            ],
        }
    }

    fn connection(&self, table: Table) -> Value {
        let c = pg::shared();
        let mut conn = c.connection_json(self.db, pg::SUPERUSER, c.superuser_password());
        conn["table"] = json!(table.name());
        conn["statement_timeout_s"] = json!(300);
        conn
    }

    fn secret(&self) -> Option<Secret> {
        Some(Secret {
            key: "password",
            value: pg::shared().superuser_password().to_string(),
        })
    }

    fn whole_database(&self) -> Option<Value> {
        let c = pg::shared();
        Some(c.connection_json(self.db, pg::SUPERUSER, c.superuser_password()))
    }

    fn sample_types(&self) -> [&'static str; 3] {
        ["integer", "text", "text"]
    }

    fn empty_string(&self) -> Value {
        json!("")
    }

    fn slow_sql(&self, marker: &str) -> String {
        format!("SELECT pg_sleep(120) AS slept, '{marker}' AS marker")
    }

    fn running(&self, marker: &str) -> Option<usize> {
        let n = self.psql(&format!(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE pid <> pg_backend_pid() AND query LIKE '%{marker}%'"
        ));
        Some(n.parse().unwrap())
    }

    fn has_statement_timeout(&self) -> bool {
        true
    }

    fn unreachable(&self, add: &mut dyn FnMut(Value)) -> Unreachable {
        unreachable_server(add)
    }

    fn hostile(&self) -> Vec<String> {
        let [copy, program] = &self.traps;
        let mut v: Vec<String> = [
            "TRUNCATE samples",
            "MERGE INTO samples t USING (SELECT 1 AS id) s ON t.id = s.id WHEN MATCHED THEN DELETE",
            "GRANT ALL ON samples TO PUBLIC",
            "ALTER SYSTEM SET work_mem = '1GB'",
            "SELECT * INTO newtable FROM samples",
            "SELECT * FROM samples FOR UPDATE",
            "SELECT * FROM samples FOR SHARE",
            "SET statement_timeout = 0",
            "RESET ALL",
            "SET TRANSACTION READ WRITE; DELETE FROM samples",
            "DO $$ BEGIN DELETE FROM samples; END $$",
            "PREPARE p AS DELETE FROM samples",
            "EXPLAIN ANALYZE DELETE FROM samples",
            "VACUUM samples",
            "LISTEN ch",
            "SELECT set_config('default_transaction_read_only', 'off', false)",
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity",
            "SELECT * FROM pg_catalog.pg_terminate_backend(1)",
            "SELECT x.* FROM samples, LATERAL (SELECT pg_advisory_lock(samples.id)) x",
            "SELECT lo_import('/etc/passwd')",
            "SELECT pg_read_file('/etc/passwd')",
            "SELECT * FROM pg_ls_dir('.')",
            "SELECT * FROM pg_create_physical_replication_slot('evil')",
            "SELECT pg_notify('ch', 'x')",
            "SELECT pg_reload_conf()",
            "SELECT query_to_xml('delete from samples', true, true, '')",
            "SELECT dblink_exec('dbname=postgres', 'drop table samples')",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push(format!("COPY samples TO '{}'", copy.display()));
        v.push(format!(
            "COPY (SELECT 1) TO PROGRAM 'touch {}'",
            program.display()
        ));
        v
    }

    fn state(&self) -> Vec<String> {
        let mut s: Vec<String> = [
            "SELECT string_agg(n.nspname || '.' || c.relname || ':' || c.relkind::text, ',' ORDER BY 1)
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')",
            "SELECT md5(string_agg(s::text, '|' ORDER BY id)) FROM samples s",
            "SELECT count(*) || '/' || sum(n) FROM numbers",
            "SELECT string_agg(attname, ',' ORDER BY attnum) FROM pg_attribute
             WHERE attrelid = 'samples'::regclass AND attnum > 0 AND NOT attisdropped",
            "SELECT count(*) FROM pg_largeobject_metadata",
            "SELECT count(*) FROM pg_replication_slots",
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
            "SELECT count(*) FROM pg_file_settings WHERE sourcefile LIKE '%auto.conf'",
            "SELECT count(*) FROM pg_prepared_xacts",
            "SELECT coalesce(string_agg(grantee, ','), '') FROM information_schema.role_table_grants
             WHERE table_name = 'samples' AND grantee = 'PUBLIC'",
        ]
        .iter()
        .map(|q| self.psql(q))
        .collect();
        for t in &self.traps {
            s.push(format!("{} exists: {}", t.display(), t.exists()));
        }
        s
    }
}
