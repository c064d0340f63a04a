//! "The same as the engine" as a tested property: a table of awkward values of the built-in
//! type families goes through `tdb query --csv`, `--tsv` and `--json`, and each cell is
//! compared with what `psql --csv` prints for the same query on the same server.
//!
//! The documented differences (README, "Values"), undone here before comparing and nothing
//! else: timestamps are ISO 8601 with a `T` (psql writes a space); booleans are `true` /
//! `false` (psql writes `t` / `f`); and CSV writes the empty string as `""` where psql's
//! `--csv` writes it as empty as NULL (tdb follows `COPY … CSV` so the two stay apart); a
//! timestamptz in a UTC session ends in `Z` (psql: `+00`), elsewhere in `±HH:MM` (psql drops
//! `:00` minutes). The same table runs in a UTC session and in one whose TimeZone is
//! Asia/Kolkata.

mod common;

use std::process::Command;

use common::pg;
use common::process::{add_postgres_source, tdb};
use serde_json::{Value, json};

/// Each row: a label and an expression of one type family.
const CASES: &[(&str, &str)] = &[
    ("int", "(-2147483648)::int4"),
    ("bigint", "9223372036854775807::int8"),
    ("smallint", "(-32768)::int2"),
    ("numeric", "12345678901234567890.000000000100::numeric"),
    ("numeric_nan", "'NaN'::numeric"),
    ("float_big", "1.7976931348623157e308::float8"),
    ("float_tiny", "1e-30::float8"),
    ("float_small", "0.00001::float8"),
    ("float_neg_zero", "'-0'::float8"),
    ("float_inf", "'-Infinity'::float8"),
    ("real", "1.1::float4"),
    // float4out switches to an exponent past six digits, float8out past fifteen.
    ("real_1e5", "1e5::float4"),
    ("real_1e6", "1e6::float4"),
    ("real_digits", "1234567::float4"),
    ("real_1e7", "1e7::float4"),
    ("real_1e15", "1e15::float4"),
    ("real_1e16", "1e16::float4"),
    ("real_1e_4", "1e-4::float4"),
    ("real_1e_5", "1e-5::float4"),
    ("real_max", "3.4028235e38::float4"),
    ("real_nan", "'NaN'::float4"),
    ("real_inf", "'Infinity'::float4"),
    ("real_neg_inf", "'-Infinity'::float4"),
    ("real_neg_zero", "'-0'::float4"),
    ("real_array", "ARRAY[1e7, 0.5]::float4[]"),
    ("bool", "true"),
    ("text_empty", "''::text"),
    ("text_quotes", "'say \"hi\", then go'::text"),
    ("text_newline", "E'two\\nlines'::text"),
    ("text_unicode", "'Grace 山田 ✓'::text"),
    ("varchar", "'abc'::varchar(10)"),
    ("char", "'ab'::char(4)"),
    ("bytea", "'\\xdeadbeef'::bytea"),
    ("uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"),
    (
        "json",
        "'{\"big\": 12345678901234567890123, \"p\": 1.10, \"p\": 2}'::json",
    ),
    ("jsonb", "'{\"b\": 1.0e2, \"a\": [1, 2.50]}'::jsonb"),
    ("json_null", "'null'::jsonb"),
    ("json_sql_null", "NULL::jsonb"),
    ("json_string", "'\"null\"'::json"),
    ("json_number", "'1.10'::json"),
    ("date", "'2024-02-29'::date"),
    ("date_bc", "'2000-01-01 BC'::date"),
    ("date_far", "'10000-01-01'::date"),
    ("time", "'23:59:59.123456'::time"),
    ("timestamp", "'2024-03-31 00:00:00.5'::timestamp"),
    ("interval", "'1 year 2 mons 3 days 04:05:06'::interval"),
    ("inet", "'192.168.0.1/24'::inet"),
    ("money", "12.34::money"),
    ("int_array", "ARRAY[1, NULL, 3]"),
    ("text_array", "ARRAY['a b', '', NULL, 'x,y']::text[]"),
    ("range", "int4range(1, 10)"),
    ("point", "point(1.5, 2)"),
    ("enum_like_oid", "'pg_class'::regclass::oid"),
    ("null", "NULL::text"),
    ("timestamptz", "'2024-03-30 18:30:00+00'::timestamptz"),
    (
        "timestamptz_array",
        "ARRAY['2024-03-30 18:30:00+00', '2024-07-01 00:00:00.25+00']::timestamptz[]",
    ),
    (
        "aclitem",
        "format('{%s=r/%s}', current_user, current_user)::aclitem[]",
    ),
    (
        "node_tree",
        "(SELECT ev_action FROM pg_rewrite ORDER BY oid LIMIT 1)",
    ),
    (
        "anyarray",
        "(SELECT histogram_bounds FROM pg_stats WHERE tablename = 'h' AND attname = 'v')",
    ),
];

fn select() -> String {
    let cols: Vec<String> = CASES
        .iter()
        .map(|(label, expr)| format!("{expr} AS {label}"))
        .collect();
    format!("SELECT {}", cols.join(", "))
}

/// One CSV record's fields, with psql's distinction kept: `None` is an empty unquoted field
/// (NULL), `Some("")` a quoted empty one.
fn csv_fields(line: &str) -> Vec<Option<String>> {
    let mut out = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        let mut field = String::new();
        let quoted = chars.peek() == Some(&'"');
        if quoted {
            chars.next();
            while let Some(c) = chars.next() {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        break;
                    }
                } else {
                    field.push(c);
                }
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c == ',' {
                    break;
                }
                field.push(c);
                chars.next();
            }
        }
        out.push(if quoted || !field.is_empty() {
            Some(field)
        } else {
            None
        });
        match chars.next() {
            Some(',') => continue,
            _ => break,
        }
    }
    out
}

