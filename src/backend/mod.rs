//! The task that owns the [`Engine`] (registry, audit log, connector pools) for the terminal
//! UI. The UI never awaits a database: it sends a [`Request`] carrying an id and goes back to
//! drawing; the answer comes back later as a [`Response`] with the same id, so the UI can
//! drop answers it no longer wants (a cancelled query, an old schema read).
//!
//! The backend runs on a thread of its own with its own runtime, so nothing it waits on can
//! hold up a frame: a registry write waiting out another process's lock (up to the busy
//! timeout), the audit log's `flock` and `fdatasync`, a CSV file's checks. The runtime is a
//! current-thread one: the backend's work is async I/O and short synchronous steps, CSV
//! imports and the clipboard go to its blocking pool, and worker threads would cost an
//! allocator arena each for nothing the UI could see.
//!
//! The synchronous registry work (resolving a source, guarding SQL, recording a status) runs
//! in the backend loop itself. Queries, schema reads and tests run as tasks of their own and
//! report back to the loop, which records what they said about the source and forwards the
//! answer, so a slow query never delays another request.

pub mod engine;
pub mod export;
mod pager;
pub mod protocol;

pub use pager::{DEFAULT_IDLE, MAX_HELD, idle_text};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::oneshot;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::audit::Event;
use crate::clipboard::Clipboard;
use crate::connector::{self, Connector};
use crate::core::draft::SourceDraft;
use crate::core::export::Format;
use crate::core::history::KEEP_PER_SOURCE;
use crate::core::progress::ProgressFn;
use crate::core::schema::SchemaInfo;
use crate::core::secret::StoredSecret;
use crate::core::source::{SourceRecord, Status};
use crate::core::value::ResultSet;
use crate::core::{Error, Result};
use crate::home::{Here, Home};
use crate::registry::{EditRequest, Removal};
use engine::{Engine, QueryOutcome, StreamAudit, Streamed, Ticket};
use pager::{Demand, Head, PagerSink};
use protocol::{PUSHED, Request, RequestId, Response};

/// How often the backend looks whether another process changed the registry.
const WATCH_EVERY: Duration = Duration::from_secs(2);

/// A finished task, reported back to the loop so it can record the source's status.
enum Finished {
    Query {
        id: RequestId,
        /// Boxed: the variants of this enum stay small while it waits in the channel.
        ticket: Box<Ticket>,
        result: Result<QueryOutcome>,
    },
    Schema {
        id: RequestId,
        source_id: String,
        result: Result<SchemaInfo>,
    },
    Test {
        id: RequestId,
        source_id: String,
        result: Result<(Duration, Vec<String>)>,
    },
    /// The statement of a held query (or of an export of every row) was closed.
    Closed { id: RequestId },
    /// An export of every row ended (its answer went to the UI already).
    Streamed {
        id: RequestId,
        ticket: Box<Ticket>,
        result: Result<Streamed>,
    },
}

/// `~` expanded and a relative path put under the working folder, so the status line can
/// say exactly where the file went.
fn absolute(path: &std::path::Path) -> PathBuf {
    let path = crate::file_export::expand_tilde(path);
    match std::env::current_dir() {
        Ok(cwd) if path.is_relative() => cwd.join(path),
        _ => path,
    }
}

/// How long the backend thread waits, once told to stop, for blocking work it cannot cancel
/// (a CSV import, a clipboard helper) before it lets go of it.
const BLOCKING_WAIT: Duration = Duration::from_secs(1);

/// How long [`Handle::shutdown`] waits, after its grace, for the dropped queries' closing
/// audit lines. A backend stuck past that (an audit log another process keeps locked) is
/// left to end with the process: nothing more can be written for it anyway.
const STOP_WAIT: Duration = Duration::from_secs(3);

/// The UI's end of the backend.
pub struct Handle {
    pub requests: UnboundedSender<Request>,
    pub responses: UnboundedReceiver<Response>,
    /// Sending, or dropping, stops the backend where it stands: what still runs is dropped,
    /// and a query dropped so is audited as stopped.
    stop: Option<oneshot::Sender<()>>,
    /// Resolves when the backend thread has shut its runtime down.
    finished: oneshot::Receiver<()>,
}

