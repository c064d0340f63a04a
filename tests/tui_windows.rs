//! The source form, the delete confirmation, the filter, completion, highlighting, the
//! history search and the limit prompt, drawn on ratatui's `TestBackend` (insta snapshots
//! and exact lines) and driven by actions and backend responses, as the running app is.

mod common;

use std::time::Duration;

use common::tui::{buffer, csv_record, key, loaded, pg_record, screen, type_text};
use ratatui_textarea::Key;
use tdb::backend::protocol::{Request, RequestId, Response};
use tdb::core::Error;
use tdb::core::draft::Password;
use tdb::core::history::{HistoryEntry, Outcome};
use tdb::core::schema::{ColumnInfo, SchemaInfo};
use tdb::core::source::{SourceRecord, Status};
use tdb::tui::action::{Action, Motion};
use tdb::tui::app::AppState;
use tdb::tui::panes::Focus;
use tdb::tui::panes::modal::Modal;

fn sources() -> Vec<SourceRecord> {
    vec![
        csv_record("c1", "orders", &["demo", "finance"], Status::Active),
        pg_record("p1", "warehouse", Some("stock"), Status::Failed),
        csv_record("c2", "events", &["web"], Status::Active),
    ]
}

fn find<T>(reqs: &[Request], f: impl Fn(&Request) -> Option<T>) -> T {
    reqs.iter().find_map(f).expect("the request")
}

/// Sources loaded, the first one's schema read (columns `id`, `customer`, `Customer Name`,
/// `total`).
fn ready(width: u16, height: u16) -> AppState {
    let (mut app, reqs, _) = loaded(width, height, sources());
    let (id, source_id) = find(&reqs, |r| match r {
        Request::Schema { id, source_id } => Some((*id, source_id.clone())),
        _ => None,
    });
    let col = ColumnInfo::new;
    app.on_response(Response::Schema {
        id,
        source_id,
        result: Ok(SchemaInfo {
            about: Default::default(),
            columns: vec![
                col("id", "INTEGER"),
                col("customer", "TEXT"),
                col("Customer Name", "TEXT"),
                col("total", "REAL"),
            ],
            tables: None,
        }),
    });
    app
}

fn to_sources(app: &mut AppState) {
    while app.focus != Focus::Sources {
        app.update(Action::FocusNext);
    }
}

/// Replaces the editor's text by pasting, as a person would after selecting all.
fn set_sql(app: &mut AppState, sql: &str) {
    let id = app.selected_id().map(String::from);
    app.editor.replace(id.as_deref(), "");
    app.update(Action::Paste { text: sql.into() });
}

fn sql(app: &AppState) -> String {
    app.editor.text(app.selected_id())
}

fn field_until(app: &mut AppState, label: &str) {
    for _ in 0..30 {
        let Some(Modal::Form(f)) = &app.modal else {
            panic!("no form")
        };
        if matches!(f.current(), Some(tdb::tui::panes::source_form::Row::Field(k)) if f.label(k) == label)
        {
            return;
        }
        app.update(Action::NextField);
    }
    panic!("no field {label}");
}

