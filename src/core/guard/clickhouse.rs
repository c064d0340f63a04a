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
