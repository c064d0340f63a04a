//! Result tabs (issue 18): each run opens or replaces a tab, a pinned tab is kept, keys move
//! between tabs, an answer for a tab in the background lands there, "run all" puts each
//! statement into its own tab (a failure stops the rest), and the cap is named. Driven by
//! actions and backend responses, drawn on `TestBackend`.

mod common;

use std::time::Duration;

use common::tui::{csv_record, loaded, screen};
use tdb::backend::engine::QueryOutcome;
use tdb::backend::protocol::{Request, RequestId, Response};
use tdb::core::Error;
use tdb::core::source::Status;
use tdb::core::value::{Column, ResultSet, Value};
use tdb::tui::action::Action;
use tdb::tui::app::{AppState, MAX_TABS};
use tdb::tui::keymap::Key;
use tdb::tui::panes::Focus;
use tdb::tui::panes::results::ResultsView;

fn app() -> AppState {
    let (app, _, _) = loaded(
        120,
        24,
        vec![csv_record("c1", "orders", &[], Status::Active)],
    );
    app
}

fn set_sql(app: &mut AppState, sql: &str) {
    let id = app.selected_id().map(String::from);
    app.editor.replace(id.as_deref(), sql);
}

fn query(reqs: &[Request]) -> (RequestId, String) {
    reqs.iter()
        .find_map(|r| match r {
            Request::Query { id, sql, .. } => Some((*id, sql.clone())),
            _ => None,
        })
        .expect("a query request")
}

fn rows(n: usize) -> ResultSet {
    ResultSet {
        columns: vec![Column {
            name: "n".into(),
            type_name: "int8".into(),
        }],
        rows: (0..n).map(|i| vec![Value::Int(i as i64)]).collect(),
        truncated: false,
    }
}

fn done(app: &mut AppState, id: RequestId, n: usize) -> Vec<Request> {
    app.on_response(Response::QueryDone {
        id,
        result: Ok(QueryOutcome {
            source_id: "c1".into(),
            source_name: "orders".into(),
            sql: String::new(),
            executed_sql: String::new(),
            result: rows(n),
            duration: Duration::from_millis(7),
            executed_at: "2026-05-22T09:15:00Z".into(),
        }),
    })
}

fn run(app: &mut AppState, sql: &str, n: usize) {
    set_sql(app, sql);
    let (id, _) = query(&app.update(Action::RunQuery));
    done(app, id, n);
}

fn shown_rows(app: &AppState) -> usize {
    match &app.results {
        ResultsView::Done(g) => g.grid.rows(),
        other => panic!("rows expected, got {other:?}"),
    }
}

fn results_key(app: &AppState, key: &str) -> Action {
    let mut ctx = app.key_context();
    ctx.focus = Focus::Results;
    app.keymap.lookup(ctx, Key::parse(key).unwrap()).unwrap()
}

#[test]
fn runs_replace_the_tab_until_it_is_pinned_and_keys_move_between_tabs() {
    let mut app = app();
    run(&mut app, "SELECT 1 AS n", 1);
    run(&mut app, "SELECT 2 AS n", 2);
    assert_eq!(app.tabs.list.len(), 1, "a run replaces the tab");
    assert_eq!(app.tabs.list[0].title, "SELECT 2 AS n");
    assert!(
        !screen(&app).contains("tab 1/"),
        "one tab: no strip, no note"
    );

    assert_eq!(results_key(&app, "p"), Action::PinTab);
    app.update(Action::PinTab);
    run(&mut app, "SELECT n FROM data\n  WHERE n > 2", 3);
    assert_eq!(app.tabs.list.len(), 2);
    assert_eq!(app.tabs.active, 1);
    assert_eq!(app.tabs.list[1].title, "SELECT n FROM dat…");
    let s = screen(&app);
    assert!(
        s.contains(" tab 2/2 (up to 8 tabs, 100000 rows in all)"),
        "the status bar names the cap:\n{s}"
    );
    assert!(s.contains("⚲ 1 SELECT 2 AS n · 2 · 7 ms"), "{s}");
    assert!(s.contains(" 2 SELECT n FROM dat… · 3 · 7 ms "), "{s}");
    insta::assert_snapshot!(s);

    assert_eq!(results_key(&app, "["), Action::PrevTab);
    app.update(Action::PrevTab);
    assert_eq!((app.tabs.active, shown_rows(&app)), (0, 2));
    app.update(Action::NextTab);
    assert_eq!((app.tabs.active, shown_rows(&app)), (1, 3));
    app.update(Action::NextTab);
    assert_eq!(app.tabs.active, 0, "round");

    // The pinned tab stays: a run from it opens a third.
    run(&mut app, "SELECT 4", 4);
    assert_eq!((app.tabs.list.len(), app.tabs.active), (3, 2));
    app.update(Action::CloseTab);
    assert_eq!(app.tabs.list.len(), 2);
    assert_eq!(shown_rows(&app), 3);
}

