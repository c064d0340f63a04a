//! Every format for every scope on a result with the awkward values real data has, read
//! back with the crates that read those formats; export files likewise.

use std::fs;
use std::path::Path;

use base64::Engine as _;
use serde_json::{Value as Json, json};
use tdb::clipboard::{Clipboard, ClipboardEnv};
use tdb::core::Error;
use tdb::core::export::{Format, Scope, render};
use tdb::core::value::{Column, ResultSet, Value};
use tdb::file_export::export_to_file;

const PASTE_END: &str = "safe\u{1b}[201~rm -rf ~";

fn col(name: &str, type_name: &str) -> Column {
    Column {
        name: name.into(),
        type_name: type_name.into(),
    }
}

fn t(s: &str) -> Value {
    Value::Text(s.into())
}

fn sample() -> ResultSet {
    ResultSet {
        columns: vec![
            col("id", "int4"),
            col("name", "text"),
            col("amount", "numeric"),
            col("ratio", "float8"),
            col("note", "text"),
            col("active", "bool"),
        ],
        rows: vec![
            vec![
                Value::Int(1),
                t("Alice"),
                Value::Numeric("12.50".into()),
                Value::Float(0.5),
                t("tab\there, \"quoted\""),
                Value::Bool(true),
            ],
            vec![
                Value::Int(2),
                t(""),
                Value::Null,
                Value::Float(-1.25),
                t("line1\nline2\r\nline3 | pipe"),
                Value::Bool(false),
            ],
            vec![
                Value::Null,
                t("日本語 ✓ 👩\u{200D}💻"),
                Value::Numeric("-3".into()),
                Value::Null,
                t(PASTE_END),
                Value::Null,
            ],
            vec![
                Value::Int(4),
                t("O'Brien"),
                Value::Numeric("1e3".into()),
                Value::Float(1e-7),
                t("back\\slash"),
                Value::Bool(true),
            ],
        ],
        truncated: false,
    }
}

fn text(v: &Value) -> String {
    v.to_text().unwrap_or_default()
}

fn names(rs: &ResultSet) -> Vec<String> {
    rs.columns.iter().map(|c| c.name.clone()).collect()
}

/// What the scope covers, as the rows of text a TSV or CSV reader gives back.
fn expected_records(rs: &ResultSet, scope: Scope) -> Vec<Vec<String>> {
    let (rows, cols): (Vec<usize>, Vec<usize>) = match scope {
        Scope::Row(r) => (vec![r], (0..rs.columns.len()).collect()),
        Scope::Column(c) => ((0..rs.rows.len()).collect(), vec![c]),
        Scope::All => (
            (0..rs.rows.len()).collect(),
            (0..rs.columns.len()).collect(),
        ),
        Scope::Cell { row, col } => (vec![row], vec![col]),
    };
    let mut out = vec![cols.iter().map(|&c| rs.columns[c].name.clone()).collect()];
    for r in rows {
        out.push(cols.iter().map(|&c| text(&rs.rows[r][c])).collect());
    }
    out
}

const TABLE_SCOPES: [Scope; 3] = [Scope::Row(2), Scope::Column(4), Scope::All];

fn tsv_unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('\\') => out.push('\\'),
            other => panic!("stray escape {other:?} in {s:?}"),
        }
    }
    out
}

fn read_tsv(s: &str) -> Vec<Vec<String>> {
    let body = s.strip_suffix('\n').expect("TSV ends with a newline");
    body.split('\n')
        // `\N` is NULL, which the expected cells hold as the empty string.
        .map(|line| {
            line.split('\t')
                .map(|f| {
                    if f == "\\N" {
                        String::new()
                    } else {
                        tsv_unescape(f)
                    }
                })
                .collect()
        })
        .collect()
}

fn read_csv(s: &str) -> Vec<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(s.as_bytes());
    r.records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn tsv_and_csv_read_back() {
    let rs = sample();
    for scope in TABLE_SCOPES {
        assert_eq!(
            read_tsv(&render(&rs, scope, Format::Tsv)),
            expected_records(&rs, scope),
            "{scope:?}"
        );
        assert_eq!(
            read_csv(&render(&rs, scope, Format::Csv)),
            expected_records(&rs, scope),
            "{scope:?}"
        );
    }
    // Quoting where RFC 4180 needs it, and only there.
    let csv = render(&rs, Scope::Row(0), Format::Csv);
    assert_eq!(
        csv,
        "id,name,amount,ratio,note,active\n1,Alice,12.50,0.5,\"tab\there, \"\"quoted\"\"\",true\n"
    );
}

