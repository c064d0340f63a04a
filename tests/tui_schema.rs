//! The schema pane (issue 18): `/` finds table and column names as typed, `n`/`N` step
//! through the matches (in the cell detail too), Esc clears; `<`/`>` and a drag of the
//! border change its width; long names scroll sideways. Driven by actions and backend
//! responses, drawn on `TestBackend`.

mod common;

use std::time::Duration;

use common::tui::{loaded, pg_record, screen, type_text};
use tdb::backend::engine::QueryOutcome;
use tdb::backend::protocol::{Request, Response};
use tdb::core::schema::{ColumnInfo, SchemaInfo, TableInfo};
use tdb::core::source::Status;
use tdb::core::value::{Column, ResultSet, Value};
use tdb::tui::action::{Action, Motion};
use tdb::tui::app::{AppState, Overlay};
use tdb::tui::keymap::Key;
use tdb::tui::panes::Focus;

fn table(name: &str, cols: &[&str]) -> TableInfo {
    TableInfo {
        about: Default::default(),
        schema: "public".into(),
        name: name.into(),
        kind: "table".into(),
        columns: cols.iter().map(|c| ColumnInfo::new(*c, "int4")).collect(),
    }
}

/// A warehouse database of three tables, the schema pane focused.
fn warehouse(width: u16, height: u16) -> AppState {
    let records = vec![pg_record("p1", "warehouse", None, Status::Active)];
    let (mut app, reqs, _) = loaded(width, height, records);
    let (id, source_id) = reqs
        .iter()
        .find_map(|r| match r {
            Request::Schema { id, source_id } => Some((*id, source_id.clone())),
            _ => None,
        })
        .expect("a schema request");
    app.on_response(Response::Schema {
        id,
        source_id,
        result: Ok(SchemaInfo {
            about: Default::default(),
            columns: vec![],
            tables: Some(vec![
                table("customers", &["id", "name", "order_count"]),
                table("orders", &["id", "customer_id", "total"]),
                table(
                    "shipment_tracking_events_with_a_very_long_name",
                    &["id", "order_id"],
                ),
            ]),
        }),
    });
    app.update(Action::FocusPrev); // editor -> schema
    assert_eq!(app.focus, Focus::Schema);
    app
}

/// The label of the schema line under the cursor.
fn current(app: &AppState) -> String {
    let tree = app.schema.get("p1").unwrap().tree.as_ref().unwrap();
    let row = tree.current().unwrap();
    let table = &tree.tables[row.table];
    match row.column {
        Some(ci) => format!("{}.{}", table.label, table.columns[ci].label),
        None => table.label.clone(),
    }
}

fn press(app: &mut AppState, key: &str) {
    let action = app
        .keymap
        .lookup(app.key_context(), Key::parse(key).unwrap())
        .unwrap_or_else(|| panic!("{key} is bound here"));
    app.update(action);
}

#[test]
fn slash_finds_names_as_typed_and_n_steps_through_them() {
    let mut app = warehouse(100, 24);
    press(&mut app, "/");
    assert!(app.schema.searching());
    type_text(&mut app, "ord");
    // The first name holding "ord" from the cursor on: a column, its table expanded.
    assert_eq!(current(&app), "customers.order_count");
    insta::assert_snapshot!(screen(&app));
    press(&mut app, "enter");
    assert!(!app.schema.searching(), "Enter keeps the search");
    press(&mut app, "n");
    assert_eq!(current(&app), "orders");
    press(&mut app, "n");
    assert_eq!(
        current(&app),
        "shipment_tracking_events_with_a_very_long_name.order_id"
    );
    press(&mut app, "n");
    assert_eq!(current(&app), "customers.order_count", "n wraps around");
    press(&mut app, "N");
    assert_eq!(
        current(&app),
        "shipment_tracking_events_with_a_very_long_name.order_id",
        "N goes back, wrapping"
    );
    // Esc clears the search; the cursor stays where it went.
    press(&mut app, "esc");
    assert!(app.schema.search.is_none());
    assert_eq!(
        current(&app),
        "shipment_tracking_events_with_a_very_long_name.order_id"
    );
    assert!(!screen(&app).contains("/ord"));
}

#[test]
fn typing_on_narrows_and_a_name_nowhere_says_so() {
    let mut app = warehouse(100, 24);
    press(&mut app, "/");
    type_text(&mut app, "cust");
    assert_eq!(current(&app), "customers");
    type_text(&mut app, "omer_");
    assert_eq!(current(&app), "orders.customer_id");
    type_text(&mut app, "zz");
    let message = app.message.as_ref().map(|m| m.text.clone());
    assert_eq!(
        message.as_deref(),
        Some("no table or column name holds \"customer_zz\"")
    );
    assert_eq!(current(&app), "orders.customer_id", "the cursor stays");
    // Typed keys went into the search, not the editor.
    assert!(!app.editor.text(Some("p1")).contains("cust"));
}

