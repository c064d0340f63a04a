//! The terminal UI driven headless through actions, against the real backend and a
//! throwaway PostgreSQL cluster: what a person's keys do, checked on the grid's content.

mod common;

use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use common::pg;
use common::tui::Harness;
use serde_json::json;
use tdb::core::export::Format;
use tdb::core::source::{RegisterRequest, Status};
use tdb::home::Home;
use tdb::registry::Registry;
use tdb::tui::action::{Action, CopyTarget, Motion};
use tdb::tui::panes::Focus;
use tdb::tui::panes::grid::CellKind;
use tdb::tui::panes::results::ResultsView;

struct Fixture {
    db: String,
}

/// One database for the binary: `orders` (250 rows, unicode, NULLs, a hostile note).
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let c = pg::shared();
        let db = pg::unique("tui");
        c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
        c.psql(
            &db,
            "CREATE TABLE orders (id int PRIMARY KEY, customer text, total numeric(10,2), note text);
             INSERT INTO orders SELECT g, CASE WHEN g % 2 = 0 THEN '山田 ' || g ELSE 'Ngozi ' || g END,
                    CASE WHEN g % 10 = 0 THEN NULL ELSE g * 1.5 END,
                    CASE WHEN g = 3 THEN E'evil \\x1b]0;pwned\\x07 \\x1b[2J\\r\\u202Eexe' WHEN g = 4 THEN '' ELSE 'note ' || g END
             FROM generate_series(1, 250) g;
             CREATE SCHEMA \"Sales\";
             CREATE TABLE \"Sales\".\"Order Items\" (id int, \"select\" text);
             INSERT INTO \"Sales\".\"Order Items\" VALUES (1, 'a'), (2, 'b');",
        );
        Fixture { db }
    })
}

fn register(home: &Home, name: &str, connection: serde_json::Value) {
    let body = json!({"name": name, "source_type": "postgres", "connection": connection});
    let new = RegisterRequest::from_json_text(&body.to_string())
        .unwrap()
        .validate(
            tdb::connector::find_kind,
            &tdb::core::kind::Context {
                cwd: Path::new("/"),
                user_home: None,
            },
        )
        .unwrap();
    Registry::open(home).unwrap().add(new, "tester").unwrap();
}

/// A home with `orders` (table orders) and `whole` (the whole database).
fn home() -> (tempfile::TempDir, Home) {
    let f = fixture();
    let c = pg::shared();
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    let mut conn = c.connection_json(&f.db, pg::SUPERUSER, c.superuser_password());
    conn["table"] = json!("orders");
    register(&home, "orders", conn);
    register(
        &home,
        "whole",
        c.connection_json(&f.db, pg::SUPERUSER, c.superuser_password()),
    );
    (dir, home)
}

fn grid(h: &Harness) -> &tdb::tui::panes::results::GridView {
    match &h.app.results {
        ResultsView::Done(g) => g,
        other => panic!("expected rows, got {other:?}"),
    }
}