impl Handle {
    /// Stops the backend: running queries are cancelled on the server and given up to
    /// `grace` to say so, so quitting never leaves a query running. What still runs after
    /// that is dropped, which audits it as stopped.
    pub async fn shutdown(mut self, grace: Duration) {
        drop(self.requests);
        if tokio::time::timeout(grace, &mut self.finished)
            .await
            .is_ok()
        {
            return;
        }
        drop(self.stop.take());
        let _ = tokio::time::timeout(STOP_WAIT, &mut self.finished).await;
    }
}

/// Starts the backend on a thread of its own with the clipboard chain of this process's
/// environment.
pub fn spawn(home: Home) -> Result<Handle> {
    let clipboard = Clipboard::from_env(&home);
    spawn_with(home, clipboard)
}

/// Starts the backend on a thread of its own with a given clipboard. The registry is opened
/// there, so the UI can draw its first frame meanwhile; if it cannot be opened, every
/// request is answered with that error. Works from inside a runtime or outside any.
pub fn spawn_with(home: Home, clipboard: Clipboard) -> Result<Handle> {
    let (req_tx, req_rx) = unbounded_channel();
    let (resp_tx, resp_rx) = unbounded_channel();
    let (stop_tx, stop_rx) = oneshot::channel();
    let (finished_tx, finished_rx) = oneshot::channel();
    std::thread::Builder::new()
        .name("tdb-backend".into())
        .spawn(move || {
            serve(home, clipboard, req_rx, resp_tx, stop_rx);
            let _ = finished_tx.send(());
        })
        .map_err(|e| Error::internal("cannot start the backend thread", e))?;
    Ok(Handle {
        requests: req_tx,
        responses: resp_rx,
        stop: Some(stop_tx),
        finished: finished_rx,
    })
}

/// The backend thread: its runtime, the loop until the UI hangs up (or says stop), then the
/// runtime's shutdown, which drops every task still running.
fn serve(
    home: Home,
    clipboard: Clipboard,
    mut requests: UnboundedReceiver<Request>,
    out: UnboundedSender<Response>,
    stop: oneshot::Receiver<()>,
) {
    let backend = Backend::new(out, clipboard);
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let e = Error::internal("cannot start the backend's async runtime", e);
            while let Some(req) = requests.blocking_recv() {
                backend.refuse(req, &e);
            }
            return;
        }
    };
    rt.block_on(async move {
        let engine = Engine::open(&home);
        tokio::select! {
            () = backend.run(engine, requests) => {}
            _ = stop => {}
        }
    });
    rt.shutdown_timeout(BLOCKING_WAIT);
}

struct Backend {
    out: UnboundedSender<Response>,
    /// Copying may wait on a display server or tmux, so it runs on the blocking pool.
    clipboard: Arc<Clipboard>,
    /// Cancellation of each running query, by the id of the request that started it.
    running: HashMap<RequestId, CancellationToken>,
    /// The queries whose statements are held open for more rows, oldest first, each with
    /// where to send the pages asked for.
    held: Vec<(RequestId, UnboundedSender<Demand>)>,
    tasks: JoinSet<()>,
    done_tx: UnboundedSender<Finished>,
    done_rx: UnboundedReceiver<Finished>,
}

impl Backend {
    fn new(out: UnboundedSender<Response>, clipboard: Clipboard) -> Self {
        let (done_tx, done_rx) = unbounded_channel();
        Backend {
            out,
            clipboard: Arc::new(clipboard),
            running: HashMap::new(),
            held: Vec::new(),
            tasks: JoinSet::new(),
            done_tx,
            done_rx,
        }
    }

