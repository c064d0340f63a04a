//! More rows than the limit (issue 18): moving past the last fetched row of a result that
//! has more asks the backend for the next page of the statement it holds open; the grid's
//! edge says how many are loaded and whether more exist, the status bar names the session
//! cap, a closed statement and the cap are said so, tabs let go of their statements. Driven
//! by actions and canned backend responses, drawn on `TestBackend`; then against the real
//! backend and PostgreSQL: the pages come from one snapshot, are audited under the query's
//! id, and an idle statement is closed on the server.

mod common;

use std::time::Duration;

use common::tui::{Harness, loaded, pg_record, screen};
use tdb::backend::engine::QueryOutcome;
use tdb::backend::protocol::{Request, RequestId, Response};
use tdb::core::Error;
use tdb::core::source::Status;
use tdb::core::value::{Column, ResultSet, Value};
use tdb::home::Home;
use tdb::tui::action::{Action, Motion};
use tdb::tui::app::AppState;
use tdb::tui::panes::Focus;
use tdb::tui::panes::results::{GridView, Paging, ResultsView};

fn app() -> AppState {
    let (mut app, _, _) = loaded(
        100,
        20,
        vec![pg_record("p1", "orders", Some("orders"), Status::Active)],
    );
    app.focus = Focus::Results;
    app
}

fn rows(from: usize, n: usize) -> Vec<Vec<Value>> {
    (from..from + n)
        .map(|i| vec![Value::Int(i as i64), Value::Text(format!("name {i}"))])
        .collect()
}

/// Runs a query and answers it with `n` rows, `more` saying whether the statement has more.
fn run(app: &mut AppState, n: usize, more: bool) -> RequestId {
    let reqs = app.update(Action::RunQuery);
    let id = reqs
        .iter()
        .find_map(|r| match r {
            Request::Query { id, idle, .. } => {
                assert_eq!(*idle, Duration::from_secs(120), "the default idle time");
                Some(*id)
            }
            _ => None,
        })
        .expect("a query");
    app.on_response(Response::QueryDone {
        id,
        result: Ok(QueryOutcome {
            source_id: "p1".into(),
            source_name: "orders".into(),
            sql: "SELECT * FROM data".into(),
            executed_sql: "SELECT * FROM public.orders".into(),
            result: ResultSet {
                columns: vec![
                    Column {
                        name: "id".into(),
                        type_name: "int4".into(),
                    },
                    Column {
                        name: "name".into(),
                        type_name: "text".into(),
                    },
                ],
                rows: rows(0, n),
                truncated: more,
            },
            duration: Duration::from_millis(12),
            executed_at: "2026-05-22T09:15:00Z".into(),
        }),
    });
    id
}

fn view(app: &AppState) -> &GridView {
    match &app.results {
        ResultsView::Done(g) => g,
        other => panic!("rows expected, got {other:?}"),
    }
}

fn fetch_request(reqs: &[Request]) -> Option<(RequestId, RequestId, usize)> {
    reqs.iter().find_map(|r| match r {
        Request::FetchMore { id, query, rows } => Some((*id, *query, *rows)),
        _ => None,
    })
}

