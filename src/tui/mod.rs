//! The terminal UI. The loop waits on three things at once: terminal events, answers from
//! the backend, and (only while a spinner turns) a tick. Each wakeup drains everything
//! already pending before drawing once, and nothing is drawn when nothing changed.

pub mod action;
pub mod app;
pub mod config;
pub mod event;
pub mod fuzzy;
pub mod highlight;
pub mod keymap;
pub mod layout;
pub mod panes;
mod terminal;
pub mod theme;
pub mod ui;
pub mod wrap;

use std::io::{self, BufWriter, Stdout, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use crossterm::event::EventStream;
use std::task::Poll;

use futures_util::StreamExt;
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc::UnboundedSender;

use crate::backend;
use crate::backend::protocol::Request;
use crate::core::{Error, Result};
use crate::home::Home;
use action::Action;
use app::AppState;
use config::{Config, ConfigEnv};

/// How often a spinner moves.
const TICK: Duration = Duration::from_millis(100);
/// How long quitting waits for running queries to be cancelled on their servers. A query
/// still running after it is dropped with the backend, which audits it as stopped.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// What a signal that ends the UI did to the work in hand.
const STOPPED: &str = "running queries were cancelled on their servers";

/// Opens the UI on `home`'s registry and returns when the user quits. `config` is a
/// settings file given on the command line (else the usual place is looked at).
pub fn run(home: &Home, config: Option<&Path>) -> Result<()> {
    use std::io::IsTerminal;
    if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
        return Err(Error::Invalid(
            "the terminal UI needs a terminal; for scripts use `tdb query` (see `tdb --help`)"
                .into(),
        ));
    }
    let config = Config::load(config, &ConfigEnv::from_process()).map_err(Error::Internal)?;
    let problem = config.problem.clone();
    // The UI loop has this thread to itself: the backend runs on its own (see
    // [`backend`]), so waiting on a lock or a disk there never holds up a frame. Worker
    // threads would buy the loop nothing but memory and cross-thread wakeups.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::internal("cannot start the async runtime", e))?;
    let outcome = rt.block_on(run_loop(home.clone(), config));
    // The status bar showed it at start; the normal screen keeps it after the UI is gone.
    if let Some(problem) = problem {
        eprintln!("tdb: {}", crate::core::sanitize::for_terminal(&problem));
    }
    outcome
}

type Term = Terminal<CrosstermBackend<BufWriter<Stdout>>>;

