//! Part of a result as text in a format people paste elsewhere: TSV, CSV, JSON, JSON lines,
//! a Markdown table or an SQL `IN (…)` list. Pure: it writes to any [`Write`], so the same
//! code fills the clipboard ([`render`]), streams `tdb query --csv/--tsv` to stdout
//! ([`RowWriter`]) and writes export files (`crate::file_export`).
//!
//! # What is rendered
//!
//! A [`Scope`] picks the cells; a [`Format`] says how they look. The rules follow what the
//! usual tools do, so a paste lands where people expect:
//!
//! | format | one cell | row, column or all |
//! |---|---|---|
//! | TSV | the value's text as it is (no header, no escaping: pasting a cell into a form or a shell should give exactly the value) | a header line of column names, then one line per row; tab, LF, CR and backslash inside a value become `\t` `\n` `\r` `\\` (TSV has no quoting), NULL is `\N` (PostgreSQL's COPY text format, so NULL and the empty string stay apart) |
//! | CSV | the one field, quoted as RFC 4180 needs | a header line, then rows, as `psql --csv` writes them: fields with `,` `"` CR or LF are quoted with `"` doubled, an empty string is `""` and NULL an empty field; lines end with LF, like the rest of the formats |
//! | JSON | the JSON value (`"a"`, `12`, `null`) | a pretty-printed array of row objects keyed by column name (duplicates made unique as in [`ResultSet::unique_column_names`]); a single row is one object, not an array |
//! | JSON lines | the JSON value | one compact row object per line |
//! | Markdown | a one-column table | a table; `\|`, `\\` and line breaks (`<br>`) escaped so the table holds; a column whose values are all numbers is right-aligned (`---:`) |
//! | SQL `IN` list | `(value)` | `(1, 2, 'a''b')`: every scoped value once, in first-seen order; numbers bare, strings single-quoted with `'` doubled, booleans `TRUE`/`FALSE`, NULL as `NULL` |
//!
//! NULL is `\N` in TSV written to stdout or a file (an empty field on the clipboard, where
//! it is pasted into spreadsheets), an empty field in CSV (where the empty string is `""`, as in
//! `psql --csv`) and Markdown, `null` in JSON.
//! Values map to JSON as [`Value::to_json`] says (CONTRACT.md). Multi-line outputs end with a
//! newline (a text file's convention; spreadsheets add no empty row for it); single values
//! (one cell, the `IN` list) have none, so pasting one into a prompt does not submit it.
//! A scope that points outside the result renders as the empty string.
//!
//! # Sanitizing
//!
//! Rendering keeps the data as the database holds it: an export file must round-trip. What
//! goes to a clipboard is sanitized in exactly one place, `crate::clipboard::Clipboard::copy`
//! (with [`crate::core::sanitize::for_clipboard`]), because text reaches the clipboard by
//! other ways than this module too (the editor's SQL). JSON output never holds a raw control
//! character anyway: serde_json escapes them.

use std::borrow::Cow;
use std::collections::HashSet;
use std::io::{self, Write};

use super::value::{JsonObject, ResultSet, Value};

/// How the rendered text looks. See the module documentation for the rules of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Tsv,
    Csv,
    Json,
    JsonLines,
    Markdown,
    SqlInList,
}

impl Format {
    /// Every format, in the order a menu offers them (TSV, the default, first).
    pub const ALL: [Format; 6] = [
        Format::Tsv,
        Format::Csv,
        Format::Json,
        Format::JsonLines,
        Format::Markdown,
        Format::SqlInList,
    ];

    /// A short name for menus and status messages.
    pub fn label(self) -> &'static str {
        match self {
            Format::Tsv => "TSV",
            Format::Csv => "CSV",
            Format::Json => "JSON",
            Format::JsonLines => "JSON lines",
            Format::Markdown => "Markdown",
            Format::SqlInList => "SQL IN list",
        }
    }

    /// The file extension an export in this format usually gets (suggested file names).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Tsv => "tsv",
            Format::Csv => "csv",
            Format::Json => "json",
            Format::JsonLines => "jsonl",
            Format::Markdown => "md",
            Format::SqlInList => "sql",
        }
    }
}

