//! A query of the results pane, held open for more rows: its first page is the result the
//! pane shows (the `--limit` rows), and moving past the last row asks for the next page from
//! the same statement, in the same read-only snapshot ([`crate::connector::Connector::stream`]).
//!
//! The statement stays open until the pane lets go of it ([`super::Request::Release`], a tab
//! closed or replaced), until no page was asked for in the idle time (two minutes unless
//! configured), or until the backend needs the room for another ([`MAX_HELD`]); then it is
//! closed on the source and the pane is told why.

use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};

use super::Finished;
use super::engine::{QueryOutcome, Ticket};
use super::protocol::{RequestId, Response};
use crate::connector::{BoxFuture, RowSink};
use crate::core::Result;
use crate::core::value::{Column, ResultSet, Value};

/// The most results held open at once: each holds a connection of its source's pool (and
/// a transaction on the server), so the pool keeps room for new queries and the schema.
pub const MAX_HELD: usize = 2;

/// The idle time after which a held result is closed, unless the pane says otherwise.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(120);

/// A page asked for: fetch request `id`, `rows` rows.
#[derive(Debug)]
pub struct Demand {
    pub id: RequestId,
    pub rows: usize,
}

/// What the query's own answer needs, apart from its rows.
pub struct Head {
    pub source_id: String,
    pub source_name: String,
    pub sql: String,
    pub executed_sql: String,
    pub executed_at: String,
    pub started: Instant,
}

/// Hands the first page to the backend loop as the query's answer, and later pages to the
/// pane as [`Response::Fetched`], each when the pane asks.
pub struct PagerSink {
    pub query: RequestId,
    first: usize,
    demands: UnboundedReceiver<Demand>,
    idle: Duration,
    out: UnboundedSender<Response>,
    done: UnboundedSender<Finished>,
    head: Head,
    ticket: Option<Box<Ticket>>,
    columns: Vec<Column>,
    /// The fetch request being answered.
    pub fetch: Option<RequestId>,
}

impl PagerSink {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        query: RequestId,
        first: usize,
        demands: UnboundedReceiver<Demand>,
        idle: Duration,
        out: UnboundedSender<Response>,
        done: UnboundedSender<Finished>,
        head: Head,
        ticket: Box<Ticket>,
    ) -> PagerSink {
        PagerSink {
            query,
            first,
            demands,
            idle,
            out,
            done,
            head,
            ticket: Some(ticket),
            columns: Vec::new(),
            fetch: None,
        }
    }

    /// Whether the first page (the query's answer) has gone out.
    pub fn answered(&self) -> bool {
        self.ticket.is_none()
    }

    /// The query's answer when it ends without a first page: `result` an error, or an
    /// empty result.
    pub fn answer(&mut self, result: Result<()>) {
        let Some(ticket) = self.ticket.take() else {
            return;
        };
        let result = result.map(|()| self.outcome(Vec::new(), false));
        let _ = self.done.send(Finished::Query {
            id: self.query,
            ticket,
            result,
        });
    }

    fn outcome(&self, rows: Vec<Vec<Value>>, more: bool) -> QueryOutcome {
        QueryOutcome {
            source_id: self.head.source_id.clone(),
            source_name: self.head.source_name.clone(),
            sql: self.head.sql.clone(),
            executed_sql: self.head.executed_sql.clone(),
            result: ResultSet {
                columns: self.columns.clone(),
                rows,
                truncated: more,
            },
            duration: self.head.started.elapsed(),
            executed_at: self.head.executed_at.clone(),
        }
    }
}

impl RowSink for PagerSink {
    fn columns(&mut self, columns: &[Column]) -> Result<()> {
        self.columns = columns.to_vec();
        Ok(())
    }

    fn wanted(&mut self) -> BoxFuture<'_, Option<usize>> {
        Box::pin(async move {
            if !self.answered() {
                return Some(self.first);
            }
            match tokio::time::timeout(self.idle, self.demands.recv()).await {
                Ok(Some(d)) => {
                    self.fetch = Some(d.id);
                    Some(d.rows.max(1))
                }
                // Released, or the backend is going away.
                Ok(None) => None,
                Err(_) => {
                    let _ = self.out.send(Response::Released {
                        query: self.query,
                        why: format!("closed after {} idle", idle_text(self.idle)),
                    });
                    None
                }
            }
        })
    }

    fn rows(&mut self, rows: Vec<Vec<Value>>, more: bool) -> Result<()> {
        match self.ticket.take() {
            Some(ticket) => {
                let outcome = self.outcome(rows, more);
                let _ = self.done.send(Finished::Query {
                    id: self.query,
                    ticket,
                    result: Ok(outcome),
                });
            }
            None => {
                if let Some(id) = self.fetch.take() {
                    let _ = self.out.send(Response::Fetched {
                        id,
                        query: self.query,
                        result: Ok((rows, more)),
                    });
                }
            }
        }
        Ok(())
    }
}

/// `2 min`, `45 s`.
pub fn idle_text(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 60 && s.is_multiple_of(60) {
        format!("{} min", s / 60)
    } else {
        format!("{s} s")
    }
}