    async fn run(mut self, engine: Result<Engine>, mut requests: UnboundedReceiver<Request>) {
        let mut engine = match engine {
            Ok(e) => e,
            Err(e) => {
                while let Some(req) = requests.recv().await {
                    self.refuse(req, &e);
                }
                return;
            }
        };
        let mut watch = tokio::time::interval(WATCH_EVERY);
        watch.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut seen = engine.registry().data_version().ok();
        loop {
            tokio::select! {
                req = requests.recv() => match req {
                    Some(req) => self.handle(&mut engine, req),
                    None => break,
                },
                Some(done) = self.done_rx.recv() => self.finish(&engine, done),
                Some(_) = self.tasks.join_next(), if !self.tasks.is_empty() => {}
                _ = watch.tick() => {
                    let now = engine.registry().data_version().ok();
                    if now != seen {
                        seen = now;
                        let result = engine.registry().list(None);
                        self.send(Response::Sources { id: PUSHED, result });
                    }
                }
            }
        }
        // The UI is gone: stop what runs on servers, and let the cancels reach them.
        for token in self.running.values() {
            token.cancel();
        }
        while self.tasks.join_next().await.is_some() {}
        while let Ok(done) = self.done_rx.try_recv() {
            self.finish(&engine, done);
        }
    }

    fn send(&self, r: Response) {
        // The UI may have quit already; nothing left to tell.
        let _ = self.out.send(r);
    }

    fn refuse(&self, req: Request, e: &Error) {
        let e = e.clone();
        match req {
            Request::ListSources { id } => self.send(Response::Sources { id, result: Err(e) }),
            Request::Schema { id, source_id } => self.send(Response::Schema {
                id,
                source_id,
                result: Err(e),
            }),
            Request::Query { id, .. } => self.send(Response::QueryDone { id, result: Err(e) }),
            Request::Test { id, source_id } => self.send(Response::Tested {
                id,
                source_id,
                result: Err(e),
            }),
            Request::Copy { id, what, .. } => self.send(Response::Copied {
                id,
                what,
                result: Err(e),
            }),
            Request::Export { id, path, .. } => self.send(Response::Exported {
                id,
                path,
                rows: 0,
                result: Err(e),
            }),
            Request::FetchMore { id, query, .. } => self.send(Response::Fetched {
                id,
                query,
                result: Err(e),
            }),
            Request::ExportAll { id, path, .. } => self.send(Response::Exported {
                id,
                path,
                rows: 0,
                result: Err(e),
            }),
            Request::Cancel { .. } | Request::Release { .. } | Request::SaveEditorText { .. } => {}
            Request::CacheSize { id, source_id } => self.send(Response::CacheSize {
                id,
                source_id,
                bytes: 0,
            }),
            Request::AddSource { id, .. } | Request::EditSource { id, .. } => {
                self.send(Response::SourceSaved { id, result: Err(e) })
            }
            Request::TestDraft { id, .. } => {
                self.send(Response::DraftTested { id, result: Err(e) })
            }
            Request::DeleteSource { id, .. } => {
                self.send(Response::SourceDeleted { id, result: Err(e) })
            }
            Request::History { id, source_id } => self.send(Response::History {
                id,
                source_id,
                result: Err(e),
            }),
            Request::LoadEditorText { id, source_id } => self.send(Response::EditorText {
                id,
                source_id,
                sql: None,
            }),
        }
    }