#[test]
fn cells() {
    let rs = sample();
    let cell = |row, col, f| render(&rs, Scope::Cell { row, col }, f);
    // TSV: the value itself, tabs and newlines included.
    assert_eq!(cell(0, 4, Format::Tsv), "tab\there, \"quoted\"");
    assert_eq!(cell(1, 4, Format::Tsv), "line1\nline2\r\nline3 | pipe");
    assert_eq!(cell(2, 1, Format::Tsv), "日本語 ✓ 👩\u{200D}💻");
    assert_eq!(cell(1, 1, Format::Tsv), "");
    assert_eq!(cell(1, 2, Format::Tsv), "");
    assert_eq!(cell(0, 3, Format::Tsv), "0.5");
    // CSV: one field, quoted when it must be.
    assert_eq!(cell(0, 4, Format::Csv), "\"tab\there, \"\"quoted\"\"\"");
    assert_eq!(cell(0, 1, Format::Csv), "Alice");
    assert_eq!(cell(1, 2, Format::Csv), "");
    // JSON: the value; numeric keeps its digits as a string, NULL is null.
    assert_eq!(cell(0, 2, Format::Json), "\"12.50\"");
    assert_eq!(cell(0, 3, Format::Json), "0.5");
    assert_eq!(cell(1, 2, Format::Json), "null");
    assert_eq!(cell(0, 5, Format::JsonLines), "true");
    assert_eq!(
        serde_json::from_str::<Json>(&cell(1, 4, Format::Json)).unwrap(),
        json!("line1\nline2\r\nline3 | pipe")
    );
    // Markdown: a one-cell table. SQL: a one-value list.
    assert_eq!(
        cell(1, 4, Format::Markdown),
        "| note |\n| --- |\n| line1<br>line2<br>line3 \\| pipe |\n"
    );
    assert_eq!(cell(3, 1, Format::SqlInList), "('O''Brien')");
    assert_eq!(cell(1, 2, Format::SqlInList), "(NULL)");
}

#[test]
fn json_reads_back() {
    let rs = sample();
    let all: Json = serde_json::from_str(&render(&rs, Scope::All, Format::Json)).unwrap();
    assert_eq!(all, Json::Array(rs.json_rows()));
    let row: Json = serde_json::from_str(&render(&rs, Scope::Row(1), Format::Json)).unwrap();
    assert_eq!(row, rs.json_rows()[1]);
    assert_eq!(row["name"], json!(""));
    assert_eq!(row["amount"], Json::Null);
    let column: Json = serde_json::from_str(&render(&rs, Scope::Column(2), Format::Json)).unwrap();
    assert_eq!(
        column,
        json!([{"amount": "12.50"}, {"amount": null}, {"amount": "-3"}, {"amount": "1e3"}])
    );

    for scope in TABLE_SCOPES {
        let lines = render(&rs, scope, Format::JsonLines);
        let parsed: Vec<Json> = lines
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let expected: Vec<Json> = match scope {
            Scope::Row(r) => vec![rs.json_rows()[r].clone()],
            Scope::Column(_) => rs
                .rows
                .iter()
                .map(|r| json!({"note": r[4].to_json()}))
                .collect(),
            _ => rs.json_rows(),
        };
        assert_eq!(parsed, expected, "{scope:?}");
    }
}

/// Pipes that split cells, as GFM reads a table row: a backslash escapes the next character.
fn unescaped_pipes(line: &str) -> usize {
    let mut count = 0;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next();
            }
            '|' => count += 1,
            _ => {}
        }
    }
    count
}

#[test]
fn markdown_tables_hold_their_shape() {
    let rs = sample();
    let md = render(&rs, Scope::All, Format::Markdown);
    let lines: Vec<&str> = md.lines().collect();
    assert_eq!(lines.len(), 2 + rs.rows.len());
    assert_eq!(lines[0], "| id | name | amount | ratio | note | active |");
    assert_eq!(lines[1], "| ---: | --- | ---: | ---: | --- | --- |");
    assert_eq!(
        lines[3],
        "| 2 |  |  | -1.25 | line1<br>line2<br>line3 \\| pipe | false |"
    );
    assert_eq!(
        lines[5],
        "| 4 | O'Brien | 1e3 | 1e-07 | back\\\\slash | true |"
    );
    for line in &lines {
        // Unescaped pipes: one more than the columns, on every line.
        let pipes = unescaped_pipes(line);
        assert_eq!(pipes, rs.columns.len() + 1, "{line}");
    }
    let row = render(&rs, Scope::Row(0), Format::Markdown);
    assert_eq!(row.lines().count(), 3);
}

