//! Driving the terminal UI without a terminal: build states from actions and backend
//! responses, draw them on ratatui's `TestBackend`, and run the app against the real
//! backend (television's `tests/app.rs` style).

use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Rect;
use tdb::backend;
use tdb::backend::protocol::{Request, Response};
use tdb::clipboard::{Clipboard, ClipboardEnv};
use tdb::connector::csv::{Csv, CsvConnection};
use tdb::connector::mysql::{MARIADB, MySqlConnection, SslMode as MySqlSslMode};
use tdb::connector::postgres::{PgConnection, Postgres, SslMode};
use tdb::core::source::{SourceRecord, Status};
use tdb::home::Home;
use tdb::tui::action::Action;
use tdb::tui::app::AppState;
use tdb::tui::keymap::Keymap;
use tdb::tui::panes::results::ResultsView;
use tdb::tui::ui;

/// A fresh app of `width`×`height` at a fixed clock, and its start-up requests.
pub fn app(width: u16, height: u16, now: Instant) -> (AppState, Vec<Request>) {
    AppState::new(
        Keymap::defaults().unwrap(),
        Rect::new(0, 0, width, height),
        now,
    )
}

/// An app that got its source list; returns the requests that answer produced.
pub fn loaded(
    width: u16,
    height: u16,
    records: Vec<SourceRecord>,
) -> (AppState, Vec<Request>, Instant) {
    let now = Instant::now();
    let (mut app, startup) = app(width, height, now);
    let Request::ListSources { id } = startup[0] else {
        panic!("the app starts by listing sources");
    };
    let more = app.on_response(Response::Sources {
        id,
        result: Ok(records),
    });
    (app, more, now)
}

/// A key the keymap does not bind, as typed (into the editor or a field).
pub fn key(key: ratatui_textarea::Key) -> Action {
    Action::EditorInput {
        input: ratatui_textarea::Input {
            key,
            ..Default::default()
        },
    }
}

/// Types `text` one key at a time, as a person would; returns every request it caused.
pub fn type_text(app: &mut AppState, text: &str) -> Vec<Request> {
    text.chars()
        .flat_map(|c| app.update(key(ratatui_textarea::Key::Char(c))))
        .collect()
}

/// The screen as text, one quoted line per row (ratatui's `TestBackend` format).
pub fn screen(app: &AppState) -> String {
    let mut term = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    term.draw(|f| ui::render(app, f)).unwrap();
    term.backend().to_string()
}

/// The drawn buffer, for asserting styles of single cells.
pub fn buffer(app: &AppState) -> ratatui::buffer::Buffer {
    let mut term = Terminal::new(TestBackend::new(app.size.width, app.size.height)).unwrap();
    term.draw(|f| ui::render(app, f)).unwrap();
    term.backend().buffer().clone()
}