    fn handle(&mut self, engine: &mut Engine, req: Request) {
        match req {
            Request::ListSources { id } => {
                let result = engine.registry().list(None);
                self.send(Response::Sources { id, result });
            }
            Request::Query {
                id,
                source_id,
                sql,
                limit,
                idle,
            } => self.start_query(engine, id, &source_id, &sql, limit, idle),
            Request::Cancel { id } => {
                if let Some(token) = self.running.get(&id) {
                    token.cancel();
                }
            }
            Request::FetchMore { id, query, rows } => {
                let sent = self
                    .held
                    .iter()
                    .find(|(q, _)| *q == query)
                    .is_some_and(|(_, tx)| tx.send(Demand { id, rows }).is_ok());
                if !sent {
                    self.send(Response::Fetched {
                        id,
                        query,
                        result: Err(Error::Invalid(
                            "the statement behind this result is closed: run the query again \
                             to read more rows"
                                .into(),
                        )),
                    });
                }
            }
            // Dropping the sender ends the held statement's wait for a page: it closes.
            Request::Release { query } => self.held.retain(|(q, _)| *q != query),
            Request::ExportAll {
                id,
                source_id,
                sql,
                path,
                format,
                overwrite,
            } => self.start_export_all(engine, id, &source_id, &sql, path, format, overwrite),
            Request::Schema { id, source_id } => self.start_schema(engine, id, source_id),
            Request::Test { id, source_id } => self.start_test(engine, id, source_id),
            Request::Copy { id, what, text } => self.start_copy(id, what, text),
            Request::Export {
                id,
                result,
                path,
                format,
                overwrite,
            } => self.start_export(id, result, path, format, overwrite),
            Request::AddSource { id, draft } => {
                let result = add_source(engine, &draft);
                self.send(Response::SourceSaved { id, result });
            }
            Request::EditSource {
                id,
                source_id,
                before,
                draft,
            } => {
                let result = edit_source(engine, &source_id, &before, &draft);
                self.send(Response::SourceSaved { id, result });
            }
            Request::TestDraft {
                id,
                source_id,
                draft,
            } => self.start_draft_test(engine, id, source_id.as_deref(), &draft),
            Request::DeleteSource { id, source_id } => {
                let result = delete_source(engine, &source_id);
                self.send(Response::SourceDeleted { id, result });
            }
            Request::History { id, source_id } => {
                let result = engine.registry().history(&source_id, KEEP_PER_SOURCE);
                self.send(Response::History {
                    id,
                    source_id,
                    result,
                });
            }
            Request::LoadEditorText { id, source_id } => {
                let sql = engine
                    .registry()
                    .editor_text(&source_id)
                    .unwrap_or_else(|e| {
                        tracing::warn!("cannot read the editor text of {source_id}: {e}");
                        None
                    });
                self.send(Response::EditorText { id, source_id, sql });
            }
            Request::SaveEditorText { source_id, sql } => {
                if let Err(e) = engine.registry().save_editor_text(&source_id, &sql) {
                    tracing::warn!("cannot save the editor text of {source_id}: {e}");
                }
            }
            Request::CacheSize { id, source_id } => {
                let bytes = engine.registry().home().cache_bytes(&source_id);
                self.send(Response::CacheSize {
                    id,
                    source_id,
                    bytes,
                });
            }
        }
    }

    /// Writes the file on the blocking pool: a large result on a slow disk must not stop
    /// the backend answering anything else.
    fn start_export(
        &mut self,
        id: RequestId,
        result: ResultSet,
        path: PathBuf,
        format: Format,
        overwrite: bool,
    ) {
        let out = self.out.clone();
        let rows = result.rows.len();
        let path = absolute(&path);
        self.tasks.spawn(async move {
            let target = path.clone();
            let written = tokio::task::spawn_blocking(move || {
                crate::file_export::export_to_file(&result, &target, format, overwrite)
            })
            .await
            .unwrap_or_else(|e| Err(Error::internal("the export worker failed", e)));
            let _ = out.send(Response::Exported {
                id,
                path,
                rows,
                result: written,
            });
        });
    }

    /// Tests a form's source without saving it: a connector of its own, dropped after.
    fn start_draft_test(
        &mut self,
        engine: &Engine,
        id: RequestId,
        source_id: Option<&str>,
        draft: &SourceDraft,
    ) {
        let connector = draft_connector(engine, source_id, draft);
        let out = self.out.clone();
        self.tasks.spawn(async move {
            let result = match connector {
                Ok(c) => {
                    let started = Instant::now();
                    c.test().await.map(|_| started.elapsed())
                }
                Err(e) => Err(e),
            };
            let _ = out.send(Response::DraftTested { id, result });
        });
    }

    fn start_copy(&mut self, id: RequestId, what: String, text: String) {
        let clipboard = self.clipboard.clone();
        let out = self.out.clone();
        self.tasks.spawn(async move {
            let result = tokio::task::spawn_blocking(move || clipboard.copy(&text))
                .await
                .unwrap_or_else(|e| Err(Error::internal("the clipboard worker failed", e)));
            let _ = out.send(Response::Copied { id, what, result });
        });
    }

