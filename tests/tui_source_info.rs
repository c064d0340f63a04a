//! `i` in the sources (issue 18): a source's detail view — its record with secrets masked,
//! its status, the last test and the tests of the session, the kept history of queries
//! (response times, uptime), and for a file kind its cache size. Drawn from recorded
//! answers, then against the real backend on a CSV file and a PostgreSQL server.

mod common;

use std::time::Duration;

use common::pg;
use common::tui::{Harness, csv_record, loaded, pg_record, screen};
use serde_json::json;
use tdb::backend::protocol::{Request, RequestId, Response};
use tdb::core::history::{HistoryEntry, Outcome};
use tdb::core::source::{RegisterRequest, Status};
use tdb::home::Home;
use tdb::registry::Registry;
use tdb::tui::action::Action;
use tdb::tui::app::{AppState, Overlay};
use tdb::tui::keymap::Key;
use tdb::tui::panes::Focus;
use tdb::tui::panes::source_info::InfoLine;

fn press(app: &mut AppState, key: &str) -> Vec<Request> {
    let action = app
        .keymap
        .lookup(app.key_context(), Key::parse(key).unwrap())
        .unwrap_or_else(|| panic!("{key} is bound here"));
    app.update(action)
}

fn run(sql: &str, outcome: Outcome, ms: u64, rows: Option<u64>) -> HistoryEntry {
    HistoryEntry {
        source_id: "c1".into(),
        sql: sql.into(),
        started_at: "2026-05-22T09:15:00Z".into(),
        duration_ms: ms,
        rows,
        truncated: false,
        outcome,
        error: (outcome != Outcome::Ok).then(|| "no such column: nme".into()),
    }
}

/// The value of a field of the open view.
fn field(app: &AppState, key: &str) -> Option<String> {
    let Some(Overlay::Source(info)) = &app.overlay else {
        panic!("the source detail is open");
    };
    app.source_info_lines(info)
        .into_iter()
        .find_map(|l| match l {
            InfoLine::Field(k, v) if k == key => Some(v),
            _ => None,
        })
}

#[test]
fn i_shows_the_record_health_history_and_cache() {
    let (mut app, _, _) = loaded(
        100,
        34,
        vec![csv_record("c1", "people", &["demo"], Status::Active)],
    );
    app.update(Action::FocusPrev);
    app.update(Action::FocusPrev);
    assert_eq!(app.focus, Focus::Sources);
    // A test first: the view shows it as the last one.
    let reqs = press(&mut app, "t");
    let test = reqs
        .iter()
        .find_map(|r| match r {
            Request::Test { id, .. } => Some(*id),
            _ => None,
        })
        .expect("a test");
    app.on_response(Response::Tested {
        id: test,
        source_id: "c1".into(),
        result: Ok((Duration::from_millis(3), Vec::new())),
    });
    let reqs = press(&mut app, "i");
    let cache: RequestId = reqs
        .iter()
        .find_map(|r| match r {
            Request::CacheSize { id, source_id } if source_id == "c1" => Some(*id),
            _ => None,
        })
        .expect("the cache size is asked for");
    let history = reqs
        .iter()
        .find_map(|r| match r {
            Request::History { id, .. } => Some(*id),
            _ => None,
        })
        .expect("the history is read");
    assert_eq!(field(&app, "size").as_deref(), Some("reading…"));
    app.on_response(Response::CacheSize {
        id: cache,
        source_id: "c1".into(),
        bytes: 3 * 1024 * 1024 / 2,
    });
    app.on_response(Response::History {
        id: history,
        source_id: "c1".into(),
        result: Ok(vec![
            run("SELECT nme FROM data", Outcome::Failed, 2, None),
            run("SELECT *\nFROM data", Outcome::Ok, 12, Some(100)),
            run("DELETE FROM data", Outcome::Rejected, 0, None),
            run("SELECT count(*) FROM data", Outcome::Ok, 40, Some(1)),
        ]),
    });
    insta::assert_snapshot!(screen(&app));
    assert_eq!(
        field(&app, "uptime").as_deref(),
        Some("75.0% of 4 tests and queries answered")
    );
    assert_eq!(
        field(&app, "response").as_deref(),
        Some("median 12 ms · 95% under 12 ms · 12–40 ms")
    );
    // The view scrolls and Esc closes it.
    press(&mut app, "G");
    let Some(Overlay::Source(info)) = &app.overlay else {
        panic!("still open")
    };
    assert!(info.scroll > 0, "a long view scrolls");
    press(&mut app, "esc");
    assert!(app.overlay.is_none());
}

