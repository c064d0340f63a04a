//! Every pane and state of the terminal UI, drawn on ratatui's `TestBackend` and compared
//! with insta snapshots (`tests/snapshots/`). States are built the way the running app
//! builds them: actions in, backend responses in.

mod common;

use std::time::{Duration, Instant};

use common::tui::{app, buffer, csv_record, key, loaded, mariadb_record, pg_record, screen};
use ratatui::style::Modifier;
use tdb::backend::engine::QueryOutcome;
use tdb::backend::protocol::{Request, RequestId, Response};
use tdb::clipboard::{Copied, Via};
use tdb::core::Error;
use tdb::core::export::Format;
use tdb::core::progress::Progress;
use tdb::core::schema::{ColumnInfo, SchemaInfo, TableAbout, TableInfo};
use tdb::core::source::{SourceRecord, Status};
use tdb::core::value::{Column, ResultSet, Value};
use tdb::tui::action::{Action, CopyTarget, Motion};
use tdb::tui::app::{AppState, MessageKind, Overlay};
use tdb::tui::panes::Focus;
use tdb::tui::panes::grid::SortDir;
use tdb::tui::panes::results::ResultsView;

fn sources() -> Vec<SourceRecord> {
    vec![
        csv_record("c1", "orders", &["demo", "finance"], Status::Active),
        pg_record("p1", "warehouse", None, Status::Failed),
        csv_record("c2", "events", &["web"], Status::Active),
    ]
}

fn schema_request(reqs: &[Request]) -> (RequestId, String) {
    reqs.iter()
        .find_map(|r| match r {
            Request::Schema { id, source_id } => Some((*id, source_id.clone())),
            _ => None,
        })
        .expect("a schema request")
}

fn query_request(reqs: &[Request]) -> RequestId {
    reqs.iter()
        .find_map(|r| match r {
            Request::Query { id, .. } => Some(*id),
            _ => None,
        })
        .expect("a query request")
}

fn col(name: &str, t: &str) -> ColumnInfo {
    ColumnInfo::new(name, t)
}

fn orders_schema() -> SchemaInfo {
    SchemaInfo {
        about: Default::default(),
        columns: vec![
            col("id", "INTEGER"),
            col("customer", "TEXT"),
            col("total", "REAL"),
            col("note", "TEXT"),
        ],
        tables: None,
    }
}

/// The demo-like app: sources loaded, the orders schema read.
fn with_schema(width: u16, height: u16) -> (AppState, Instant) {
    let (mut app, reqs, now) = loaded(width, height, sources());
    let (id, source_id) = schema_request(&reqs);
    app.on_response(Response::Schema {
        id,
        source_id,
        result: Ok(orders_schema()),
    });
    (app, now)
}

fn c(name: &str, t: &str) -> Column {
    Column {
        name: name.into(),
        type_name: t.into(),
    }
}

/// 150 rows of orders with everything a grid must handle.
fn orders_result(rows: usize) -> ResultSet {
    let notes = [
        Value::Text("fragile — handle with care".into()),
        Value::Text(String::new()),
        Value::Null,
        Value::Text("line one\nline two\r\nline three".into()),
        Value::Text("x".repeat(80)),
        Value::Text("山田 太郎 🎉".into()),
    ];
    ResultSet {
        columns: vec![
            c("id", "int8"),
            c("customer", "text"),
            c("total", "numeric"),
            c("note", "text"),
            c("paid", "bool"),
        ],
        rows: (0..rows)
            .map(|i| {
                vec![
                    Value::Int(i as i64 + 1),
                    Value::Text(format!("customer {}", i % 7)),
                    if i % 5 == 4 {
                        Value::Null
                    } else {
                        Value::Numeric(format!("{}.{:02}", (i * 37) % 1000, i % 100))
                    },
                    notes[i % notes.len()].clone(),
                    Value::Bool(i % 2 == 0),
                ]
            })
            .collect(),
        truncated: true,
    }
}

fn outcome(result: ResultSet) -> QueryOutcome {
    QueryOutcome {
        source_id: "c1".into(),
        source_name: "orders".into(),
        sql: "SELECT * FROM data".into(),
        executed_sql: "SELECT * FROM data LIMIT 101".into(),
        result,
        duration: Duration::from_millis(12),
        executed_at: "2026-05-22T09:15:00Z".into(),
    }
}

/// The app with a finished query showing `result`.
fn with_result(width: u16, height: u16, result: ResultSet) -> AppState {
    let (mut app, _) = with_schema(width, height);
    let reqs = app.update(Action::RunQuery);
    let id = query_request(&reqs);
    app.on_response(Response::QueryDone {
        id,
        result: Ok(outcome(result)),
    });
    app
}