fn title(app: &AppState) -> String {
    let s = screen(app);
    s.lines()
        .find(|l| l.contains(" rows"))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn moving_past_the_last_row_fetches_the_next_page_and_the_edge_says_so() {
    let mut app = app();
    let query = run(&mut app, 100, true);
    assert_eq!(view(&app).paging, Some(Paging::Held { query }));
    assert!(
        title(&app).contains("┌ 100 rows · more exist (↓) · 12 ms · orders"),
        "{}",
        title(&app)
    );
    insta::assert_snapshot!("paging_held", screen(&app));

    // Down inside the rows moves; only past the last one asks for more.
    assert_eq!(
        fetch_request(&app.update(Action::Move {
            motion: Motion::Down
        })),
        None
    );
    assert_eq!(
        fetch_request(&app.update(Action::Move {
            motion: Motion::Bottom
        })),
        None
    );
    assert_eq!(view(&app).row, 99);
    let (fetch, q, n) = fetch_request(&app.update(Action::Move {
        motion: Motion::Down,
    }))
    .expect("the next page is asked for");
    assert_eq!((q, n), (query, 1000), "a page of page_rows");
    assert!(matches!(view(&app).paging, Some(Paging::Fetching { .. })));
    assert!(
        title(&app).contains("100 rows · fetching more…"),
        "{}",
        title(&app)
    );
    assert!(app.key_context().running, "Esc cancels the fetch");
    insta::assert_snapshot!("paging_fetching", screen(&app));
    // Asking again while it comes sends nothing more.
    assert_eq!(
        fetch_request(&app.update(Action::Move {
            motion: Motion::Down
        })),
        None
    );

    app.on_response(Response::Fetched {
        id: fetch,
        query,
        result: Ok((rows(100, 1000), true)),
    });
    let g = view(&app);
    assert_eq!(g.grid.rows(), 1100);
    assert_eq!(g.row, 100, "the Down that asked is made: the first new row");
    assert_eq!(g.grid.cell(1099, 1).unwrap().text, "name 1099");
    assert_eq!(g.paging, Some(Paging::Held { query }));
    assert!(
        title(&app).contains("1100 rows loaded · more exist (↓)"),
        "{}",
        title(&app)
    );
    let s = screen(&app);
    assert!(
        s.contains("session cap 100000 rows"),
        "the status bar names the cap:\n{s}"
    );
    insta::assert_snapshot!("paging_more_loaded", s);

    // The last page: every row is here. Bottom first goes to the last row loaded, then
    // past it.
    assert_eq!(
        fetch_request(&app.update(Action::Move {
            motion: Motion::Bottom
        })),
        None
    );
    let (fetch, _, _) = fetch_request(&app.update(Action::Move {
        motion: Motion::Bottom,
    }))
    .expect("a page");
    app.on_response(Response::Fetched {
        id: fetch,
        query,
        result: Ok((rows(1100, 234), false)),
    });
    let g = view(&app);
    assert_eq!(
        (g.grid.rows(), g.row),
        (1334, 1333),
        "Bottom goes to the new last row"
    );
    assert_eq!(g.paging, None);
    assert!(
        title(&app).contains("1334 rows loaded · all · "),
        "{}",
        title(&app)
    );
    insta::assert_snapshot!("paging_all_loaded", screen(&app));
    assert_eq!(
        fetch_request(&app.update(Action::Move {
            motion: Motion::Down
        })),
        None
    );
}

#[test]
fn a_closed_statement_and_the_session_cap_are_said_so() {
    let mut app = app();
    app.tabs.limits.row_cap = 150;
    let query = run(&mut app, 100, true);
    app.update(Action::Move {
        motion: Motion::Bottom,
    });
    let (fetch, _, n) = fetch_request(&app.update(Action::Move {
        motion: Motion::Down,
    }))
    .expect("a page");
    assert_eq!(n, 50, "no more than the cap leaves room for");
    app.on_response(Response::Fetched {
        id: fetch,
        query,
        result: Ok((rows(100, 50), true)),
    });
    app.update(Action::Move {
        motion: Motion::Bottom,
    });
    let reqs = app.update(Action::Move {
        motion: Motion::Down,
    });
    assert_eq!(fetch_request(&reqs), None);
    assert!(
        reqs.contains(&Request::Release { query }),
        "at the cap the statement goes: {reqs:?}"
    );
    assert!(
        title(&app)
            .contains("150 rows loaded · more exist · the session cap of 150 rows is reached"),
        "{}",
        title(&app)
    );
    insta::assert_snapshot!("paging_cap_reached", screen(&app));

    // The backend closed an idle statement: the edge says why, and Down asks for nothing.
    let mut app = self::app();
    let query = run(&mut app, 100, true);
    app.on_response(Response::Released {
        query,
        why: "closed after 2 min idle".into(),
    });
    assert!(
        title(&app).contains("100 rows · more exist · closed after 2 min idle"),
        "{}",
        title(&app)
    );
    insta::assert_snapshot!("paging_closed_idle", screen(&app));
    app.update(Action::Move {
        motion: Motion::Bottom,
    });
    assert_eq!(
        fetch_request(&app.update(Action::Move {
            motion: Motion::Down
        })),
        None
    );

    // A page that failed: the error, and the statement taken as closed.
    let mut app = self::app();
    let query = run(&mut app, 100, true);
    app.update(Action::Move {
        motion: Motion::Bottom,
    });
    let (fetch, _, _) = fetch_request(&app.update(Action::Move {
        motion: Motion::Down,
    }))
    .expect("a page");
    app.on_response(Response::Fetched {
        id: fetch,
        query,
        result: Err(Error::QueryFailed("lost the connection".into())),
    });
    assert!(
        matches!(&view(&app).paging, Some(Paging::Closed { .. })),
        "{:?}",
        view(&app).paging
    );
    assert!(screen(&app).contains("cannot load more rows: lost the connection"));
}

#[test]
fn esc_cancels_a_fetch_and_tabs_let_go_of_their_statements() {
    let mut app = app();
    let query = run(&mut app, 100, true);
    app.update(Action::Move {
        motion: Motion::Bottom,
    });
    app.update(Action::Move {
        motion: Motion::Down,
    });
    let reqs = app.update(Action::CancelQuery);
    assert_eq!(reqs, vec![Request::Cancel { id: query }]);
    assert!(
        title(&app).contains("more exist · fetching them was cancelled"),
        "{}",
        title(&app)
    );

    // A new run in the same tab lets go of the old result's statement.
    let mut app = self::app();
    let first = run(&mut app, 100, true);
    let reqs = app.update(Action::RunQuery);
    assert!(
        reqs.contains(&Request::Release { query: first }),
        "{reqs:?}"
    );

    // A pinned tab keeps it; closing the tab lets go.
    let mut app = self::app();
    let first = run(&mut app, 100, true);
    app.update(Action::PinTab);
    let reqs = app.update(Action::RunQuery);
    assert!(
        !reqs.contains(&Request::Release { query: first }),
        "{reqs:?}"
    );
    app.update(Action::PrevTab);
    let reqs = app.update(Action::CloseTab);
    assert!(
        reqs.contains(&Request::Release { query: first }),
        "{reqs:?}"
    );

    // A page for a result no longer shown is dropped.
    app.on_response(Response::Fetched {
        id: RequestId(999),
        query: first,
        result: Ok((rows(0, 5), false)),
    });
}

#[test]
fn a_filter_or_a_complete_result_fetches_nothing() {
    let mut app = app();
    run(&mut app, 30, false);
    assert_eq!(view(&app).paging, None);
    app.update(Action::Move {
        motion: Motion::Bottom,
    });
    assert_eq!(
        fetch_request(&app.update(Action::Move {
            motion: Motion::Down
        })),
        None
    );
    assert!(
        title(&app).contains("┌ 30 rows · 12 ms · orders"),
        "{}",
        title(&app)
    );

    let mut app = self::app();
    run(&mut app, 100, true);
    app.update(Action::FilterRows);
    app.update(common::tui::key(ratatui_textarea::Key::Char('9')));
    app.update(Action::KeepFilter);
    app.update(Action::Move {
        motion: Motion::Bottom,
    });
    assert_eq!(
        fetch_request(&app.update(Action::Move {
            motion: Motion::Down
        })),
        None,
        "the last row shown is not the last one fetched"
    );
}

// The real backend and PostgreSQL.

struct Db {
    name: String,
}

fn db() -> &'static Db {
    static D: std::sync::OnceLock<Db> = std::sync::OnceLock::new();
    D.get_or_init(|| {
        let c = common::pg::shared();
        let name = common::pg::unique("paging");
        c.psql("postgres", &format!("CREATE DATABASE \"{name}\""));
        c.psql(
            &name,
            "CREATE TABLE items (id int PRIMARY KEY, label text);
             INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2500) g;",
        );
        Db { name }
    })
}