#[test]
fn the_add_form_checks_each_field_as_it_is_typed() {
    let mut app = ready(110, 32);
    to_sources(&mut app);
    app.update(Action::AddSource);
    assert!(matches!(app.modal, Some(Modal::Form(_))));
    type_text(&mut app, "people");
    app.update(Action::NextField);
    app.update(key(Key::Right)); // postgres -> csv
    app.update(Action::NextField);
    type_text(&mut app, "/no/such/people.csv");
    app.update(Action::NextField);
    type_text(&mut app, ";;");
    app.update(Action::NextField);
    let s = screen(&app);
    // Checked as typed: only what needs no disk. Whether the file exists is asked when the
    // form is tested or saved, off the screen's thread (a FIFO there must not hang it).
    assert!(
        s.contains(r#"must be one character, got ";;""#),
        "the message sits beside the delimiter:\n{s}"
    );
    assert!(!s.contains("no such file"), "{s}");
    insta::assert_snapshot!(s);

    // Saving with problems says so and sends nothing.
    let reqs = app.update(Action::SaveForm);
    assert!(reqs.is_empty(), "{reqs:?}");
    assert!(screen(&app).contains("fix the marked fields first"));
}

#[test]
fn a_postgres_form_masks_the_password_and_reports_the_test() {
    let mut app = ready(110, 32);
    to_sources(&mut app);
    app.update(Action::AddSource);
    type_text(&mut app, "prod");
    field_until(&mut app, "host");
    type_text(&mut app, "db.internal");
    field_until(&mut app, "port");
    type_text(&mut app, "54x");
    field_until(&mut app, "password");
    type_text(&mut app, "hunter2");
    field_until(&mut app, "sslmode");
    let s = screen(&app);
    assert!(!s.contains("hunter2"), "the password never shows:\n{s}");
    assert!(s.contains("•••••••"), "{s}");
    assert!(s.contains("must be a whole number from 1 to 65535"), "{s}");
    insta::assert_snapshot!(s);

    // The test button sends the typed values, password included, and shows the answer.
    let reqs = app.update(Action::TestForm);
    let (id, draft) = find(&reqs, |r| match r {
        Request::TestDraft {
            id,
            source_id: None,
            draft,
        } => Some((*id, draft.clone())),
        _ => None,
    });
    assert_eq!(draft.source_type.name(), "postgres");
    assert_eq!(draft.password, Some(Password::new("hunter2")));
    assert!(!format!("{reqs:?}").contains("hunter2"), "never in a log");
    assert!(screen(&app).contains("testing the connection"));
    app.on_response(Response::DraftTested {
        id,
        result: Err(Error::Unreachable(
            "cannot connect to db.internal:5432: connection refused".into(),
        )),
    });
    assert!(screen(&app).contains("✗ cannot connect to db.internal:5432: connection refused"));
    let reqs = app.update(Action::TestForm);
    let id = find(&reqs, |r| match r {
        Request::TestDraft { id, .. } => Some(*id),
        _ => None,
    });
    app.on_response(Response::DraftTested {
        id,
        result: Ok(Duration::from_millis(12)),
    });
    assert!(screen(&app).contains("✓ reachable · 12 ms"));
}

#[test]
fn saving_sends_the_form_and_a_taken_name_shows_beside_the_name() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, "id,name\n1,a\n").unwrap();
    let mut app = ready(110, 32);
    to_sources(&mut app);
    app.update(Action::AddSource);
    type_text(&mut app, "orders");
    app.update(Action::NextField);
    app.update(key(Key::Char(' ')));
    app.update(Action::NextField);
    app.update(Action::Paste {
        text: csv.display().to_string(),
    });
    let reqs = app.update(Action::SaveForm);
    let id = find(&reqs, |r| match r {
        Request::AddSource { id, draft } if draft.name == "orders" => Some(*id),
        _ => None,
    });
    app.on_response(Response::SourceSaved {
        id,
        result: Err(Error::Conflict(
            "a source named \"orders\" already exists".into(),
        )),
    });
    let s = screen(&app);
    assert!(
        s.lines()
            .any(|l| l.contains("name orders") && l.contains("already exists")),
        "{s}"
    );
    // Fixed and saved: the form closes, the list is read again and the new source selected.
    field_until(&mut app, "name");
    for _ in 0..6 {
        app.update(key(Key::Backspace));
    }
    type_text(&mut app, "people");
    let reqs = app.update(Action::SaveForm);
    let id = find(&reqs, |r| match r {
        Request::AddSource { id, draft } if draft.name == "people" => Some(*id),
        _ => None,
    });
    let added = csv_record("n1", "people", &[], Status::Active);
    let reqs = app.on_response(Response::SourceSaved {
        id,
        result: Ok(added.clone()),
    });
    assert!(app.modal.is_none());
    let list = find(&reqs, |r| match r {
        Request::ListSources { id } => Some(*id),
        _ => None,
    });
    let mut records = sources();
    records.push(added);
    app.on_response(Response::Sources {
        id: list,
        result: Ok(records),
    });
    assert_eq!(app.sources.selected().unwrap().name, "people");
    assert!(screen(&app).contains("added csv source people"));
}

