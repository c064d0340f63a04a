//! Every row of a query written out as it streams, in bounded memory: `tdb query --all` to
//! stdout or a file, and the results pane's export of the whole result. Rows come a batch
//! at a time ([`crate::connector::RowSink`]) and go straight to the writer; only one batch
//! is ever held.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::connector::{BoxFuture, RowSink};
use crate::core::export::{Format, RowWriter, TextFilter};
use crate::core::progress::{Progress, ProgressFn};
use crate::core::value::{Column, Value};
use crate::core::{Error, Result};

/// Rows read per batch: enough that the round trips of a remote source cost little next to
/// the rows (and a PostgreSQL portal is asked few times), few enough that a batch of wide
/// rows stays small.
pub const BATCH_ROWS: usize = 2000;

/// Writes the rows it is handed to `W` in `format` (CSV, TSV, JSON lines, …).
pub struct WriteSink<W: Write + Send> {
    format: Format,
    filter: Option<TextFilter>,
    /// The writer until the header is written, then inside `writer`.
    out: Option<Counted<W>>,
    writer: Option<RowWriter<Counted<W>>>,
    bytes: Arc<AtomicU64>,
    rows: u64,
    progress: Option<ProgressFn>,
    /// The reader went away (`| head`): stop reading, say nothing, as `cat` does.
    closed: bool,
    /// Why writing failed, kept for the caller (a full disk, a file error).
    failed: Option<io::Error>,
}

impl<W: Write + Send> WriteSink<W> {
    pub fn new(out: W, format: Format) -> Self {
        let bytes = Arc::new(AtomicU64::new(0));
        WriteSink {
            format,
            filter: None,
            out: Some(Counted {
                inner: out,
                bytes: Arc::clone(&bytes),
            }),
            writer: None,
            bytes,
            rows: 0,
            progress: None,
            closed: false,
            failed: None,
        }
    }

    /// Applies `f` to every text written (a terminal gets escapes made visible).
    pub fn with_text_filter(mut self, f: TextFilter) -> Self {
        self.filter = Some(f);
        self
    }

    /// Told the rows and bytes written after each batch (`total_bytes` is 0: unknown).
    pub fn with_progress(mut self, progress: Option<ProgressFn>) -> Self {
        self.progress = progress;
        self
    }

    pub fn rows_written(&self) -> u64 {
        self.rows
    }

    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Whether the reader went away before the end (a closed pipe).
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Closes what the format opened and hands the writer back; `None` when the reader
    /// went away. A write error met on the way is returned here.
    pub fn finish(mut self) -> io::Result<Option<W>> {
        if let Some(e) = self.failed.take() {
            return Err(e);
        }
        if self.closed {
            return Ok(None);
        }
        let counted = match (self.writer.take(), self.out.take()) {
            (Some(w), _) => w.finish()?,
            (None, Some(out)) => out,
            (None, None) => return Ok(None),
        };
        Ok(Some(counted.inner))
    }

    fn write_failed(&mut self, e: io::Error) -> Result<()> {
        if e.kind() == io::ErrorKind::BrokenPipe {
            self.closed = true;
            return Ok(());
        }
        let detail = format!("cannot write the rows: {e}");
        self.failed = Some(e);
        Err(Error::Internal(detail))
    }
}

impl<W: Write + Send> RowSink for WriteSink<W> {
    fn columns(&mut self, columns: &[Column]) -> Result<()> {
        let Some(out) = self.out.take() else {
            return Ok(());
        };
        let mut w = RowWriter::new(out, self.format);
        if let Some(f) = self.filter {
            w = w.with_text_filter(f);
        }
        // JSON keys must differ or later columns overwrite earlier ones; CSV and TSV keep
        // the names as the engine gave them, as psql does.
        let names: Vec<String> = match self.format {
            Format::Json | Format::JsonLines => unique_names(columns),
            _ => columns.iter().map(|c| c.name.clone()).collect(),
        };
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let written = w.header(&names);
        self.writer = Some(w);
        match written {
            Ok(()) => Ok(()),
            Err(e) => self.write_failed(e),
        }
    }

    fn wanted(&mut self) -> BoxFuture<'_, Option<usize>> {
        let n = (!self.closed).then_some(BATCH_ROWS);
        Box::pin(async move { n })
    }

    fn rows(&mut self, rows: Vec<Vec<Value>>, more: bool) -> Result<()> {
        let Some(w) = &mut self.writer else {
            return Ok(());
        };
        if self.closed {
            return Ok(());
        }
        let mut failed = None;
        for row in &rows {
            if let Err(e) = w.row(row) {
                failed = Some(e);
                break;
            }
            self.rows += 1;
        }
        if let Some(e) = failed {
            return self.write_failed(e);
        }
        if let Some(p) = &self.progress {
            p(Progress {
                rows: self.rows,
                bytes: self.bytes.load(Ordering::Relaxed),
                total_bytes: 0,
                done: !more,
            });
        }
        Ok(())
    }

    fn bytes_written(&self) -> Option<u64> {
        Some(self.bytes())
    }
}

/// Column names made unique as [`crate::core::value::ResultSet::unique_column_names`] does.
fn unique_names(columns: &[Column]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(columns.len());
    for c in columns {
        let mut name = c.name.clone();
        let mut n = 2;
        while out.contains(&name) {
            name = format!("{}_{n}", c.name);
            n += 1;
        }
        out.push(name);
    }
    out
}

/// A writer that counts the bytes that went through it.
struct Counted<W> {
    inner: W,
    bytes: Arc<AtomicU64>,
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cols(names: &[&str]) -> Vec<Column> {
        names
            .iter()
            .map(|n| Column {
                name: n.to_string(),
                type_name: "text".into(),
            })
            .collect()
    }

    #[tokio::test]
    async fn rows_are_written_as_they_come_and_counted() {
        let mut sink = WriteSink::new(Vec::new(), Format::Csv);
        sink.columns(&cols(&["a", "b"])).unwrap();
        assert_eq!(sink.wanted().await, Some(BATCH_ROWS));
        sink.rows(vec![vec![Value::Int(1), Value::Null]], true)
            .unwrap();
        sink.rows(vec![vec![Value::Int(2), Value::Text("x,y".into())]], false)
            .unwrap();
        assert_eq!(sink.rows_written(), 2);
        let bytes = sink.bytes();
        let out = sink.finish().unwrap().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "a,b\n1,\n2,\"x,y\"\n");
        assert_eq!(bytes, 15);
    }

    #[test]
    fn json_lines_keys_are_unique() {
        let mut sink = WriteSink::new(Vec::new(), Format::JsonLines);
        sink.columns(&cols(&["id", "id"])).unwrap();
        sink.rows(vec![vec![Value::Int(1), Value::Int(2)]], false)
            .unwrap();
        let out = sink.finish().unwrap().unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "{\"id\":1,\"id_2\":2}\n");
    }

    struct Gone;
    impl Write for Gone {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_closed_pipe_stops_the_read_quietly() {
        let mut sink = WriteSink::new(Gone, Format::Tsv);
        sink.columns(&cols(&["a"])).unwrap();
        assert!(sink.closed());
        assert_eq!(sink.wanted().await, None);
        assert!(sink.finish().unwrap().is_none());
    }
}
