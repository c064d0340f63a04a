//! The CSV connector against a corpus of awkward files generated here, with expected
//! answers computed independently in the test.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tdb::connector::Connector;
use tdb::connector::csv::CsvConnector;
use tdb::connector::csv::{Csv, CsvConnection};
use tdb::core::Error;
use tdb::core::guard::Guarded;
use tdb::core::progress::Progress;
use tdb::core::source::{SourceRecord, Status};
use tdb::core::value::{ResultSet, Value};
use tdb::home::Home;
use tokio_util::sync::CancellationToken;

struct Fixture {
    dir: tempfile::TempDir,
    file: PathBuf,
    conn: CsvConnector,
}

fn connector(file: &Path, home: &Path, delimiter: char, has_header: bool) -> CsvConnector {
    let spec = CsvConnection {
        path: file.to_path_buf(),
        delimiter,
        has_header,
    };
    let record = SourceRecord {
        id: "3f0c2d1e-0000-4000-8000-000000000001".into(),
        name: "t".into(),
        connection: Csv::connection(&spec).unwrap(),
        has_password: false,
        description: String::new(),
        tags: vec![],
        registered_by: "test".into(),
        registered_at: "2026-01-01T00:00:00Z".into(),
        status: Status::Active,
    };
    CsvConnector::new(&record, spec, &Home::at(home)).unwrap()
}

fn fixture_with(content: &[u8], delimiter: char, has_header: bool) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("data.csv");
    std::fs::write(&file, content).unwrap();
    let conn = connector(&file, &dir.path().join("home"), delimiter, has_header);
    Fixture { dir, file, conn }
}

fn fixture(content: &str) -> Fixture {
    fixture_with(content.as_bytes(), ',', true)
}

impl Fixture {
    async fn q(&self, sql: &str) -> Result<ResultSet, Error> {
        self.conn
            .query(&raw(sql, 1000), CancellationToken::new())
            .await
    }

    async fn rows(&self, sql: &str) -> Vec<Vec<Value>> {
        match self.q(sql).await {
            Ok(rs) => rs.rows,
            Err(e) => panic!("{sql}: {e:?}"),
        }
    }

    async fn one(&self, sql: &str) -> Value {
        self.rows(sql).await.remove(0).remove(0)
    }

    async fn types(&self) -> Vec<(String, String)> {
        self.conn
            .schema()
            .await
            .unwrap()
            .columns
            .into_iter()
            .map(|c| (c.name, c.type_name))
            .collect()
    }