#[test]
fn editing_starts_from_the_stored_values() {
    let mut app = ready(110, 32);
    to_sources(&mut app);
    app.update(Action::Move {
        motion: Motion::Down,
    });
    assert_eq!(app.sources.selected().unwrap().name, "warehouse");
    app.update(Action::EditSource);
    let s = screen(&app);
    assert!(s.contains("Edit postgres source · warehouse"), "{s}");
    assert!(s.contains("db.internal") && s.contains("stock"), "{s}");
    assert!(
        s.contains("stored; type to replace"),
        "the password stays unless typed:\n{s}"
    );
    field_until(&mut app, "port");
    for _ in 0..4 {
        app.update(key(Key::Backspace));
    }
    type_text(&mut app, "6432");
    let reqs = app.update(Action::SaveForm);
    let (source_id, before, draft) = find(&reqs, |r| match r {
        Request::EditSource {
            source_id,
            before,
            draft,
            ..
        } => Some((source_id.clone(), before.clone(), draft.clone())),
        _ => None,
    });
    assert_eq!(source_id, "p1");
    assert_eq!(
        serde_json::Value::Object(draft.connection_patch(&before)),
        serde_json::json!({"port": "6432"})
    );
}

#[test]
fn delete_asks_first_naming_the_source() {
    let mut app = ready(100, 24);
    to_sources(&mut app);
    app.update(Action::DeleteSource);
    let s = screen(&app);
    insta::assert_snapshot!(s);
    // `n` keeps it.
    app.update(Action::CloseOverlay);
    assert!(app.modal.is_none());
    app.update(Action::DeleteSource);
    let reqs = app.update(Action::Confirm);
    let id = find(&reqs, |r| match r {
        Request::DeleteSource { id, source_id } if source_id == "c1" => Some(*id),
        _ => None,
    });
    assert!(screen(&app).contains("deleting…"));
    let reqs = app.on_response(Response::SourceDeleted {
        id,
        result: Ok(sources().remove(0)),
    });
    assert!(app.modal.is_none());
    assert!(
        reqs.iter()
            .any(|r| matches!(r, Request::ListSources { .. }))
    );
    assert!(screen(&app).contains("deleted orders"));
}

#[test]
fn the_filter_narrows_the_list_as_it_is_typed() {
    let mut app = ready(100, 24);
    to_sources(&mut app);
    app.update(Action::FilterSources);
    type_text(&mut app, "we");
    let s = screen(&app);
    assert!(s.contains("Sources (2/3)"), "{s}");
    assert!(s.contains("warehouse") && s.contains("events") && !s.contains("● orders"));
    assert_eq!(
        app.sources.selected().unwrap().name,
        "warehouse",
        "the selection moves to a source still shown"
    );
    insta::assert_snapshot!(s);
    app.update(Action::Move {
        motion: Motion::Down,
    });
    assert_eq!(app.sources.selected().unwrap().name, "events");
    // Enter keeps the filter; Up/Down move among what it shows.
    app.update(Action::KeepFilter);
    app.update(Action::Move { motion: Motion::Up });
    assert_eq!(app.sources.selected().unwrap().name, "warehouse");
    // Esc while typing clears it.
    app.update(Action::FilterSources);
    app.update(Action::ClearFilter);
    assert!(screen(&app).contains("Sources (3)"));
}