/// Which cells to render. Indices are positions in [`ResultSet::rows`] and
/// [`ResultSet::columns`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Cell { row: usize, col: usize },
    Row(usize),
    Column(usize),
    All,
}

impl Scope {
    /// What a status message calls the copied part: `cell`, `row`, `column email`, `20 rows`.
    /// Column names are data: a caller drawing this on a terminal sanitizes it.
    pub fn describe(self, rs: &ResultSet) -> String {
        match self {
            Scope::Cell { .. } => "cell".into(),
            Scope::Row(_) => "row".into(),
            Scope::Column(c) => match rs.columns.get(c) {
                Some(col) => format!("column {}", col.name),
                None => "column".into(),
            },
            Scope::All => {
                let n = rs.rows.len();
                format!("{n} row{}", if n == 1 { "" } else { "s" })
            }
        }
    }
}

/// The scope's part of `rs` in `format`, as one string (for the clipboard). See the module
/// documentation for the rules.
pub fn render(rs: &ResultSet, scope: Scope, format: Format) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail; every writer below only fails when its sink does.
    let _ = write_to(&mut out, rs, scope, format, Nulls::Empty);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// How TSV writes NULL: `\N` in files and on stdout, where a program reads it back; an
/// empty field on the clipboard, where it is pasted into a spreadsheet or a form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nulls {
    Marked,
    Empty,
}

/// Like [`render`], but streamed to `out`, NULL marked as `\N` in TSV (export files write
/// through this).
pub fn write<W: Write>(out: W, rs: &ResultSet, scope: Scope, format: Format) -> io::Result<()> {
    write_to(out, rs, scope, format, Nulls::Marked)
}

fn write_to<W: Write>(
    out: W,
    rs: &ResultSet,
    scope: Scope,
    format: Format,
    nulls: Nulls,
) -> io::Result<()> {
    let Some(sel) = Selection::of(rs, scope) else {
        return Ok(());
    };
    match (scope, format) {
        (
            Scope::Cell { row, col },
            Format::Tsv | Format::Csv | Format::Json | Format::JsonLines,
        ) => write_cell(out, cell(rs, row, col), format),
        (Scope::Row(row), Format::Json) => {
            let mut out = out;
            let names = rs.unique_column_names();
            let obj = row_object(&names, &sel.cols, rs.rows.get(row).map(Vec::as_slice));
            serde_json::to_writer_pretty(&mut out, &obj)?;
            out.write_all(b"\n")
        }
        _ => {
            let names = rs.unique_column_names();
            let header: Vec<&str> = match format {
                // JSON keys must be unique; the text formats show the real names.
                Format::Json | Format::JsonLines => {
                    sel.cols.iter().map(|&c| names[c].as_str()).collect()
                }
                _ => sel
                    .cols
                    .iter()
                    .map(|&c| rs.columns[c].name.as_str())
                    .collect(),
            };
            let mut w = RowWriter::new(out, format);
            if nulls == Nulls::Empty {
                w.tsv_null = "";
            }
            if format == Format::Markdown {
                w = w.right_aligned(sel.cols.iter().map(|&c| numeric_column(rs, c)).collect());
            }
            w.header(&header)?;
            let mut values: Vec<&Value> = Vec::with_capacity(sel.cols.len());
            for &r in &sel.rows {
                values.clear();
                values.extend(sel.cols.iter().map(|&c| cell(rs, r, c)));
                w.row(values.iter().copied())?;
            }
            w.finish()?;
            Ok(())
        }
    }
}

/// The rows and columns a scope covers; `None` when it points outside the result.
struct Selection {
    rows: Vec<usize>,
    cols: Vec<usize>,
}