#[test]
fn f5_on_the_first_source_fills_the_grid() {
    let (_dir, home) = home();
    let mut h = Harness::new(&home, 120, 40);
    assert_eq!(h.app.focus, Focus::Editor);
    assert_eq!(h.app.sources.selected().unwrap().name, "orders");
    assert_eq!(h.app.editor.text(h.app.selected_id()), "SELECT * FROM data");
    h.settle_until("the schema", |a| {
        a.selected_id()
            .and_then(|id| a.schema.get(id))
            .is_some_and(|e| e.tree.is_some())
    });
    h.act(Action::RunQuery);
    h.settle_query();
    let g = grid(&h);
    assert_eq!(g.grid.rows(), 100, "the default limit");
    assert!(g.grid.result.truncated);
    let headers: Vec<&str> = g.grid.columns.iter().map(|c| c.header.as_str()).collect();
    assert_eq!(headers, ["id", "customer", "total", "note"]);
    assert_eq!(g.grid.cell(0, 0).unwrap().text, "1");
    assert_eq!(g.grid.cell(1, 1).unwrap().text, "山田 2");
    assert_eq!(g.grid.cell(9, 2).unwrap().kind, CellKind::Null);
    assert_eq!(g.grid.cell(1, 2).unwrap().text, "3.00");
    assert_eq!(g.grid.cell(3, 3).unwrap().text, "");
    assert_eq!(
        g.grid.cell(2, 3).unwrap().text,
        "evil ␛]0;pwned\\x07 ␛[2J␍<U+202E>exe"
    );
    assert_eq!((g.row, g.col), (0, 0));
    assert_eq!(h.app.focus, Focus::Editor, "running leaves the focus");
    let screen = h.screen();
    assert!(screen.contains("100 rows · more exist (↓)"), "{screen}");
    assert!(screen.contains("山田 2"), "{screen}");

    // The grid moves; a new result puts the cursor back on its first cell.
    h.act(Action::FocusNext);
    h.act(Action::Move {
        motion: Motion::PageDown,
    });
    h.act(Action::Move {
        motion: Motion::End,
    });
    assert_eq!(grid(&h).col, 3);
    assert!(grid(&h).row > 0);
    h.run_sql("SELECT id FROM data WHERE id <= 5 ORDER BY id DESC");
    let g = grid(&h);
    assert_eq!((g.row, g.col), (0, 0));
    assert_eq!(g.grid.rows(), 5);
    assert!(!g.grid.result.truncated);
    assert_eq!(g.grid.cell(0, 0).unwrap().text, "5");
    assert_eq!(h.app.focus, Focus::Results);
    assert!(h.screen().contains("5 rows · "));

    // y copies the cell, Y the row, Ctrl-Y the result, as TSV by OSC 52 here.
    for (target, want) in [
        (CopyTarget::Cell, "5"),
        (CopyTarget::Row, "id\n5\n"),
        (CopyTarget::All, "id\n5\n4\n3\n2\n1\n"),
    ] {
        h.act(Action::Copy { target });
        h.settle_until("the copy", |a| a.message.is_some());
        let bytes = h.app.take_terminal_write().expect("an OSC 52 sequence");
        assert_eq!(osc52_text(&bytes), want);
        let m = h.app.message.clone().unwrap();
        assert!(m.text.contains("via OSC 52"), "{m:?}");
    }
}

/// The text inside `ESC ] 52 ; c ; <base64> BEL`.
fn osc52_text(bytes: &[u8]) -> String {
    use base64::Engine as _;
    let b64 = bytes
        .strip_prefix(b"\x1b]52;c;")
        .and_then(|b| b.strip_suffix(b"\x07"))
        .expect("a plain OSC 52 sequence");
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    String::from_utf8(raw).unwrap()
}

#[test]
fn whole_database_schema_and_a_qualified_name() {
    let (_dir, home) = home();
    let mut h = Harness::new(&home, 120, 40);
    h.act(Action::FocusPrev);
    h.act(Action::FocusPrev);
    assert_eq!(h.app.focus, Focus::Sources);
    h.act(Action::Move {
        motion: Motion::Down,
    });
    assert_eq!(h.app.sources.selected().unwrap().name, "whole");
    h.settle_until("the schema", |a| {
        a.schema
            .get(a.selected_id().unwrap())
            .is_some_and(|e| e.tree.is_some())
    });
    let id = h.app.selected_id().unwrap().to_string();
    let tree = h.app.schema.get(&id).unwrap().tree.clone().unwrap();
    let labels: Vec<&str> = tree.tables.iter().map(|t| t.label.as_str()).collect();
    assert!(labels.contains(&"orders"), "{labels:?}");
    assert!(labels.contains(&"Sales.Order Items"), "{labels:?}");

    h.replace_sql("SELECT * FROM");
    h.focus(Focus::Schema);
    let target = labels
        .iter()
        .position(|l| *l == "Sales.Order Items")
        .unwrap();
    for _ in 0..target {
        h.act(Action::Move {
            motion: Motion::Down,
        });
    }
    h.act(Action::InsertName);
    assert_eq!(
        h.app.editor.text(Some(&id)),
        "SELECT * FROM \"Sales\".\"Order Items\""
    );
    h.act(Action::RunQuery);
    h.settle_query();
    let g = grid(&h);
    assert_eq!(g.grid.rows(), 2);
    assert_eq!(g.grid.columns[1].header, "select");
    assert_eq!(h.app.focus, Focus::Schema);
}