    fn progress(&self, id: RequestId) -> ProgressFn {
        let out = self.out.clone();
        Arc::new(move |progress| {
            let _ = out.send(Response::Progress { id, progress });
        })
    }

    /// Runs a query for the results pane: its first `limit` rows are the answer, and its
    /// statement is held open for the next pages (see [`pager`]).
    fn start_query(
        &mut self,
        engine: &mut Engine,
        id: RequestId,
        source_id: &str,
        sql: &str,
        limit: usize,
        idle: Duration,
    ) {
        if let Err(e) = crate::core::guard::check_limit(i64::try_from(limit).unwrap_or(i64::MAX)) {
            self.send(Response::QueryDone { id, result: Err(e) });
            return;
        }
        let planned = match engine.plan_unlimited(source_id, sql) {
            Ok(p) => p,
            Err(e) => {
                self.send(Response::QueryDone { id, result: Err(e) });
                return;
            }
        };
        // Room for this one: the oldest held statement is closed.
        while self.held.len() >= MAX_HELD {
            let (old, _) = self.held.remove(0);
            self.send(Response::Released {
                query: old,
                why: format!("closed to make room (at most {MAX_HELD} results are held open)"),
            });
        }
        let (demand_tx, demand_rx) = unbounded_channel();
        self.held.push((id, demand_tx));
        let token = CancellationToken::new();
        self.running.insert(id, token.clone());
        let progress = self.progress(id);
        let done = self.done_tx.clone();
        let ticket = Box::new(planned.ticket());
        let head = Head {
            source_id: planned.source.id.clone(),
            source_name: planned.source.name.clone(),
            sql: planned.sql.clone(),
            executed_sql: planned.guarded.executed_sql.clone(),
            executed_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            started: Instant::now(),
        };
        let mut sink = PagerSink::new(
            id,
            limit,
            demand_rx,
            idle,
            self.out.clone(),
            done.clone(),
            head,
            ticket,
        );
        let out = self.out.clone();
        self.tasks.spawn(async move {
            let hold = connector::Hold(idle);
            let result = planned
                .stream(&mut sink, hold, StreamAudit::Pages, token, Some(progress))
                .await;
            match result {
                Ok(_) => sink.answer(Ok(())),
                Err(e) if !sink.answered() => sink.answer(Err(e)),
                Err(e) => {
                    if let Some(fetch) = sink.fetch.take() {
                        let _ = out.send(Response::Fetched {
                            id: fetch,
                            query: id,
                            result: Err(e),
                        });
                    } else if !matches!(e, Error::Cancelled) {
                        let _ = out.send(Response::Released {
                            query: id,
                            why: e.detail().to_string(),
                        });
                    }
                }
            }
            let _ = done.send(Finished::Closed { id });
        });
    }

    /// Runs a query again and writes every row of it to a file as the rows come.
    #[allow(clippy::too_many_arguments)]
    fn start_export_all(
        &mut self,
        engine: &mut Engine,
        id: RequestId,
        source_id: &str,
        sql: &str,
        path: PathBuf,
        format: Format,
        overwrite: bool,
    ) {
        let path = absolute(&path);
        let failed = |e| Response::Exported {
            id,
            path: path.clone(),
            rows: 0,
            result: Err(e),
        };
        // The file is checked before anything runs: an existing one is asked about first.
        let file = match crate::file_export::AtomicFile::create(&path, overwrite) {
            Ok(f) => f,
            Err(e) => return self.send(failed(e)),
        };
        let planned = match engine.plan_unlimited(source_id, sql) {
            Ok(p) => p,
            Err(e) => return self.send(failed(e)),
        };
        let token = CancellationToken::new();
        self.running.insert(id, token.clone());
        let ticket = Box::new(planned.ticket());
        let done = self.done_tx.clone();
        let out = self.out.clone();
        let progress = self.progress(id);
        self.tasks.spawn(async move {
            let mut sink = export::WriteSink::new(file, format).with_progress(Some(progress));
            let result = planned
                .stream(
                    &mut sink,
                    connector::Hold(Duration::from_secs(60)),
                    StreamAudit::Whole,
                    token,
                    None,
                )
                .await;
            let rows = usize::try_from(sink.rows_written()).unwrap_or(usize::MAX);
            let written = match &result {
                Ok(_) => {
                    let finished = sink.finish();
                    tokio::task::spawn_blocking(move || match finished {
                        Ok(Some(file)) => file.commit(),
                        Ok(None) => Err(Error::Internal("the export file was closed".into())),
                        Err(e) => Err(Error::Internal(format!("cannot write the rows: {e}"))),
                    })
                    .await
                    .unwrap_or_else(|e| Err(Error::internal("the export worker failed", e)))
                }
                Err(e) => Err(e.clone()),
            };
            let _ = out.send(Response::Exported {
                id,
                path,
                rows,
                result: written,
            });
            let _ = done.send(Finished::Streamed { id, ticket, result });
        });
    }