    async fn err(&self) -> Error {
        self.conn
            .prepare(None, CancellationToken::new())
            .await
            .unwrap_err()
    }
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn sha(path: &Path) -> Vec<u8> {
    Sha256::digest(std::fs::read(path).unwrap()).to_vec()
}

#[tokio::test]
async fn quotes_embedded_newlines_bom_and_crlf() {
    let f = fixture_with(
        b"\xEF\xBB\xBFid,text,n\r\n1,\"a, b\",1\r\n2,\"line1\r\nline2\",2\r\n3,\"say \"\"hi\"\"\",3\r\n4,plain,4",
        ',',
        true,
    );
    assert_eq!(
        f.types().await,
        pairs(&[("id", "BIGINT"), ("text", "VARCHAR"), ("n", "BIGINT")])
    );
    assert_eq!(
        f.rows("SELECT id, text FROM data ORDER BY id").await,
        vec![
            vec![Value::Int(1), t("a, b")],
            vec![Value::Int(2), t("line1\r\nline2")],
            vec![Value::Int(3), t("say \"hi\"")],
            vec![Value::Int(4), t("plain")],
        ]
    );
}

#[tokio::test]
async fn types_are_inferred_and_come_back_typed() {
    let f = fixture(
        "i,r,b,d,ts,zip,mixed,txt,empty,money\n\
         1,1.5,true,2024-01-05,2024-01-05T10:00:00Z,02134,1,x,,1.50\n\
         -2,2,FALSE,2024-02-29,2024-01-05 11:30,12345,2.5,007,,10\n\
         ,,,,2024-01-06,,,,,\n",
    );
    assert_eq!(
        f.types().await,
        pairs(&[
            ("i", "BIGINT"),
            ("r", "DOUBLE"),
            ("b", "BOOLEAN"),
            ("d", "DATE"),
            ("ts", "TIMESTAMP WITH TIME ZONE"),
            ("zip", "VARCHAR"),
            ("mixed", "DOUBLE"),
            ("txt", "VARCHAR"),
            ("empty", "VARCHAR"),
            ("money", "DOUBLE"),
        ])
    );
    let rows = f.rows("SELECT * FROM data").await;
    let n = |s: &str| Value::Number(s.into());
    assert_eq!(
        rows[0],
        vec![
            Value::Int(1),
            n("1.5"),
            Value::Bool(true),
            t("2024-01-05"),
            t("2024-01-05 10:00:00+00"),
            t("02134"),
            n("1.0"),
            t("x"),
            Value::Null,
            n("1.5"),
        ]
    );
    assert_eq!(
        rows[1][1],
        n("2.0"),
        "an integer in a real column is a real"
    );
    assert_eq!(rows[1][2], Value::Bool(false));
    assert_eq!(
        rows[1][4],
        t("2024-01-05 11:30:00+00"),
        "a timestamp without a zone in a column with one is UTC"
    );
    assert_eq!(rows[1][7], t("007"), "leading zeros stay text");
    assert_eq!(
        rows[2][4],
        t("2024-01-06 00:00:00+00"),
        "a date in a timestamp column is its midnight"
    );
    assert!(
        rows[2]
            .iter()
            .enumerate()
            .all(|(i, v)| i == 4 || v.is_null())
    );
    // Result column types follow the columns' types.
    let rs = f.q("SELECT b, i + 1 AS j FROM data LIMIT 1").await.unwrap();
    assert_eq!(rs.columns[0].type_name, "BOOLEAN");
    assert_eq!(rs.columns[1].type_name, "BIGINT");
    // Typed comparisons, as in any typed table.
    assert_eq!(
        f.one("SELECT count(*) FROM data WHERE i = '1'").await,
        Value::Int(1)
    );
    assert_eq!(
        f.one("SELECT count(*) FROM data WHERE b").await,
        Value::Int(1)
    );
    assert_eq!(
        f.one("SELECT count(*) FROM data WHERE d < DATE '2024-02-01'")
            .await,
        Value::Int(1)
    );
}

/// Dates in any form but ISO's stay text: `03/04/2024` could be March or April.
#[tokio::test]
async fn only_iso_dates_are_dates() {
    let f = fixture(
        "us,iso
03/04/2024,2024-03-04
13/04/2024,2024-04-13
",
    );
    assert_eq!(
        f.types().await,
        pairs(&[("us", "VARCHAR"), ("iso", "DATE")])
    );
    assert_eq!(f.one("SELECT us FROM data LIMIT 1").await, t("03/04/2024"));
}

/// Far past the rows that settle types up front, a value forces a column wider than the
/// rows already stored can follow: the import starts over and loses nothing.
#[tokio::test]
async fn late_widening_keeps_every_original_text() {
    let n = 30_000;
    let mut s = String::from("id,code,price,flag,when,sparse,grows\n");
    for i in 1..=n {
        let code = if i == 25_000 {
            "N/A".to_string()
        } else {
            i.to_string()
        };
        let price = if i == 26_000 {
            "free".to_string()
        } else {
            format!("{}.50", i % 100)
        };
        let flag = if i == 27_000 {
            "maybe"
        } else if i % 2 == 0 {
            "true"
        } else {
            "false"
        };
        let when = if i == 28_000 {
            "2024-03-01T12:00"
        } else {
            "2024-03-01"
        };
        let sparse = if i > 20_000 && i % 1000 == 0 {
            i.to_string()
        } else {
            String::new()
        };
        let grows = if i == 29_000 {
            "0.25".to_string()
        } else {
            i.to_string()
        };
        s.push_str(&format!(
            "{i},{code},{price},{flag},{when},{sparse},{grows}\n"
        ));
    }
    let f = fixture(&s);
    assert_eq!(
        f.types().await,
        pairs(&[
            ("id", "BIGINT"),
            ("code", "VARCHAR"),
            ("price", "VARCHAR"),
            ("flag", "VARCHAR"),
            ("when", "TIMESTAMP"),
            ("sparse", "BIGINT"),
            ("grows", "DOUBLE"),
        ])
    );
    assert_eq!(f.one("SELECT count(*) FROM data").await, Value::Int(n));
    assert_eq!(
        f.rows("SELECT code, price, flag FROM data WHERE id IN (7, 25000, 26000) ORDER BY id")
            .await,
        vec![
            vec![t("7"), t("7.50"), t("false")],
            vec![t("N/A"), t("0.50"), t("true")],
            vec![t("26000"), t("free"), t("true")],
        ]
    );
    let expected_sparse: i64 = (21..=30).map(|k| k * 1000).sum();
    assert_eq!(
        f.one("SELECT sum(sparse) FROM data").await,
        Value::Number(expected_sparse.to_string())
    );
    assert_eq!(
        f.one("SELECT \"when\" FROM data WHERE id = 28000").await,
        t("2024-03-01 12:00:00")
    );
    let expected_grows: f64 = (1..=n)
        .filter(|&i| i != 29_000)
        .map(|i| i as f64)
        .sum::<f64>()
        + 0.25;
    match f.one("SELECT sum(grows) FROM data").await {
        Value::Number(v) => assert_eq!(v.parse::<f64>().unwrap(), expected_grows),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn empty_fields_are_null() {
    let f = fixture("a,b,c\n1,,x\n,\"\",\n");
    assert_eq!(
        f.rows("SELECT a, b, c FROM data").await,
        vec![
            vec![Value::Int(1), Value::Null, t("x")],
            vec![Value::Null, Value::Null, Value::Null],
        ]
    );
}

#[tokio::test]
async fn a_one_megabyte_field() {
    let big: String = (0..(1 << 20))
        .map(|i| (b'a' + (i % 26) as u8) as char)
        .collect();
    let f = fixture(&format!("id,blob\n1,\"{big}\"\n2,small\n"));
    let got = f.one("SELECT blob FROM data WHERE id = 1").await;
    assert_eq!(got, t(&big));
    assert_eq!(
        f.one("SELECT length(blob) FROM data WHERE id = 1").await,
        Value::Int(1 << 20)
    );
}

#[tokio::test]
async fn invalid_utf8_is_an_error_naming_line_field_and_byte() {
    let f = fixture_with(b"a,b\n1,ok\n2,caf\xE9\n", ',', true);
    let e = f.err().await;
    assert!(matches!(e, Error::QueryFailed(_)), "{e:?}");
    let msg = e.detail();
    assert!(
        msg.contains("data.csv: line 3: field 2: invalid UTF-8 (byte 0xE9"),
        "{msg}"
    );
    // A query reports the same error rather than a partial table.
    let e = f.q("SELECT * FROM data").await.unwrap_err();
    assert!(e.detail().contains("invalid UTF-8"), "{e:?}");
    // In the header too.
    let f = fixture_with(b"a,\xFFb\n1,2\n", ',', true);
    assert!(
        f.err()
            .await
            .detail()
            .contains("line 1: field 2: invalid UTF-8")
    );
}

#[tokio::test]
async fn ragged_rows_are_an_error_naming_the_line() {
    let f = fixture("a,b,c\n1,2,3\n4,5\n");
    let e = f.err().await;
    assert_eq!(e.exit_code(), 14);
    assert!(
        e.detail()
            .ends_with("data.csv: line 3: expected 3 fields (as in the header on line 1), found 2"),
        "{e:?}"
    );
    // Too many fields, after a quoted newline (the line count includes it).
    let f = fixture("a,b\n\"x\ny\",2\n1,2,3\n");
    assert!(f.err().await.detail().contains("line 4: expected 2 fields"));
    // Past the prefix that is read before storing.
    let mut s = String::from("a,b\n");
    for i in 0..20_000 {
        s.push_str(&format!("{i},{i}\n"));
    }
    s.push_str("1\n");
    let f = fixture(&s);
    assert!(
        f.err()
            .await
            .detail()
            .contains("line 20002: expected 2 fields")
    );
}

#[tokio::test]
async fn unterminated_quote_is_an_error_naming_its_line() {
    let f = fixture("a,b\n1,2\n3,\"never closed\n4,5\n");
    let e = f.err().await;
    assert!(
        e.detail()
            .contains("line 3: a quoted field opened on this line is never closed"),
        "{e:?}"
    );
}

#[tokio::test]
async fn header_only_and_empty_files() {
    let f = fixture("x,y\n");
    assert_eq!(
        f.types().await,
        pairs(&[("x", "VARCHAR"), ("y", "VARCHAR")])
    );
    assert_eq!(f.one("SELECT count(*) FROM data").await, Value::Int(0));

    for content in ["", "\u{FEFF}", "\n\n"] {
        let f = fixture(content);
        let e = f.err().await;
        assert!(
            e.detail().contains("the file is empty"),
            "{content:?}: {e:?}"
        );
    }
    let f = fixture_with(b"", ',', false);
    assert!(f.err().await.detail().contains("at least one record"));
}

#[tokio::test]
async fn without_header_columns_are_numbered() {
    let f = fixture_with(b"1,a\n2,b\n", ',', false);
    assert_eq!(
        f.types().await,
        pairs(&[("column_1", "BIGINT"), ("column_2", "VARCHAR")])
    );
    assert_eq!(f.one("SELECT count(*) FROM data").await, Value::Int(2));
}

#[tokio::test]
async fn semicolon_and_tab_delimiters() {
    let f = fixture_with(b"a;b\n1,5;\"x;y\"\n", ';', true);
    assert_eq!(
        f.rows("SELECT a, b FROM data").await,
        vec![vec![t("1,5"), t("x;y")]]
    );
    let f = fixture_with(b"a\tb\n1\thello world\n", '\t', true);
    assert_eq!(
        f.rows("SELECT a, b FROM data").await,
        vec![vec![Value::Int(1), t("hello world")]]
    );
}

#[tokio::test]
async fn duplicate_and_blank_header_names() {
    let f = fixture(" id ,name,,Name,id\n1,a,b,c,2\n");
    assert_eq!(
        f.types().await,
        pairs(&[
            ("id", "BIGINT"),
            ("name", "VARCHAR"),
            ("column_3", "VARCHAR"),
            ("Name_2", "VARCHAR"),
            ("id_2", "BIGINT"),
        ])
    );
    assert_eq!(f.one("SELECT \"Name_2\" FROM data").await, t("c"));
}

/// A generated table; the sums are computed here, not by the engine.
#[tokio::test]
async fn answers_match_values_computed_independently() {
    let mut x: u64 = 42;
    let mut rnd = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let statuses = ["paid", "shipped", "refunded"];
    let mut s = String::from("id,qty,cents,price,status,note\n");
    let (mut qty_sum, mut cents_by_status, mut price_sum, mut with_comma) =
        (0i64, [0i64; 3], 0f64, 0i64);
    for id in 1..=5000 {
        let qty = rnd(1000) as i64 - 500;
        let cents = rnd(1_000_000) as i64;
        let st = rnd(3) as usize;
        let note = if rnd(4) == 0 {
            with_comma += 1;
            "\"a, \"\"b\"\"\"".to_string()
        } else {
            "plain".to_string()
        };
        qty_sum += qty;
        cents_by_status[st] += cents;
        let price = format!("{}.{:02}", cents / 100, cents % 100);
        price_sum += price.parse::<f64>().unwrap();
        s.push_str(&format!(
            "{id},{qty},{cents},{price},{},{note}\n",
            statuses[st]
        ));
    }
    let f = fixture(&s);
    assert_eq!(
        f.one("SELECT sum(qty) FROM data").await,
        Value::Number(qty_sum.to_string())
    );
    let by_status = f
        .rows("SELECT status, sum(cents) FROM data GROUP BY status ORDER BY status")
        .await;
    let mut expected: Vec<(String, i64)> = statuses
        .iter()
        .zip(cents_by_status)
        .map(|(s, c)| (s.to_string(), c))
        .collect();
    expected.sort();
    let got: Vec<(String, i64)> = by_status
        .into_iter()
        .map(|r| match (&r[0], &r[1]) {
            (Value::Text(s), Value::Number(c)) => (s.clone(), c.parse().unwrap()),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got, expected);
    match f.one("SELECT sum(price) FROM data").await {
        Value::Number(v) => assert!(
            (v.parse::<f64>().unwrap() - price_sum).abs() < 1e-6 * price_sum.abs(),
            "{v} {price_sum}"
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        f.one("SELECT count(*) FROM data WHERE note = 'a, \"b\"'")
            .await,
        Value::Int(with_comma)
    );
}

#[tokio::test]
async fn limit_and_truncated() {
    let f = fixture("a\n1\n2\n3\n");
    let rs = f
        .conn
        .query(&raw("SELECT a FROM data", 2), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(rs.rows.len(), 2);
    assert!(rs.truncated);
    let rs = f
        .conn
        .query(&raw("SELECT a FROM data", 3), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!(rs.rows.len(), 3);
    assert!(!rs.truncated);
}

#[tokio::test]
async fn changing_the_file_changes_the_answer() {
    let f = fixture("a\n1\n2\n");
    assert_eq!(
        f.one("SELECT sum(a) FROM data").await,
        Value::Number("3".into())
    );
    // Same size, new content, new mtime.
    std::fs::write(&f.file, "a\n5\n6\n").unwrap();
    let later = std::time::SystemTime::now() + Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&f.file)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_eq!(
        f.one("SELECT sum(a) FROM data").await,
        Value::Number("11".into())
    );
    // Appended rows: new size.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&f.file)
        .unwrap()
        .write_all(b"10\n")
        .unwrap();
    assert_eq!(
        f.one("SELECT sum(a) FROM data").await,
        Value::Number("21".into())
    );
    assert_eq!(f.types().await, pairs(&[("a", "BIGINT")]));
}

#[tokio::test]
async fn missing_file_is_unreachable() {
    let f = fixture("a\n1\n");
    std::fs::remove_file(&f.file).unwrap();
    for e in [
        f.err().await,
        f.q("SELECT 1").await.unwrap_err(),
        f.conn.test().await.unwrap_err(),
    ] {
        assert!(matches!(e, Error::Unreachable(_)), "{e:?}");
        assert_eq!(e.exit_code(), 13);
        assert!(e.detail().contains(&f.file.display().to_string()), "{e:?}");
    }
}

#[tokio::test]
async fn hostile_sql_is_refused_and_the_cache_is_untouched() {
    let f = fixture("a,b\n1,x\n2,y\n");
    f.conn
        .prepare(None, CancellationToken::new())
        .await
        .unwrap();
    let cache = f.conn.cache_path().unwrap();
    let before = sha(&cache);
    let tmp = f.dir.path();
    let x = tmp.join("x.db");
    let y = tmp.join("y.db");
    let z = tmp.join("z.txt");
    let lit = |p: &Path| format!("'{}'", p.display());
    let hostile = [
        format!("ATTACH {} AS x", lit(&x)),
        "DETACH main".into(),
        "INSERT INTO data VALUES (3, 'z')".into(),
        "UPDATE data SET a = 9".into(),
        "DELETE FROM data".into(),
        "DROP TABLE data".into(),
        "DROP VIEW data".into(),
        "CREATE TABLE t (x INTEGER)".into(),
        "CREATE TEMP TABLE t (x INTEGER)".into(),
        "CREATE VIEW v AS SELECT 1".into(),
        "CREATE MACRO m(a) AS a".into(),
        "ALTER VIEW data RENAME TO d".into(),
        "INSTALL httpfs".into(),
        "LOAD httpfs".into(),
        "SET enable_external_access = true".into(),
        "SET lock_configuration = false".into(),
        "PRAGMA enable_profiling".into(),
        "CHECKPOINT".into(),
        format!("COPY data TO {}", lit(&z)),
        format!("COPY (SELECT 1) TO {} (FORMAT parquet)", lit(&y)),
        format!("EXPORT DATABASE {}", lit(tmp)),
        "SELECT * FROM read_csv('/etc/passwd')".into(),
        "SELECT * FROM read_text('/etc/hostname')".into(),
        "SELECT * FROM glob('/etc/*')".into(),
        "SELECT * FROM '/etc/passwd'".into(),
        "SELECT 1; DROP TABLE data".into(),
        "WITH c AS (SELECT 1) INSERT INTO data SELECT 1, 2 FROM c".into(),
    ];
    for sql in &hostile {
        let r = f.q(sql).await;
        assert!(r.is_err(), "{sql} was allowed: {r:?}");
    }
    // A refusal reads like the guard's.
    let e = f.q("DROP TABLE data").await.unwrap_err();
    assert!(matches!(e, Error::Rejected(_)), "{e:?}");
    assert!(e.detail().starts_with("SQL validation failed:"), "{e:?}");
    let e = f.q(&hostile[0]).await.unwrap_err();
    assert!(matches!(e, Error::Rejected(_)), "{e:?}");

    assert_eq!(sha(&cache), before, "the cache changed");
    for p in [&x, &y, &z] {
        assert!(!p.exists(), "{} was created", p.display());
    }
    assert_eq!(f.one("SELECT count(*) FROM data").await, Value::Int(2));
    // Harmless reads of the catalog still work.
    assert_eq!(f.rows("DESCRIBE data").await.len(), 2);
}

const SLOW: &str = "SELECT count(*) FROM range(1000000000000) a WHERE a.range % 7 = 3";

#[tokio::test]
async fn cancel_stops_a_running_query() {
    let f = fixture("a\n1\n");
    f.conn
        .prepare(None, CancellationToken::new())
        .await
        .unwrap();
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        cancel.cancel();
    });
    let e = f.conn.query(&raw(SLOW, 10), token).await.unwrap_err();
    assert_eq!(e, Error::Cancelled);
    // The connector still works afterwards.
    assert_eq!(f.one("SELECT a FROM data").await, Value::Int(1));
    // Cancelled before it starts.
    let token = CancellationToken::new();
    token.cancel();
    let e = f.conn.query(&raw("SELECT 1", 10), token).await.unwrap_err();
    assert_eq!(e, Error::Cancelled);
}

#[tokio::test]
async fn cancel_stops_an_import_and_leaves_no_cache() {
    let mut s = String::from("a,b\n");
    for i in 0..50_000 {
        s.push_str(&format!("{i},x{i}\n"));
    }
    let f = fixture(&s);
    let token = CancellationToken::new();
    token.cancel();
    let e = f.conn.prepare(None, token).await.unwrap_err();
    assert!(e.detail().ends_with("import cancelled"), "{e:?}");
    let cache_dir = f.conn.cache_path().unwrap().parent().unwrap().to_path_buf();
    let left: Vec<_> = std::fs::read_dir(&cache_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(f.one("SELECT count(*) FROM data").await, Value::Int(50_000));
}

#[tokio::test]
async fn statement_timeout_stops_a_running_query() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("d.csv");
    std::fs::write(&file, "a\n1\n").unwrap();
    let conn = connector(&file, &dir.path().join("home"), ',', true)
        .with_statement_timeout(Duration::from_millis(300));
    let e = conn
        .query(&raw(SLOW, 10), CancellationToken::new())
        .await
        .unwrap_err();
    assert_eq!(e.exit_code(), 14);
    assert!(e.detail().contains("timed out"), "{e:?}");
}

#[tokio::test]
async fn a_damaged_cache_or_leftover_temp_is_rebuilt() {
    let f = fixture("a\n1\n2\n3\n");
    let six = || Value::Number("6".into());
    assert_eq!(f.one("SELECT sum(a) FROM data").await, six());
    let cache = f.conn.cache_path().unwrap();
    let cache_dir = cache.parent().unwrap().to_path_buf();
    let id = cache.file_name().unwrap().to_str().unwrap();
    let id = &id[..id.find('.').unwrap()];

    // A build that died: a half-written temp file is ignored, then cleaned up.
    let leftover = cache_dir.join(format!("{id}.csv-tmp-99999-1"));
    std::fs::write(&leftover, b"PAR1 half").unwrap();

    // Cut short: the footer is gone.
    let bytes = std::fs::read(&cache).unwrap();
    std::fs::write(&cache, &bytes[..bytes.len() / 2]).unwrap();
    assert_eq!(f.one("SELECT sum(a) FROM data").await, six());
    assert_eq!(
        std::fs::read(&cache).unwrap().len(),
        bytes.len(),
        "not rebuilt"
    );

    // Garbage where the cache should be.
    std::fs::write(&cache, vec![0x5a; 8192]).unwrap();
    assert_eq!(f.one("SELECT sum(a) FROM data").await, six());

    // A new version of the file: its cache replaces the old one, and what died goes.
    std::fs::write(&f.file, "a\n1\n2\n3\n4\n").unwrap();
    assert_eq!(
        f.one("SELECT sum(a) FROM data").await,
        Value::Number("10".into())
    );
    assert!(!leftover.exists(), "stale temp file kept");
    assert!(!cache.exists(), "the old version's cache kept");
}

#[test]
fn two_preparers_at_once_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("d.csv");
    let mut s = String::from("a,b\n");
    for i in 0..200_000 {
        s.push_str(&format!("{i},row {i}\n"));
    }
    std::fs::write(&file, s).unwrap();
    let home = dir.path().join("home");
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let (file, home) = (file.clone(), home.clone());
            std::thread::spawn(move || {
                let rt = tokio::runtime::Runtime::new().unwrap();
                let conn = connector(&file, &home, ',', true);
                rt.block_on(async {
                    conn.prepare(None, CancellationToken::new()).await?;
                    conn.query(
                        &raw("SELECT count(*), sum(a) FROM data", 10),
                        CancellationToken::new(),
                    )
                    .await
                })
            })
        })
        .collect();
    let expected_sum: i64 = (0..200_000).sum();
    for h in handles {
        let rs = h.join().unwrap().unwrap();
        assert_eq!(
            rs.rows[0],
            vec![Value::Int(200_000), Value::Number(expected_sum.to_string())]
        );
    }
}

#[tokio::test]
async fn progress_is_reported_and_ends_done() {
    let mut s = String::from("a\n");
    for i in 0..100_000 {
        s.push_str(&format!("{i}\n"));
    }
    let f = fixture(&s);
    let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = Arc::clone(&seen);
    f.conn
        .prepare(
            Some(Arc::new(move |p| sink.lock().unwrap().push(p))),
            CancellationToken::new(),
        )
        .await
        .unwrap();
    {
        let seen = seen.lock().unwrap();
        let last = seen.last().unwrap();
        assert!(last.done);
        assert_eq!(last.rows, 100_000);
        assert_eq!(last.bytes, last.total_bytes);
        assert_eq!(last.total_bytes, s.len() as u64);
        // While it runs, rows are an estimate from the bytes read; they only grow.
        let running: Vec<&Progress> = seen.iter().filter(|p| !p.done).collect();
        assert!(
            running
                .windows(2)
                .all(|w| w[0].rows <= w[1].rows && w[0].bytes <= w[1].bytes)
        );
        assert_eq!(seen.iter().filter(|p| p.done).count(), 1);
    }
    // A fresh cache needs no import: no progress at all.
    let quiet: Arc<Mutex<Vec<Progress>>> = Arc::default();
    let sink = Arc::clone(&quiet);
    f.conn
        .prepare(
            Some(Arc::new(move |p| sink.lock().unwrap().push(p))),
            CancellationToken::new(),
        )
        .await
        .unwrap();
    assert!(quiet.lock().unwrap().is_empty());
}

#[tokio::test]
async fn data_table_and_dialect() {
    let f = fixture("a\n1\n");
    // `data` is the cache itself: nothing to rewrite.
    assert!(f.conn.data_table().is_none());
    assert_eq!(f.conn.policy().dialect, tdb::core::guard::Dialect::DuckDb);
    f.conn.test().await.unwrap();
}

/// Not a test on its own: the body of the child processes the next tests start (this same
/// binary, run with `TDB_CSV_CHILD` set). It imports the file and prints the row count.
#[test]
fn child_process_entry() {
    let (Ok(file), Ok(home)) = (
        std::env::var("TDB_CSV_CHILD"),
        std::env::var("TDB_CSV_HOME"),
    ) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let conn = connector(Path::new(&file), Path::new(&home), ',', true);
    let rs = rt
        .block_on(conn.query(
            &raw("SELECT count(*) FROM data", 1),
            CancellationToken::new(),
        ))
        .unwrap();
    println!("CHILD_ROWS={:?}", rs.rows[0][0]);
}

fn spawn_child(file: &Path, home: &Path) -> std::process::Child {
    std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_process_entry",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("TDB_CSV_CHILD", file)
        .env("TDB_CSV_HOME", home)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

fn big_file(dir: &Path, rows: usize) -> PathBuf {
    let file = dir.join("big.csv");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    writeln!(w, "id,amount,label").unwrap();
    for i in 0..rows {
        writeln!(w, "{i},{}.{:02},\"label, {i}\"", i % 1000, i % 100).unwrap();
    }
    w.flush().unwrap();
    file
}

#[test]
fn two_processes_importing_at_once_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let file = big_file(dir.path(), 300_000);
    let home = dir.path().join("home");
    let children = [spawn_child(&file, &home), spawn_child(&file, &home)];
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        let stdout = String::from_utf8(out.stdout).unwrap();
        assert!(stdout.contains("CHILD_ROWS=Int(300000)"), "{stdout}");
    }
}