impl Selection {
    fn of(rs: &ResultSet, scope: Scope) -> Option<Selection> {
        let all_rows = || (0..rs.rows.len()).collect();
        let all_cols = || (0..rs.columns.len()).collect();
        let row_ok = |r: usize| r < rs.rows.len();
        let col_ok = |c: usize| c < rs.columns.len();
        match scope {
            Scope::Cell { row, col } if row_ok(row) && col_ok(col) => Some(Selection {
                rows: vec![row],
                cols: vec![col],
            }),
            Scope::Row(row) if row_ok(row) => Some(Selection {
                rows: vec![row],
                cols: all_cols(),
            }),
            Scope::Column(col) if col_ok(col) => Some(Selection {
                rows: all_rows(),
                cols: vec![col],
            }),
            Scope::All => Some(Selection {
                rows: all_rows(),
                cols: all_cols(),
            }),
            _ => None,
        }
    }
}

const NULL: Value = Value::Null;

/// A cell, NULL where a short row has none (rows from a connector always match the columns,
/// but a panic on a paste is not worth the assumption).
fn cell(rs: &ResultSet, row: usize, col: usize) -> &Value {
    rs.rows.get(row).and_then(|r| r.get(col)).unwrap_or(&NULL)
}

/// Right-align a Markdown column when it holds numbers only (and at least one).
fn numeric_column(rs: &ResultSet, col: usize) -> bool {
    let mut any = false;
    for row in &rs.rows {
        match row.get(col) {
            None | Some(Value::Null) => {}
            Some(v) if v.is_number() => any = true,
            Some(_) => return false,
        }
    }
    any
}

fn row_object<'a>(names: &'a [String], cols: &[usize], row: Option<&'a [Value]>) -> JsonObject<'a> {
    JsonObject {
        pairs: cols
            .iter()
            .map(|&c| {
                (
                    names[c].as_str(),
                    row.and_then(|r| r.get(c)).unwrap_or(&NULL),
                )
            })
            .collect(),
    }
}

fn write_cell<W: Write>(mut out: W, v: &Value, format: Format) -> io::Result<()> {
    match format {
        Format::Json | Format::JsonLines => serde_json::to_writer(&mut out, v)?,
        Format::Csv => {
            // One field, quoted as a record would quote it, without the record terminator.
            // An empty field stays empty (the csv crate writes `""` for a lone empty field
            // so a record is not mistaken for a blank line; a cell has no such problem).
            let text = v.to_text().unwrap_or_default();
            if !text.is_empty() {
                let mut w = csv::Writer::from_writer(Vec::with_capacity(text.len() + 3));
                w.write_record([&text]).map_err(csv_io)?;
                let mut field = w
                    .into_inner()
                    .map_err(|e| io::Error::other(e.error().to_string()))?;
                if field.last() == Some(&b'\n') {
                    field.pop();
                }
                out.write_all(&field)?;
            }
        }
        _ => out.write_all(v.to_text().unwrap_or_default().as_bytes())?,
    }
    out.flush()
}

fn csv_io(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

/// A cell's text as [`Value::to_text`] gives it, borrowed where the value holds it.
fn cell_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::Null => None,
        Value::Text(s) | Value::Numeric(s) | Value::Number(s) | Value::Json(s) => {
            Some(Cow::Borrowed(s))
        }
        other => other.to_text().map(Cow::Owned),
    }
}

/// One CSV field as [`RowWriter`] writes it (see `write_csv`).
fn push_csv_field(line: &mut String, text: &str) {
    if text.is_empty() {
        line.push_str("\"\"");
    } else if text
        .bytes()
        .any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'))
    {
        line.push('"');
        for c in text.chars() {
            if c == '"' {
                line.push('"');
            }
            line.push(c);
        }
        line.push('"');
    } else {
        line.push_str(text);
    }
}