#[test]
fn the_width_keys_and_a_drag_of_the_border_resize_the_left_column() {
    let mut app = warehouse(100, 24);
    let left = |app: &AppState| tdb::tui::layout::left_width(app.size.width, app.schema.width);
    assert_eq!(left(&app), 25);
    press(&mut app, ">");
    assert_eq!(left(&app), 29);
    press(&mut app, "<");
    press(&mut app, "<");
    assert_eq!(left(&app), 21);
    for _ in 0..10 {
        press(&mut app, "<");
    }
    assert_eq!(left(&app), tdb::tui::layout::LEFT_MIN, "never narrower");
    // Press on the border (the schema's right edge) and drag it to column 49.
    let border = left(&app) - 1;
    app.update(Action::Click { x: border, y: 10 });
    assert_eq!(
        app.focus,
        Focus::Schema,
        "a press on the border selects nothing"
    );
    app.update(Action::Drag { x: 49, y: 11 });
    assert_eq!(left(&app), 50);
    insta::assert_snapshot!(screen(&app));
    // Widest: the editor and results keep their columns.
    app.update(Action::Drag { x: 99, y: 11 });
    assert_eq!(left(&app), 100 - tdb::tui::layout::RIGHT_MIN);
    // A click elsewhere ends the drag: moving on does not resize.
    app.update(Action::Click { x: 80, y: 3 });
    app.update(Action::Drag { x: 30, y: 3 });
    assert_eq!(left(&app), 100 - tdb::tui::layout::RIGHT_MIN);
    assert_eq!(app.focus, Focus::Editor);
}

#[test]
fn long_names_scroll_sideways_instead_of_being_cut() {
    let mut app = warehouse(100, 24);
    app.update(Action::Move {
        motion: Motion::Bottom,
    });
    let before = screen(&app);
    assert!(before.contains("▸ shipment_tracking_ev…"));
    assert!(!before.contains("very_long_name"));
    for _ in 0..8 {
        press(&mut app, "shift-right");
    }
    let after = screen(&app);
    assert!(
        after.contains("_with_a_very_long_name"),
        "the end of the name shows:\n{after}"
    );
    // Never past the widest line: the end of the longest name stays in the pane.
    assert_eq!(app.schema.hscroll, 25, "2 + 46 columns in a pane 23 wide");
    press(&mut app, "H");
    assert_eq!(app.schema.hscroll, 21);
    for _ in 0..10 {
        press(&mut app, "shift-left");
    }
    assert_eq!(app.schema.hscroll, 0);
    assert_eq!(screen(&app), before);
}

#[test]
fn n_in_the_cell_detail_steps_to_the_lines_of_the_filter() {
    let (mut app, _, _) = loaded(
        60,
        20,
        vec![common::tui::csv_record("c1", "notes", &[], Status::Active)],
    );
    let reqs = app.update(Action::RunQuery);
    let id = reqs
        .iter()
        .find_map(|r| match r {
            Request::Query { id, .. } => Some(*id),
            _ => None,
        })
        .expect("a query");
    let text: String = (1..=40)
        .map(|i| {
            if i % 15 == 0 {
                format!("line {i}: the Needle is here\n")
            } else {
                format!("line {i}\n")
            }
        })
        .collect();
    app.on_response(Response::QueryDone {
        id,
        result: Ok(QueryOutcome {
            source_id: "c1".into(),
            source_name: "notes".into(),
            sql: String::new(),
            executed_sql: String::new(),
            result: ResultSet {
                columns: vec![Column {
                    name: "body".into(),
                    type_name: "text".into(),
                }],
                rows: vec![vec![Value::Text(text)]],
                truncated: false,
            },
            duration: Duration::from_millis(3),
            executed_at: "2026-05-22T09:15:00Z".into(),
        }),
    });
    while app.focus != Focus::Results {
        app.update(Action::FocusNext);
    }
    press(&mut app, "/");
    type_text(&mut app, "body:needle");
    press(&mut app, "enter");
    press(&mut app, "enter"); // open the cell
    let scroll = |app: &AppState| match &app.overlay {
        Some(Overlay::Detail(d)) => (d.scroll, d.found, d.search.clone()),
        _ => panic!("the cell detail is open"),
    };
    assert_eq!(scroll(&app), (0, None, "needle".into()));
    press(&mut app, "n");
    assert_eq!(scroll(&app).0, 14, "line 15 on top");
    insta::assert_snapshot!(screen(&app));
    press(&mut app, "n");
    // Line 30 is as high as scrolling goes: 41 lines (the last empty), 14 shown.
    assert_eq!(scroll(&app).0, 27);
    assert_eq!(scroll(&app).1, Some(29));
    assert!(screen(&app).contains("line 30: the Needle is here"));
    press(&mut app, "n");
    assert_eq!(scroll(&app).0, 14, "wraps to the first");
    press(&mut app, "N");
    assert_eq!(scroll(&app).1, Some(29));
}