async fn run_loop(home: Home, config: Config) -> Result<()> {
    let io_err = |e: io::Error| Error::internal("terminal", e);
    let mut backend = backend::spawn(home)?;
    let guard = terminal::TerminalGuard::enter().map_err(io_err)?;
    // One write per frame: the whole frame goes out in a single flush.
    let out = BufWriter::with_capacity(1 << 16, io::stdout());
    let mut term: Term = Terminal::new(CrosstermBackend::new(out)).map_err(io_err)?;
    let size = term.size().map_err(io_err)?;
    let (mut app, startup) = AppState::new(
        config.keymap.clone(),
        Rect::new(0, 0, size.width, size.height),
        Instant::now(),
    );
    config.install(&mut app);
    send(&backend.requests, startup);

    // A closed SSH session (SIGHUP) or a `kill` (SIGTERM) ends tdb like Ctrl-Q does, so the
    // terminal is restored, running queries are cancelled on their servers and audited, and
    // `tdb demo` cleans up; then tdb exits with the signal's conventional status.
    let mut hangup = signal(SignalKind::hangup()).map_err(io_err)?;
    let mut terminate = signal(SignalKind::terminate()).map_err(io_err)?;
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut dirty = true;
    let started = Instant::now();
    // Why the next frame is drawn and since when it has been due.
    let mut due = Some(Due {
        since: started,
        cause: "start",
    });
    let outcome = loop {
        if dirty {
            // A tick may save an editor's text whose typing paused.
            let saves = app.update(Action::Tick {
                now: Instant::now(),
            });
            send(&backend.requests, saves);
            if let Err(e) = term.draw(|f| ui::render(&app, f)) {
                break Err(io_err(e));
            }
            // A copy by OSC 52 is bytes for the terminal, sent between frames.
            if let Some(bytes) = app.take_terminal_write() {
                let out = term.backend_mut();
                if let Err(e) = out.write_all(&bytes).and_then(|()| out.flush()) {
                    break Err(io_err(e));
                }
            }
            dirty = false;
            if let Some(due) = due.take() {
                due.trace(started);
            }
        }
        if app.quit {
            break Ok(());
        }
        let mut deadline = None;
        let cause = tokio::select! {
            ev = events.next() => match ev {
                Some(Ok(ev)) => {
                    dirty |= apply_event(&mut app, &backend.requests, ev);
                    while let Some(ev) = ready_event(&mut events).await {
                        dirty |= apply_event(&mut app, &backend.requests, ev);
                    }
                    "input"
                }
                Some(Err(e)) => break Err(io_err(e)),
                None => break Ok(()),
            },
            Some(resp) = backend.responses.recv() => {
                send(&backend.requests, app.on_response(resp));
                while let Ok(resp) = backend.responses.try_recv() {
                    send(&backend.requests, app.on_response(resp));
                }
                dirty = true;
                "backend"
            }
            at = tick.tick(), if app.animating() => {
                dirty = true;
                deadline = Some(at.into_std());
                "tick"
            }
            _ = hangup.recv() => {
                send(&backend.requests, app.update(Action::Quit));
                break Err(Error::interrupted(libc::SIGHUP, STOPPED));
            }
            _ = terminate.recv() => {
                send(&backend.requests, app.update(Action::Quit));
                break Err(Error::interrupted(libc::SIGTERM, STOPPED));
            }
        };
        if dirty && due.is_none() {
            due = Some(Due {
                since: deadline.unwrap_or_else(Instant::now),
                cause,
            });
        }
    };
    drop(term);
    drop(guard);
    backend.shutdown(SHUTDOWN_GRACE).await;
    outcome
}

/// Why a frame is drawn, and since when it has been due: a tick's deadline, or the moment
/// the loop woke to a key or an answer that changed the screen.
struct Due {
    since: Instant,
    cause: &'static str,
}

impl Due {
    /// One line per frame in tdb's log at `trace` level (`TDB_LOG=trace`): when it reached
    /// the terminal on the UI's own clock (`at_us`, from the start) and how long after it
    /// became due (`late_us`). A UI held up by anything shows as frames late or missing.
    fn trace(self, started: Instant) {
        let now = Instant::now();
        let micros = |d: Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        tracing::trace!(
            target: "tdb::frame",
            cause = self.cause,
            at_us = micros(now.duration_since(started)),
            late_us = micros(now.saturating_duration_since(self.since)),
            "frame"
        );
    }
}

/// An event already waiting, without waiting for one. It polls with this task's own waker:
/// a poll with a throwaway waker (`now_or_never`) would leave crossterm's reader thread
/// waking nobody, and the next key would go unnoticed.
async fn ready_event(events: &mut EventStream) -> Option<crossterm::event::Event> {
    match std::future::poll_fn(|cx| Poll::Ready(events.poll_next_unpin(cx))).await {
        Poll::Ready(Some(Ok(ev))) => Some(ev),
        _ => None,
    }
}

/// Applies one terminal event; says whether the screen may have changed.
fn apply_event(
    app: &mut AppState,
    requests: &UnboundedSender<Request>,
    ev: crossterm::event::Event,
) -> bool {
    match event::to_action(app, ev) {
        Some(action) => {
            send(requests, app.update(action));
            true
        }
        None => false,
    }
}

fn send(requests: &UnboundedSender<Request>, batch: Vec<Request>) {
    for r in batch {
        // The backend only stops after the UI does.
        let _ = requests.send(r);
    }
}
