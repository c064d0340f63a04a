//! An Excel sheet imported into a DuckDB database of tdb's (`<home>/cache/<id>.excel-<stamp>.duckdb`),
//! read with calamine. The stamp is the workbook's size, mtime and inode and the sheet, so a
//! changed workbook is imported again; the cache is safe to delete (it is rebuilt).
//!
//! The first row names the columns (blank names become `column_N`, repeats `name_2`); each
//! column's type is the one every cell below agrees on: BOOLEAN, BIGINT (whole numbers),
//! DOUBLE, TIMESTAMP, else VARCHAR with each cell as Excel shows its value. Empty cells are
//! NULL.

use std::path::{Path, PathBuf};

use calamine::{Data, Reader, Xlsx};
use sha2::{Digest, Sha256};

use tokio_util::sync::CancellationToken;

use crate::connector::duck::{Cached, Import};
use crate::core::progress::ProgressFn;
use crate::connector::duck::engine::{Appender, Database, quote_ident};
use crate::core::regular_file::stat_regular;
use crate::core::{Error, Result};

/// A workbook's sheet and where its import goes.
pub struct Workbook {
    pub path: PathBuf,
    pub sheet: Option<String>,
    pub cache_dir: PathBuf,
    pub source_id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Bool,
    Int,
    Float,
    Timestamp,
    Text,
}

impl Col {
    fn sql(self) -> &'static str {
        match self {
            Col::Bool => "BOOLEAN",
            Col::Int => "BIGINT",
            Col::Float => "DOUBLE",
            Col::Timestamp => "TIMESTAMP",
            Col::Text => "VARCHAR",
        }
    }

    /// What one cell alone would make its column.
    fn of(cell: &Data) -> Option<Col> {
        Some(match cell {
            Data::Empty => return None,
            Data::Bool(_) => Col::Bool,
            Data::Int(_) => Col::Int,
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Col::Int,
            Data::Float(_) => Col::Float,
            Data::DateTime(_) => Col::Timestamp,
            _ => Col::Text,
        })
    }

    fn join(a: Option<Col>, b: Col) -> Col {
        match (a, b) {
            (None, b) => b,
            (Some(a), b) if a == b => a,
            (Some(Col::Int), Col::Float) | (Some(Col::Float), Col::Int) => Col::Float,
            _ => Col::Text,
        }
    }
}

/// A cell as Excel shows its value, for a text column.
fn shown(cell: &Data) -> Option<String> {
    Some(match cell {
        Data::Empty => return None,
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) => timestamp(d)?,
        other => other.to_string(),
    })
}

fn timestamp(d: &calamine::ExcelDateTime) -> Option<String> {
    d.as_datetime()
        .map(|t| t.format("%Y-%m-%d %H:%M:%S%.f").to_string())
}

/// Header cells as column names: trimmed, never blank, never repeated.
fn names(header: &[Data], width: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(width);
    for i in 0..width {
        let base = header
            .get(i)
            .and_then(shown)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("column_{}", i + 1));
        let mut name = base.clone();
        let mut n = 2;
        while out.iter().any(|o| o.eq_ignore_ascii_case(&name)) {
            name = format!("{base}_{n}");
            n += 1;
        }
        out.push(name);
    }
    out
}

impl Workbook {
    fn label(&self) -> String {
        self.path.display().to_string()
    }

    fn failed(&self, why: impl std::fmt::Display) -> Error {
        Error::QueryFailed(format!("cannot read the workbook {}: {why}", self.label()))
    }

    /// Imports the sheet into a new database at `dest`.
    fn build(&self, dest: &Path) -> Result<()> {
        let mut book: Xlsx<_> = calamine::open_workbook(&self.path).map_err(|e| self.failed(e))?;
        let sheets = book.sheet_names();
        let name = match &self.sheet {
            Some(s) => sheets.iter().find(|n| *n == s).cloned().ok_or_else(|| {
                self.failed(format!(
                    "it has no sheet named \"{}\" (its sheets: {})",
                    s.escape_debug(),
                    sheets.join(", ")
                ))
            })?,
            None => sheets
                .first()
                .cloned()
                .ok_or_else(|| self.failed("it has no sheets"))?,
        };
        let range = book
            .worksheet_range(&name)
            .map_err(|e| self.failed(format!("sheet \"{name}\": {e}")))?;
        let width = range.width();
        let mut rows = range.rows();
        let Some(header) = rows.next().filter(|_| width > 0) else {
            return Err(self.failed(format!("sheet \"{name}\" is empty")));
        };
        let names = names(header, width);
        let body: Vec<&[Data]> = rows.collect();
        let mut cols: Vec<Option<Col>> = vec![None; width];
        for row in &body {
            for (c, cell) in row.iter().enumerate().take(width) {
                if let Some(k) = Col::of(cell) {
                    cols[c] = Some(Col::join(cols[c], k));
                }
            }
        }
        let cols: Vec<Col> = cols.into_iter().map(|c| c.unwrap_or(Col::Text)).collect();
        let db = Database::open(Some(dest), &[])?;
        let conn = db.connect()?;
        let defs: Vec<String> = names
            .iter()
            .zip(&cols)
            .map(|(n, c)| format!("{} {}", quote_ident(n), c.sql()))
            .collect();
        conn.execute(&format!("CREATE TABLE data ({})", defs.join(", ")))?;
        let mut app = conn.appender("data")?;
        for row in &body {
            for (c, col) in cols.iter().enumerate() {
                append(&mut app, row.get(c).unwrap_or(&Data::Empty), *col)?;
            }
            app.end_row()?;
        }
        app.close()?;
        Ok(())
    }