#[test]
fn welcome_on_an_empty_registry() {
    let (app, reqs, _) = loaded(100, 30, vec![]);
    assert!(reqs.is_empty(), "no source, nothing to load");
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn loading_before_the_source_list_arrives() {
    let (app, _) = app(80, 20, Instant::now());
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn sources_schema_and_editor_at_start() {
    let (app, _) = with_schema(100, 30);
    assert_eq!(
        app.focus,
        Focus::Editor,
        "the editor has the focus at start"
    );
    assert_eq!(app.sources.selected().unwrap().name, "orders");
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn schema_loading_shows_import_progress() {
    let (mut app, reqs, _) = loaded(100, 20, sources());
    let (id, _) = schema_request(&reqs);
    app.on_response(Response::Progress {
        id,
        progress: Progress {
            rows: 2300,
            bytes: 45,
            total_bytes: 100,
            done: false,
        },
    });
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn esc_stops_an_import_under_way_and_the_pane_says_so() {
    let (mut app, reqs, _) = loaded(100, 20, sources());
    let (id, source) = schema_request(&reqs);
    // Before any progress arrives nothing is importing yet: Esc leaves the read alone.
    assert!(app.update(Action::CancelQuery).is_empty());
    app.on_response(Response::Progress {
        id,
        progress: Progress {
            rows: 2300,
            bytes: 45,
            total_bytes: 100,
            done: false,
        },
    });
    let reqs = app.update(Action::CancelQuery);
    assert_eq!(reqs, vec![Request::Cancel { id }]);
    let s = screen(&app);
    assert!(s.contains("import cancelled"), "{s}");
    assert!(
        !app.schema.needs_load(&source),
        "not started again by itself"
    );
    // The cancelled read's answer, when it comes, changes nothing.
    app.on_response(Response::Schema {
        id,
        source_id: source.clone(),
        result: Err(tdb::core::Error::Cancelled),
    });
    assert!(screen(&app).contains("import cancelled"));
}

#[test]
fn running_query_shows_a_spinner_and_elapsed_time() {
    let (mut app, now) = with_schema(100, 24);
    app.update(Action::RunQuery);
    app.update(Action::Tick {
        now: now + Duration::from_millis(1250),
    });
    assert!(app.animating());
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn result_grid_with_truncation_nulls_and_cut_cells() {
    let app = with_result(120, 30, orders_result(100));
    let ResultsView::Done(g) = &app.results else {
        panic!("a grid");
    };
    assert_eq!(
        (g.row, g.col),
        (0, 0),
        "the cursor starts on the first cell"
    );
    assert_eq!(
        app.focus,
        Focus::Editor,
        "running leaves the focus where it was"
    );
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn null_is_dim_and_empty_is_nothing() {
    let app = with_result(120, 30, orders_result(100));
    let buf = buffer(&app);
    let area = buf.area;
    let at = |x: u16, y: u16| buf[(x, y)].symbol().to_string();
    let (x, y) = (0..area.height)
        .flat_map(|y| (0..area.width - 3).map(move |x| (x, y)))
        .find(|&(x, y)| (0..4).map(|i| at(x + i, y)).collect::<String>() == "NULL")
        .expect("a NULL on screen");
    let cell = &buf[(x, y)];
    assert!(
        cell.modifier.contains(Modifier::ITALIC) && cell.fg == app.theme.null.fg.unwrap(),
        "NULL is drawn dim and italic"
    );
}

#[test]
fn grid_scrolls_to_follow_the_cursor() {
    let mut app = with_result(80, 20, orders_result(100));
    app.update(Action::FocusNext); // editor -> results
    assert_eq!(app.focus, Focus::Results);
    for _ in 0..4 {
        app.update(Action::Move {
            motion: Motion::Right,
        });
    }
    for _ in 0..30 {
        app.update(Action::Move {
            motion: Motion::Down,
        });
    }
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn cell_detail_shows_the_whole_value_wrapped() {
    let mut app = with_result(80, 24, orders_result(10));
    app.update(Action::FocusNext);
    for _ in 0..3 {
        app.update(Action::Move {
            motion: Motion::Right,
        });
        app.update(Action::Move {
            motion: Motion::Down,
        });
    }
    app.update(Action::OpenCell);
    assert!(matches!(app.overlay, Some(Overlay::Detail(_))));
    insta::assert_snapshot!(screen(&app));
    app.update(Action::CloseOverlay);
    assert!(app.overlay.is_none());
}

#[test]
fn rejected_sql_reads_as_a_message() {
    let (mut app, _) = with_schema(100, 24);
    let id = query_request(&app.update(Action::RunQuery));
    app.on_response(Response::QueryDone {
        id,
        result: Err(Error::rejected("Only SELECT statements are allowed")),
    });
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn unreachable_source_reads_as_a_message() {
    let (mut app, _) = with_schema(100, 24);
    let id = query_request(&app.update(Action::RunQuery));
    app.on_response(Response::QueryDone {
        id,
        result: Err(Error::Unreachable(
            "cannot connect to db.internal:5432: connection refused\n\x1b[2Jis the server running?"
                .into(),
        )),
    });
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn cancel_drops_the_late_reply() {
    let (mut app, _) = with_schema(100, 24);
    let id = query_request(&app.update(Action::RunQuery));
    let reqs = app.update(Action::CancelQuery);
    assert_eq!(reqs, vec![Request::Cancel { id }]);
    insta::assert_snapshot!(screen(&app));
    app.on_response(Response::QueryDone {
        id,
        result: Ok(outcome(orders_result(3))),
    });
    assert!(
        matches!(app.results, ResultsView::Cancelled { .. }),
        "a reply to a cancelled query is dropped"
    );
}

#[test]
fn a_new_query_replaces_and_cancels_the_running_one() {
    let (mut app, _) = with_schema(100, 24);
    let first = query_request(&app.update(Action::RunQuery));
    let reqs = app.update(Action::RunQuery);
    assert_eq!(reqs[0], Request::Cancel { id: first });
    let second = query_request(&reqs);
    app.on_response(Response::QueryDone {
        id: first,
        result: Ok(outcome(orders_result(1))),
    });
    assert!(matches!(app.results, ResultsView::Running { .. }), "stale");
    app.on_response(Response::QueryDone {
        id: second,
        result: Ok(outcome(orders_result(2))),
    });
    let ResultsView::Done(g) = &app.results else {
        panic!("the second query's rows");
    };
    assert_eq!(g.grid.rows(), 2);
}

#[test]
fn help_lists_every_key() {
    let (mut app, _) = with_schema(100, 100);
    app.update(Action::OpenHelp);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn too_small_terminal_says_so() {
    let (app, _) = with_schema(50, 12);
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn whole_database_tree_expands_and_inserts_quoted_names() {
    let records = vec![pg_record("p1", "warehouse", None, Status::Active)];
    let (mut app, reqs, _) = loaded(100, 30, records);
    let (id, source_id) = schema_request(&reqs);
    let table = |schema: &str, name: &str, kind: &str, cols: Vec<ColumnInfo>| TableInfo {
        about: Default::default(),
        schema: schema.into(),
        name: name.into(),
        kind: kind.into(),
        columns: cols,
    };
    app.on_response(Response::Schema {
        id,
        source_id,
        result: Ok(SchemaInfo {
            about: Default::default(),
            columns: vec![],
            tables: Some(vec![
                table(
                    "public",
                    "orders",
                    "table",
                    vec![col("id", "int4"), col("Order Date", "date")],
                ),
                table("public", "paid_orders", "view", vec![col("id", "int4")]),
                table("Sales", "Order Items", "table", vec![col("select", "text")]),
            ]),
        }),
    });
    app.update(Action::FocusPrev); // editor -> schema
    app.update(Action::Expand);
    app.update(Action::Move {
        motion: Motion::Down,
    });
    app.update(Action::Move {
        motion: Motion::Down,
    });
    app.update(Action::InsertName);
    insta::assert_snapshot!(screen(&app));
    assert!(
        app.editor
            .text(Some("p1"))
            .ends_with("ORDER BY 1, 2 \"Order Date\"")
    );
    // A table in another schema is inserted qualified.
    app.update(Action::Collapse);
    app.update(Action::Move {
        motion: Motion::End,
    });
    app.update(Action::InsertName);
    assert!(
        app.editor
            .text(Some("p1"))
            .ends_with(" \"Sales\".\"Order Items\"")
    );
}

/// What an engine says of its tables (ClickHouse: engine and keys) stands beside each
/// table, dim, in place of its kind.
#[test]
fn the_schema_pane_names_each_tables_engine_and_keys() {
    let records = vec![pg_record("p1", "warehouse", None, Status::Active)];
    let (mut app, reqs, _) = loaded(100, 30, records);
    let (id, source_id) = schema_request(&reqs);
    let about = |engine: &str, key: Option<&str>| TableAbout {
        engine: Some(engine.into()),
        sorting_key: key.map(Into::into),
        ..Default::default()
    };
    app.on_response(Response::Schema {
        id,
        source_id,
        result: Ok(SchemaInfo {
            about: Default::default(),
            columns: vec![],
            tables: Some(vec![
                TableInfo {
                    schema: "public".into(),
                    name: "hits".into(),
                    kind: "table".into(),
                    columns: vec![col("id", "UInt64")],
                    about: about("ReplacingMergeTree", Some("id, ts")),
                },
                TableInfo {
                    schema: "public".into(),
                    name: "recent".into(),
                    kind: "view".into(),
                    columns: vec![col("id", "UInt64")],
                    about: about("View", None),
                },
            ]),
        }),
    });
    let shown = screen(&app);
    let line = |name: &str| {
        shown
            .lines()
            .find(|l| l.contains(name))
            .map(|l| l.split('│').nth(1).unwrap_or("").trim_end().to_string())
            .unwrap_or_else(|| panic!("{shown}"))
    };
    // Cut at the pane's edge like any long line.
    assert_eq!(line("hits"), "▸ hits ReplacingMergeT…");
    assert_eq!(line("recent"), "▸ recent View");
}

#[test]
fn a_mariadb_database_inserts_names_in_backticks() {
    let records = vec![mariadb_record("m1", "shop", None, Status::Active)];
    let (mut app, reqs, _) = loaded(100, 30, records);
    assert!(
        app.editor
            .text(Some("m1"))
            .contains("table_schema = DATABASE()"),
        "MySQL's starter SQL"
    );
    let (id, source_id) = schema_request(&reqs);
    let table = |name: &str, kind: &str, cols: Vec<ColumnInfo>| TableInfo {
        about: Default::default(),
        schema: "shop".into(),
        name: name.into(),
        kind: kind.into(),
        columns: cols,
    };
    app.on_response(Response::Schema {
        id,
        source_id,
        result: Ok(SchemaInfo {
            about: Default::default(),
            columns: vec![],
            tables: Some(vec![
                table(
                    "Order Items",
                    "table",
                    vec![
                        col("id", "bigint(20) unsigned"),
                        col("Unit Price", "decimal(12,2)"),
                    ],
                ),
                table("customers", "table", vec![col("id", "int(11)")]),
                table("paid", "view", vec![col("id", "int(11)")]),
            ]),
        }),
    });
    app.update(Action::FocusPrev); // editor -> schema
    app.update(Action::Expand);
    app.update(Action::Move {
        motion: Motion::Down,
    });
    app.update(Action::Move {
        motion: Motion::Down,
    });
    app.update(Action::InsertName);
    insta::assert_snapshot!(screen(&app));
    assert!(app.editor.text(Some("m1")).ends_with(" `Unit Price`"));
    for _ in 0..2 {
        app.update(Action::Move { motion: Motion::Up });
    }
    app.update(Action::InsertName);
    let text = app.editor.text(Some("m1"));
    assert!(text.ends_with(" `Order Items`"), "{text}");
}

#[test]
fn schema_columns_show_keys_constraints_and_comments() {
    let records = vec![pg_record("p1", "warehouse", Some("orders"), Status::Active)];
    let (mut app, reqs, _) = loaded(120, 24, records);
    let (id, source_id) = schema_request(&reqs);
    let mut id_col = col("id", "integer");
    id_col.primary_key = true;
    id_col.not_null = true;
    let mut customer = col("customer_id", "bigint");
    customer.not_null = true;
    customer.references = Some("public.customers(id)".into());
    let mut total = col("total", "numeric(20,10)");
    total.comment = Some("in cents\nnever negative".into());
    app.on_response(Response::Schema {
        id,
        source_id,
        result: Ok(SchemaInfo {
            about: Default::default(),
            columns: vec![id_col, customer, total],
            tables: None,
        }),
    });
    let shown = screen(&app);
    let lines: Vec<&str> = shown.lines().collect();
    let has = |want: &str| lines.iter().any(|l| l.contains(want));
    assert!(has("\"│   id integer PK            │"), "{shown}");
    assert!(has("\"│   customer_id bigint not n…│"), "{shown}");
    assert!(has("\"│   total numeric(20,10) — i…│"), "{shown}");
    // What the narrow pane cuts is all there.
    let tree = app
        .schema
        .get("p1")
        .and_then(|e| e.tree.as_ref())
        .expect("a tree");
    let cols = &tree.tables[0].columns;
    assert_eq!(cols[1].marks, "not null → public.customers(id)");
    assert_eq!(cols[2].comment.as_deref(), Some("in cents↵never negative"));
    // PostgreSQL's own SQL: no SQLite note in the title.
    assert!(!shown.contains("SQLite SQL"), "{shown}");
}

#[test]
fn hostile_text_is_shown_visibly() {
    let hostile = "x\u{1b}]0;pwned\u{7}y\u{1b}[2J\rz\u{202E}gnp.exe";
    let records = vec![csv_record("h1", hostile, &[hostile], Status::Active)];
    let (mut app, reqs, _) = loaded(120, 24, records);
    let (id, source_id) = schema_request(&reqs);
    app.on_response(Response::Schema {
        id,
        source_id,
        result: Ok(SchemaInfo {
            about: Default::default(),
            columns: vec![col(hostile, "TEXT")],
            tables: None,
        }),
    });
    let id = query_request(&app.update(Action::RunQuery));
    app.on_response(Response::QueryDone {
        id,
        result: Ok(outcome(ResultSet {
            columns: vec![c(hostile, "text")],
            rows: vec![vec![Value::Text(hostile.into())]],
            truncated: false,
        })),
    });
    let text = screen(&app);
    assert!(!text.contains('\u{1b}') && !text.contains('\r') && !text.contains('\u{202E}'));
    assert!(text.contains("x␛]0;pwned\\x07y␛[2J␍z<U+202E>gnp.exe"));
    insta::assert_snapshot!(text);
}

#[test]
fn status_marks_and_test_results() {
    let (mut app, _) = with_schema(100, 24);
    app.update(Action::FocusPrev);
    app.update(Action::FocusPrev); // editor -> schema -> sources
    let reqs = app.update(Action::TestSource);
    let Request::Test { id, source_id } = reqs[0].clone() else {
        panic!("a test request");
    };
    assert!(app.animating(), "a test in progress turns the spinner");
    app.on_response(Response::Tested {
        id,
        source_id,
        result: Ok((Duration::from_millis(3), Vec::new())),
    });
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn a_test_that_warns_shows_the_warning_in_the_status_bar() {
    let (mut app, _) = with_schema(140, 24);
    app.update(Action::FocusPrev);
    app.update(Action::FocusPrev);
    let reqs = app.update(Action::TestSource);
    let Request::Test { id, source_id } = reqs[0].clone() else {
        panic!("a test request");
    };
    app.on_response(Response::Tested {
        id,
        source_id,
        result: Ok((
            Duration::from_millis(3),
            vec!["role \"su\" is a superuser; connect as a reader".into()],
        )),
    });
    let shown = screen(&app);
    let status = shown.lines().last().unwrap_or_default();
    assert!(
        status.contains("reachable · 3 ms · role \"su\" is a superuser"),
        "{shown}"
    );
}

#[test]
fn copy_keys_send_tsv_and_report_how_it_went() {
    let mut app = with_result(120, 30, orders_result(3));
    app.update(Action::FocusNext);
    app.update(Action::Move {
        motion: Motion::Right,
    });
    let reqs = app.update(Action::Copy {
        target: CopyTarget::Cell,
    });
    let [Request::Copy { id, text, what }] = reqs.as_slice() else {
        panic!("one copy request, got {reqs:?}");
    };
    assert_eq!((text.as_str(), what.as_str()), ("customer 0", "cell"));
    let reqs = app.update(Action::Copy {
        target: CopyTarget::Row,
    });
    let [Request::Copy { text, .. }] = reqs.as_slice() else {
        panic!("one copy request");
    };
    assert_eq!(
        text,
        "id\tcustomer\ttotal\tnote\tpaid\n1\tcustomer 0\t0.00\tfragile — handle with care\ttrue\n"
    );
    let osc = b"\x1b]52;c;Y3VzdG9tZXIgMA==\x07".to_vec();
    app.on_response(Response::Copied {
        id: *id,
        what: "cell".into(),
        result: Ok(Copied {
            via: Via::Osc52,
            bytes: 10,
            warning: None,
            terminal_write: Some(osc.clone()),
        }),
    });
    assert_eq!(app.take_terminal_write(), Some(osc), "the loop writes it");
    assert_eq!(app.take_terminal_write(), None, "once");
    let text = screen(&app);
    let status = text.lines().last().unwrap();
    assert!(
        status.contains("copied cell · 10 B · via OSC 52"),
        "{status}"
    );

    let (mut idle, _) = with_schema(100, 24);
    assert!(
        idle.update(Action::Copy {
            target: CopyTarget::All
        })
        .is_empty()
    );
    assert!(screen(&idle).contains("nothing to copy: run a query first"));
}

#[test]
fn detail_scrolls_and_stops_at_the_end() {
    let long: String = (1..=100).map(|i| format!("line {i}\n")).collect();
    let result = ResultSet {
        columns: vec![c("doc", "text")],
        rows: vec![vec![Value::Text(long)]],
        truncated: false,
    };
    let mut app = with_result(80, 24, result);
    app.update(Action::FocusNext);
    app.update(Action::OpenCell);
    for _ in 0..20 {
        app.update(Action::Move {
            motion: Motion::PageDown,
        });
    }
    let Some(Overlay::Detail(d)) = &app.overlay else {
        panic!("the detail");
    };
    // 101 rows (the value ends with a newline) in a box of 19 - 2 rows.
    assert_eq!(d.scroll, 101 - 17);
    let text = screen(&app);
    assert!(text.contains("line 100"), "{text}");
    app.update(Action::Move {
        motion: Motion::Home,
    });
    assert!(screen(&app).contains("line 1 "));
}

#[test]
fn the_limit_steps_and_shows_beside_the_editor() {
    let (mut app, _) = with_schema(100, 24);
    for _ in 0..10 {
        app.update(Action::LimitUp);
    }
    assert_eq!(app.editor.limit, 1000);
    assert!(screen(&app).contains(" limit 1000 "));
    app.update(Action::LimitDown);
    assert_eq!(app.editor.limit, 500);
    let reqs = app.update(Action::RunQuery);
    assert!(matches!(reqs[0], Request::Query { limit: 500, .. }));
    for _ in 0..10 {
        app.update(Action::LimitDown);
    }
    assert_eq!(app.editor.limit, 1);
}

/// The requests an action produced, which must be exactly one copy; its text and name.
fn one_copy(reqs: Vec<Request>) -> (RequestId, String, String) {
    match reqs.as_slice() {
        [Request::Copy { id, text, what }] => (*id, text.clone(), what.clone()),
        other => panic!("one copy request, got {other:?}"),
    }
}

fn status_line(app: &AppState) -> String {
    screen(app).lines().last().unwrap().to_string()
}

#[test]
fn the_copy_menu_picks_the_format_for_the_session() {
    let mut app = with_result(100, 30, orders_result(3));
    app.update(Action::FocusNext);
    app.update(Action::CopyMenu);
    assert!(matches!(app.overlay, Some(Overlay::CopyMenu(_))));
    app.update(Action::Move {
        motion: Motion::Down,
    });
    insta::assert_snapshot!(screen(&app));
    app.update(Action::Confirm);
    assert!(app.overlay.is_none());
    assert_eq!(app.copying.format, Format::Csv);
    assert!(status_line(&app).contains("copies are CSV now"));

    // Every copy now renders CSV and says so; the pane's edge tells the format.
    let (_, text, what) = one_copy(app.update(Action::Copy {
        target: CopyTarget::Row,
    }));
    assert_eq!(
        text,
        "id,customer,total,note,paid\n1,customer 0,0.00,fragile — handle with care,true\n"
    );
    assert_eq!(what, "row as CSV");
    assert!(screen(&app).contains("copies CSV"));

    // The menu opens on the current format; Markdown and the IN list are there too.
    app.update(Action::CopyMenu);
    for _ in 0..3 {
        app.update(Action::Move {
            motion: Motion::Down,
        });
    }
    app.update(Action::Confirm);
    assert_eq!(app.copying.format, Format::Markdown);
    let (_, text, _) = one_copy(app.update(Action::Copy {
        target: CopyTarget::Column,
    }));
    assert_eq!(text, "| id |\n| ---: |\n| 1 |\n| 2 |\n| 3 |\n");
    app.update(Action::CopyMenu);
    app.update(Action::Move {
        motion: Motion::End,
    });
    app.update(Action::Confirm);
    assert_eq!(app.copying.format, Format::SqlInList);
    let (_, text, what) = one_copy(app.update(Action::Copy {
        target: CopyTarget::Column,
    }));
    assert_eq!(
        (text.as_str(), what.as_str()),
        ("(1, 2, 3)", "column id as SQL IN list")
    );

    // Esc leaves the format as it was.
    app.update(Action::CopyMenu);
    app.update(Action::Move {
        motion: Motion::Top,
    });
    app.update(Action::CloseOverlay);
    assert_eq!(app.copying.format, Format::SqlInList);
}

#[test]
fn copy_column_and_the_editor_sql() {
    let mut app = with_result(100, 30, orders_result(3));
    app.update(Action::FocusNext);
    app.update(Action::Move {
        motion: Motion::Right,
    });
    let (_, text, what) = one_copy(app.update(Action::Copy {
        target: CopyTarget::Column,
    }));
    assert_eq!(text, "customer\ncustomer 0\ncustomer 1\ncustomer 2\n");
    assert_eq!(what, "column customer");
    let (_, text, what) = one_copy(app.update(Action::Copy {
        target: CopyTarget::Sql,
    }));
    assert_eq!(
        (text.as_str(), what.as_str()),
        ("SELECT * FROM data", "SQL")
    );
    // The SQL copies with no result at all.
    let (mut idle, _) = with_schema(100, 24);
    let (_, text, _) = one_copy(idle.update(Action::Copy {
        target: CopyTarget::Sql,
    }));
    assert_eq!(text, "SELECT * FROM data");
}

#[test]
fn a_copy_warning_is_shown_not_swallowed() {
    let mut app = with_result(120, 30, orders_result(3));
    let (id, _, _) = one_copy(app.update(Action::Copy {
        target: CopyTarget::All,
    }));
    app.on_response(Response::Copied {
        id,
        what: "3 rows".into(),
        result: Ok(Copied {
            via: Via::Tmux,
            bytes: 200_000,
            warning: Some("195.3 KB may be too large for the terminal's clipboard".into()),
            terminal_write: None,
        }),
    });
    let status = status_line(&app);
    assert!(
        status.contains("copied 3 rows · 195 KB · via tmux buffer · 195.3 KB may be too large"),
        "{status}"
    );
    let m = app.message.clone().unwrap();
    assert_eq!(m.kind, MessageKind::Warning);
    let buf = buffer(&app);
    let y = buf.area.height - 1;
    let x = (0..buf.area.width)
        .find(|&x| buf[(x, y)].symbol() == "c" && buf[(x + 1, y)].symbol() == "o")
        .unwrap();
    assert_eq!(buf[(x, y)].fg, app.theme.warning.fg.unwrap());
}

/// The one export request among `reqs`.
fn export_request(reqs: &[Request]) -> (RequestId, String, Format, bool, usize) {
    match reqs {
        [
            Request::Export {
                id,
                result,
                path,
                format,
                overwrite,
            },
        ] => (
            *id,
            path.display().to_string(),
            *format,
            *overwrite,
            result.rows.len(),
        ),
        other => panic!("one export request, got {other:?}"),
    }
}

fn typed(app: &mut AppState, s: &str) {
    for c in s.chars() {
        app.update(Action::EditorInput {
            input: ratatui_textarea::Input {
                key: ratatui_textarea::Key::Char(c),
                ..Default::default()
            },
        });
    }
}

#[test]
fn export_prompts_for_a_name_and_asks_before_replacing() {
    let mut app = with_result(100, 30, orders_result(3));
    app.update(Action::FocusNext);
    app.update(Action::Export);
    let Some(Overlay::Export(p)) = &app.overlay else {
        panic!("the export prompt");
    };
    assert_eq!(p.input.text(), "orders.csv", "the source's name, CSV");
    insta::assert_snapshot!("export_prompt", screen(&app));

    // Typing edits the name (keys bound in the results, like `y`, are typed here); Tab
    // steps the format and its extension.
    for _ in 0..4 {
        app.update(Action::EditorInput {
            input: ratatui_textarea::Input {
                key: ratatui_textarea::Key::Backspace,
                ..Default::default()
            },
        });
    }
    typed(&mut app, "-y.json");
    app.update(Action::NextFormat);
    let Some(Overlay::Export(p)) = &app.overlay else {
        panic!("the export prompt");
    };
    assert_eq!(
        (p.input.text(), p.format),
        ("orders-y.jsonl", Format::JsonLines)
    );
    let (id, path, format, overwrite, rows) = export_request(&app.update(Action::Confirm));
    assert_eq!(
        (path.as_str(), format, overwrite, rows),
        ("orders-y.jsonl", Format::JsonLines, false, 3)
    );
    assert!(
        app.overlay.is_none(),
        "the UI goes on while the file is written"
    );
    assert!(status_line(&app).contains("exporting to orders-y.jsonl…"));

    // The file exists: the backend says so and the prompt asks.
    app.on_response(Response::Exported {
        id,
        path: "/data/out/orders-y.jsonl".into(),
        rows: 3,
        result: Err(Error::Conflict("exists".into())),
    });
    insta::assert_snapshot!("export_asks_before_replacing", screen(&app));
    typed(&mut app, "n");
    let Some(Overlay::Export(p)) = &app.overlay else {
        panic!("back to the name");
    };
    assert_eq!(p.input.text(), "orders-y.jsonl");
    let (id, ..) = export_request(&app.update(Action::Confirm));
    app.on_response(Response::Exported {
        id,
        path: "/data/out/orders-y.jsonl".into(),
        rows: 3,
        result: Err(Error::Conflict("exists".into())),
    });
    typed(&mut app, "x");
    assert!(
        matches!(app.overlay, Some(Overlay::Export(_))),
        "only y or n answer"
    );
    let reqs = app.update(Action::EditorInput {
        input: ratatui_textarea::Input {
            key: ratatui_textarea::Key::Char('y'),
            ..Default::default()
        },
    });
    let (id, _, _, overwrite, _) = export_request(&reqs);
    assert!(overwrite);
    app.on_response(Response::Exported {
        id,
        path: "/data/out/orders-y.jsonl".into(),
        rows: 3,
        result: Ok(12_600),
    });
    assert!(
        status_line(&app).contains("exported 3 rows · 12.3 KB · /data/out/orders-y.jsonl"),
        "{}",
        status_line(&app)
    );

    // The next export offers the last name; an error is reported exactly.
    app.update(Action::Export);
    let Some(Overlay::Export(p)) = &app.overlay else {
        panic!("the export prompt");
    };
    assert_eq!(p.input.text(), "orders-y.jsonl");
    let (id, ..) = export_request(&app.update(Action::Confirm));
    app.on_response(Response::Exported {
        id,
        path: "/nope/x.csv".into(),
        rows: 3,
        result: Err(Error::Invalid(
            "the folder /nope does not \u{1b}[2Jexist".into(),
        )),
    });
    let status = status_line(&app);
    assert!(
        status.contains("export failed: the folder /nope does not ␛[2Jexist"),
        "{status}"
    );

    // Without a result there is nothing to export; an empty name is refused.
    let (mut idle, _) = with_schema(100, 24);
    idle.update(Action::Export);
    assert!(idle.overlay.is_none());
    assert!(status_line(&idle).contains("nothing to export: run a query first"));
    app.update(Action::Export);
    app.update(Action::EditorInput {
        input: ratatui_textarea::Input {
            key: ratatui_textarea::Key::Char('u'),
            ctrl: true,
            ..Default::default()
        },
    });
    assert!(app.update(Action::Confirm).is_empty());
    assert!(status_line(&app).contains("give the file a name"));
}

#[test]
fn sorting_says_so_and_toggles() {
    let mut app = with_result(100, 24, orders_result(12));
    app.update(Action::FocusNext);
    app.update(Action::Move {
        motion: Motion::Right,
    });
    app.update(Action::Move {
        motion: Motion::Right,
    });
    app.update(Action::Sort);
    app.update(Action::Sort);
    insta::assert_snapshot!(screen(&app));
    let g = |app: &AppState| match &app.results {
        ResultsView::Done(g) => (0..g.grid.rows())
            .map(|r| g.grid.cell(r, 2).unwrap().text.to_string())
            .collect::<Vec<_>>(),
        _ => panic!("a grid"),
    };
    let totals = g(&app);
    assert_eq!(totals[0], "407.11", "largest first: {totals:?}");
    assert_eq!(&totals[10..], ["NULL", "NULL"], "NULLs last");
    app.update(Action::Sort);
    let text = screen(&app);
    assert!(!text.contains("sorted by"), "{text}");
    assert_eq!(g(&app)[0], "0.00", "as the rows came");
    app.update(Action::Sort);
    assert!(screen(&app).contains("sorted by total ↑ (shown rows only)"));
}

#[test]
fn jumps_to_the_first_and_last_row_and_column() {
    let mut app = with_result(100, 24, orders_result(50));
    app.update(Action::FocusNext);
    let at = |app: &AppState| match &app.results {
        ResultsView::Done(g) => (g.row, g.col),
        _ => panic!("a grid"),
    };
    let keys = app.keymap.clone();
    let key = |s: &str| {
        keys.lookup(app_ctx(), tdb::tui::keymap::Key::parse(s).unwrap())
            .unwrap()
    };
    app.update(key("G"));
    assert_eq!(at(&app), (49, 0));
    app.update(key("$"));
    assert_eq!(at(&app), (49, 4));
    assert!(screen(&app).contains(" row 50/50 · col 5/5 "));
    app.update(key("g"));
    assert_eq!(at(&app), (0, 4));
    app.update(key("ctrl-end"));
    assert_eq!(at(&app), (49, 4));
    app.update(key("0"));
    app.update(key("ctrl-home"));
    assert_eq!(at(&app), (0, 0));
}

fn app_ctx() -> tdb::tui::keymap::Context {
    tdb::tui::keymap::Context {
        focus: Focus::Results,
        overlay: None,
        running: false,
    }
}

#[test]
fn the_mouse_focuses_selects_sorts_and_scrolls() {
    use tdb::tui::layout::{areas, grid_cells, inner};
    let mut app = with_result(100, 30, orders_result(100));
    let a = areas(app.size, app.sources.items.len(), None).unwrap();
    let grid = |app: &AppState| match &app.results {
        ResultsView::Done(g) => (g.row, g.col, g.row_offset, g.grid.sort),
        _ => panic!("a grid"),
    };

    // A cell: the focus moves to the results and the cursor onto it.
    let cells = grid_cells(a.results);
    let cols = match &app.results {
        ResultsView::Done(g) => g.grid.layout_columns(0, cells.width as usize),
        _ => panic!("a grid"),
    };
    let (_, x1, _) = cols[1];
    app.update(Action::Click {
        x: cells.x + x1 as u16 + 2,
        y: cells.y + 3,
    });
    assert_eq!(app.focus, Focus::Results);
    assert_eq!(grid(&app), (3, 1, 0, None));

    // The wheel scrolls the grid under the pointer; the cursor stays in view.
    app.update(Action::Wheel {
        x: cells.x,
        y: cells.y,
        down: true,
    });
    assert_eq!(grid(&app), (3, 1, 3, None));
    app.update(Action::Wheel {
        x: cells.x,
        y: cells.y,
        down: true,
    });
    assert_eq!(grid(&app), (6, 1, 6, None), "the cursor is pushed along");
    app.update(Action::Wheel {
        x: cells.x,
        y: cells.y,
        down: false,
    });
    assert_eq!(grid(&app).2, 3);

    // A header sorts by its column.
    let (_, x2, _) = cols[2];
    app.update(Action::Click {
        x: cells.x + x2 as u16,
        y: cells.y - 1,
    });
    let (_, col, _, sort) = grid(&app);
    assert_eq!((col, sort), (2, Some((2, SortDir::Asc))));
    assert!(screen(&app).contains("sorted by total ↑ (shown rows only)"));

    // A source: focused and selected (its schema is asked for).
    let sources = inner(a.sources);
    let reqs = app.update(Action::Click {
        x: sources.x + 2,
        y: sources.y + 2,
    });
    assert_eq!(app.focus, Focus::Sources);
    assert_eq!(app.sources.selected().unwrap().name, "events");
    assert!(reqs.iter().any(|r| matches!(r, Request::Schema { .. })));
    // Below the last source nothing is selected, but the pane still takes the focus.
    app.update(Action::Click {
        x: sources.x + 2,
        y: sources.y + 5,
    });
    assert_eq!(app.sources.selected().unwrap().name, "events");

    // Back to orders; a schema line.
    app.update(Action::Click {
        x: sources.x + 2,
        y: sources.y,
    });
    let schema = inner(a.schema);
    app.update(Action::Click {
        x: schema.x + 4,
        y: schema.y + 2,
    });
    assert_eq!(app.focus, Focus::Schema);
    let tree = app.schema.get("c1").unwrap().tree.as_ref().unwrap();
    assert_eq!(tree.current_sql(), Some("customer"));

    // The editor takes the focus; the wheel over it leaves the focus alone.
    app.update(Action::Wheel {
        x: a.editor.x + 3,
        y: a.editor.y + 2,
        down: true,
    });
    assert_eq!(app.focus, Focus::Schema);
    app.update(Action::Click {
        x: a.editor.x + 3,
        y: a.editor.y + 2,
    });
    assert_eq!(app.focus, Focus::Editor);

    // An overlay: clicks do nothing behind it, the wheel scrolls it.
    app.update(Action::OpenHelp);
    app.update(Action::Click {
        x: sources.x + 2,
        y: sources.y + 1,
    });
    assert_eq!(app.focus, Focus::Editor);
    app.update(Action::Wheel {
        x: 50,
        y: 15,
        down: true,
    });
    assert!(matches!(app.overlay, Some(Overlay::Help { scroll: 3 })));
}

#[test]
fn no_color_draws_without_colours_and_a_bad_config_says_where() {
    use ratatui::style::Color;
    use tdb::tui::config::{Config, ConfigEnv};
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.toml");
    std::fs::write(
        &file,
        "[theme]\nkey = \"cyan\"\n\n[keys.results]\nq = \"fly\"\n",
    )
    .unwrap();
    let env = ConfigEnv {
        no_color: true,
        ..ConfigEnv::default()
    };
    let config = Config::load(Some(&file), &env).unwrap();
    let mut app = with_result(180, 24, orders_result(5));
    config.install(&mut app);
    let status = status_line(&app);
    assert!(
        status.contains("config.toml line 5, column 1: [keys.results] q: unknown action \"fly\""),
        "{status}"
    );
    let buf = buffer(&app);
    for cell in buf.content() {
        assert!(
            matches!(cell.fg, Color::Reset) && matches!(cell.bg, Color::Reset),
            "a colour at {cell:?}"
        );
    }
    // The focused pane and the cursor still stand out.
    app.update(Action::FocusNext);
    let buf = buffer(&app);
    let a = tdb::tui::layout::areas(app.size, 3, None).unwrap();
    assert!(
        buf[(a.results.x, a.results.y)]
            .modifier
            .contains(Modifier::BOLD)
    );
    assert!(
        !buf[(a.editor.x, a.editor.y)]
            .modifier
            .contains(Modifier::BOLD)
    );
    let cells = tdb::tui::layout::grid_cells(a.results);
    assert!(
        buf[(cells.x, cells.y)]
            .modifier
            .contains(Modifier::REVERSED)
    );
}

#[test]
fn a_narrow_grid_still_shows_the_position_and_the_sort() {
    let mut app = with_result(64, 20, orders_result(30));
    app.update(Action::FocusNext);
    app.update(Action::Move {
        motion: Motion::Bottom,
    });
    app.update(Action::Sort);
    let text = screen(&app);
    let lines: Vec<&str> = text.lines().collect();
    let bottom = lines[lines.len() - 2];
    assert!(
        bottom.contains("sorted by id ↑") && bottom.contains(" row 30/30 · col 1/5 "),
        "{text}"
    );
    insta::assert_snapshot!(text);
}

/// The cell (x, y) of the screen where `needle` starts.
fn find(buf: &ratatui::buffer::Buffer, needle: &str) -> (u16, u16) {
    let area = buf.area;
    for y in 0..area.height {
        let row: Vec<String> = (0..area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        for x in 0..row.len() {
            if row[x..].concat().starts_with(needle) {
                return (x as u16, y);
            }
        }
    }
    panic!("{needle:?} is not on the screen");
}

#[test]
fn an_engine_error_puts_the_cursor_on_its_place_and_marks_it_until_the_text_changes() {
    let (mut app, _) = with_schema(100, 24);
    let source = app.selected_id().map(String::from);
    app.editor
        .replace(source.as_deref(), "SELECT id,\n  nope\nFROM data");
    let id = query_request(&app.update(Action::RunQuery));
    app.on_response(Response::QueryDone {
        id,
        result: Err(Error::QueryFailedAt {
            detail: "column \"nope\" does not exist (SQLSTATE 42703, at line 2, column 3)".into(),
            at: tdb::core::splice::LineColumn { line: 2, column: 3 },
        }),
    });
    assert_eq!(app.editor.cursor(source.as_deref()), (1, 2));
    let buf = buffer(&app);
    let (x, y) = find(&buf, "nope");
    let marked = &buf[(x, y)];
    assert!(marked.modifier.contains(Modifier::UNDERLINED), "{marked:?}");
    assert_eq!(marked.fg, ratatui::style::Color::Red);
    // Only that cell: its neighbours are drawn as usual.
    assert!(!buf[(x + 1, y)].modifier.contains(Modifier::UNDERLINED));
    assert!(!buf[(x - 1, y)].modifier.contains(Modifier::UNDERLINED));
    assert!(screen(&app).contains("column \"nope\" does not exist"));

    // A moved cursor keeps the mark; typing removes it.
    app.update(key(ratatui_textarea::Key::Right));
    assert!(buffer(&app)[(x, y)].modifier.contains(Modifier::UNDERLINED));
    app.update(key(ratatui_textarea::Key::Char('x')));
    let buf = buffer(&app);
    let (x, y) = find(&buf, "nxope");
    for dx in 0..5 {
        assert!(!buf[(x + dx, y)].modifier.contains(Modifier::UNDERLINED));
    }
}

#[test]
fn growing_the_terminal_after_scrolling_fills_the_grid_again() {
    let mut app = with_result(60, 16, orders_result(150));
    app.update(Action::FocusNext);
    app.update(Action::Move {
        motion: Motion::End,
    });
    app.update(Action::Move {
        motion: Motion::Bottom,
    });
    app.update(Action::Sort);
    let before = match &app.results {
        ResultsView::Done(g) => (g.row_offset, g.col_offset, g.row),
        _ => panic!("a grid"),
    };
    assert!(before.0 > 0 && before.1 > 0, "scrolled: {before:?}");
    app.update(Action::Resize {
        width: 250,
        height: 70,
    });
    let s = screen(&app);
    let lines: Vec<&str> = s.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.contains(" id ") && l.contains("customer"))
        .unwrap_or_else(|| panic!("the first columns show again:\n{s}"));
    // Every row of the grid holds a row of the result down to the pane's bottom edge.
    let bottom = lines[header + 1..]
        .iter()
        .position(|l| l.contains("└"))
        .map(|i| header + 1 + i)
        .unwrap_or(lines.len());
    for l in &lines[header + 1..bottom] {
        assert!(l.contains("customer "), "an empty grid row:\n{s}");
    }
    let ResultsView::Done(g) = &app.results else {
        panic!("a grid")
    };
    assert_eq!(g.col_offset, 0);
    assert_eq!(g.row, before.2, "the cursor stays on its row");
}

#[test]
fn a_popup_over_wide_characters_keeps_its_left_border() {
    // Wide characters at every parity, so one is cut by the popup's left edge on some row.
    let wide = "山田".repeat(40);
    let result = ResultSet {
        columns: vec![c("name", "text")],
        rows: (0..60)
            .map(|i| vec![Value::Text(format!("{}{wide}", " ".repeat(i % 2)))])
            .collect(),
        truncated: false,
    };
    let mut app = with_result(106, 60, result);
    app.update(Action::FocusNext);
    app.update(Action::CopyMenu);
    let buf = buffer(&app);
    let (x, y) = find(&buf, "┌ Copy");
    let mut checked = 0;
    for row in y + 1..buf.area.height {
        if buf[(x, row)].symbol() != "│" && buf[(x, row)].symbol() != "└" {
            break;
        }
        let left = buf[(x - 1, row)].symbol();
        assert!(
            unicode_width::UnicodeWidthStr::width(left) <= 1,
            "row {row}: {left:?} would be drawn over the border"
        );
        checked += 1;
    }
    assert!(checked > 3, "the popup's rows:\n{}", screen(&app));
    insta::assert_snapshot!(screen(&app));
}

#[test]
fn the_schema_pane_jumps_to_the_top_and_the_bottom() {
    let (mut app, _) = with_schema(100, 24);
    app.update(Action::FocusPrev); // editor -> schema
    assert_eq!(app.focus, Focus::Schema);
    let cursor = |app: &AppState| {
        let id = app.selected_id().unwrap();
        let tree = app.schema.get(id).unwrap().tree.as_ref().unwrap();
        (tree.cursor, tree.rows().len())
    };
    let press = |app: &mut AppState, k: &str| {
        let action = app
            .keymap
            .lookup(app.key_context(), tdb::tui::keymap::Key::parse(k).unwrap())
            .unwrap_or_else(|| panic!("{k} is bound in the schema pane"));
        app.update(action);
    };
    let (_, rows) = cursor(&app);
    assert!(rows > 2, "the table and its columns");
    press(&mut app, "G");
    assert_eq!(cursor(&app).0, rows - 1);
    press(&mut app, "g");
    assert_eq!(cursor(&app).0, 0);
    press(&mut app, "end");
    assert_eq!(cursor(&app).0, rows - 1);
    press(&mut app, "home");
    assert_eq!(cursor(&app).0, 0);
}