#[test]
fn completion_offers_columns_then_keywords_and_narrows_while_typing() {
    let mut app = ready(100, 24);
    set_sql(&mut app, "SELECT cu");
    app.update(Action::Complete);
    let s = screen(&app);
    insta::assert_snapshot!(s);
    let c = app.completion.as_ref().expect("the popup");
    let labels: Vec<&str> = c.items.iter().take(3).map(|i| i.label.as_str()).collect();
    assert_eq!(labels, ["customer", "Customer Name", "current_date"]);
    // Typing narrows; Down and Enter insert, quoted when the name needs it.
    type_text(&mut app, "st");
    let c = app.completion.as_ref().expect("still open");
    assert_eq!(c.items[0].label, "customer");
    app.update(Action::Move {
        motion: Motion::Down,
    });
    app.update(Action::Confirm);
    assert_eq!(sql(&app), "SELECT \"Customer Name\"");
    assert!(app.completion.is_none());
    // One candidate is inserted at once; undo takes it back.
    type_text(&mut app, ", tot");
    app.update(Action::Complete);
    assert_eq!(sql(&app), "SELECT \"Customer Name\", total");
    app.update(Action::Undo);
    app.update(Action::Undo);
    assert_eq!(sql(&app), "SELECT \"Customer Name\", tot");
    app.update(Action::Redo);
    app.update(Action::Redo);
    assert_eq!(sql(&app), "SELECT \"Customer Name\", total");
    // A space ends the word and closes the popup; Esc closes it too.
    type_text(&mut app, " FR");
    app.update(Action::Complete);
    assert!(app.completion.is_some());
    type_text(&mut app, " ");
    assert!(app.completion.is_none());
    app.update(Action::Complete);
    app.update(Action::CloseOverlay);
    assert!(app.completion.is_none());
}

#[test]
fn sql_is_coloured_by_token() {
    let mut app = ready(100, 24);
    set_sql(&mut app, "SELECT 'a', 42 -- why\nFROM \"Order\"");
    let buf = buffer(&app);
    let t = &app.theme;
    // The editor's text starts one cell inside its border, right of the sources pane.
    let (x0, y0) = (0..buf.area.width)
        .find_map(|x| (buf[(x, 1)].symbol() == "S").then_some((x, 1)))
        .expect("the SQL on screen");
    let fg = |dx: u16, dy: u16| buf[(x0 + dx, y0 + dy)].fg;
    assert_eq!(fg(0, 0), t.sql_keyword.fg.unwrap(), "SELECT");
    assert_eq!(fg(7, 0), t.sql_string.fg.unwrap(), "'a'");
    assert_eq!(fg(12, 0), t.sql_number.fg.unwrap(), "42");
    assert_eq!(fg(16, 0), t.sql_comment.fg.unwrap(), "-- why");
    assert_eq!(fg(0, 1), t.sql_keyword.fg.unwrap(), "FROM");
    assert_eq!(fg(5, 1), t.sql_quoted.fg.unwrap(), "\"Order\"");
}

fn entry(sql: &str, outcome: Outcome, rows: Option<u64>, ago: i64) -> HistoryEntry {
    let at = chrono::Utc::now() - chrono::Duration::seconds(ago);
    HistoryEntry {
        source_id: "c1".into(),
        sql: sql.into(),
        started_at: at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        duration_ms: 12,
        rows,
        truncated: rows == Some(100),
        outcome,
        error: (outcome != Outcome::Ok).then(|| match outcome {
            Outcome::Rejected => "SQL validation failed: only SELECT is allowed".into(),
            _ => "no such column: nope".into(),
        }),
    }
}

fn with_history(app: &mut AppState) {
    app.on_response(Response::History {
        id: RequestId(900),
        source_id: "c1".into(),
        result: Ok(vec![
            entry("SELECT nope FROM data", Outcome::Failed, None, 30),
            entry("DELETE FROM data", Outcome::Rejected, None, 200),
            entry(
                "SELECT customer, total FROM data",
                Outcome::Ok,
                Some(3),
                4000,
            ),
            entry("SELECT * FROM data", Outcome::Ok, Some(100), 90_000),
            entry(
                "SELECT customer, total FROM data",
                Outcome::Ok,
                Some(3),
                100_000,
            ),
        ]),
    });
}

#[test]
fn the_history_search_finds_an_old_query() {
    let mut app = ready(100, 24);
    // Read before the popup opens (ages count from its opening, so they stay whole).
    with_history(&mut app);
    let reqs = app.update(Action::SearchHistory);
    assert!(
        reqs.iter()
            .any(|r| matches!(r, Request::History { source_id, .. } if source_id == "c1")),
        "the history is read again when the popup opens"
    );
    insta::assert_snapshot!(screen(&app));
    type_text(&mut app, "cust");
    let s = screen(&app);
    assert!(s.contains("History · orders · 1 of 5"), "{s}");
    assert!(
        s.contains("✓    3 rows   1h  SELECT customer, total FROM data"),
        "{s}"
    );
    app.update(Action::Confirm);
    assert!(app.modal.is_none());
    assert_eq!(sql(&app), "SELECT customer, total FROM data");
    assert_eq!(app.focus, Focus::Editor);
}