/// The documented differences undone.
fn normalise(label: &str, v: Option<String>) -> Option<String> {
    match (label, v) {
        ("timestamp", Some(t)) => Some(t.replacen('T', " ", 1)),
        ("timestamptz", Some(t)) => Some(psql_zone(&t.replacen('T', " ", 1))),
        // psql quotes elements holding the space that tdb's `T` replaces.
        ("timestamptz_array", Some(t)) => {
            let t = t.replace('"', "");
            let inner = t.trim_start_matches('{').trim_end_matches('}');
            let items: Vec<String> = inner
                .split(',')
                .map(|e| psql_zone(&e.replacen('T', " ", 1)))
                .collect();
            Some(format!("{{{}}}", items.join(",")))
        }
        ("bool", Some(b)) if b == "true" => Some("t".into()),
        ("bool", Some(b)) if b == "false" => Some("f".into()),
        (_, Some(e)) if e.is_empty() => None,
        (_, v) => v,
    }
}

/// `…Z` as `…+00`, `+05:30` kept, `-03:00` as `-03`: psql's spelling of an offset.
fn psql_zone(t: &str) -> String {
    let t = match t.strip_suffix('Z') {
        Some(body) => format!("{body}+00"),
        None => t.to_string(),
    };
    match t.strip_suffix(":00") {
        // Only an offset's minutes: the time's own seconds come before it.
        Some(body) if body.rfind(['+', '-']).is_some_and(|i| i + 3 == body.len()) => {
            body.to_string()
        }
        _ => t,
    }
}

#[test]
fn every_cell_is_what_psql_prints_in_utc() {
    every_cell_is_what_psql_prints("UTC");
}

#[test]
fn every_cell_is_what_psql_prints_in_kolkata() {
    every_cell_is_what_psql_prints("Asia/Kolkata");
}

fn every_cell_is_what_psql_prints(zone: &str) {
    let c = pg::shared();
    let db = pg::unique("fidelity");
    c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
    c.psql(
        "postgres",
        &format!("ALTER DATABASE \"{db}\" SET timezone = '{zone}'"),
    );
    c.psql(
        &db,
        "CREATE TABLE h (v int); INSERT INTO h SELECT g % 7 FROM generate_series(1, 1000) g; ANALYZE h;",
    );
    let home = tempfile::tempdir().unwrap();
    let home = home.path().join("home");
    add_postgres_source(
        &home,
        "f",
        c.connection_json(&db, pg::SUPERUSER, c.superuser_password()),
    );
    let sql = select();

    let psql = Command::new(c.bin_path("psql"))
        .arg(c.superuser_url(&db))
        .args(["-X", "-q", "--csv", "-c", &sql])
        .output()
        .unwrap();
    assert!(
        psql.status.success(),
        "{}",
        String::from_utf8_lossy(&psql.stderr)
    );
    let psql_text = String::from_utf8(psql.stdout).unwrap();
    // Fields hold no newline but text_newline's, which psql quotes: split records by hand.
    let psql_row = csv_fields(psql_text.split_once('\n').unwrap().1.trim_end_matches('\n'));

    let ours = tdb(&home)
        .args(["query", "--source", "f", "--sql", &sql, "--csv"])
        .output()
        .unwrap();
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let ours_text = String::from_utf8(ours.stdout).unwrap();
    let ours_row = csv_fields(ours_text.split_once('\n').unwrap().1.trim_end_matches('\n'));

    assert_eq!(psql_row.len(), CASES.len());
    assert_eq!(ours_row.len(), CASES.len());
    let mut differences = Vec::new();
    for (i, (label, _)) in CASES.iter().enumerate() {
        let theirs = normalise(label, psql_row[i].clone());
        let mine = normalise(label, ours_row[i].clone());
        if theirs != mine {
            differences.push(format!("{label}: psql {theirs:?}, tdb {mine:?}"));
        }
    }
    assert!(
        differences.is_empty(),
        "differences:\n{}",
        differences.join("\n")
    );

    // --json embeds JSON raw, keeps NULL apart and numbers exact.
    let out = tdb(&home)
        .args(["query", "--source", "f", "--sql", &sql, "--json"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(r#""json":{"big": 12345678901234567890123, "p": 1.10, "p": 2}"#),
        "{text}"
    );
    assert!(
        text.contains(r#""jsonb":{"a": [1, 2.50], "b": 100}"#),
        "{text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    let row = &v["rows"][0];
    assert_eq!(row["null"], Value::Null);
    // A JSON null is not SQL NULL: it reads as the string "null"; other scalars are the
    // server's text, raw (the digits of 1.10 untouched).
    assert_eq!(row["json_null"], json!("null"));
    assert_eq!(row["json_sql_null"], Value::Null);
    assert_eq!(row["json_string"], json!("null"));
    assert!(text.contains(r#""json_number":1.10"#), "{text}");
    assert_eq!(row["real_1e7"], json!(1e7));
    assert_eq!(row["real_nan"], json!("NaN"));
    assert_eq!(row["bigint"], json!(9223372036854775807_i64));
    assert_eq!(row["numeric"], json!("12345678901234567890.000000000100"));
    assert_eq!(row["date_bc"], json!("2000-01-01 BC"));

    // --tsv keeps NULL (\N) apart from the empty string.
    let out = tdb(&home)
        .args([
            "query",
            "--source",
            "f",
            "--sql",
            "SELECT NULL::text AS a, '' AS b",
            "--tsv",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a\tb\n\\N\t\n");
}