fn pg_home(dir: &tempfile::TempDir) -> Home {
    let c = common::pg::shared();
    let home = Home::at(dir.path().join("home"));
    let mut conn = c.connection_json(&db().name, common::pg::SUPERUSER, c.superuser_password());
    conn["table"] = serde_json::json!("items");
    let out = common::process::run_stdin(
        common::process::tdb(home.root()).args(["source", "add", "--from-json", "-"]),
        &serde_json::json!({"name": "items", "source_type": "postgres", "connection": conn})
            .to_string(),
    );
    assert!(
        out.status.success(),
        "{}",
        common::process::text(&out.stderr)
    );
    home
}

/// Sessions of tdb's that hold a transaction open for a statement naming `marker`.
fn open_transactions(marker: &str) -> usize {
    common::pg::shared()
        .psql(
            &db().name,
            &format!(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'tdb' \
                 AND state LIKE 'idle in transaction%' AND query LIKE '%{marker}%'"
            ),
        )
        .trim()
        .parse()
        .unwrap()
}

fn audit(home: &Home) -> Vec<serde_json::Value> {
    std::fs::read_to_string(home.audit_path())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Polls a condition outside the app (the server's sessions) until it holds.
fn wait_for(what: &str, done: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "gave up waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn rows_of(h: &Harness) -> usize {
    match &h.app.results {
        ResultsView::Done(g) => g.grid.rows(),
        other => panic!("rows expected, got {other:?}"),
    }
}

fn settle_page(h: &mut Harness) {
    h.settle_until("the page", |a| {
        !matches!(&a.results, ResultsView::Done(g)
            if matches!(g.paging, Some(Paging::Fetching { .. })))
    });
}

#[test]
fn pages_come_from_one_snapshot_of_a_held_postgres_statement() {
    let dir = tempfile::tempdir().unwrap();
    let home = pg_home(&dir);
    let mut h = Harness::new(&home, 120, 30);
    let m = common::pg::unique("snap");
    h.run_sql(&format!(
        "SELECT id, label, '{m}' AS m FROM data ORDER BY id"
    ));
    assert_eq!(rows_of(&h), 100);
    assert_eq!(open_transactions(&m), 1, "the statement is held open");

    // Rows changed meanwhile are not seen: the pages read the query's own snapshot.
    common::pg::shared().psql(&db().name, "DELETE FROM items WHERE id > 2000");
    h.focus(Focus::Results);
    h.act(Action::Move {
        motion: Motion::Bottom,
    });
    h.act(Action::Move {
        motion: Motion::Down,
    });
    settle_page(&mut h);
    assert_eq!(rows_of(&h), 1100);
    for _ in 0..2 {
        h.act(Action::Move {
            motion: Motion::Bottom,
        });
        h.act(Action::Move {
            motion: Motion::Bottom,
        });
        settle_page(&mut h);
    }
    let g = match &h.app.results {
        ResultsView::Done(g) => g,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        g.grid.rows(),
        2500,
        "the deleted rows still come: one snapshot"
    );
    assert_eq!(g.grid.cell(2499, 1).unwrap().text, "item 2500");
    assert_eq!(g.paging, None, "every row is here");
    common::pg::shared().psql(
        &db().name,
        "INSERT INTO items SELECT g, 'item ' || g FROM generate_series(2001, 2500) g",
    );
    wait_for("the statement closed", || open_transactions(&m) == 0);

    // Audited under the query's id: the first page closes the query, each page adds a line.
    let lines = audit(&home);
    let q = lines
        .iter()
        .rev()
        .find(|l| l["event"] == "query")
        .unwrap()
        .clone();
    assert_eq!(q["rows_returned"], 100);
    assert_eq!(q["truncated"], true);
    let pages: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["event"] == "query_fetched" && l["query_id"] == q["query_id"])
        .collect();
    let totals: Vec<u64> = pages
        .iter()
        .map(|l| l["rows_total"].as_u64().unwrap())
        .collect();
    assert_eq!(totals, [1100, 2100, 2500]);
    assert_eq!(pages[2]["more"], false);
    assert_eq!(pages[2]["rows_fetched"], 400);
}

#[test]
fn an_idle_statement_is_closed_on_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let home = pg_home(&dir);
    let mut h = Harness::new(&home, 120, 30);
    h.app.tabs.limits.idle = Duration::from_secs(1);
    let m = common::pg::unique("idle");
    h.run_sql(&format!("SELECT id, '{m}' AS m FROM data ORDER BY id"));
    assert_eq!(open_transactions(&m), 1);
    h.settle_until("the idle close", |a| {
        matches!(&a.results, ResultsView::Done(g) if matches!(g.paging, Some(Paging::Closed { .. })))
    });
    assert!(
        h.screen()
            .contains("100 rows · more exist · closed after 1 s idle"),
        "{}",
        h.screen()
    );
    wait_for("the session's transaction ended", || {
        open_transactions(&m) == 0
    });

    // A new run lets go of a held statement at once.
    h.app.tabs.limits.idle = Duration::from_secs(120);
    let m = common::pg::unique("replaced");
    h.run_sql(&format!("SELECT id, '{m}' AS m FROM data ORDER BY id"));
    assert_eq!(open_transactions(&m), 1);
    h.run_sql("SELECT 1");
    wait_for("the first statement closed", || open_transactions(&m) == 0);
}