/// TSV has no quoting, so the separators inside values are escaped (`\t`, `\n`, `\r`, and
/// `\\` so the escapes can be told from a literal backslash).
pub fn tsv_escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['\t', '\n', '\r', '\\']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Escapes what would break a Markdown table cell: the pipe, the backslash (so `\|` in the
/// data stays two characters) and line breaks (a row must stay on one line).
pub fn markdown_escape(s: &str) -> Cow<'_, str> {
    if !s.contains(['|', '\\', '\n', '\r']) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '|' => out.push_str("\\|"),
            '\\' => out.push_str("\\\\"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("<br>");
            }
            '\n' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A value as an SQL literal for an `IN` list: numbers bare, text single-quoted with `'`
/// doubled (standard_conforming_strings, the default since PostgreSQL 9.1, so backslashes
/// need nothing), NULL as `NULL`. Everything that is not a plain number is quoted, including
/// `NaN` and `Infinity`, which PostgreSQL reads only as quoted strings.
pub fn sql_literal(v: &Value) -> String {
    match v {
        Value::Null => "NULL".into(),
        Value::Bool(true) => "TRUE".into(),
        Value::Bool(false) => "FALSE".into(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_finite() => f.to_string(),
        Value::Float4(f) if f.is_finite() => f.to_string(),
        Value::Numeric(s) | Value::Number(s) if is_plain_number(s) => s.clone(),
        other => sql_quote(&other.to_text().unwrap_or_default()),
    }
}

fn sql_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if c == '\'' {
            out.push('\'');
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// `-12`, `3.50`, `.5`, `1e10`: digits an SQL parser reads as a number literal.
fn is_plain_number(s: &str) -> bool {
    let body = s.strip_prefix('-').unwrap_or(s);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let mut parts = mantissa.splitn(2, '.');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(int)
        && frac.is_none_or(digits)
        && (!int.is_empty() || frac.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

/// Maps untrusted text before it is written, e.g. [`crate::core::sanitize::for_terminal`]
/// when the command line writes TSV or CSV to a terminal.
pub type TextFilter = for<'a> fn(&'a str) -> Cow<'a, str>;

/// Writes a result row by row in one format, so a large result streams to stdout or a file
/// without being built as one string. Call [`RowWriter::header`] once, then
/// [`RowWriter::row`] for each row, then [`RowWriter::finish`] (JSON closes its array, the
/// `IN` list its parenthesis).
///
/// JSON and JSON lines take the header as object keys; give them unique names
/// ([`ResultSet::unique_column_names`]) or later columns overwrite earlier ones.
pub struct RowWriter<W: Write> {
    format: Format,
    out: W,
    names: Vec<String>,
    filter: Option<TextFilter>,
    right_aligned: Vec<bool>,
    rows: usize,
    seen: HashSet<String>,
    /// What a NULL is in TSV.
    tsv_null: &'static str,
    /// The line being built, kept for the next row.
    line: String,
}

impl<W: Write> RowWriter<W> {
    pub fn new(out: W, format: Format) -> Self {
        RowWriter {
            format,
            out,
            names: Vec::new(),
            filter: None,
            right_aligned: Vec::new(),
            rows: 0,
            seen: HashSet::new(),
            tsv_null: "\\N",
            line: String::new(),
        }
    }

    /// Applies `f` to every column name and cell text of the text formats (TSV, CSV,
    /// Markdown, `IN` list) just before it is written. JSON needs none: serde_json escapes
    /// control characters.
    pub fn with_text_filter(mut self, f: TextFilter) -> Self {
        self.filter = Some(f);
        self
    }

    /// Which Markdown columns are right-aligned (`---:`); numbers usually are. Other formats
    /// ignore it.
    pub fn right_aligned(mut self, flags: Vec<bool>) -> Self {
        self.right_aligned = flags;
        self
    }

    /// [`Self::filtered`] without a copy when there is no filter or it changes nothing.
    fn filter_cow<'s>(&self, s: &'s str) -> Cow<'s, str> {
        match self.filter {
            Some(f) => f(s),
            None => Cow::Borrowed(s),
        }
    }

    fn filtered(&self, s: &str) -> String {
        match self.filter {
            Some(f) => f(s).into_owned(),
            None => s.to_string(),
        }
    }

    /// Each value's text made safe for the format and filtered; NULL is `null_as`.
    fn fields<'v>(
        &self,
        values: impl IntoIterator<Item = &'v Value>,
        escape: fn(&str) -> Cow<'_, str>,
        null_as: &str,
    ) -> Vec<String> {
        values
            .into_iter()
            .map(|v| {
                v.to_text()
                    .map(|t| self.filtered(&escape(&t)))
                    .unwrap_or_else(|| null_as.to_string())
            })
            .collect()
    }

    pub fn header(&mut self, names: &[&str]) -> io::Result<()> {
        self.names = names.iter().map(|n| n.to_string()).collect();
        match self.format {
            Format::Csv => {
                let fields: Vec<Option<String>> =
                    names.iter().map(|n| Some(self.filtered(n))).collect();
                self.write_csv(&fields)
            }
            Format::Tsv => {
                let fields: Vec<String> = names
                    .iter()
                    .map(|n| self.filtered(&tsv_escape(n)))
                    .collect();
                let line = format!("{}\n", fields.join("\t"));
                self.write_plain(line.as_bytes())
            }
            Format::Markdown => {
                let fields: Vec<String> = names
                    .iter()
                    .map(|n| self.filtered(&markdown_escape(n)))
                    .collect();
                let rule: Vec<&str> = (0..names.len())
                    .map(|i| match self.right_aligned.get(i) {
                        Some(true) => "---:",
                        _ => "---",
                    })
                    .collect();
                let text = format!("| {} |\n| {} |\n", fields.join(" | "), rule.join(" | "));
                self.write_plain(text.as_bytes())
            }
            Format::Json => self.write_plain(b"["),
            Format::SqlInList => self.write_plain(b"("),
            Format::JsonLines => Ok(()),
        }
    }

    pub fn row<'v>(&mut self, values: impl IntoIterator<Item = &'v Value>) -> io::Result<()> {
        let first = self.rows == 0;
        self.rows += 1;
        match self.format {
            // Row by row in one reused line, without a string per cell where the value
            // holds its text already: `--all` writes millions of rows through here.
            Format::Csv => {
                let mut line = std::mem::take(&mut self.line);
                line.clear();
                for (i, v) in values.into_iter().enumerate() {
                    if i > 0 {
                        line.push(',');
                    }
                    if let Some(text) = cell_text(v) {
                        push_csv_field(&mut line, &self.filter_cow(&text));
                    }
                }
                line.push('\n');
                let written = self.write_plain(line.as_bytes());
                self.line = line;
                written
            }
            Format::Tsv => {
                let mut line = std::mem::take(&mut self.line);
                line.clear();
                for (i, v) in values.into_iter().enumerate() {
                    if i > 0 {
                        line.push('\t');
                    }
                    match cell_text(v) {
                        Some(text) => line.push_str(&self.filter_cow(&tsv_escape(&text))),
                        None => line.push_str(self.tsv_null),
                    }
                }
                line.push('\n');
                let written = self.write_plain(line.as_bytes());
                self.line = line;
                written
            }
            Format::Markdown => {
                let line = format!(
                    "| {} |\n",
                    self.fields(values, markdown_escape, "").join(" | ")
                );
                self.write_plain(line.as_bytes())
            }
            Format::JsonLines => {
                let mut line =
                    serde_json::to_string(&self.object(values)).map_err(io::Error::other)?;
                line.push('\n');
                self.write_plain(line.as_bytes())
            }
            Format::Json => {
                let pretty =
                    serde_json::to_string_pretty(&self.object(values)).map_err(io::Error::other)?;
                // Nest the object one level inside the array, as a pretty array would; string
                // values hold no raw line break (JSON escapes it), so lines are safe to indent.
                let mut text = String::from(if first { "\n" } else { ",\n" });
                for (i, line) in pretty.lines().enumerate() {
                    if i > 0 {
                        text.push('\n');
                    }
                    text.push_str("  ");
                    text.push_str(line);
                }
                self.write_plain(text.as_bytes())
            }
            Format::SqlInList => {
                let mut text = String::new();
                for v in values {
                    let literal = self.filtered(&sql_literal(v));
                    if self.seen.contains(&literal) {
                        continue;
                    }
                    if !self.seen.is_empty() {
                        text.push_str(", ");
                    }
                    text.push_str(&literal);
                    self.seen.insert(literal);
                }
                self.write_plain(text.as_bytes())
            }
        }
    }

    fn write_plain(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)
    }

    /// One CSV record as `psql --csv` writes it: `None` (NULL) is an empty field, the empty
    /// string `""`, and a field holding `,` `"` CR or LF is quoted with `"` doubled.
    fn write_csv(&mut self, fields: &[Option<String>]) -> io::Result<()> {
        let mut line = String::with_capacity(
            fields.iter().flatten().map(String::len).sum::<usize>() + fields.len() + 1,
        );
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            match field {
                None => {}
                Some(text) if text.is_empty() => line.push_str("\"\""),
                Some(text) if text.contains([',', '"', '\r', '\n']) => {
                    line.push('"');
                    line.push_str(&text.replace('"', "\"\""));
                    line.push('"');
                }
                Some(text) => line.push_str(text),
            }
        }
        line.push('\n');
        self.write_plain(line.as_bytes())
    }

    fn object<'s, 'v: 's>(&'s self, values: impl IntoIterator<Item = &'v Value>) -> JsonObject<'s> {
        let pairs: Vec<(&'s str, &'v Value)> =
            self.names.iter().map(String::as_str).zip(values).collect();
        JsonObject { pairs }
    }

    /// Closes what the format opened, flushes, and hands the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        match self.format {
            Format::Json if self.rows == 0 => self.write_plain(b"]\n")?,
            Format::Json => self.write_plain(b"\n]\n")?,
            Format::SqlInList => self.write_plain(b")")?,
            _ => {}
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

