//! MariaDB for the conformance suite: one database on the binary's throwaway server holds
//! the standard dataset; sources log in as a user with every privilege WITH GRANT OPTION,
//! so what keeps hostile SQL out is tdb and not the server's permissions.

use std::sync::OnceLock;

use serde_json::{Value, json};

use super::suite::{Fixture, NUMBERS, SAMPLES, Secret, Table, Unreachable, unreachable_server};
use crate::common::mariadb;

pub struct MariaDb {
    db: &'static str,
    /// Where the server may write files (`secure_file_priv`): hostile SQL aims there.
    files: String,
}

/// A string literal of any text, as bytes the server converts: nothing in it is read as
/// quoting or an escape.
pub fn literal(s: &str) -> String {
    if s.is_empty() {
        "''".into()
    } else {
        let hex: String = s.bytes().map(|b| format!("{b:02x}")).collect();
        format!("CONVERT(X'{hex}' USING utf8mb4)")
    }
}

/// The dataset's database, created once per test binary.
fn database() -> &'static str {
    static DB: OnceLock<String> = OnceLock::new();
    DB.get_or_init(|| {
        let s = mariadb::shared();
        let db = mariadb::unique("conformance");
        s.create_database(&db);
        let rows: Vec<String> = SAMPLES
            .iter()
            .map(|r| {
                let note = r.note.map_or("NULL".to_string(), literal);
                format!("({}, {}, {note})", r.id, literal(r.label))
            })
            .collect();
        s.sql(
            &db,
            &format!(
                "CREATE TABLE samples (id int PRIMARY KEY, label text NOT NULL, note text)
                   DEFAULT CHARSET utf8mb4;
                 INSERT INTO samples VALUES {};
                 CREATE TABLE numbers (n int);
                 INSERT INTO numbers SELECT seq FROM seq_1_to_{NUMBERS};",
                rows.join(", ")
            ),
        );
        db
    })
}

impl MariaDb {
    fn value(&self, sql: &str) -> String {
        mariadb::shared().value(self.db, sql)
    }
}

impl Fixture for MariaDb {
    const KIND: &'static str = "mariadb";

    fn create() -> Self {
        let db = database();
        let files = mariadb::shared().value(db, "SELECT @@secure_file_priv");
        MariaDb { db, files }
    }

    fn connection(&self, table: Table) -> Value {
        let mut conn = self.whole_connection();
        conn["table"] = json!(table.name());
        conn
    }

    fn secret(&self) -> Option<Secret> {
        Some(Secret {
            key: "password",
            value: mariadb::shared().root_password().to_string(),
        })
    }

    fn whole_database(&self) -> Option<Value> {
        Some(self.whole_connection())
    }

    fn sample_types(&self) -> [&'static str; 3] {
        ["int(11)", "text", "text"]
    }

    fn empty_string(&self) -> Value {
        json!("")
    }

    fn slow_sql(&self, marker: &str) -> String {
        format!("SELECT SLEEP(120) AS slept, '{marker}' AS marker")
    }

    fn running(&self, marker: &str) -> Option<usize> {
        let n = self.value(&format!(
            "SELECT COUNT(*) FROM information_schema.PROCESSLIST \
             WHERE ID <> CONNECTION_ID() AND INFO LIKE '%{marker}%'"
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
        mysql_hostile(&self.files)
    }

    fn quoted(name: &str) -> String {
        format!("`{name}`")
    }

    fn state(&self) -> Vec<String> {
        let mut s: Vec<String> = [
            "SELECT GROUP_CONCAT(CONCAT(TABLE_NAME, ':', TABLE_TYPE, ':', ENGINE) ORDER BY 1)
               FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()",
            "CHECKSUM TABLE samples, numbers",
            "SELECT CONCAT(COUNT(*), '/', SUM(n)) FROM numbers",
            "SELECT GROUP_CONCAT(COLUMN_NAME ORDER BY ORDINAL_POSITION) FROM information_schema.COLUMNS
               WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'samples'",
            "SELECT COUNT(*) FROM mysql.user",
            "SELECT COUNT(*) FROM information_schema.ROUTINES",
            "SELECT COALESCE(IS_USED_LOCK('tdb'), 'free')",
            "SELECT @@global.read_only, @@global.max_statement_time, @@global.general_log",
        ]
        .iter()
        .map(|q| self.value(q))
        .collect();
        let mut files: Vec<String> = std::fs::read_dir(&self.files)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        s.push(format!("files in {}: {files:?}", self.files));
        s
    }
}

impl MariaDb {
    fn whole_connection(&self) -> Value {
        let s = mariadb::shared();
        let mut conn = s.connection_json(self.db, mariadb::ROOT_USER, s.root_password());
        conn["statement_timeout_s"] = json!(300);
        conn
    }
}

/// Statements MySQL's dialect has for writing, locking, files and session state, aimed at
/// `files` where they name a path; `data` is `samples`.
pub fn mysql_hostile(files: &str) -> Vec<String> {
    let f = files.trim_end_matches('/');
    let mut v: Vec<String> = [
        "REPLACE INTO data (id, label) VALUES (1, 'x')",
        "INSERT INTO data (id, label) VALUES (1, 'x') ON DUPLICATE KEY UPDATE label = 'x'",
        "TRUNCATE data",
        "RENAME TABLE samples TO gone",
        "GRANT ALL ON *.* TO 'evil'@'%' IDENTIFIED BY 'x'",
        "CREATE USER evil IDENTIFIED BY 'x'",
        "CREATE TEMPORARY TABLE evil (x int)",
        "CREATE FUNCTION evil() RETURNS int RETURN 1",
        "FLUSH TABLES",
        "SET @a = 1",
        "SET GLOBAL read_only = 0",
        "SET SESSION max_statement_time = 0",
        "SET STATEMENT max_statement_time = 0 FOR SELECT SLEEP(5)",
        "SET TRANSACTION READ WRITE",
        "SELECT @a := 1",
        "SELECT id, @n := id FROM data",
        "SELECT 1 INTO @v",
        "DO SLEEP(1)",
        "HANDLER samples OPEN",
        "LOCK TABLES samples READ",
        "CALL mysql.evil()",
        "SELECT * FROM data FOR UPDATE",
        "SELECT * FROM data LOCK IN SHARE MODE",
        "SELECT * FROM data FOR SHARE",
        "SELECT LOAD_FILE('/etc/passwd')",
        "SELECT GET_LOCK('tdb', 1)",
        "SELECT RELEASE_ALL_LOCKS()",
        "SELECT BENCHMARK(100000000, MD5('x'))",
        "SELECT MASTER_POS_WAIT('log', 1)",
        "SELECT /*!50000 1; DELETE FROM samples */",
        "SELECT 1 /*M! ; DELETE FROM samples */",
        "PREPARE s FROM 'DELETE FROM samples'",
        "XA START 'evil'",
        "KILL 1",
        "SHUTDOWN",
        "INSTALL SONAME 'ha_blackhole'",
        "START TRANSACTION READ WRITE",
        "SAVEPOINT s",
        "ANALYZE TABLE samples",
        "OPTIMIZE TABLE samples",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.push(format!("SELECT * FROM data INTO OUTFILE '{f}/out.txt'"));
    v.push(format!(
        "SELECT label FROM data LIMIT 1 INTO DUMPFILE '{f}/dump.bin'"
    ));
    v.push(format!("LOAD DATA INFILE '{f}/in.txt' INTO TABLE samples"));
    v.push(format!(
        "SELECT * FROM (SELECT 1) x UNION SELECT 2 INTO OUTFILE '{f}/union.txt'"
    ));
    v
}
