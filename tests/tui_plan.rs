//! F6, the plan view (issue 18): the plan of the statement under the cursor as a tree with
//! its costs, rows and relations; `a` runs it with EXPLAIN ANALYZE inside the read-only
//! transaction. Drawn on `TestBackend` from a recorded answer, then against a real
//! PostgreSQL server and a CSV file (SQLite's EXPLAIN QUERY PLAN) through the backend.

mod common;

use std::time::Duration;

use common::pg;
use common::tui::{Harness, loaded, pg_record, screen};
use serde_json::json;
use tdb::backend::engine::QueryOutcome;
use tdb::backend::protocol::{Request, Response};
use tdb::core::source::{RegisterRequest, SourceRecord, Status};
use tdb::core::value::{Column, ResultSet, Value};
use tdb::home::Home;
use tdb::registry::Registry;
use tdb::tui::action::Action;
use tdb::tui::app::{AppState, Overlay};
use tdb::tui::keymap::Key;
use tdb::tui::panes::plan::{PlanState, PlanView};

fn press(app: &mut AppState, key: &str) -> Vec<Request> {
    let action = app
        .keymap
        .lookup(app.key_context(), Key::parse(key).unwrap())
        .unwrap_or_else(|| panic!("{key} is bound here"));
    app.update(action)
}

fn query(reqs: &[Request]) -> (tdb::backend::protocol::RequestId, String) {
    reqs.iter()
        .find_map(|r| match r {
            Request::Query { id, sql, .. } => Some((*id, sql.clone())),
            _ => None,
        })
        .expect("a query request")
}

fn plan(app: &AppState) -> &PlanView {
    match &app.overlay {
        Some(Overlay::Plan(p)) => p,
        other => panic!("the plan view is open, not {other:?}"),
    }
}

const PG_PLAN: &str = r#"[{"Plan": {"Node Type": "Limit", "Startup Cost": 12.5,
  "Total Cost": 30.75, "Plan Rows": 100,
  "Plans": [{"Node Type": "Hash Join", "Join Type": "Inner", "Startup Cost": 12.5,
    "Total Cost": 80.1, "Plan Rows": 2550, "Hash Cond": "(o.customer_id = c.id)",
    "Plans": [
      {"Node Type": "Seq Scan", "Relation Name": "orders", "Alias": "o",
       "Startup Cost": 0, "Total Cost": 30.5, "Plan Rows": 2550},
      {"Node Type": "Hash", "Startup Cost": 8, "Total Cost": 8, "Plan Rows": 360,
       "Plans": [{"Node Type": "Seq Scan", "Relation Name": "customers", "Alias": "c",
         "Startup Cost": 0, "Total Cost": 8, "Plan Rows": 360}]}]}]},
  "Planning Time": 0.2}]"#;

#[test]
fn f6_shows_the_plan_as_a_tree_and_a_asks_for_analyze() {
    let records = vec![pg_record("p1", "shop", Some("orders"), Status::Active)];
    let (mut app, _, _) = loaded(100, 24, records);
    let reqs = press(&mut app, "f6");
    let (id, sql) = query(&reqs);
    assert_eq!(sql, "EXPLAIN (FORMAT JSON) SELECT * FROM data");
    assert!(matches!(plan(&app).state, PlanState::Running { .. }));
    assert!(app.animating(), "the spinner turns while it runs");
    app.on_response(Response::QueryDone {
        id,
        result: Ok(QueryOutcome {
            source_id: "p1".into(),
            source_name: "shop".into(),
            sql: sql.clone(),
            executed_sql: sql,
            result: ResultSet {
                columns: vec![Column {
                    name: "QUERY PLAN".into(),
                    type_name: "json".into(),
                }],
                rows: vec![vec![Value::Text(PG_PLAN.into())]],
                truncated: false,
            },
            duration: Duration::from_millis(2),
            executed_at: "2026-05-22T09:15:00Z".into(),
        }),
    });
    assert!(matches!(plan(&app).state, PlanState::Done(_)));
    insta::assert_snapshot!(screen(&app));
    // The results behind it are untouched: the plan is not a result.
    assert!(matches!(
        app.results,
        tdb::tui::panes::results::ResultsView::Idle
    ));
    let reqs = press(&mut app, "a");
    let (again, sql) = query(&reqs);
    assert_eq!(sql, "EXPLAIN (ANALYZE, FORMAT JSON) SELECT * FROM data");
    assert!(plan(&app).analyze);
    // Esc while it runs closes the view and cancels the statement on the server.
    let reqs = press(&mut app, "esc");
    assert!(app.overlay.is_none());
    assert_eq!(reqs, vec![Request::Cancel { id: again }]);
}

#[test]
fn an_engine_error_and_an_analyze_the_engine_lacks_show_in_the_view() {
    let sqlite = SourceRecord {
        connection: tdb::connector::sqlite::Sqlite::connection(
            &tdb::connector::sqlite::SqliteConnection {
                path: "/data/people.db".into(),
                table: Some("people".into()),
            },
        )
        .unwrap(),
        ..common::tui::csv_record("c1", "people", &[], Status::Active)
    };
    let (mut app, _, _) = loaded(100, 24, vec![sqlite]);
    let reqs = press(&mut app, "f6");
    let (id, sql) = query(&reqs);
    assert_eq!(sql, "EXPLAIN QUERY PLAN SELECT * FROM data");
    app.on_response(Response::QueryDone {
        id,
        result: Err(tdb::core::Error::QueryFailed("no such column: nme".into())),
    });
    assert!(screen(&app).contains("no such column: nme"));
    let reqs = press(&mut app, "a");
    assert!(reqs.is_empty(), "nothing is sent: {reqs:?}");
    assert!(screen(&app).contains("SQLite plans a query without running it"));
}

