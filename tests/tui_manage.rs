//! Managing sources and using the editor's help from the UI, headless against the real
//! backend and a real registry (CSV sources): what the form, the confirmation, completion
//! and the history do to the registry, the audit log and the screen.

mod common;

use std::path::{Path, PathBuf};

use common::tui::{Harness, key};
use ratatui_textarea::Key;
use tdb::audit::AuditLog;
use tdb::core::history::Outcome;
use tdb::home::Home;
use tdb::registry::Registry;
use tdb::tui::action::Action;
use tdb::tui::app::AppState;
use tdb::tui::panes::Focus;
use tdb::tui::panes::modal::Modal;
use tdb::tui::panes::results::ResultsView;
use tdb::tui::panes::source_form::{Check, FieldKey, Row};

/// An empty home and a small CSV file beside it.
fn setup() -> (tempfile::TempDir, Home, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "id,name,city\n1,Ada,London\n2,Grace,New York\n3,山田,東京\n",
    )
    .unwrap();
    let home = Home::at(dir.path().join("home"));
    (dir, home, csv)
}

fn form_field(h: &mut Harness, label: &str) {
    for _ in 0..30 {
        let Some(Modal::Form(f)) = &h.app.modal else {
            panic!("no form")
        };
        if matches!(f.current(), Some(Row::Field(k)) if f.label(k) == label) {
            return;
        }
        h.act(Action::NextField);
    }
    panic!("no field {label}");
}

fn events(home: &Home) -> Vec<String> {
    AuditLog::new(home.audit_path())
        .tail(None)
        .unwrap()
        .iter()
        .map(|l| l["event"].as_str().unwrap().to_string())
        .collect()
}

fn sql(app: &AppState) -> String {
    app.editor.text(app.selected_id())
}

/// Adds `people.csv` as `name` through the form, testing it first.
fn add_through_the_form(h: &mut Harness, name: &str, csv: &Path) {
    h.focus(Focus::Sources);
    h.act(Action::AddSource);
    h.type_text(name);
    form_field(h, "type");
    h.act(key(Key::Right));
    form_field(h, "path");
    h.act(Action::Paste {
        text: csv.display().to_string(),
    });
    h.act(Action::TestForm);
    h.settle_until(
        "the test",
        |a| matches!(&a.modal, Some(Modal::Form(f)) if !matches!(f.check, Check::Running { .. })),
    );
    let Some(Modal::Form(f)) = &h.app.modal else {
        panic!("the form")
    };
    assert!(
        matches!(f.check, Check::Reachable(_)),
        "{:?}\n{}",
        f.check,
        h.screen()
    );
    assert!(h.screen().contains("✓ reachable"));
    h.act(Action::SaveForm);
    h.settle_until("the new source selected", |a| {
        a.modal.is_none() && a.sources.selected().is_some_and(|s| s.name == name)
    });
}

#[test]
fn a_source_added_through_the_form_is_stored_audited_and_queried() {
    let (_dir, home, csv) = setup();
    let mut h = Harness::new(&home, 120, 40);
    assert!(h.app.sources.items.is_empty());
    add_through_the_form(&mut h, "people", &csv);
    let stored = Registry::open(&home).unwrap().list(None).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].name, "people");
    assert_eq!(events(&home), ["source_registered"]);
    assert!(h.screen().contains("added csv source people"));

    h.run_sql("SELECT name, city FROM data ORDER BY id");
    let ResultsView::Done(g) = &h.app.results else {
        panic!("rows: {}", h.screen())
    };
    assert_eq!(g.grid.cell(2, 1).unwrap().text, "東京");
}