#[test]
fn export_can_write_every_row_in_the_background_and_esc_cancels_it() {
    let mut app = app();
    run(&mut app, 100, true);
    app.update(Action::Export);
    let s = screen(&app);
    assert!(s.contains("only the 100 rows fetched; more exist"), "{s}");
    assert!(
        s.contains("Alt-a every row") || s.contains("alt-a every row"),
        "{s}"
    );
    app.update(Action::EveryRow);
    let s = screen(&app);
    assert!(s.contains(" Export every row to a file "), "{s}");
    insta::assert_snapshot!("export_every_row_prompt", s);
    let reqs = app.update(Action::Confirm);
    let id = match reqs.as_slice() {
        [
            Request::ExportAll {
                id,
                source_id,
                sql,
                format,
                overwrite: false,
                ..
            },
        ] => {
            assert_eq!(
                (source_id.as_str(), sql.as_str()),
                ("p1", "SELECT * FROM data")
            );
            assert_eq!(*format, tdb::core::export::Format::Csv);
            *id
        }
        other => panic!("an export of every row: {other:?}"),
    };
    app.on_response(Response::Progress {
        id,
        progress: tdb::core::progress::Progress {
            rows: 4000,
            bytes: 65536,
            total_bytes: 0,
            done: false,
        },
    });
    assert!(
        screen(&app).contains("exporting every row… 4000 rows · 64.0 KB (Esc cancels)"),
        "{}",
        screen(&app)
    );
    assert!(app.key_context().running, "Esc reaches the cancel");
    assert_eq!(
        app.update(Action::CancelQuery),
        vec![Request::Cancel { id }]
    );
    assert!(screen(&app).contains("export cancelled: no file was written"));
    // The answer of the cancelled export is not news.
    app.on_response(Response::Exported {
        id,
        path: "/tmp/x.csv".into(),
        rows: 4000,
        result: Err(Error::Cancelled),
    });
    assert!(!screen(&app).contains("export failed"));

    // A complete result offers no choice: its rows are all there.
    let mut app = self::app();
    run(&mut app, 30, false);
    app.update(Action::Export);
    app.update(Action::EveryRow);
    let s = screen(&app);
    assert!(
        s.contains(" Export 30 rows to a file ") && !s.contains("every row"),
        "{s}"
    );
}