#[test]
fn sql_in_lists() {
    let rs = sample();
    assert_eq!(
        render(&rs, Scope::Column(0), Format::SqlInList),
        "(1, 2, NULL, 4)"
    );
    assert_eq!(
        render(&rs, Scope::Column(1), Format::SqlInList),
        "('Alice', '', '日本語 ✓ 👩\u{200D}💻', 'O''Brien')"
    );
    assert_eq!(
        render(&rs, Scope::Column(2), Format::SqlInList),
        "(12.50, NULL, -3, 1e3)"
    );
    assert_eq!(
        render(&rs, Scope::Row(3), Format::SqlInList),
        "(4, 'O''Brien', 1e3, 0.0000001, 'back\\slash', TRUE)"
    );
    // Deduplicated across the whole scope: TRUE and NULL appear once.
    let all = render(&rs, Scope::All, Format::SqlInList);
    assert_eq!(all.matches("TRUE").count(), 1, "{all}");
    assert_eq!(all.matches("NULL").count(), 1, "{all}");
}

/// What pasting the rendered text gives, through the clipboard's OSC 52 path.
fn pasted(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cb = Clipboard::new(ClipboardEnv::default(), dir.path().join("clip.txt"));
    let seq = cb.copy(text).unwrap().terminal_write.unwrap();
    let b64 = &seq[7..seq.len() - 1];
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

#[test]
fn every_format_and_scope_arrives_without_the_escape() {
    let rs = sample();
    let scopes = [
        Scope::Cell { row: 2, col: 4 },
        Scope::Row(2),
        Scope::Column(4),
        Scope::All,
    ];
    for format in Format::ALL {
        for scope in scopes {
            let got = pasted(&render(&rs, scope, format));
            assert!(
                !got.contains(|c: char| c.is_control() && c != '\t' && c != '\n'),
                "{format:?} {scope:?}: {got:?}"
            );
            assert!(got.contains("[201~rm -rf ~"), "{format:?} {scope:?}");
        }
    }
    assert_eq!(
        pasted(&render(&rs, Scope::Cell { row: 2, col: 4 }, Format::Tsv)),
        "safe[201~rm -rf ~"
    );
    // CRLF inside a cell arrives as LF: a paste never carries a CR.
    assert_eq!(
        pasted(&render(&rs, Scope::Cell { row: 1, col: 4 }, Format::Tsv)),
        "line1\nline2\nline3 | pipe"
    );
}

fn temp_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') || n.ends_with(".tmp"))
        .collect()
}

#[test]
fn export_files_read_back() {
    let rs = sample();
    let dir = tempfile::tempdir().unwrap();

    let csv_path = dir.path().join("out.csv");
    let n = export_to_file(&rs, &csv_path, Format::Csv, false).unwrap();
    assert_eq!(n as u64, fs::metadata(&csv_path).unwrap().len());
    let mut r = csv::Reader::from_path(&csv_path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    assert_eq!(header, names(&rs));
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    let expected: Vec<Vec<String>> = rs
        .rows
        .iter()
        .map(|row| row.iter().map(text).collect())
        .collect();
    assert_eq!(rows, expected);
    // The data as stored: the ESC is still there in a file (only clipboards are sanitized).
    assert!(rows[2][4].contains('\u{1b}'));

    let json_path = dir.path().join("out.json");
    export_to_file(&rs, &json_path, Format::Json, false).unwrap();
    let back: Json = serde_json::from_slice(&fs::read(&json_path).unwrap()).unwrap();
    assert_eq!(back, Json::Array(rs.json_rows()));

    let jsonl_path = dir.path().join("out.jsonl");
    export_to_file(&rs, &jsonl_path, Format::JsonLines, false).unwrap();
    let back: Vec<Json> = fs::read_to_string(&jsonl_path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(back, rs.json_rows());

    let tsv_path = dir.path().join("out.tsv");
    export_to_file(&rs, &tsv_path, Format::Tsv, false).unwrap();
    assert_eq!(
        read_tsv(&fs::read_to_string(&tsv_path).unwrap()),
        expected_records(&rs, Scope::All)
    );

    assert!(temp_files(dir.path()).is_empty());
}

#[test]
fn export_keeps_an_existing_file_unless_asked() {
    let rs = sample();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.csv");
    fs::write(&path, "precious").unwrap();

    let err = export_to_file(&rs, &path, Format::Csv, false).unwrap_err();
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert!(err.to_string().contains("already exists"));
    assert_eq!(fs::read_to_string(&path).unwrap(), "precious");
    assert!(temp_files(dir.path()).is_empty());

    export_to_file(&rs, &path, Format::Csv, true).unwrap();
    assert!(
        fs::read_to_string(&path)
            .unwrap()
            .starts_with("id,name,amount")
    );
    assert!(temp_files(dir.path()).is_empty());
}

#[test]
fn export_errors_leave_no_temp_file() {
    let rs = sample();
    let dir = tempfile::tempdir().unwrap();
    let err = export_to_file(&rs, dir.path(), Format::Csv, true).unwrap_err();
    assert!(matches!(err, Error::Invalid(_)), "{err:?}");
    let err =
        export_to_file(&rs, &dir.path().join("missing/x.csv"), Format::Csv, true).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    assert!(fs::read_dir(dir.path()).unwrap().next().is_none());
}