#[test]
fn a_csv_source_asks_duckdb_and_can_analyze() {
    let records = vec![common::tui::csv_record("c1", "people", &[], Status::Active)];
    let (mut app, _, _) = loaded(100, 24, records);
    let reqs = press(&mut app, "f6");
    let (_, sql) = query(&reqs);
    assert_eq!(sql, "EXPLAIN SELECT * FROM data");
    let reqs = press(&mut app, "a");
    let (_, sql) = query(&reqs);
    assert_eq!(sql, "EXPLAIN ANALYZE SELECT * FROM data");
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

fn plan_lines(h: &Harness) -> Vec<(usize, String, String)> {
    match &plan(&h.app).state {
        PlanState::Done(p) => p
            .lines
            .iter()
            .map(|l| (l.depth, l.text.clone(), l.detail.clone()))
            .collect(),
        other => panic!("a plan, not {other:?}"),
    }
}

#[test]
fn a_real_postgres_plan_and_its_analyze_through_the_guard() {
    let c = pg::shared();
    let db = pg::unique("plan");
    c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
    c.psql(
        &db,
        "CREATE TABLE orders (id int PRIMARY KEY, total int);
         INSERT INTO orders SELECT g, g * 2 FROM generate_series(1, 500) g;
         ANALYZE orders;",
    );
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    let mut conn = c.connection_json(&db, pg::SUPERUSER, c.superuser_password());
    conn["table"] = json!("orders");
    register(
        &home,
        json!({"name": "orders", "source_type": "postgres", "connection": conn}),
    );
    let mut h = Harness::new(&home, 120, 30);
    h.replace_sql("SELECT * FROM data WHERE total > 900 ORDER BY id");
    h.act(Action::Explain);
    h.settle_until("the plan", |a| {
        matches!(&a.overlay, Some(Overlay::Plan(p)) if !matches!(p.state, PlanState::Running { .. }))
    });
    let lines = plan_lines(&h);
    assert!(
        lines
            .iter()
            .any(|(_, text, detail)| text.contains("on orders data")
                && detail.starts_with("cost ")
                && detail.contains(" · rows ")),
        "a scan of orders with its cost and rows: {lines:?}"
    );
    assert!(!lines.iter().any(|(_, _, d)| d.contains("actual")));
    h.act(Action::ToggleAnalyze);
    h.settle_until("the analyzed plan", |a| {
        matches!(&a.overlay, Some(Overlay::Plan(p)) if !matches!(p.state, PlanState::Running { .. }))
    });
    let lines = plan_lines(&h);
    assert!(
        lines.iter().any(|(_, _, d)| d.contains("actual ")),
        "ANALYZE gives the real times and rows: {lines:?}"
    );
    let screen = h.screen();
    assert!(screen.contains("EXPLAIN ANALYZE"), "{screen}");
    assert!(screen.contains("Execution Time:"), "{screen}");
    // The guard still decides: ANALYZE of a statement that writes never reaches the server.
    h.act(Action::CloseOverlay);
    h.replace_sql("DELETE FROM orders");
    h.act(Action::Explain);
    h.act(Action::ToggleAnalyze);
    h.settle_until(
        "the refusal",
        |a| matches!(&a.overlay, Some(Overlay::Plan(p)) if matches!(p.state, PlanState::Failed(_))),
    );
    assert!(
        h.screen().contains("SQL validation failed"),
        "{}",
        h.screen()
    );
    assert_eq!(c.psql(&db, "SELECT count(*) FROM orders").trim(), "500");
}

#[test]
fn a_csv_file_is_explained_by_duckdb_as_its_boxes() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, "name,city\nAda,London\nAlan,Wilmslow\n").unwrap();
    let home = Home::at(dir.path().join("home"));
    register(
        &home,
        json!({"name": "people", "source_type": "csv", "connection": {"path": csv}}),
    );
    let mut h = Harness::new(&home, 120, 30);
    h.settle_until("the import", |a| {
        a.selected_id()
            .and_then(|id| a.schema.get(id))
            .is_some_and(|e| e.tree.is_some())
    });
    h.replace_sql("SELECT city, count(*) FROM data GROUP BY city ORDER BY 2 DESC");
    h.act(Action::Explain);
    h.settle_until("the plan", |a| {
        matches!(&a.overlay, Some(Overlay::Plan(p)) if !matches!(p.state, PlanState::Running { .. }))
    });
    let lines = plan_lines(&h);
    let has = |step: &str| lines.iter().any(|(_, text, _)| text.contains(step));
    assert!(
        has("HASH_GROUP_BY") && has("ORDER_BY"),
        "DuckDB's steps: {lines:?}"
    );
    // The rows come from the file's columnar cache.
    assert!(has("READ_PARQUET"), "{lines:?}");
}
