//! Reading a statement's rows a batch at a time, as many as there are, in bounded memory:
//! `tdb query --all` writes each batch out as it comes, the results pane asks for the next
//! page when the cursor moves past the last row. The reader of the rows (a [`RowSink`])
//! sets the pace: the connector reads the next batch only once it is wanted, and between
//! batches holds the statement open in its read-only snapshot (a PostgreSQL portal in its
//! transaction, a SQLite statement), so every page comes from the same snapshot.

use std::time::Duration;

use tokio::sync::mpsc;

use super::BoxFuture;
use crate::core::value::{Column, Value};
use crate::core::{Error, Result};

/// Where a streamed statement's rows go.
pub trait RowSink: Send {
    /// The result's columns, once, before any row.
    fn columns(&mut self, columns: &[Column]) -> Result<()>;

    /// Waits until more rows are wanted and says how many (at least one); `None` ends the
    /// read (the statement is closed).
    fn wanted(&mut self) -> BoxFuture<'_, Option<usize>>;

    /// The rows read for the last [`RowSink::wanted`] (fewer only at the end); `more` says
    /// whether the statement has rows after them. An error stops the read.
    fn rows(&mut self, rows: Vec<Vec<Value>>, more: bool) -> Result<()>;

    /// The bytes the sink wrote out, for the audit line of a whole export.
    fn bytes_written(&self) -> Option<u64> {
        None
    }
}

/// How long a sink may take between two batches before the source may give up on it: a
/// server-side idle limit for the statement's open transaction is set from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hold(pub Duration);

/// What a blocking reader (SQLite on a worker thread) hands back to the async side.
pub enum Step {
    Columns(Vec<Column>),
    Rows(Vec<Vec<Value>>, bool),
}

/// Runs a blocking reader on the blocking pool and relays between it and `sink`: the reader
/// calls its `next` with each [`Step`] and gets how many rows are wanted next (`None`:
/// stop). Returns the rows handed to the sink.
pub async fn relay_blocking<F>(sink: &mut dyn RowSink, read: F) -> Result<u64>
where
    F: FnOnce(&mut dyn FnMut(Step) -> Option<usize>) -> Result<()> + Send + 'static,
{
    let (step_tx, mut step_rx) = mpsc::channel::<Step>(1);
    let (want_tx, want_rx) = std::sync::mpsc::channel::<usize>();
    let worker = tokio::task::spawn_blocking(move || {
        let mut next = move |step: Step| {
            step_tx.blocking_send(step).ok()?;
            want_rx.recv().ok()
        };
        read(&mut next)
    });
    let mut delivered = 0u64;
    let relayed = async {
        while let Some(step) = step_rx.recv().await {
            let more = match step {
                Step::Columns(columns) => {
                    sink.columns(&columns)?;
                    true
                }
                Step::Rows(rows, more) => {
                    delivered += rows.len() as u64;
                    sink.rows(rows, more)?;
                    more
                }
            };
            let wanted = if more { sink.wanted().await } else { None };
            match wanted {
                Some(n) => {
                    if want_tx.send(n.max(1)).is_err() {
                        break;
                    }
                }
                None => break,
            }
        }
        Ok::<_, Error>(())
    }
    .await;
    // The reader stops at its next step once nothing listens.
    drop(step_rx);
    drop(want_tx);
    let read = worker
        .await
        .map_err(|e| Error::internal("the row reader failed", e))?;
    relayed?;
    read?;
    Ok(delivered)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Takes `page` rows at a time, `pages` times.
    struct Pages {
        page: usize,
        pages: usize,
        got: Vec<(usize, bool)>,
    }

    impl RowSink for Pages {
        fn columns(&mut self, columns: &[Column]) -> Result<()> {
            assert_eq!(columns.len(), 1);
            Ok(())
        }
        fn wanted(&mut self) -> BoxFuture<'_, Option<usize>> {
            let n = (self.got.len() < self.pages).then_some(self.page);
            Box::pin(async move { n })
        }
        fn rows(&mut self, rows: Vec<Vec<Value>>, more: bool) -> Result<()> {
            self.got.push((rows.len(), more));
            Ok(())
        }
    }

    /// A reader of `total` rows that serves what is wanted and says whether more remain.
    fn counting(total: usize) -> impl FnOnce(&mut dyn FnMut(Step) -> Option<usize>) -> Result<()> {
        move |next| {
            let col = Column {
                name: "n".into(),
                type_name: "int".into(),
            };
            let Some(mut want) = next(Step::Columns(vec![col])) else {
                return Ok(());
            };
            let mut at = 0;
            loop {
                let end = (at + want).min(total);
                let rows = (at..end).map(|i| vec![Value::Int(i as i64)]).collect();
                at = end;
                match next(Step::Rows(rows, at < total)) {
                    Some(n) if at < total => want = n,
                    _ => return Ok(()),
                }
            }
        }
    }

    #[tokio::test]
    async fn the_sink_sets_the_pace_and_stops_the_reader() {
        let mut sink = Pages {
            page: 4,
            pages: 2,
            got: Vec::new(),
        };
        let n = relay_blocking(&mut sink, counting(10)).await.unwrap();
        assert_eq!(n, 8, "two pages asked, two read");
        assert_eq!(sink.got, [(4, true), (4, true)]);

        let mut sink = Pages {
            page: 4,
            pages: 9,
            got: Vec::new(),
        };
        let n = relay_blocking(&mut sink, counting(10)).await.unwrap();
        assert_eq!(n, 10);
        assert_eq!(sink.got, [(4, true), (4, true), (2, false)]);
    }

    #[tokio::test]
    async fn a_reader_error_reaches_the_caller() {
        let mut sink = Pages {
            page: 1,
            pages: 1,
            got: Vec::new(),
        };
        let e = relay_blocking(&mut sink, |_| Err(Error::QueryFailed("boom".into())))
            .await
            .unwrap_err();
        assert_eq!(e.detail(), "boom");
    }
}
