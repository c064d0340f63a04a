//! The conformance suite: the same checks, through the real binary, for every source kind.
//!
//! A kind is done when it passes every case here. Each kind brings one fixture (a file under
//! `tests/conformance/`) that creates its engine or file with the standard dataset and knows
//! its dialect; `suite.rs` holds the cases, written once. Tests are named after their kind
//! (`postgres::cancel`, `csv::cancel`), so a failure says which kind broke and
//! `cargo test --test conformance csv::` runs one kind.
//!
//! Adding a kind: write `tests/conformance/<kind>.rs` implementing [`suite::Fixture`], add
//! `pub mod <kind>;` below, and one line to the `kinds!` invocation at the end.

mod common;

mod conformance {
    pub mod clickhouse;
    pub mod csv;
    pub mod files;
    pub mod mariadb;
    pub mod postgres;
    pub mod sqlite;
    pub mod suite;
    pub mod tdb;
}

use conformance::suite;

/// One test per case, inside a module named after the kind.
macro_rules! cases {
    ($fixture:ty: $($case:ident),+ $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::suite::$case::<$fixture>();
            }
        )+
    };
}

/// Every case of the suite for each kind. The list of cases lives here once, so a kind can
/// never skip one by accident.
macro_rules! kinds {
    ($($kind:ident => $fixture:ty),+ $(,)?) => {
        $(
            mod $kind {
                cases!($fixture:
                    registration_round_trip,
                    edit_follows_the_connection,
                    data_alias,
                    limit_and_truncated,
                    schema_shape,
                    null_and_empty_string,
                    unicode_exact,
                    escapes_sanitised,
                    cancel,
                    statement_timeout,
                    unreachable,
                    hostile_statements_refused,
                    audit_lines,
                );
            }
        )+
    };
}

kinds! {
    postgres => crate::conformance::postgres::Postgres,
    mariadb => crate::conformance::mariadb::MariaDb,
    clickhouse => crate::conformance::clickhouse::ClickHouse,
    csv => crate::conformance::csv::Csv,
    sqlite => crate::conformance::sqlite::Sqlite,
    parquet => crate::conformance::files::Files<crate::conformance::files::ParquetFiles>,
    json => crate::conformance::files::Files<crate::conformance::files::JsonFiles>,
    duckdb => crate::conformance::files::Files<crate::conformance::files::DuckDbFile>,
    excel => crate::conformance::files::Files<crate::conformance::files::ExcelBook>,
    tdb => crate::conformance::tdb::Tdb,
}