#[test]
fn history_steps_back_and_forth_from_the_editor() {
    let mut app = ready(100, 24);
    with_history(&mut app);
    set_sql(&mut app, "SELECT 1");
    app.update(Action::HistoryPrev);
    assert_eq!(sql(&app), "SELECT nope FROM data");
    app.update(Action::HistoryPrev);
    assert_eq!(sql(&app), "DELETE FROM data");
    app.update(Action::HistoryNext);
    app.update(Action::HistoryNext);
    assert_eq!(sql(&app), "SELECT 1", "back to what was typed");
}

#[test]
fn a_finished_query_reads_its_sources_history_again() {
    let mut app = ready(100, 24);
    let reqs = app.update(Action::RunQuery);
    let id = find(&reqs, |r| match r {
        Request::Query { id, .. } => Some(*id),
        _ => None,
    });
    let reqs = app.on_response(Response::QueryDone {
        id,
        result: Err(Error::rejected("nope")),
    });
    assert!(
        reqs.iter()
            .any(|r| matches!(r, Request::History { source_id, .. } if source_id == "c1"))
    );
}

#[test]
fn the_limit_prompt_takes_a_number_and_refuses_others() {
    let mut app = ready(100, 24);
    app.update(Action::SetLimit);
    for _ in 0..3 {
        app.update(key(Key::Backspace));
    }
    type_text(&mut app, "5000");
    app.update(Action::Confirm);
    let s = screen(&app);
    assert!(s.contains("a whole number from 1 to 1000"), "{s}");
    insta::assert_snapshot!(s);
    for _ in 0..4 {
        app.update(key(Key::Backspace));
    }
    type_text(&mut app, "250");
    app.update(Action::Confirm);
    assert!(app.modal.is_none());
    assert_eq!(app.editor.limit, 250);
    assert!(screen(&app).contains("limit 250"));
}

#[test]
fn editor_text_comes_from_the_registry_and_goes_back_after_a_pause() {
    let (mut app, reqs, now) = loaded(100, 24, sources());
    let id = find(&reqs, |r| match r {
        Request::LoadEditorText { id, source_id } if source_id == "c1" => Some(*id),
        _ => None,
    });
    app.on_response(Response::EditorText {
        id,
        source_id: "c1".into(),
        sql: Some("SELECT 42 AS answer".into()),
    });
    assert_eq!(sql(&app), "SELECT 42 AS answer");
    type_text(&mut app, ",");
    assert!(app.animating(), "a save is due");
    let early = app.update(Action::Tick {
        now: now + Duration::from_millis(300),
    });
    assert!(early.is_empty(), "typing has not paused yet");
    let due = app.update(Action::Tick {
        now: now + Duration::from_secs(2),
    });
    assert_eq!(
        due,
        [Request::SaveEditorText {
            source_id: "c1".into(),
            sql: "SELECT 42 AS answer,".into()
        }]
    );
    let again = app.update(Action::Tick {
        now: now + Duration::from_secs(4),
    });
    assert!(again.is_empty(), "saved once");
    // Quitting saves what was typed since, at once.
    type_text(&mut app, " 1");
    let quit = app.update(Action::Quit);
    assert!(quit.contains(&Request::SaveEditorText {
        source_id: "c1".into(),
        sql: "SELECT 42 AS answer, 1".into()
    }));
}

#[test]
fn help_lists_the_new_keys_too() {
    let mut app = ready(100, 40);
    app.update(Action::OpenHelp);
    let mut seen = String::new();
    for _ in 0..20 {
        seen.push_str(&screen(&app));
        app.update(Action::Move {
            motion: Motion::PageDown,
        });
    }
    for want in [
        "add a source (a form)",
        "delete the selected source (asks first)",
        "filter the list as you type",
        "complete: keywords, tables, columns",
        "search this source's history",
        "Ctrl-Z             undo",
        "Ctrl-Y             redo",
        "Ctrl-S             save the source",
        "Ctrl-T             test the connection with these values",
        "Source form (other keys type)",
        "Delete confirmation",
        "History search (other keys type)",
        "Completion (typing goes on)",
        "Limit prompt (other keys type)",
        "Source filter (other keys type)",
    ] {
        assert!(seen.contains(want), "help lacks {want:?}");
    }
}