#[test]
fn every_row_of_a_postgres_result_is_exported_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let home = pg_home(&dir);
    let mut h = Harness::new(&home, 120, 30);
    let m = common::pg::unique("export");
    let sql = format!("SELECT id, label, '{m}' AS m FROM data WHERE id <= 2000 ORDER BY id");
    h.run_sql(&sql);
    h.focus(Focus::Results);
    h.act(Action::Export);
    let file = dir.path().join("every.csv");
    if let Some(tdb::tui::app::Overlay::Export(p)) = &mut h.app.overlay {
        p.input.set(file.to_str().unwrap());
    }
    h.act(Action::EveryRow);
    h.act(Action::Confirm);
    h.settle_until("the export", |a| a.copying.pending.is_none());
    let s = h.screen();
    assert!(s.contains("exported 2000 rows"), "{s}");
    let body = std::fs::read_to_string(&file).unwrap();
    assert_eq!(body.lines().count(), 2001);
    assert_eq!(
        body.lines().nth(2000).unwrap(),
        format!("2000,item 2000,{m}")
    );
    let line = audit(&home)
        .into_iter()
        .rev()
        .find(|l| l["event"] == "query" && l["sql"] == sql.as_str() && l.get("bytes").is_some())
        .expect("the export's query line");
    assert_eq!(line["rows_returned"], 2000);
    assert_eq!(line["bytes"], body.len() as u64);
}