#[test]
fn a_network_source_masks_its_password_and_says_an_untested_source_so() {
    let (mut app, _, _) = loaded(
        100,
        34,
        vec![pg_record("p1", "orders", Some("orders"), Status::Failed)],
    );
    app.update(Action::FocusPrev);
    app.update(Action::FocusPrev);
    press(&mut app, "i");
    assert_eq!(
        field(&app, "connection.password").as_deref(),
        Some("********")
    );
    assert_eq!(field(&app, "status").as_deref(), Some("failed"));
    assert_eq!(
        field(&app, "last test").as_deref(),
        Some("not tested in this session (t tests it)")
    );
    assert_eq!(field(&app, "size"), None, "no cache for a server");
}

fn register(home: &Home, body: serde_json::Value) {
    let new = RegisterRequest::from_json_text(&body.to_string())
        .unwrap()
        .validate(
            tdb::connector::find_kind,
            &tdb::core::kind::Context {
                cwd: std::path::Path::new("/"),
                user_home: None,
            },
        )
        .unwrap();
    Registry::open(home).unwrap().add(new, "tester").unwrap();
}

#[test]
fn the_real_backend_gives_the_cache_size_and_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    let body: String = (0..2000).map(|i| format!("{i},name {i}\n")).collect();
    std::fs::write(&csv, format!("id,name\n{body}")).unwrap();
    let home = Home::at(dir.path().join("home"));
    register(
        &home,
        json!({"name": "people", "source_type": "csv", "connection": {"path": csv}}),
    );
    let mut h = Harness::new(&home, 120, 40);
    h.run_sql("SELECT * FROM data");
    h.run_sql("SELECT nme FROM data");
    h.focus(Focus::Sources);
    h.act(Action::TestSource);
    h.settle_until("the test", |a| {
        a.sources.tests.values().any(|t| !t.is_empty())
    });
    h.act(Action::ShowSource);
    h.settle_until("the cache size and the history", |a| {
        matches!(&a.overlay, Some(Overlay::Source(i)) if i.cache.is_some())
            && a.history.get(a.selected_id().unwrap_or("")).len() == 2
    });
    let size = field(&h.app, "size").unwrap();
    let on_disk: u64 = std::fs::read_dir(home.cache_dir())
        .unwrap()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    assert!(on_disk > 0);
    assert!(
        size.starts_with(&tdb::core::export::format_size(on_disk as usize)),
        "{size} for {on_disk} bytes"
    );
    assert_eq!(
        field(&h.app, "queries").as_deref(),
        Some("2 kept: 1 ran, 1 failed, 0 refused by the guard")
    );
    assert!(
        field(&h.app, "last test")
            .unwrap()
            .starts_with("reachable · ")
    );
    let screen = h.screen();
    assert!(screen.contains("Source · people"), "{screen}");
    assert!(screen.contains("✗ "), "the failed run is marked:\n{screen}");
}

#[test]
fn a_postgres_password_never_shows() {
    let c = pg::shared();
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    let mut conn = c.connection_json("postgres", pg::SUPERUSER, c.superuser_password());
    conn["table"] = json!("pg_class");
    register(
        &home,
        json!({"name": "pg", "source_type": "postgres", "connection": conn}),
    );
    let mut h = Harness::new(&home, 120, 40);
    h.focus(Focus::Sources);
    h.act(Action::ShowSource);
    let screen = h.screen();
    assert!(screen.contains("********"), "{screen}");
    assert!(!screen.contains(c.superuser_password()), "{screen}");
}