/// A process killed while importing leaves nothing that passes for a cache: the next
/// query either finds the complete cache (if the import won the race) or builds one.
#[test]
fn a_killed_import_leaves_nothing_that_looks_valid() {
    let dir = tempfile::tempdir().unwrap();
    let file = big_file(dir.path(), 1_000_000);
    let home = dir.path().join("home");
    for delay_ms in [50, 150, 300] {
        let _ = std::fs::remove_dir_all(&home);
        let mut child = spawn_child(&file, &home);
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        let conn = connector(&file, &home, ',', true);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let rs = rt
            .block_on(conn.query(
                &raw("SELECT count(*), sum(id) FROM data", 1),
                CancellationToken::new(),
            ))
            .unwrap();
        let n: i64 = 1_000_000;
        assert_eq!(
            rs.rows[0],
            vec![Value::Int(n), Value::Number((n * (n - 1) / 2).to_string())]
        );
        let names: Vec<String> = std::fs::read_dir(home.join("cache"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(
            names.iter().all(|n| !n.contains(".tmp-")),
            "temp files left after a rebuild: {names:?}"
        );
    }
}

/// A statement sent to the connector as is, past the guard: what the connector must stand
/// on its own against.
fn raw(sql: &str, limit: usize) -> Guarded {
    Guarded {
        executed_sql: sql.to_string(),
        limit,
        calls: Default::default(),
        positions: Default::default(),
    }
}

#[tokio::test]
async fn a_value_larger_than_the_result_budget_fails_at_once() {
    let f = fixture("a\n1\n");
    let conn = connector(&f.file, &f.dir.path().join("home2"), ',', true)
        .with_statement_timeout(Duration::from_secs(5));
    // 100 MB in one value: past the 64 MiB budget.
    let e = conn
        .query(
            &raw("SELECT repeat('x', 100000000)", 10),
            CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.exit_code(), 14, "{e:?}");
    assert!(
        e.detail().starts_with(
            "a value larger than the result budget of 64 MiB was asked for; select fewer"
        ),
        "{e:?}"
    );
    // A gigabyte is past the engine's memory limit: its error, not an abort.
    let e = conn
        .query(
            &raw("SELECT repeat('x', 1000000000)", 10),
            CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.exit_code(), 14, "{e:?}");
    // Under the budget a big value is still whole.
    let one = f.one("SELECT length(repeat('x', 30000000))").await;
    assert_eq!(one, Value::Int(30_000_000));
}

#[tokio::test]
async fn rows_past_the_result_budget_end_the_result_as_truncated() {
    let f = fixture("a\n1\n");
    // 10 MB a row: six fit in 64 MiB, the seventh would not.
    let sql = "SELECT range AS n, repeat('x', 10000000) AS v FROM range(20)";
    let rs = f.q(sql).await.unwrap();
    assert_eq!(rs.rows.len(), 6);
    assert!(rs.truncated);
    assert!(matches!(&rs.rows[5][1], Value::Text(b) if b.len() == 10_000_000));
    let rs = f
        .conn
        .query(&raw(sql, 3), CancellationToken::new())
        .await
        .unwrap();
    assert_eq!((rs.rows.len(), rs.truncated), (3, true));
}