#[test]
fn esc_cancels_a_slow_query_on_the_server() {
    let (_dir, home) = home();
    let c = pg::shared();
    let db = &fixture().db;
    let mut h = Harness::new(&home, 120, 40);
    let marker = pg::unique("slow");
    h.replace_sql(&format!("SELECT pg_sleep(60), '{marker}'"));
    h.act(Action::RunQuery);
    let running = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' AND query LIKE '%{marker}%' AND pid <> pg_backend_pid()"
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while c.psql("postgres", &running).trim() != "1" {
        assert!(Instant::now() < deadline, "the query never showed up");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(h.app.running_query().is_some());
    h.act(Action::CancelQuery);
    assert!(matches!(h.app.results, ResultsView::Cancelled { .. }));
    let active = format!("{running} AND state = 'active'");
    while c.psql("postgres", &active).trim() != "0" {
        assert!(Instant::now() < deadline, "the server still runs the query");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The app keeps working after a cancel.
    h.run_sql("SELECT count(*) AS n FROM data");
    assert_eq!(grid(&h).grid.cell(0, 0).unwrap().text, "250");
}

#[test]
fn errors_show_as_messages_and_the_app_goes_on() {
    let (_dir, home) = home();
    let mut h = Harness::new(&home, 120, 40);
    h.run_sql("DELETE FROM data");
    let ResultsView::Failed {
        heading, message, ..
    } = &h.app.results
    else {
        panic!("an error, got {:?}", h.app.results);
    };
    assert_eq!(*heading, "SQL rejected");
    assert!(message.starts_with("SQL validation failed"), "{message}");
    assert!(h.screen().contains("SQL rejected"));

    h.run_sql("SELECT 1 / (id - id) FROM data");
    let ResultsView::Failed {
        heading, message, ..
    } = &h.app.results
    else {
        panic!("an error, got {:?}", h.app.results);
    };
    assert_eq!(*heading, "Query failed");
    assert!(message.contains("division by zero"), "{message}");

    h.run_sql("SELECT 42 AS answer");
    assert_eq!(grid(&h).grid.cell(0, 0).unwrap().text, "42");

    // Edge shapes draw too: no rows, and rows without columns.
    h.run_sql("SELECT id FROM data WHERE false");
    assert_eq!(grid(&h).grid.rows(), 0);
    assert!(h.screen().contains("(no rows)"));
    h.run_sql("SELECT FROM data WHERE id <= 3");
    assert_eq!(grid(&h).grid.rows(), 3);
    assert!(grid(&h).grid.columns.is_empty());
    h.act(Action::FocusNext);
    h.act(Action::Move {
        motion: Motion::Right,
    });
    h.act(Action::OpenCell);
    assert!(h.screen().contains("3 rows · "));
}

#[test]
fn an_unreachable_source_is_marked_failed() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    register(
        &home,
        "gone",
        json!({"host": "127.0.0.1", "port": port, "dbname": "x", "user": "x",
               "password": "x", "table": "t", "sslmode": "disable", "connect_timeout_s": 2}),
    );
    let mut h = Harness::new(&home, 120, 40);
    h.act(Action::RunQuery);
    h.settle_query();
    let ResultsView::Failed { heading, .. } = &h.app.results else {
        panic!("an error, got {:?}", h.app.results);
    };
    assert_eq!(*heading, "Source unreachable");
    h.settle_until("the failed status", |a| {
        a.sources.selected().unwrap().status == Status::Failed
    });
    assert!(h.screen().contains("✗ gone"));
}

#[test]
fn testing_a_source_reports_its_latency() {
    let (_dir, home) = home();
    let mut h = Harness::new(&home, 120, 40);
    h.act(Action::FocusPrev);
    h.act(Action::FocusPrev);
    h.act(Action::TestSource);
    h.settle_until("the test", |a| !a.animating() && a.message.is_some());
    let m = h.app.message.clone().unwrap();
    assert!(m.text.starts_with("orders: reachable · "), "{m:?}");
    assert_eq!(h.app.sources.selected().unwrap().status, Status::Active);
}

/// A home with the demo's `orders.csv` (5,000 rows) registered as a CSV source.
fn csv_home() -> (tempfile::TempDir, Home) {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("orders.csv");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo/orders.csv"),
        &csv,
    )
    .unwrap();
    let home = Home::at(dir.path().join("home"));
    let body = json!({"name": "orders", "source_type": "csv", "connection": {"path": csv}});
    let new = RegisterRequest::from_json_text(&body.to_string())
        .unwrap()
        .validate(
            tdb::connector::find_kind,
            &tdb::core::kind::Context {
                cwd: dir.path(),
                user_home: None,
            },
        )
        .unwrap();
    Registry::open(&home).unwrap().add(new, "tester").unwrap();
    (dir, home)
}