    fn stamp(&self, meta: &std::fs::Metadata) -> String {
        use std::os::unix::fs::MetadataExt;
        let key = format!(
            "{} {} {} {} {:?}",
            meta.len(),
            meta.mtime(),
            meta.mtime_nsec(),
            meta.ino(),
            self.sheet
        );
        hex::encode(&Sha256::digest(key.as_bytes())[..8])
    }
}

fn append(app: &mut Appender<'_>, cell: &Data, col: Col) -> Result<()> {
    match (col, cell) {
        (_, Data::Empty) => app.null(),
        (Col::Bool, Data::Bool(b)) => app.bool(*b),
        (Col::Int, Data::Int(i)) => app.int(*i),
        (Col::Int, Data::Float(f)) => app.int(*f as i64),
        (Col::Float, Data::Int(i)) => app.float(*i as f64),
        (Col::Float, Data::Float(f)) => app.float(*f),
        (Col::Timestamp, Data::DateTime(d)) => match timestamp(d) {
            Some(t) => app.text(&t),
            None => app.null(),
        },
        (_, other) => match shown(other) {
            Some(t) => app.text(&t),
            None => app.null(),
        },
    }
}

impl Workbook {
    fn stat(&self) -> Result<std::fs::Metadata> {
        stat_regular(&self.path).map_err(|e| {
            Error::Unreachable(format!(
                "cannot read the Excel source {}: {}",
                self.label(),
                e.reason()
            ))
        })
    }
}

impl Import for Workbook {
    /// A workbook is read whole by calamine: no progress to tell, nothing to interrupt.
    fn ensure(&self, _progress: Option<&ProgressFn>, _cancel: &CancellationToken) -> Result<Cached> {
        let meta = self.stat()?;
        let prefix = format!("{}.excel-", self.source_id);
        let dest = self
            .cache_dir
            .join(format!("{prefix}{}.duckdb", self.stamp(&meta)));
        if dest.is_file() {
            return Ok(Cached::Database(dest));
        }
        std::fs::create_dir_all(&self.cache_dir)
            .map_err(|e| Error::internal("cannot create the cache folder", e))?;
        let tmp = self
            .cache_dir
            .join(format!("{prefix}tmp-{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()));
        let built = self.build(&tmp);
        let done = built.and_then(|()| {
            std::fs::rename(&tmp, &dest).map_err(|e| Error::internal("cannot keep the import", e))
        });
        if done.is_err() {
            let _ = std::fs::remove_file(&tmp);
            let _ = std::fs::remove_file(tmp.with_extension("wal"));
        }
        done?;
        // Earlier imports of the workbook are stale now.
        if let Ok(entries) = std::fs::read_dir(&self.cache_dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with(&prefix) && e.path() != dest && name.ends_with(".duckdb") {
                    let _ = std::fs::remove_file(e.path());
                }
            }
        }
        Ok(Cached::Database(dest))
    }

    fn reachable(&self) -> Result<()> {
        self.stat().map(drop)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_take_the_type_every_cell_agrees_on() {
        let int = Col::of(&Data::Float(3.0)).unwrap();
        assert_eq!(int, Col::Int);
        assert_eq!(Col::join(Some(int), Col::Float), Col::Float);
        assert_eq!(Col::join(Some(Col::Bool), Col::Int), Col::Text);
        assert_eq!(Col::of(&Data::Empty), None);
        assert_eq!(
            names(&[Data::String(" id ".into()), Data::Empty, Data::String("ID".into())], 3),
            ["id", "column_2", "ID_2"]
        );
    }
}
