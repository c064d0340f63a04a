//! The editor's statements (issue 18): F5 runs the statement under the cursor or the
//! selection, split as the source's dialect reads it; an engine error's place maps back
//! into the whole text; the starter SQL and the limit are suggestions typing replaces;
//! select all and clear. Driven by actions and backend responses, drawn on `TestBackend`.

mod common;

use common::tui::{buffer, csv_record, key, loaded, pg_record, screen, type_text};
use ratatui::style::Modifier;
use ratatui_textarea::Key;
use tdb::backend::protocol::{Request, RequestId, Response};
use tdb::core::Error;
use tdb::core::source::Status;
use tdb::core::splice::LineColumn;
use tdb::tui::action::Action;
use tdb::tui::app::AppState;
use tdb::tui::panes::modal::Modal;

fn app() -> AppState {
    let (app, _, _) = loaded(
        100,
        24,
        vec![
            pg_record("p1", "warehouse", Some("stock"), Status::Active),
            csv_record("c1", "orders", &[], Status::Active),
        ],
    );
    app
}

fn query(reqs: &[Request]) -> (RequestId, String) {
    reqs.iter()
        .find_map(|r| match r {
            Request::Query { id, sql, .. } => Some((*id, sql.clone())),
            _ => None,
        })
        .expect("a query request")
}

fn set_sql(app: &mut AppState, sql: &str) {
    let id = app.selected_id().map(String::from);
    app.editor.replace(id.as_deref(), sql);
}

fn cursor(app: &AppState) -> (usize, usize) {
    app.editor.cursor(app.selected_id())
}

#[test]
fn f5_runs_the_statement_under_the_cursor() {
    let mut app = app();
    set_sql(
        &mut app,
        "SELECT 'a;b' AS x; -- c;d\nSELECT $$;$$ AS y\n  FROM data;\n\nSELECT 3",
    );
    // The cursor at the end: the last statement.
    assert_eq!(query(&app.update(Action::RunQuery)).1, "SELECT 3");
    // Up into the second statement (its `;` is inside dollar quotes and a comment too).
    app.update(key(Key::Up));
    app.update(key(Key::Up));
    assert_eq!(cursor(&app).0, 2);
    assert_eq!(
        query(&app.update(Action::RunQuery)).1,
        "SELECT $$;$$ AS y\n  FROM data"
    );
    app.update(key(Key::Up));
    app.update(key(Key::Up));
    assert_eq!(query(&app.update(Action::RunQuery)).1, "SELECT 'a;b' AS x");
    // A selection runs as it is, whatever the cursor's statement.
    app.update(key(Key::Home));
    for _ in 0..8 {
        app.update(Action::EditorInput {
            input: ratatui_textarea::Input {
                key: Key::Right,
                shift: true,
                ..Default::default()
            },
        });
    }
    assert_eq!(query(&app.update(Action::RunQuery)).1, "SELECT '");
    // Nothing but blanks and comments: nothing runs, and the status bar says why.
    set_sql(&mut app, "  -- only a comment\n");
    assert!(app.update(Action::RunQuery).is_empty());
    assert!(screen(&app).contains("nothing to run"), "{}", screen(&app));
}

#[test]
fn an_error_in_the_second_statement_marks_its_place_in_the_editor() {
    let mut app = app();
    set_sql(&mut app, "SELECT 1;\nSELECT id,\n  nope FROM data");
    let (id, sql) = query(&app.update(Action::RunQuery));
    assert_eq!(sql, "SELECT id,\n  nope FROM data");
    app.on_response(Response::QueryDone {
        id,
        result: Err(Error::QueryFailedAt {
            detail: "column \"nope\" does not exist".into(),
            at: LineColumn { line: 2, column: 3 },
        }),
    });
    assert_eq!(cursor(&app), (2, 2), "line 3 of the editor, on `nope`");
    // An error on the statement's first line is shifted by where the statement starts.
    set_sql(&mut app, "SELECT 1; SELECT nope FROM data");
    let (id, sql) = query(&app.update(Action::RunQuery));
    assert_eq!(sql, "SELECT nope FROM data");
    app.on_response(Response::QueryDone {
        id,
        result: Err(Error::QueryFailedAt {
            detail: "column \"nope\" does not exist".into(),
            at: LineColumn { line: 1, column: 8 },
        }),
    });
    assert_eq!(cursor(&app), (0, 17));
    let buf = buffer(&app);
    let line: String = (0..buf.area.width)
        .map(|x| buf[(x, 1)].symbol().to_string())
        .collect();
    let x = line[..line.find("nope").expect("the text")].chars().count() as u16;
    assert!(buf[(x, 1)].modifier.contains(Modifier::UNDERLINED));
}

#[test]
fn the_starter_sql_is_a_suggestion_the_first_key_replaces() {
    let mut app = app();
    let id = app.selected_id().map(String::from);
    let starter = app.editor.text(id.as_deref());
    assert!(!starter.is_empty());
    // F5 runs it as it is.
    assert_eq!(query(&app.update(Action::RunQuery)).1, starter);
    // Drawn selected (reversed), so it reads as a suggestion.
    let buf = buffer(&app);
    let row: String = (0..buf.area.width)
        .map(|x| buf[(x, 1)].symbol().to_string())
        .collect();
    let x = row[..row.find("SELECT").expect("the starter")]
        .chars()
        .count() as u16;
    for dx in [1, 5, 10] {
        assert!(
            buf[(x + dx, 1)].modifier.contains(Modifier::REVERSED),
            "{row}"
        );
    }
    type_text(&mut app, "S");
    assert_eq!(app.editor.text(id.as_deref()), "S");
    // Once typed in, the text is the user's: typing goes on where the cursor is.
    type_text(&mut app, "ELECT 2");
    assert_eq!(app.editor.text(id.as_deref()), "SELECT 2");
}

#[test]
fn select_all_and_clear_and_undo() {
    let mut app = app();
    let id = app.selected_id().map(String::from);
    set_sql(&mut app, "SELECT 1;\nSELECT 2");
    app.update(Action::SelectAll);
    // Selected: F5 runs all of it as one text (the guard refuses a second statement).
    assert_eq!(
        query(&app.update(Action::RunQuery)).1,
        "SELECT 1;\nSELECT 2"
    );
    type_text(&mut app, "x");
    assert_eq!(app.editor.text(id.as_deref()), "x");
    app.update(Action::ClearEditor);
    assert_eq!(app.editor.text(id.as_deref()), "");
    app.update(Action::Undo);
    assert_eq!(app.editor.text(id.as_deref()), "x");
    let keys = app.keymap.clone();
    let ctx = app.key_context();
    let k = |s| keys.lookup(ctx, tdb::tui::keymap::Key::parse(s).unwrap());
    assert_eq!(k("alt-a"), Some(Action::SelectAll));
    assert_eq!(k("ctrl-l"), Some(Action::ClearEditor));
}

#[test]
fn the_limit_prompt_s_number_is_replaced_by_typing() {
    let mut app = app();
    app.update(Action::SetLimit);
    assert!(matches!(app.modal, Some(Modal::Limit(_))));
    type_text(&mut app, "25");
    let Some(Modal::Limit(p)) = &app.modal else {
        panic!("the prompt")
    };
    assert_eq!(p.input.text(), "25");
    app.update(Action::Confirm);
    assert_eq!(app.editor.limit, 25);
}