#[test]
fn a_csv_source_imports_browses_and_queries() {
    let (_dir, home) = csv_home();
    let mut h = Harness::new(&home, 120, 40);
    h.settle_until("the schema", |a| {
        a.schema
            .get(a.selected_id().unwrap())
            .is_some_and(|e| e.tree.is_some())
    });
    let id = h.app.selected_id().unwrap().to_string();
    let tree = h.app.schema.get(&id).unwrap().tree.clone().unwrap();
    assert_eq!(tree.tables[0].label, "data");
    let columns: Vec<&str> = tree.tables[0]
        .columns
        .iter()
        .map(|c| c.label.as_str())
        .collect();
    assert_eq!(
        columns,
        [
            "id",
            "customer_id",
            "total",
            "currency",
            "status",
            "created_at",
            "shipped_at",
            "note"
        ]
    );
    assert!(h.screen().contains("customer_id"));

    h.act(Action::RunQuery);
    h.settle_query();
    let g = grid(&h);
    assert_eq!(g.grid.rows(), 100);
    assert!(g.grid.result.truncated);
    assert_eq!(g.grid.cell(0, 0).unwrap().text, "1");
    assert_eq!(g.grid.cell(0, 2).unwrap().text, "595.82");
    assert_eq!(g.grid.cell(0, 2).unwrap().kind, CellKind::Number);
    assert_eq!(
        g.grid.cell(0, 7).unwrap().text,
        "fragile — handle with care"
    );
    assert_eq!(g.grid.cell(0, 6).unwrap().kind, CellKind::Null);
    assert!(h.screen().contains("100 rows · more exist (↓)"));

    h.run_sql("SELECT count(*) AS n, count(*) FILTER (WHERE contains(note, chr(10))) AS multiline FROM data");
    let g = grid(&h);
    assert_eq!(g.grid.cell(0, 0).unwrap().text, "5000");
    let multiline: i64 = g.grid.cell(0, 1).unwrap().text.parse().unwrap();
    assert!(multiline > 0, "the demo has multi-line notes");
    h.run_sql("SELECT note FROM data WHERE contains(note, chr(10)) LIMIT 1");
    let note = grid(&h).grid.cell(0, 0).unwrap().text;
    assert!(note.contains('↵') && !note.contains('\n'), "{note}");

    h.run_sql("DROP TABLE data");
    assert!(matches!(
        h.app.results,
        ResultsView::Failed {
            heading: "SQL rejected",
            ..
        }
    ));
}

/// Types into the export prompt as a person would: clears the name, pastes `name`.
fn name_export(h: &mut Harness, name: &str) {
    h.act(Action::EditorInput {
        input: ratatui_textarea::Input {
            key: ratatui_textarea::Key::Char('u'),
            ctrl: true,
            ..Default::default()
        },
    });
    h.act(Action::Paste { text: name.into() });
}

#[test]
fn export_writes_what_the_grid_holds_through_the_backend() {
    use tdb::tui::app::Overlay;
    let (dir, home) = csv_home();
    let mut h = Harness::new(&home, 120, 40);
    h.run_sql("SELECT id, customer_id, total, note, shipped_at FROM data ORDER BY id LIMIT 30");
    h.focus(Focus::Results);
    h.act(Action::Sort); // by id: ascending
    h.act(Action::Sort); // descending: files follow the grid's order
    let rows = grid(&h).grid.result.clone();
    assert_eq!(rows.rows.len(), 30);
    assert_eq!(rows.rows[0][0].to_text().unwrap(), "30");

    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for (name, format) in [
        ("orders.csv", Format::Csv),
        ("orders.json", Format::Json),
        ("orders.jsonl", Format::JsonLines),
    ] {
        let path = out.join(name);
        h.act(Action::Export);
        name_export(&mut h, path.to_str().unwrap());
        let Some(Overlay::Export(p)) = &h.app.overlay else {
            panic!("the export prompt");
        };
        assert_eq!(p.format, format, "the extension picks the format");
        h.act(Action::Confirm);
        h.settle_until("the export", |a| {
            a.message
                .as_ref()
                .is_some_and(|m| !m.text.starts_with("exporting"))
        });
        let m = h.app.message.clone().unwrap();
        assert!(
            m.text.starts_with("exported 30 rows · ") && m.text.ends_with(&*path.to_string_lossy()),
            "{m:?}"
        );
        let written = std::fs::read_to_string(&path).unwrap();
        match format {
            Format::Csv => {
                let mut r = csv::Reader::from_reader(written.as_bytes());
                let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
                assert_eq!(header, ["id", "customer_id", "total", "note", "shipped_at"]);
                let records: Vec<csv::StringRecord> = r.records().map(|r| r.unwrap()).collect();
                assert_eq!(records.len(), 30);
                for (rec, row) in records.iter().zip(&rows.rows) {
                    let want: Vec<String> = row
                        .iter()
                        .map(|v| v.to_text().unwrap_or_default())
                        .collect();
                    assert_eq!(rec.iter().collect::<Vec<_>>(), want);
                }
            }
            Format::Json => {
                let got: serde_json::Value = serde_json::from_str(&written).unwrap();
                assert_eq!(got, serde_json::Value::Array(rows.json_rows()));
            }
            _ => {
                let got: Vec<serde_json::Value> = written
                    .lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect();
                assert_eq!(got, rows.json_rows());
            }
        }
    }

    // Again to the same file: the prompt asks; `y` replaces it with the new rows.
    h.run_sql("SELECT id FROM data ORDER BY id LIMIT 2");
    h.act(Action::Export);
    let csv_path = out.join("orders.csv");
    name_export(&mut h, csv_path.to_str().unwrap());
    h.act(Action::Confirm);
    h.settle_until("the question", |a| a.overlay.is_some());
    assert!(h.screen().contains("exists."), "{}", h.screen());
    assert!(std::fs::read_to_string(&csv_path).unwrap().lines().count() > 3);
    h.act(Action::EditorInput {
        input: ratatui_textarea::Input {
            key: ratatui_textarea::Key::Char('y'),
            ..Default::default()
        },
    });
    h.settle_until("the export", |a| {
        a.message
            .as_ref()
            .is_some_and(|m| m.text.starts_with("exported"))
    });
    assert_eq!(std::fs::read_to_string(&csv_path).unwrap(), "id\n1\n2\n");

    // A folder that does not exist: the exact error.
    h.act(Action::Export);
    name_export(&mut h, "/nonexistent-tdb-dir/x.csv");
    h.act(Action::Confirm);
    h.settle_until("the error", |a| {
        a.message
            .as_ref()
            .is_some_and(|m| m.text.starts_with("export failed"))
    });
    assert_eq!(
        h.app.message.clone().unwrap().text,
        "export failed: the folder /nonexistent-tdb-dir does not exist"
    );
}

