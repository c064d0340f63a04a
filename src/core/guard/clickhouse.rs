//! ClickHouse's policy: what its table functions and functions may reach. Under the
//! connector's `readonly=1` the server itself refuses writes, `SET` and `SETTINGS`; what
//! `readonly` does not stop is reading from elsewhere: other servers (`remote`, `cluster`),
//! URLs, files, object stores and external databases, or running programs (`executable`).

use super::DeniedFamily;

/// The table functions a query may read from, all inside the server. Any other table
/// function is refused, so one a newer server adds is refused until it is judged here.
pub const TABLE_FUNCTIONS: &[&str] = &[
    "numbers",
    "numbers_mt",
    "zeros",
    "zeros_mt",
    "generaterandom",
    "values",
    "merge",
    "null",
];

/// Names refused wherever they appear, as table functions or calls.
pub const CLICKHOUSE_DENIED: &[DeniedFamily] = &[
    DeniedFamily {
        family: "other servers",
        functions: &["remote", "remotesecure", "cluster", "clusterallreplicas"],
    },
    DeniedFamily {
        family: "files, URLs and object stores",
        functions: &[
            "url",
            "urlcluster",
            "file",
            "filecluster",
            "s3",
            "s3cluster",
            "gcs",
            "cosn",
            "oss",
            "hdfs",
            "hdfscluster",
            "azureblobstorage*",
            "iceberg*",
            "deltalake*",
            "hudi*",
            "input",
            "format",
        ],
    },
    DeniedFamily {
        family: "external databases",
        functions: &[
            "mysql",
            "postgresql",
            "sqlite",
            "mongodb",
            "redis",
            "jdbc",
            "odbc",
            "catboostpool",
        ],
    },
    DeniedFamily {
        family: "programs and dictionary loaders",
        functions: &["executable", "executablepool", "dictionary", "shardbyhash"],
    },
];

/// Whether `name` (a table function) is one queries may read from.
pub fn allowed_table_function(name: &str) -> bool {
    TABLE_FUNCTIONS.contains(&name.to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::super::{Dialect, GuardPolicy, TableName, guard};
    use super::CLICKHOUSE_DENIED;

    const CH: GuardPolicy = GuardPolicy {
        dialect: Dialect::ClickHouse,
        denied: CLICKHOUSE_DENIED,
    };

    fn hits() -> TableName {
        TableName {
            schema: None,
            name: "hits".into(),
        }
    }

    fn refused(sql: &str) -> String {
        match guard(sql, &CH, Some(&hits()), 100) {
            Ok(g) => panic!("accepted {sql}: {}", g.executed_sql),
            Err(e) => {
                assert_eq!(e.exit_code(), 10, "{sql}: {e}");
                e.to_string()
            }
        }
    }

    fn accepted(sql: &str) -> String {
        match guard(sql, &CH, Some(&hits()), 100) {
            Ok(g) => g.executed_sql,
            Err(e) => panic!("refused {sql}: {e}"),
        }
    }

    #[test]
    fn table_functions_outside_the_server_are_refused() {
        for sql in [
            "SELECT * FROM url('http://x/', CSV, 'a String')",
            "SELECT * FROM file('/etc/passwd', CSV, 'a String')",
            "SELECT * FROM remote('h', system.one)",
            "SELECT * FROM remoteSecure('h', system.one)",
            "SELECT * FROM cluster('c', system.one)",
            "SELECT * FROM clusterAllReplicas('c', system.one)",
            "SELECT * FROM s3('http://x/b', 'CSV', 'a String')",
            "SELECT * FROM hdfs('hdfs://x/y', 'CSV', 'a String')",
            "SELECT * FROM mysql('h:3306', 'd', 't', 'u', 'p')",
            "SELECT * FROM postgresql('h:5432', 'd', 't', 'u', 'p')",
            "SELECT * FROM jdbc('x', 'y')",
            "SELECT * FROM odbc('x', 'y')",
            "SELECT * FROM executable('cat', 'CSV', 'a String')",
            "SELECT * FROM input('a String')",
            "SELECT * FROM dictionary('d')",
            "SELECT * FROM someNewFunction(1)",
            "SELECT * FROM db.numbers(3)",
            "SELECT * FROM data WHERE id IN (SELECT a FROM url('http://x/', CSV, 'a String'))",
            "WITH x AS (SELECT * FROM remote('h', system.one)) SELECT * FROM x",
        ] {
            let e = refused(sql);
            assert!(e.contains("table function"), "{sql}: {e}");
        }
        // As calls too, wherever they are.
        let e = refused("SELECT url('http://x/')");
        assert!(e.contains("files, URLs"), "{e}");
    }

    #[test]
    fn settings_outfile_and_formats_are_refused() {
        for sql in [
            "SELECT 1 SETTINGS readonly = 0",
            "SELECT 1 SETTINGS max_execution_time = 0",
            "SELECT * FROM data INTO OUTFILE '/tmp/x'",
            "SELECT 1 FORMAT JSON",
            "INSERT INTO hits VALUES (1)",
            "ALTER TABLE hits DELETE WHERE 1",
            "SET readonly = 0",
            "SELECT 1; SELECT 2",
        ] {
            refused(sql);
        }
    }

    #[test]
    fn clickhouse_syntax_is_accepted() {
        // sqlparser reads FINAL as an alias; the server reads the modifier it is.
        assert_eq!(
            accepted("SELECT * FROM data FINAL"),
            "SELECT * FROM \"hits\" FINAL LIMIT 101"
        );
        accepted("SELECT * FROM numbers(10)");
        accepted("SELECT * FROM data SAMPLE 1/10");
        accepted("SELECT id, a FROM data ARRAY JOIN tags AS a");
        accepted("SELECT k, count() FROM data GROUP BY k WITH TOTALS");
        accepted("SELECT arrayMap(x -> x * 2, tags) FROM data");
        // Read as the user's own limit: the connector still reads at most limit + 1 rows.
        assert_eq!(
            accepted("SELECT id FROM data LIMIT 1 BY k"),
            "SELECT id FROM \"hits\" AS data LIMIT 1 BY k"
        );
        accepted("DESCRIBE data");
        accepted("SHOW TABLES");
    }
}