    fn start_schema(&mut self, engine: &mut Engine, id: RequestId, source_id: String) {
        let connector = engine
            .registry()
            .get(&source_id)
            .and_then(|rec| engine.connector(&rec));
        let connector = match connector {
            Ok(c) => c,
            Err(e) => {
                self.send(Response::Schema {
                    id,
                    source_id,
                    result: Err(e),
                });
                return;
            }
        };
        let progress = self.progress(id);
        let done = self.done_tx.clone();
        // A CSV import behind the schema stops on Esc like a query (Request::Cancel).
        let token = CancellationToken::new();
        self.running.insert(id, token.clone());
        self.tasks.spawn(async move {
            let result = async {
                connector.prepare(Some(progress), token).await?;
                connector.schema().await
            }
            .await;
            let _ = done.send(Finished::Schema {
                id,
                source_id,
                result,
            });
        });
    }

    fn start_test(&mut self, engine: &mut Engine, id: RequestId, source_id: String) {
        let prepared = engine.registry().get(&source_id).and_then(|rec| {
            engine.registry().set_status(&rec.id, Status::Testing)?;
            engine.connector(&rec)
        });
        self.announce(engine, &source_id);
        let connector = match prepared {
            Ok(c) => c,
            Err(e) => {
                let result: Result<(Duration, Vec<String>)> = Err(e);
                self.finish(
                    engine,
                    Finished::Test {
                        id,
                        source_id,
                        result,
                    },
                );
                return;
            }
        };
        let done = self.done_tx.clone();
        self.tasks.spawn(async move {
            let started = Instant::now();
            let result = connector
                .test()
                .await
                .map(|report| (started.elapsed(), report.warnings));
            let _ = done.send(Finished::Test {
                id,
                source_id,
                result,
            });
        });
    }

    /// Answers the UI and records what a finished task said about its source.
    fn finish(&mut self, engine: &Engine, done: Finished) {
        match done {
            Finished::Query { id, ticket, result } => {
                // A held statement stays cancellable until it closes.
                if !self.held.iter().any(|(q, _)| *q == id) {
                    self.running.remove(&id);
                }
                // Rows first: recording the status and the history are registry writes
                // nobody waits for.
                let status_of = match &result {
                    Ok(_) => Ok(()),
                    Err(e) => Err(e.clone()),
                };
                let entry = ticket.entry(&result);
                self.send(Response::QueryDone { id, result });
                engine.settle(&ticket.source_id, &status_of);
                engine.remember(entry);
                self.announce(engine, &ticket.source_id);
            }
            Finished::Closed { id } => {
                self.running.remove(&id);
                self.held.retain(|(q, _)| *q != id);
            }
            Finished::Streamed { id, ticket, result } => {
                self.running.remove(&id);
                engine.settle_stream(&ticket, &result);
                self.announce(engine, &ticket.source_id);
            }
            Finished::Schema {
                id,
                source_id,
                result,
            } => {
                self.running.remove(&id);
                engine.settle(&source_id, &result);
                self.announce(engine, &source_id);
                self.send(Response::Schema {
                    id,
                    source_id,
                    result,
                });
            }
            Finished::Test {
                id,
                source_id,
                result,
            } => {
                let status = if result.is_ok() {
                    Status::Active
                } else {
                    Status::Failed
                };
                if let Err(e) = engine.registry().set_status(&source_id, status) {
                    tracing::warn!("cannot record the status of {source_id}: {e}");
                }
                self.announce(engine, &source_id);
                self.send(Response::Tested {
                    id,
                    source_id,
                    result,
                });
            }
        }
    }