#[test]
fn copy_formats_and_the_column_reach_the_clipboard() {
    let (_dir, home) = csv_home();
    let mut h = Harness::new(&home, 120, 40);
    h.run_sql("SELECT id, status FROM data ORDER BY id LIMIT 3");
    h.focus(Focus::Results);
    h.act(Action::Move {
        motion: Motion::Right,
    });
    let copy = |h: &mut Harness, target| {
        h.app.message = None;
        h.act(Action::Copy { target });
        h.settle_until("the copy", |a| a.message.is_some());
        osc52_text(&h.app.take_terminal_write().expect("an OSC 52 sequence"))
    };
    let statuses: Vec<String> = (0..3)
        .map(|r| grid(&h).grid.cell(r, 1).unwrap().text.to_string())
        .collect();
    assert_eq!(
        copy(&mut h, CopyTarget::Column),
        format!("status\n{}\n", statuses.join("\n"))
    );
    h.act(Action::CopyMenu);
    h.act(Action::Move {
        motion: Motion::End,
    });
    h.act(Action::Confirm);
    let quoted: Vec<String> = {
        let mut seen = Vec::new();
        for s in &statuses {
            let q = format!("'{s}'");
            if !seen.contains(&q) {
                seen.push(q);
            }
        }
        seen
    };
    assert_eq!(
        copy(&mut h, CopyTarget::Column),
        format!("({})", quoted.join(", "))
    );
    assert!(
        h.app
            .message
            .clone()
            .unwrap()
            .text
            .contains("as SQL IN list")
    );
    assert_eq!(
        copy(&mut h, CopyTarget::Sql),
        "SELECT id, status FROM data ORDER BY id LIMIT 3"
    );
}

#[test]
fn a_server_error_puts_the_editor_cursor_where_the_user_typed_it() {
    let (_dir, home) = home();
    let mut h = Harness::new(&home, 120, 40);
    // The data alias and the added LIMIT change the sent text around the typo.
    h.run_sql("SELECT id,\n  total\nFROM data WHERE nosuch > 1");
    let ResultsView::Failed { message, .. } = &h.app.results else {
        panic!("an error, got {:?}", h.app.results);
    };
    assert!(message.contains("at line 3, column 17"), "{message}");
    let source = h.app.selected_id().map(String::from);
    assert_eq!(h.app.editor.cursor(source.as_deref()), (2, 16));
    assert_eq!(h.app.editor.error_mark(source.as_deref()), Some((2, 16)));
    let buf = common::tui::buffer(&h.app);
    let underlined: Vec<String> = buf
        .content
        .iter()
        .filter(|c| c.modifier.contains(ratatui::style::Modifier::UNDERLINED))
        .map(|c| c.symbol().to_string())
        .collect();
    assert_eq!(
        underlined,
        ["n"],
        "only the typo's first character is marked"
    );
    // Editing the text takes the mark away.
    h.type_text("x");
    assert_eq!(h.app.editor.error_mark(source.as_deref()), None);
}