#[test]
fn a_test_that_fails_says_why_before_anything_is_saved() {
    let (dir, home, _) = setup();
    let mut h = Harness::new(&home, 120, 40);
    h.focus(Focus::Sources);
    h.act(Action::AddSource);
    h.type_text("ghost");
    form_field(&mut h, "type");
    h.act(key(Key::Right));
    form_field(&mut h, "path");
    let missing = dir.path().join("gone.csv");
    h.act(Action::Paste {
        text: missing.display().to_string(),
    });
    h.act(Action::TestForm);
    h.settle_until(
        "the test",
        |a| matches!(&a.modal, Some(Modal::Form(f)) if matches!(f.check, Check::Failed(_))),
    );
    let s = h.screen();
    assert!(
        s.contains(&format!(
            "✗ cannot read the CSV file {}: no such file",
            missing.display()
        )),
        "{s}"
    );
    assert!(
        Registry::open(&home)
            .unwrap()
            .list(None)
            .unwrap()
            .is_empty()
    );
    // Saving asks the disk the same, and the answer sits beside the path.
    h.act(Action::SaveForm);
    h.settle_until("the refused save", |a| {
        matches!(&a.modal, Some(Modal::Form(f))
            if f.saving.is_none() && f.problem(FieldKey::Conn("path")).is_some())
    });
    let s = h.screen();
    assert!(s.contains("path"), "{s}");
    assert!(s.contains("no such file"), "{s}");
    assert!(
        Registry::open(&home)
            .unwrap()
            .list(None)
            .unwrap()
            .is_empty()
    );
    // Values were typed: the first Esc asks, the second throws them away.
    h.act(Action::CloseOverlay);
    assert!(h.app.modal.is_some());
    h.act(Action::CloseOverlay);
    assert!(h.app.modal.is_none());
}

#[test]
fn editing_renames_and_delete_removes_after_confirming() {
    let (_dir, home, csv) = setup();
    let mut h = Harness::new(&home, 120, 40);
    add_through_the_form(&mut h, "people", &csv);
    h.focus(Focus::Sources);
    h.act(Action::EditSource);
    form_field(&mut h, "name");
    for _ in 0.."people".len() {
        h.act(key(Key::Backspace));
    }
    h.type_text("persons");
    form_field(&mut h, "tags");
    h.type_text("hr, demo");
    h.act(Action::SaveForm);
    h.settle_until("the renamed source", |a| {
        a.modal.is_none() && a.sources.selected().is_some_and(|s| s.name == "persons")
    });
    let rec = Registry::open(&home).unwrap().get("persons").unwrap();
    assert_eq!(rec.tags, ["hr", "demo"]);
    assert!(h.screen().contains("● persons csv #hr #demo"));

    h.act(Action::DeleteSource);
    assert!(h.screen().contains("Delete the source persons?"));
    h.act(Action::Confirm);
    h.settle_until("the empty list", |a| {
        a.modal.is_none() && a.sources.items.is_empty()
    });
    assert!(
        Registry::open(&home)
            .unwrap()
            .list(None)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        events(&home),
        ["source_registered", "source_updated", "source_deleted"]
    );
    assert!(h.screen().contains("no sources yet"));
}

#[test]
fn queries_go_to_the_history_and_come_back_from_it() {
    let (_dir, home, csv) = setup();
    let mut h = Harness::new(&home, 120, 40);
    add_through_the_form(&mut h, "people", &csv);
    h.run_sql("SELECT name FROM data WHERE city = 'London'");
    h.run_sql("DROP TABLE data");
    h.run_sql("SELECT count(*) AS n FROM data");
    let id = h.app.selected_id().unwrap().to_string();
    h.settle_until("three runs in the history", |a| {
        a.history.get(&id).len() == 3
    });
    let outcomes: Vec<Outcome> = h.app.history.get(&id).iter().map(|e| e.outcome).collect();
    assert_eq!(outcomes, [Outcome::Ok, Outcome::Rejected, Outcome::Ok]);

    // Stepping back from the editor.
    h.focus(Focus::Editor);
    h.act(Action::HistoryPrev);
    assert_eq!(
        sql(&h.app),
        "DROP TABLE data",
        "the newest is in the editor already"
    );
    h.act(Action::HistoryNext);
    assert_eq!(sql(&h.app), "SELECT count(*) AS n FROM data");

    // Searching, and running what was found.
    h.act(Action::SearchHistory);
    h.type_text("london");
    h.act(Action::Confirm);
    assert_eq!(sql(&h.app), "SELECT name FROM data WHERE city = 'London'");
    h.act(Action::RunQuery);
    h.settle_query();
    let ResultsView::Done(g) = &h.app.results else {
        panic!("rows: {}", h.screen())
    };
    assert_eq!(g.grid.cell(0, 0).unwrap().text, "Ada");
}