#[test]
fn an_answer_for_a_tab_in_the_background_lands_there() {
    let mut app = app();
    set_sql(&mut app, "SELECT slow");
    let (slow, _) = query(&app.update(Action::RunQuery));
    app.update(Action::PinTab);
    set_sql(&mut app, "SELECT fast");
    let reqs = app.update(Action::RunQuery);
    assert!(
        !reqs.iter().any(|r| matches!(r, Request::Cancel { .. })),
        "the pinned tab's query goes on: {reqs:?}"
    );
    let (fast, _) = query(&reqs);
    done(&mut app, slow, 5);
    assert!(
        matches!(app.results, ResultsView::Running { .. }),
        "the shown tab waits"
    );
    done(&mut app, fast, 1);
    assert_eq!(shown_rows(&app), 1);
    app.update(Action::PrevTab);
    assert_eq!(shown_rows(&app), 5);
}

#[test]
fn run_all_puts_each_statement_into_its_own_tab_and_a_failure_stops_the_rest() {
    let mut app = app();
    set_sql(
        &mut app,
        "SELECT 1;\nSELECT ';' AS s;\n-- the end\nSELECT 3",
    );
    assert_eq!(
        app.keymap
            .lookup(app.key_context(), Key::parse("shift-f5").unwrap()),
        Some(Action::RunAll)
    );
    let (id, sql) = query(&app.update(Action::RunAll));
    assert_eq!(sql, "SELECT 1");
    let (id, sql) = query(&done(&mut app, id, 1));
    assert_eq!(sql, "SELECT ';' AS s");
    let (id, sql) = query(&done(&mut app, id, 2));
    assert_eq!(sql, "SELECT 3", "the comment before it is not part of it");
    let reqs = done(&mut app, id, 3);
    assert!(
        !reqs.iter().any(|r| matches!(r, Request::Query { .. })),
        "nothing more to run: {reqs:?}"
    );
    let titles: Vec<&str> = app.tabs.list.iter().map(|t| t.title.as_str()).collect();
    assert_eq!(titles, ["SELECT 1", "SELECT ';' AS s", "SELECT 3"]);

    // A failure stops the rest, and the status bar says how many did not run.
    set_sql(&mut app, "SELECT nope; SELECT 2; SELECT 3");
    let (id, _) = query(&app.update(Action::RunAll));
    let reqs = app.on_response(Response::QueryDone {
        id,
        result: Err(Error::QueryFailed("no column nope".into())),
    });
    assert!(
        !reqs.iter().any(|r| matches!(r, Request::Query { .. })),
        "{reqs:?}"
    );
    assert!(
        screen(&app).contains("a statement failed: the 2 after it did not run"),
        "{}",
        screen(&app)
    );
}

#[test]
fn the_cap_drops_the_oldest_unpinned_tab_and_refuses_when_all_are_pinned() {
    let mut app = app();
    for i in 0..MAX_TABS {
        run(&mut app, &format!("SELECT {i}"), i);
        app.update(Action::PinTab);
    }
    assert_eq!(app.tabs.list.len(), MAX_TABS);
    set_sql(&mut app, "SELECT 99");
    assert!(app.update(Action::RunQuery).is_empty());
    assert!(
        screen(&app).contains("8 tabs held and pinned"),
        "{}",
        screen(&app)
    );
    // Unpin the first: the next run drops it.
    app.update(Action::NextTab);
    app.update(Action::PinTab);
    app.update(Action::NextTab);
    run(&mut app, "SELECT 99", 9);
    assert_eq!(app.tabs.list.len(), MAX_TABS);
    assert_eq!(app.tabs.list[0].title, "SELECT 1");
    assert_eq!(app.tabs.list[MAX_TABS - 1].title, "SELECT 99");
}