pub fn csv_record(id: &str, name: &str, tags: &[&str], status: Status) -> SourceRecord {
    SourceRecord {
        id: id.into(),
        name: name.into(),
        connection: Csv::connection(&CsvConnection {
            path: format!("/data/{name}.csv").into(),
            delimiter: ',',
            has_header: true,
        })
        .unwrap(),
        has_password: false,
        description: String::new(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        registered_by: "alice@bastion".into(),
        registered_at: "2026-05-22T09:00:00Z".into(),
        status,
    }
}

pub fn pg_record(id: &str, name: &str, table: Option<&str>, status: Status) -> SourceRecord {
    SourceRecord {
        id: id.into(),
        name: name.into(),
        connection: Postgres::connection(&PgConnection {
            host: "db.internal".into(),
            port: 5432,
            dbname: "production".into(),
            user: "reader".into(),
            password_env: None,
            table: table.map(String::from),
            schema: "public".into(),
            sslmode: SslMode::Prefer,
            connect_timeout_s: 10,
            statement_timeout_s: 30,
            allow_functions: Vec::new(),
            ssh: None,
        })
        .unwrap(),
        has_password: true,
        description: String::new(),
        tags: vec![],
        registered_by: "alice@bastion".into(),
        registered_at: "2026-05-22T09:00:00Z".into(),
        status,
    }
}

pub fn mariadb_record(id: &str, name: &str, table: Option<&str>, status: Status) -> SourceRecord {
    SourceRecord {
        connection: MARIADB
            .connection(&MySqlConnection {
                host: "db.internal".into(),
                port: 3306,
                dbname: "shop".into(),
                user: "reader".into(),
                password_env: None,
                table: table.map(String::from),
                ssl_mode: MySqlSslMode::Preferred,
                ssl_ca: None,
                connect_timeout_s: 10,
                statement_timeout_s: 30,
                allow_functions: Vec::new(),
                ssh: None,
            })
            .unwrap(),
        ..pg_record(id, name, table, status)
    }
}

/// The app wired to a real backend on a real home.
pub struct Harness {
    pub app: AppState,
    pub rt: tokio::runtime::Runtime,
    handle: Option<backend::Handle>,
}

/// How long a test waits for the backend before failing (never asserted as a duration).
const PATIENCE: Duration = Duration::from_secs(120);

impl Harness {
    pub fn new(home: &Home, width: u16, height: u16) -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        // A clipboard that does not depend on where the tests run: no display, no tmux, a
        // terminal that takes OSC 52 (so copies come back as bytes for the terminal).
        let clipboard = Clipboard::new(
            ClipboardEnv {
                term: Some("xterm-256color".into()),
                ..ClipboardEnv::default()
            },
            home.root().join("clipboard.txt"),
        );
        let handle = backend::spawn_with(home.clone(), clipboard).unwrap();
        let (app, startup) = app(width, height, Instant::now());
        let mut h = Harness {
            app,
            rt,
            handle: Some(handle),
        };
        h.send(startup);
        h.settle_until("the source list", |a| a.sources.loaded);
        h
    }

    fn send(&mut self, requests: Vec<Request>) {
        let handle = self.handle.as_ref().unwrap();
        for r in requests {
            handle.requests.send(r).unwrap();
        }
    }

    /// Applies an action as a key would, sending its requests to the backend.
    pub fn act(&mut self, action: Action) {
        let requests = self.app.update(action);
        self.send(requests);
    }

    /// Feeds backend responses to the app until `done` holds.
    pub fn settle_until(&mut self, what: &str, done: impl Fn(&AppState) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        while !done(&self.app) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "gave up waiting for {what}");
            let handle = self.handle.as_mut().unwrap();
            let resp: Option<Response> = self
                .rt
                .block_on(async { tokio::time::timeout(left, handle.responses.recv()).await })
                .ok()
                .flatten();
            if let Some(resp) = resp {
                let requests = self.app.on_response(resp);
                self.send(requests);
            }
        }
    }

    /// Waits for the running query to finish (rows, error or cancel).
    pub fn settle_query(&mut self) {
        self.settle_until("the query", |a| {
            !matches!(a.results, ResultsView::Running { .. })
        });
    }

    /// Runs `sql` in the selected source's editor, replacing what it held.
    pub fn run_sql(&mut self, sql: &str) {
        self.replace_sql(sql);
        self.act(Action::RunQuery);
        self.settle_query();
    }

    /// Tabs to `focus` as a person would.
    pub fn focus(&mut self, focus: tdb::tui::panes::Focus) {
        for _ in 0..4 {
            if self.app.focus == focus {
                return;
            }
            self.act(Action::FocusNext);
        }
        assert_eq!(self.app.focus, focus);
    }

    /// Empties the editor as a person would (Tab to it, to the end, Backspace), pastes
    /// `sql`, and tabs back to where the focus was.
    pub fn replace_sql(&mut self, sql: &str) {
        use ratatui_textarea::{Input, Key};
        let was = self.app.focus;
        self.focus(tdb::tui::panes::Focus::Editor);
        let key = |key, alt| Input {
            key,
            ctrl: false,
            alt,
            shift: false,
        };
        self.act(Action::EditorInput {
            input: key(Key::Char('>'), true),
        });
        self.act(Action::EditorInput {
            input: key(Key::End, false),
        });
        let chars = self.app.editor.text(self.app.selected_id()).chars().count();
        for _ in 0..chars {
            self.act(Action::EditorInput {
                input: key(Key::Backspace, false),
            });
        }
        assert_eq!(self.app.editor.text(self.app.selected_id()), "");
        self.act(Action::Paste { text: sql.into() });
        self.focus(was);
    }

    pub fn screen(&self) -> String {
        screen(&self.app)
    }

    /// Types `text` one key at a time.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            self.act(key(ratatui_textarea::Key::Char(c)));
        }
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if let Some(handle) = self.handle.take() {
            self.rt.block_on(handle.shutdown(Duration::from_secs(5)));
        }
    }
}
