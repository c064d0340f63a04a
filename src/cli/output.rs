//! Printing for people and for machines.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::core::Result;

/// Untrusted text made safe for a terminal (no escape sequences reach it).
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    crate::core::sanitize::for_terminal(s)
}

/// Prints one JSON value as one line on stdout. A reader that went away (`| head`) ends it
/// quietly, as it does for cat.
pub fn print_json(v: &impl serde::Serialize) -> Result<()> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let written = write_json(&mut out, v)
        .and_then(|()| writeln!(out))
        .and_then(|()| out.flush());
    match written {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// One JSON value as text, escaped like [`print_json`]: for the error line on stderr.
pub fn json_line(v: &impl serde::Serialize) -> String {
    let mut buf = Vec::new();
    match write_json(&mut buf, v) {
        // The formatter writes only UTF-8 text from UTF-8 input.
        Ok(()) => String::from_utf8_lossy(&buf).into_owned(),
        Err(_) => r#"{"error":{"status":500,"detail":"cannot write JSON"}}"#.to_string(),
    }
}

/// serde_json's compact form, except that characters a terminal acts on or that reorder
/// what a reader sees are written as `\u` escapes: `--json` output is often looked at with
/// `cat` or `jq -r`, where a raw U+009B (CSI) starts an escape sequence and a raw U+202E
/// turns `txt.exe` into `exe.txt`. Valid JSON either way, and decoders give back the same
/// strings.
fn write_json<W: Write>(w: W, v: &impl serde::Serialize) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, SafeFormatter);
    v.serialize(&mut ser).map_err(|e| match e.io_error_kind() {
        Some(kind) => io::Error::new(kind, e),
        None => io::Error::other(e),
    })
}

struct SafeFormatter;

impl serde_json::ser::Formatter for SafeFormatter {
    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        write_escaped(writer, fragment)
    }

    /// Raw JSON (a `json` column as the server gave it) can hold these characters only
    /// inside its strings, where a `\u` escape means the same: escaping them keeps it valid.
    fn write_raw_fragment<W: ?Sized + Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        write_escaped(writer, fragment)
    }
}

/// DEL and the C1 controls, bidi controls, and the line and paragraph separators (which
/// JavaScript once took as line ends inside strings).
fn needs_escape(c: char) -> bool {
    matches!(c, '\u{7F}'..='\u{9F}' | '\u{2028}' | '\u{2029}')
        || crate::core::sanitize::is_bidi_control(c)
}

fn write_escaped<W: ?Sized + Write>(w: &mut W, s: &str) -> io::Result<()> {
    let mut start = 0;
    for (i, c) in s.char_indices() {
        if needs_escape(c) {
            w.write_all(&s.as_bytes()[start..i])?;
            write!(w, "\\u{:04x}", u32::from(c))?;
            start = i + c.len_utf8();
        }
    }
    w.write_all(&s.as_bytes()[start..])
}

/// A plain text table: a header, then rows; every cell sanitized, columns padded by
/// display width so CJK and emoji stay aligned.
pub fn print_table(header: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let cells: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|r| r.iter().map(|c| for_terminal(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &cells {
        for (i, c) in row.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(crate::core::sanitize::display_width(c));
            }
        }
    }
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let line = |out: &mut dyn Write, row: &[&str]| -> io::Result<()> {
        let mut s = String::new();
        for (i, c) in row.iter().enumerate() {
            if i + 1 == row.len() {
                s.push_str(c);
            } else {
                s.push_str(c);
                let pad = widths[i].saturating_sub(crate::core::sanitize::display_width(c));
                s.extend(std::iter::repeat_n(' ', pad + 2));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(&mut out, header)?;
    for row in &cells {
        let refs: Vec<&str> = row.iter().map(|c| c.as_ref()).collect();
        line(&mut out, &refs)?;
    }
    out.flush()?;
    Ok(())
}

/// `key: value` lines, keys aligned.
pub fn print_fields(fields: &[(&str, String)]) -> Result<()> {
    let width = fields.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = io::BufWriter::new(io::stdout().lock());
    for (k, v) in fields {
        writeln!(out, "{k:<width$}  {}", for_terminal(v))?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_and_bidi_are_escaped_everywhere() {
        let v = serde_json::json!({"a\u{9B}b": ["x\u{9D}y\u{85}", "\u{202E}txt", "\u{7F}\u{2028}"], "ok": "é😀"});
        let line = json_line(&v);
        assert_eq!(
            line,
            r#"{"a\u009bb":["x\u009dy\u0085","\u202etxt","\u007f\u2028"],"ok":"é😀"}"#
        );
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(back, v);
    }
}
