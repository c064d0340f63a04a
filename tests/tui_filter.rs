//! `/` in the results (issue 18): the rows shown follow the typed text (any column, any
//! case; `column:text` for one column), Enter keeps the filter, Esc shows every row again.
//! Driven by actions and backend responses, drawn on `TestBackend`.

mod common;

use std::time::Duration;

use common::tui::{csv_record, loaded, screen, type_text};
use tdb::backend::engine::QueryOutcome;
use tdb::backend::protocol::{Request, Response};
use tdb::core::source::Status;
use tdb::core::value::{Column, ResultSet, Value};
use tdb::tui::action::{Action, Motion};
use tdb::tui::app::AppState;
use tdb::tui::keymap::Key;
use tdb::tui::panes::Focus;
use tdb::tui::panes::results::ResultsView;

fn with_people() -> AppState {
    let (mut app, _, _) = loaded(
        100,
        24,
        vec![csv_record("c1", "people", &[], Status::Active)],
    );
    let reqs = app.update(Action::RunQuery);
    let id = reqs
        .iter()
        .find_map(|r| match r {
            Request::Query { id, .. } => Some(*id),
            _ => None,
        })
        .expect("a query");
    let col = |n: &str| Column {
        name: n.into(),
        type_name: "text".into(),
    };
    let people = [
        ("Alice", "Paris"),
        ("Bob", "Alicante"),
        ("Carol", "Oslo"),
        ("Dave", ""),
    ];
    app.on_response(Response::QueryDone {
        id,
        result: Ok(QueryOutcome {
            source_id: "c1".into(),
            source_name: "people".into(),
            sql: String::new(),
            executed_sql: String::new(),
            result: ResultSet {
                columns: vec![col("name"), col("city")],
                rows: people
                    .iter()
                    .map(|(n, c)| vec![Value::Text((*n).into()), Value::Text((*c).into())])
                    .chain(std::iter::once(vec![
                        Value::Null,
                        Value::Text("Lima".into()),
                    ]))
                    .collect(),
                truncated: false,
            },
            duration: Duration::from_millis(3),
            executed_at: "2026-05-22T09:15:00Z".into(),
        }),
    });
    while app.focus != Focus::Results {
        app.update(Action::FocusNext);
    }
    app
}

fn names(app: &AppState) -> Vec<String> {
    let ResultsView::Done(g) = &app.results else {
        panic!("a grid")
    };
    (0..g.grid.rows())
        .map(|r| g.grid.cell(r, 0).unwrap().text.to_string())
        .collect()
}

fn key(app: &AppState, k: &str) -> Action {
    app.keymap
        .lookup(app.key_context(), Key::parse(k).unwrap())
        .unwrap_or_else(|| panic!("{k} is bound"))
}

#[test]
fn slash_filters_the_rows_as_typed_and_esc_clears() {
    let mut app = with_people();
    app.update(key(&app, "/"));
    // Letters are typed into the filter now, not taken as keys of the results.
    assert_eq!(
        app.key_context().overlay,
        Some(tdb::tui::keymap::Scope::Filter)
    );
    type_text(&mut app, "ALI");
    assert_eq!(names(&app), ["Alice", "Bob"], "any column, any case");
    let s = screen(&app);
    assert!(s.contains("/ALI▏ · 2 of 5"), "{s}");
    insta::assert_snapshot!(s);

    // Esc clears; `column:text` filters one column only.
    app.update(key(&app, "esc"));
    assert_eq!(names(&app).len(), 5, "Esc shows every row");
    app.update(Action::FilterRows);
    type_text(&mut app, "city:ali");
    assert_eq!(names(&app), ["Bob"]);
    // Enter keeps it: keys move the cursor again, and the title says what filters.
    app.update(key(&app, "enter"));
    assert_eq!(app.key_context().overlay, None);
    assert!(screen(&app).contains("/city:ali · 1 of 5"));
    // A sort applies to the filtered rows, and stays when the filter goes.
    app.update(Action::FilterRows);
    for _ in 0..3 {
        app.update(common::tui::key(ratatui_textarea::Key::Backspace));
    }
    app.update(key(&app, "enter"));
    assert_eq!(names(&app), ["Alice", "Bob", "Carol", "Dave", "NULL"]);
    app.update(Action::Move {
        motion: Motion::Right,
    });
    app.update(key(&app, "s"));
    assert_eq!(names(&app), ["Dave", "Bob", "NULL", "Carol", "Alice"]);
    app.update(key(&app, "esc"));
    assert_eq!(names(&app), ["Dave", "Bob", "NULL", "Carol", "Alice"]);
    assert!(!screen(&app).contains(" of 5"));
}