    /// Tells the UI the source's record as the registry now has it (its status changed).
    fn announce(&self, engine: &Engine, source_id: &str) {
        if let Ok(source) = engine.registry().get(source_id) {
            self.send(Response::SourceChanged { source });
        }
    }
}

/// A failure to audit a registry change is logged; the change itself stands (as with the
/// command line, which warns).
fn audit(engine: &Engine, event: &Event) {
    if let Err(e) = engine.audit().record(event) {
        tracing::warn!("could not write the audit log: {e}");
    }
}

fn add_source(engine: &mut Engine, draft: &SourceDraft) -> Result<SourceRecord> {
    let new = draft.to_new_source(&Here::now().context())?;
    let rec = engine.registry_mut().add(new, &crate::identity::actor())?;
    audit(engine, &Event::source_registered(&rec));
    Ok(rec)
}

fn edit_source(
    engine: &mut Engine,
    source_id: &str,
    before: &SourceDraft,
    draft: &SourceDraft,
) -> Result<SourceRecord> {
    let patch = draft.connection_patch(before);
    let old = engine.registry().get(source_id)?;
    let old_secret = secret_or_unknown(engine, &old);
    let rec = engine.registry_mut().edit(
        &old.id,
        EditRequest {
            name: Some(draft.name.clone()),
            description: Some(draft.description.clone()),
            tags: Some(draft.tag_list()),
            connection: (!patch.is_empty()).then_some(patch),
        },
    )?;
    let changed = engine::password_changed(&old_secret, &secret_or_unknown(engine, &rec));
    audit(engine, &Event::source_updated(&old, &rec, changed));
    engine.forget(&rec.id);
    Ok(rec)
}

/// The stored password as far as it can be read; an error reading it is as good as an
/// undecryptable one for telling whether an edit changed it.
fn secret_or_unknown(engine: &Engine, rec: &SourceRecord) -> StoredSecret {
    engine
        .registry()
        .secret(rec)
        .unwrap_or(StoredSecret::Undecryptable)
}

fn delete_source(engine: &mut Engine, source_id: &str) -> Result<SourceRecord> {
    let rec = engine.registry_mut().remove(source_id, Removal::Soft)?;
    audit(engine, &Event::source_deleted(&rec, false));
    engine.forget(&rec.id);
    Ok(rec)
}

/// The connector a form's values describe, under an id of its own so it shares nothing
/// (no pool, no cache) with a stored source.
fn draft_connector(
    engine: &Engine,
    source_id: Option<&str>,
    draft: &SourceDraft,
) -> Result<Box<dyn Connector>> {
    let mut new = draft.to_new_source(&Here::now().context())?;
    // A password from the environment replaces the stored one.
    let from_env = new
        .connection
        .stored()
        .get("password_env")
        .is_some_and(|v| !v.is_null());
    let secret = match (new.secret.take(), source_id) {
        (Some(s), _) => StoredSecret::Present(s),
        (None, Some(id)) if !from_env => {
            let stored = engine.registry().get(id)?;
            engine.registry().secret(&stored)?
        }
        _ => StoredSecret::None,
    };
    let rec = SourceRecord {
        id: format!("draft-{}", uuid::Uuid::new_v4()),
        name: new.name,
        connection: new.connection,
        has_password: !matches!(secret, StoredSecret::None),
        description: new.description,
        tags: new.tags,
        registered_by: String::new(),
        registered_at: String::new(),
        status: Status::Active,
    };
    connector::open(&rec, secret, engine.registry().home())
}