#[test]
fn the_editor_text_and_completion_use_the_registry_and_the_schema() {
    let (_dir, home, csv) = setup();
    {
        let mut h = Harness::new(&home, 120, 40);
        add_through_the_form(&mut h, "people", &csv);
        h.settle_until("the schema", |a| {
            a.schema
                .get(a.selected_id().unwrap())
                .is_some_and(|e| e.tree.is_some())
        });
        h.replace_sql("SELECT na");
        h.focus(Focus::Editor);
        h.act(Action::Complete);
        let first = &h.app.completion.as_ref().expect("the popup").items[0];
        assert_eq!(
            (first.label.as_str(), first.detail.as_str()),
            ("name", "VARCHAR")
        );
        h.act(Action::Confirm);
        assert_eq!(sql(&h.app), "SELECT name");
        h.type_text(", ci");
        h.act(Action::Complete);
        h.act(Action::Confirm);
        assert_eq!(sql(&h.app), "SELECT name, city");
        h.act(Action::Quit);
    }
    // A new start finds the text where it was left.
    let mut h = Harness::new(&home, 120, 40);
    h.settle_until("the saved text", |a| sql(a) == "SELECT name, city");
    assert!(h.screen().contains("SELECT name, city"));
}

#[test]
fn postgres_forms_test_with_the_stored_or_the_typed_password() {
    let c = common::pg::shared();
    let (_dir, home, _) = setup();
    let mut h = Harness::new(&home, 120, 40);
    // Added through the form with a password: stored encrypted, never in the audit log.
    h.focus(Focus::Sources);
    h.act(Action::AddSource);
    h.type_text("pg");
    form_field(&mut h, "host");
    h.type_text(c.host());
    form_field(&mut h, "port");
    h.type_text(&c.port().to_string());
    form_field(&mut h, "database");
    h.type_text("postgres");
    form_field(&mut h, "user");
    h.type_text(common::pg::SUPERUSER);
    form_field(&mut h, "password");
    h.type_text(c.superuser_password());
    h.act(Action::SaveForm);
    h.settle_until("the new source", |a| {
        a.modal.is_none() && a.sources.selected().is_some_and(|s| s.name == "pg")
    });
    let rec = Registry::open(&home).unwrap().get("pg").unwrap();
    assert!(rec.has_password);
    let audit = std::fs::read_to_string(home.audit_path()).unwrap();
    assert!(!audit.contains(c.superuser_password()));

    // Editing: an untyped password is the stored one.
    h.act(Action::EditSource);
    h.act(Action::TestForm);
    h.settle_until(
        "the test",
        |a| matches!(&a.modal, Some(Modal::Form(f)) if !matches!(f.check, Check::Running { .. })),
    );
    assert!(h.screen().contains("✓ reachable"), "{}", h.screen());
    // A typed one replaces it, for the test as for saving.
    form_field(&mut h, "password");
    h.type_text("not-the-password");
    h.act(Action::TestForm);
    h.settle_until(
        "the test",
        |a| matches!(&a.modal, Some(Modal::Form(f)) if matches!(f.check, Check::Failed(_))),
    );
    let s = h.screen();
    assert!(s.contains("✗ ") && s.contains("password"), "{s}");
    assert!(!s.contains("not-the-password"));
    h.act(Action::CloseOverlay);
    h.act(Action::TestSource);
    h.settle_until("the source test", |a| {
        a.message
            .as_ref()
            .is_some_and(|m| m.text.contains("reachable"))
    });
}

#[test]
fn a_source_added_by_another_process_appears_by_itself() {
    let (dir, home, csv) = setup();
    let mut h = Harness::new(&home, 120, 40);
    assert!(h.app.sources.items.is_empty());
    let body =
        serde_json::json!({"name": "elsewhere", "source_type": "csv", "connection": {"path": csv}});
    let new = tdb::core::source::RegisterRequest::from_json_text(&body.to_string())
        .unwrap()
        .validate(
            tdb::connector::find_kind,
            &tdb::core::kind::Context {
                cwd: dir.path(),
                user_home: None,
            },
        )
        .unwrap();
    Registry::open(&home).unwrap().add(new, "other").unwrap();
    h.settle_until("the pushed list", |a| {
        a.sources.items.iter().any(|s| s.name == "elsewhere")
    });
    assert!(h.screen().contains("● elsewhere csv"));
}
