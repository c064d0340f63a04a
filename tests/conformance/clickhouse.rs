//! ClickHouse for the conformance suite: the `default` database of the binary's throwaway
//! server holds the standard dataset; sources log in as `default`, which may write, so what
//! keeps hostile SQL out is tdb (the guard and `readonly=1`), not the server's grants.

use std::sync::OnceLock;

use serde_json::{Value, json};

use super::suite::{Fixture, NUMBERS, SAMPLES, Secret, Table, Unreachable, unreachable_server};
use crate::common::clickhouse;

pub struct ClickHouse;

/// A string literal of any text in ClickHouse's syntax.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn dataset() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let s = clickhouse::shared();
        s.sql("CREATE TABLE samples (id Int64, label String, note Nullable(String)) ENGINE = MergeTree ORDER BY id");
        let rows: Vec<String> = SAMPLES
            .iter()
            .map(|r| {
                let note = r.note.map_or("NULL".to_string(), literal);
                format!("({}, {}, {note})", r.id, literal(r.label))
            })
            .collect();
        s.sql(&format!("INSERT INTO samples VALUES {}", rows.join(", ")));
        s.sql("CREATE TABLE numbers (n Int64) ENGINE = MergeTree ORDER BY n");
        s.sql(&format!(
            "INSERT INTO numbers SELECT number + 1 FROM system.numbers LIMIT {NUMBERS}"
        ));
    });
}

impl ClickHouse {
    fn whole_connection(&self) -> Value {
        let mut conn = clickhouse::shared().connection_json(None);
        conn["statement_timeout_s"] = json!(300);
        conn
    }

    fn value(&self, sql: &str) -> String {
        clickhouse::shared().sql(sql).trim_end().to_string()
    }
}

impl Fixture for ClickHouse {
    const KIND: &'static str = "clickhouse";

    fn create() -> Self {
        dataset();
        ClickHouse
    }

    fn connection(&self, table: Table) -> Value {
        let mut conn = self.whole_connection();
        conn["table"] = json!(table.name());
        conn
    }

    fn secret(&self) -> Option<Secret> {
        None
    }

    fn whole_database(&self) -> Option<Value> {
        Some(self.whole_connection())
    }

    fn sample_types(&self) -> [&'static str; 3] {
        ["Int64", "String", "Nullable(String)"]
    }

    fn empty_string(&self) -> Value {
        json!("")
    }

    fn slow_sql(&self, marker: &str) -> String {
        format!(
            "SELECT count() AS c, '{marker}' AS marker \
             FROM (SELECT number FROM system.numbers LIMIT 1000000000000)"
        )
    }

    fn running(&self, marker: &str) -> Option<usize> {
        let n = self.value(&format!(
            "SELECT count() FROM system.processes WHERE query LIKE '%{marker}%' \
             AND query NOT LIKE '%system.processes%'"
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
        let f = clickhouse::shared().user_files();
        let f = f.display();
        vec![
            "SELECT * FROM url('http://127.0.0.1:1/x', CSV, 'a String')".into(),
            format!("SELECT * FROM file('{f}/in.csv', CSV, 'a String')"),
            format!("SELECT * FROM data INTO OUTFILE '{f}/out.txt'"),
            "SELECT * FROM remote('127.0.0.1', default.samples)".into(),
            "SELECT * FROM cluster('test', default.samples)".into(),
            "SELECT * FROM mysql('127.0.0.1:3306', 'd', 't', 'u', 'p')".into(),
            "SELECT * FROM jdbc('x', 'y')".into(),
            "SELECT 1 SETTINGS readonly = 0".into(),
            "SELECT 1 SETTINGS max_execution_time = 0".into(),
            "SET readonly = 0".into(),
            "ALTER TABLE data DELETE WHERE 1".into(),
            "OPTIMIZE TABLE samples".into(),
            "KILL QUERY WHERE 1".into(),
            "SYSTEM SHUTDOWN".into(),
            "DETACH TABLE samples".into(),
            "RENAME TABLE samples TO gone".into(),
        ]
    }

    fn state(&self) -> Vec<String> {
        let mut s: Vec<String> = [
            "SELECT groupArray(name) FROM (SELECT name FROM system.tables \
             WHERE database = currentDatabase() ORDER BY name)",
            "SELECT count(), sum(n) FROM numbers",
            "SELECT groupArray(tuple(id, label, note)) FROM (SELECT * FROM samples ORDER BY id)",
            "SELECT groupArray(name) FROM (SELECT name FROM system.columns \
             WHERE database = currentDatabase() AND table = 'samples')",
        ]
        .iter()
        .map(|q| self.value(q))
        .collect();
        let dir = clickhouse::shared().user_files();
        let mut files: Vec<String> = std::fs::read_dir(&dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        s.push(format!("files in {}: {files:?}", dir.display()));
        s
    }

    /// 18.16's `WITH` names expressions, not subqueries.
    fn subquery_ctes(&self) -> bool {
        false
    }
}
