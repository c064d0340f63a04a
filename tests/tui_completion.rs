//! Completion that knows where it is (issue 18): after `x.` the popup offers the columns of
//! the table or alias `x`, after FROM the tables first. Drawn on `TestBackend`.

mod common;

use common::tui::{loaded, pg_record, screen};
use tdb::backend::protocol::{Request, Response};
use tdb::core::schema::{ColumnInfo, SchemaInfo, TableInfo};
use tdb::core::source::Status;
use tdb::tui::action::Action;
use tdb::tui::app::AppState;
use tdb::tui::panes::completion::Kind;

fn shop() -> AppState {
    let records = vec![pg_record("p1", "shop", None, Status::Active)];
    let (mut app, reqs, _) = loaded(100, 24, records);
    let (id, source_id) = reqs
        .iter()
        .find_map(|r| match r {
            Request::Schema { id, source_id } => Some((*id, source_id.clone())),
            _ => None,
        })
        .expect("a schema request");
    let table = |name: &str, cols: &[(&str, &str)]| TableInfo {
        about: Default::default(),
        schema: "public".into(),
        name: name.into(),
        kind: "table".into(),
        columns: cols.iter().map(|(c, t)| ColumnInfo::new(*c, *t)).collect(),
    };
    app.on_response(Response::Schema {
        id,
        source_id,
        result: Ok(SchemaInfo {
            about: Default::default(),
            columns: vec![],
            tables: Some(vec![
                table(
                    "orders",
                    &[
                        ("id", "int4"),
                        ("customer_id", "int4"),
                        ("total", "numeric"),
                    ],
                ),
                table(
                    "customers",
                    &[("id", "int4"), ("name", "text"), ("country", "text")],
                ),
            ]),
        }),
    });
    app
}

fn popup(app: &AppState) -> Vec<(String, Kind)> {
    app.completion
        .as_ref()
        .map(|c| c.items.iter().map(|i| (i.insert.clone(), i.kind)).collect())
        .unwrap_or_default()
}

#[test]
fn after_an_alias_and_a_dot_the_popup_offers_its_table_s_columns() {
    let mut app = shop();
    app.update(Action::ClearEditor);
    app.update(Action::Paste {
        text: "SELECT *\nFROM orders o JOIN customers c ON c.id = o.customer_id\nWHERE c.".into(),
    });
    app.update(Action::Complete);
    assert_eq!(
        popup(&app),
        [
            ("id".to_string(), Kind::Column),
            ("name".to_string(), Kind::Column),
            ("country".to_string(), Kind::Column),
        ]
    );
    insta::assert_snapshot!(screen(&app));
    app.update(Action::Move {
        motion: tdb::tui::action::Motion::Down,
    });
    app.update(Action::Confirm);
    assert!(app.editor.text(Some("p1")).ends_with("WHERE c.name"));
}

#[test]
fn after_from_the_tables_come_first() {
    let mut app = shop();
    app.update(Action::ClearEditor);
    app.update(Action::Paste {
        text: "SELECT * FROM c".into(),
    });
    app.update(Action::Complete);
    let got = popup(&app);
    assert_eq!(got[0], ("customers".to_string(), Kind::Table), "{got:?}");
}