#[test]
fn stored_values_from_elsewhere_show_visibly_in_the_form() {
    let mut hostile = csv_record("c9", "odd", &[], Status::Active);
    let mut spec: tdb::connector::csv::CsvConnection = hostile.connection.spec().unwrap();
    spec.path = "/data/txt\u{202e}vsc.exe".into();
    hostile.connection = tdb::connector::csv::Csv::connection(&spec).unwrap();
    let (mut app, _, _) = loaded(110, 32, vec![hostile]);
    to_sources(&mut app);
    app.update(Action::EditSource);
    let s = screen(&app);
    assert!(s.contains("/data/txt<U+202E>vsc.exe"), "{s}");
    assert!(!s.contains('\u{202e}'));
}

#[test]
fn clicks_and_the_wheel_follow_the_filtered_list_and_stay_out_of_windows() {
    use tdb::tui::layout::{areas, inner};
    let mut app = ready(100, 24);
    to_sources(&mut app);
    app.update(Action::FilterSources);
    type_text(&mut app, "we");
    app.update(Action::KeepFilter);
    let a = areas(app.size, app.sources.lines(), None).unwrap();
    let body = inner(a.sources);
    // The second line shows `events` (the second source the filter lets through).
    app.update(Action::Click {
        x: body.x + 2,
        y: body.y + 1,
    });
    assert_eq!(app.sources.selected().unwrap().name, "events");
    app.update(Action::Wheel {
        x: body.x + 2,
        y: body.y,
        down: false,
    });
    assert_eq!(app.sources.selected().unwrap().name, "warehouse");
    // With the form open, a click on the list behind it does nothing.
    app.update(Action::AddSource);
    app.update(Action::Click {
        x: body.x + 2,
        y: body.y + 1,
    });
    assert_eq!(app.sources.selected().unwrap().name, "warehouse");
    assert!(matches!(app.modal, Some(Modal::Form(_))));
}

#[test]
fn esc_in_a_half_filled_form_asks_before_throwing_it_away() {
    let mut app = ready(110, 32);
    to_sources(&mut app);
    // Nothing typed: Esc closes at once.
    app.update(Action::AddSource);
    app.update(Action::CloseOverlay);
    assert!(app.modal.is_none());

    app.update(Action::AddSource);
    type_text(&mut app, "people");
    app.update(Action::CloseOverlay);
    assert!(
        matches!(app.modal, Some(Modal::Form(_))),
        "the first Esc asks"
    );
    let s = screen(&app);
    assert!(
        s.contains("Throw away what was typed? Esc again discards it"),
        "{s}"
    );
    // Any other key goes on with the form, and the question is gone.
    type_text(&mut app, "2");
    assert!(!screen(&app).contains("Throw away"));
    app.update(Action::CloseOverlay);
    assert!(matches!(app.modal, Some(Modal::Form(_))), "asks again");
    app.update(Action::CloseOverlay);
    assert!(app.modal.is_none(), "the second Esc discards");
}

#[test]
fn a_long_field_problem_wraps_under_its_field_instead_of_being_cut() {
    let mut app = ready(80, 32);
    to_sources(&mut app);
    app.update(Action::AddSource);
    type_text(&mut app, &"n".repeat(120));
    app.update(Action::NextField);
    let s = screen(&app);
    let lines: Vec<&str> = s.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("name nnnn"))
        .expect("the name field");
    // The message goes on under the field's line, not cut at the form's edge.
    assert!(
        lines[at].contains("at most 100 characters") && lines[at + 1].contains("allowed, got 120"),
        "{s}"
    );
    assert!(lines[at + 2].contains("type ◂ postgres ▸"), "{s}");
    insta::assert_snapshot!(s);
}
