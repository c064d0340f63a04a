//! Printing for people and for machines.

use std::borrow::Cow;
use std::io::{self, Write};

use crate::core::Result;

/// Untrusted text made safe for a terminal (no escape sequences reach it).
pub fn for_terminal(s: &str) -> Cow<'_, str> {
    crate::core::sanitize::for_terminal(s)
}

/// Prints one JSON value as one line on stdout.
pub fn print_json(v: &impl serde::Serialize) -> Result<()> {
    let mut out = io::BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    serde_json::to_writer(&mut out, v).map_err(io::Error::other)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
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