/// A byte count for status messages: `512 B`, `1.2 KB`, `56.3 KB`, `123 KB`, `4.0 MB`
/// (powers of 1024, one decimal while it helps).
pub fn format_size(bytes: usize) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut size = bytes as f64 / 1024.0;
    let mut unit = 0;
    while size >= 1024.0 && unit + 1 < UNITS.len() {
        size /= 1024.0;
        unit += 1;
    }
    if size < 99.95 {
        format!("{size:.1} {}", UNITS[unit])
    } else {
        format!("{size:.0} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::value::Column;

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
            ],
            rows: vec![
                vec![Value::Int(1), t("a\tb"), Value::Numeric("1.50".into())],
                vec![Value::Int(2), t("x|y\nz"), Value::Null],
                vec![
                    Value::Null,
                    t("O'Brien, \"Jr\""),
                    Value::Numeric("-3".into()),
                ],
            ],
            truncated: false,
        }
    }

    #[test]
    fn tsv() {
        let rs = sample();
        assert_eq!(
            render(&rs, Scope::All, Format::Tsv),
            "id\tname\tamount\n1\ta\\tb\t1.50\n2\tx|y\\nz\t\n\tO'Brien, \"Jr\"\t-3\n"
        );
        assert_eq!(
            render(&rs, Scope::Row(1), Format::Tsv),
            "id\tname\tamount\n2\tx|y\\nz\t\n"
        );
        assert_eq!(
            render(&rs, Scope::Column(1), Format::Tsv),
            "name\na\\tb\nx|y\\nz\nO'Brien, \"Jr\"\n"
        );
        // A single cell is the value itself: no header, no escapes, no newline.
        assert_eq!(
            render(&rs, Scope::Cell { row: 0, col: 1 }, Format::Tsv),
            "a\tb"
        );
        assert_eq!(render(&rs, Scope::Cell { row: 2, col: 0 }, Format::Tsv), "");
    }

    #[test]
    fn csv() {
        let rs = sample();
        assert_eq!(
            render(&rs, Scope::All, Format::Csv),
            "id,name,amount\n1,a\tb,1.50\n2,\"x|y\nz\",\n,\"O'Brien, \"\"Jr\"\"\",-3\n"
        );
        assert_eq!(
            render(&rs, Scope::Cell { row: 2, col: 1 }, Format::Csv),
            "\"O'Brien, \"\"Jr\"\"\""
        );
        assert_eq!(
            render(&rs, Scope::Cell { row: 0, col: 0 }, Format::Csv),
            "1"
        );
        assert_eq!(render(&rs, Scope::Cell { row: 1, col: 2 }, Format::Csv), "");
    }

    #[test]
    fn json() {
        let rs = sample();
        let all = render(&rs, Scope::All, Format::Json);
        let expected = serde_json::to_string_pretty(&rs.json_rows()).unwrap() + "\n";
        assert_eq!(all, expected);
        assert_eq!(
            render(&rs, Scope::Row(0), Format::Json),
            "{\n  \"id\": 1,\n  \"name\": \"a\\tb\",\n  \"amount\": \"1.50\"\n}\n"
        );
        assert_eq!(
            render(&rs, Scope::Column(0), Format::Json),
            "[\n  {\n    \"id\": 1\n  },\n  {\n    \"id\": 2\n  },\n  {\n    \"id\": null\n  }\n]\n"
        );
        assert_eq!(
            render(&rs, Scope::Cell { row: 1, col: 1 }, Format::Json),
            "\"x|y\\nz\""
        );
        assert_eq!(
            render(&rs, Scope::Cell { row: 2, col: 0 }, Format::Json),
            "null"
        );
        let empty = ResultSet {
            rows: vec![],
            ..sample()
        };
        assert_eq!(render(&empty, Scope::All, Format::Json), "[]\n");
    }

    #[test]
    fn json_lines() {
        let rs = sample();
        assert_eq!(
            render(&rs, Scope::All, Format::JsonLines),
            "{\"id\":1,\"name\":\"a\\tb\",\"amount\":\"1.50\"}\n\
             {\"id\":2,\"name\":\"x|y\\nz\",\"amount\":null}\n\
             {\"id\":null,\"name\":\"O'Brien, \\\"Jr\\\"\",\"amount\":\"-3\"}\n"
        );
        assert_eq!(
            render(&rs, Scope::Cell { row: 0, col: 0 }, Format::JsonLines),
            "1"
        );
    }

    #[test]
    fn duplicate_names_stay_apart_in_json_only() {
        let rs = ResultSet {
            columns: vec![col("a", "int4"), col("a", "int4")],
            rows: vec![vec![Value::Int(1), Value::Int(2)]],
            truncated: false,
        };
        assert_eq!(render(&rs, Scope::All, Format::Tsv), "a\ta\n1\t2\n");
        assert_eq!(
            render(&rs, Scope::All, Format::JsonLines),
            "{\"a\":1,\"a_2\":2}\n"
        );
        assert_eq!(
            render(&rs, Scope::Column(1), Format::JsonLines),
            "{\"a_2\":2}\n"
        );
    }

    #[test]
    fn markdown() {
        let rs = sample();
        assert_eq!(
            render(&rs, Scope::All, Format::Markdown),
            "| id | name | amount |\n\
             | ---: | --- | ---: |\n\
             | 1 | a\tb | 1.50 |\n\
             | 2 | x\\|y<br>z |  |\n\
             |  | O'Brien, \"Jr\" | -3 |\n"
        );
        assert_eq!(
            render(&rs, Scope::Cell { row: 0, col: 0 }, Format::Markdown),
            "| id |\n| ---: |\n| 1 |\n"
        );
        assert_eq!(markdown_escape("a\\|b\r\nc\rd"), "a\\\\\\|b<br>c<br>d");
    }

    #[test]
    fn sql_in_list() {
        let rs = sample();
        assert_eq!(
            render(&rs, Scope::Column(0), Format::SqlInList),
            "(1, 2, NULL)"
        );
        assert_eq!(
            render(&rs, Scope::Column(1), Format::SqlInList),
            "('a\tb', 'x|y\nz', 'O''Brien, \"Jr\"')"
        );
        assert_eq!(
            render(&rs, Scope::All, Format::SqlInList),
            "(1, 'a\tb', 1.50, 2, 'x|y\nz', NULL, 'O''Brien, \"Jr\"', -3)"
        );
        assert_eq!(
            render(&rs, Scope::Cell { row: 0, col: 2 }, Format::SqlInList),
            "(1.50)"
        );
        let dup = ResultSet {
            columns: vec![col("v", "text")],
            rows: vec![vec![t("a")], vec![t("b")], vec![t("a")], vec![t("b")]],
            truncated: false,
        };
        assert_eq!(render(&dup, Scope::All, Format::SqlInList), "('a', 'b')");
    }

    #[test]
    fn sql_literals() {
        assert_eq!(sql_literal(&Value::Bool(true)), "TRUE");
        assert_eq!(sql_literal(&Value::Float(2.5)), "2.5");
        assert_eq!(sql_literal(&Value::Float4(1e7)), "10000000");
        assert_eq!(sql_literal(&Value::Float(f64::NAN)), "'NaN'");
        assert_eq!(sql_literal(&Value::Float(f64::NEG_INFINITY)), "'-Infinity'");
        assert_eq!(sql_literal(&Value::Numeric("NaN".into())), "'NaN'");
        assert_eq!(sql_literal(&Value::Numeric("1e-5".into())), "1e-5");
        assert_eq!(sql_literal(&Value::Bytes(vec![0xab])), "'\\xab'");
        assert_eq!(sql_literal(&t("it's")), "'it''s'");
        for ok in ["0", "-12", "3.50", ".5", "5.", "1e10", "1E+3", "-2.5e-3"] {
            assert!(is_plain_number(ok), "{ok}");
        }
        for bad in [
            "", "-", ".", "1..2", "1e", "e5", "1,5", "0x10", "1 ", "--1", "1e+",
        ] {
            assert!(!is_plain_number(bad), "{bad}");
        }
    }

    #[test]
    fn outside_the_result_is_empty() {
        let rs = sample();
        for format in Format::ALL {
            assert_eq!(render(&rs, Scope::Row(3), format), "", "{format:?}");
            assert_eq!(render(&rs, Scope::Column(3), format), "", "{format:?}");
            assert_eq!(
                render(&rs, Scope::Cell { row: 0, col: 9 }, format),
                "",
                "{format:?}"
            );
        }
    }

    #[test]
    fn text_filter_applies_to_text_formats() {
        fn upper(s: &str) -> Cow<'_, str> {
            Cow::Owned(s.to_uppercase())
        }
        let mut w = RowWriter::new(Vec::new(), Format::Tsv).with_text_filter(upper);
        w.header(&["name"]).unwrap();
        w.row([&t("a\tb")]).unwrap();
        let out = w.finish().unwrap();
        // Escaped first, then filtered: the filter sees `a\tb` as written.
        assert_eq!(String::from_utf8(out).unwrap(), "NAME\nA\\TB\n");
    }

    #[test]
    fn null_and_the_empty_string_stay_apart_as_psql_writes_them() {
        let rs = ResultSet {
            columns: vec![col("a", "text"), col("b", "text"), col("c", "text")],
            rows: vec![vec![Value::Null, t(""), t("\\N")]],
            truncated: false,
        };
        assert_eq!(render(&rs, Scope::All, Format::Csv), "a,b,c\n,\"\",\\N\n");
        let mut file = Vec::new();
        write(&mut file, &rs, Scope::All, Format::Tsv).unwrap();
        assert_eq!(String::from_utf8(file).unwrap(), "a\tb\tc\n\\N\t\t\\\\N\n");
        // Pasted, a NULL is an empty cell.
        assert_eq!(render(&rs, Scope::All, Format::Tsv), "a\tb\tc\n\t\t\\\\N\n");
    }

    #[test]
    fn tsv_escapes_separators() {
        assert_eq!(tsv_escape("plain"), "plain");
        assert!(matches!(tsv_escape("plain"), Cow::Borrowed(_)));
        assert_eq!(tsv_escape("a\tb\nc\rd\\e"), "a\\tb\\nc\\rd\\\\e");
    }

    #[test]
    fn sizes() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(1023), "1023 B");
        assert_eq!(format_size(1024), "1.0 KB");
        assert_eq!(format_size(1229), "1.2 KB");
        assert_eq!(format_size(56 * 1024 + 300), "56.3 KB");
        assert_eq!(format_size(123 * 1024), "123 KB");
        assert_eq!(format_size(5 * 1024 * 1024), "5.0 MB");
        assert_eq!(format_size(3 * 1024 * 1024 * 1024), "3.0 GB");
    }

    #[test]
    fn describes_scopes() {
        let rs = sample();
        assert_eq!(Scope::Cell { row: 0, col: 0 }.describe(&rs), "cell");
        assert_eq!(Scope::Row(0).describe(&rs), "row");
        assert_eq!(Scope::Column(1).describe(&rs), "column name");
        assert_eq!(Scope::All.describe(&rs), "3 rows");
    }
}
