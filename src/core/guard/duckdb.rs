//! DuckDB's policy (the file kinds: Parquet, JSON, Excel, CSV, DuckDB databases). The engine
//! runs with external access off and its configuration locked, so a read of another path
//! fails there too; the guard refuses first, with a message that says why: table functions
//! other than the few that read inside the engine, functions that read files, URLs or other
//! databases, run SQL from a string or read the environment, and tables named by a path
//! (DuckDB's replacement scans read `FROM 'x.csv'` or `FROM "x.parquet"` as the file).

use sqlparser::ast::{Ident, ObjectName, ObjectNamePart};

use super::DeniedFamily;

/// The table functions a query may read from: generators and the engine's catalog. Any
/// other table function is refused, so one a newer engine adds is refused until judged here.
pub const TABLE_FUNCTIONS: &[&str] = &[
    "range",
    "generate_series",
    "unnest",
    "duckdb_columns",
    "duckdb_constraints",
    "duckdb_databases",
    "duckdb_functions",
    "duckdb_indexes",
    "duckdb_keywords",
    "duckdb_schemas",
    "duckdb_tables",
    "duckdb_types",
    "duckdb_views",
    "pragma_table_info",
];

/// Names refused wherever they appear, as table functions or calls.
pub const DUCKDB_DENIED: &[DeniedFamily] = &[
    DeniedFamily {
        family: "files and URLs",
        functions: &[
            "read_*",
            "parquet_*",
            "sniff_csv",
            "glob",
            "url",
            "st_read*",
            "iceberg_*",
            "delta_scan",
            "http_*",
        ],
    },
    DeniedFamily {
        family: "other databases",
        functions: &["sqlite_*", "postgres_*", "mysql_*", "attach", "detach"],
    },
    DeniedFamily {
        family: "SQL run from a string",
        functions: &["query", "query_table", "json_execute_serialized_sql"],
    },
    DeniedFamily {
        family: "the environment and secrets",
        functions: &[
            "getenv",
            "duckdb_secrets",
            "which_secret",
            "duckdb_extensions",
        ],
    },
];

/// A table named by what looks like a path: quoted with `'`, or holding `/`, `\`, `.` or
/// `:` inside one part. DuckDB reads such a name as a file when no table has it.
pub fn names_a_path(name: &ObjectName) -> Option<&Ident> {
    name.0
        .iter()
        .filter_map(ObjectNamePart::as_ident)
        .find(|i| {
            i.quote_style == Some('\'')
                || (i.quote_style.is_some() && i.value.contains(['/', '\\', '.', ':']))
        })
}
