//! The results pane with 100,000 rows loaded page by page (issue 18): the memory they take
//! (goal under 64 MiB), the time to draw a frame of them at 200×60 (goal under 1 ms), and,
//! given a PostgreSQL source, the time to fetch the next page of 1,000 rows from the
//! statement the backend holds open (goal under 10 ms on loopback).
//!
//!     cargo bench --bench rows_paging                    # memory and frames
//!     TDB_BENCH_PG_URL=postgres://… cargo bench --bench rows_paging   # and page fetches
//!
//! `benches/rows_bench.sh` runs it all on a throwaway cluster, next to `--all` against
//! `psql --csv`. The rows arrive as the app gets them (a first page, then `Fetched` pages
//! of 1,000), so the memory counted is what a session that paged to the cap holds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tdb::backend::engine::QueryOutcome;
use tdb::backend::protocol::{Request, RequestId, Response};
use tdb::connector::csv::{Csv, CsvConnection};
use tdb::core::source::{SourceRecord, Status};
use tdb::core::value::{Column, ResultSet, Value};
use tdb::tui::action::{Action, Motion};
use tdb::tui::app::AppState;
use tdb::tui::keymap::Keymap;
use tdb::tui::panes::results::ResultsView;
use tdb::tui::ui;

const ROWS: usize = 100_000;
const PAGE: usize = 1000;

/// A row like the query bench's table: id, email, total, status, timestamp, note.
fn row(i: usize) -> Vec<Value> {
    vec![
        Value::Int(i as i64),
        Value::Text(format!("user{i}@example.com")),
        Value::Numeric(format!("{}.{:02}", i % 1000, i % 100)),
        Value::Text(["pending", "paid", "shipped", "refunded"][i % 4].into()),
        Value::Text(format!("2026-01-01T{:02}:{:02}:00Z", (i / 60) % 24, i % 60)),
        Value::Text(format!("note, with \"quotes\" {i}")),
    ]
}

fn columns() -> Vec<Column> {
    ["id", "email", "total", "status", "created_at", "note"]
        .iter()
        .map(|n| Column {
            name: n.to_string(),
            type_name: "text".into(),
        })
        .collect()
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn record() -> SourceRecord {
    SourceRecord {
        id: "s".into(),
        name: "bench".into(),
        connection: Csv::connection(&CsvConnection {
            path: "/bench.csv".into(),
            delimiter: ',',
            has_header: true,
        })
        .unwrap(),
        has_password: false,
        description: String::new(),
        tags: Vec::new(),
        registered_by: "bench".into(),
        registered_at: "2026-01-01T00:00:00Z".into(),
        status: Status::Active,
    }
}

/// An app of 200×60 whose result was paged to `ROWS` rows, as the backend's answers do it.
fn paged_app() -> AppState {
    let (mut app, startup) = AppState::new(
        Keymap::defaults().unwrap(),
        ratatui::layout::Rect::new(0, 0, 200, 60),
        Instant::now(),
    );
    let Request::ListSources { id } = startup[0] else {
        unreachable!()
    };
    app.on_response(Response::Sources {
        id,
        result: Ok(vec![record()]),
    });
    let reqs = app.update(Action::RunQuery);
    let query = reqs
        .iter()
        .find_map(|r| match r {
            Request::Query { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();
    app.on_response(Response::QueryDone {
        id: query,
        result: Ok(QueryOutcome {
            source_id: "s".into(),
            source_name: "bench".into(),
            sql: "SELECT * FROM data".into(),
            executed_sql: "SELECT * FROM data".into(),
            result: ResultSet {
                columns: columns(),
                rows: (0..100).map(row).collect(),
                truncated: true,
            },
            duration: Duration::from_millis(3),
            executed_at: String::new(),
        }),
    });
    app.update(Action::FocusNext);
    let mut loaded = 100;
    while loaded < ROWS {
        app.update(Action::Move {
            motion: Motion::Bottom,
        });
        let reqs = app.update(Action::Move {
            motion: Motion::Down,
        });
        let Some((fetch, n)) = reqs.iter().find_map(|r| match r {
            Request::FetchMore { id, rows, .. } => Some((*id, *rows)),
            _ => None,
        }) else {
            panic!("no page asked for at {loaded} rows");
        };
        let n = n.min(ROWS - loaded);
        app.on_response(Response::Fetched {
            id: fetch,
            query,
            result: Ok(((loaded..loaded + n).map(row).collect(), loaded + n < ROWS)),
        });
        loaded += n;
    }
    app
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let n = samples.len();
    let median = samples[n / 2];
    let p99 = samples[(n * 99 / 100).min(n - 1)];
    println!(
        "{label:<52} median {:>8.3} ms   min {:>8.3}   p99 {:>8.3}   (n={n})",
        ms(median),
        ms(samples[0]),
        ms(p99)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let before = rss_kib();
    let app = paged_app();
    let after = rss_kib();
    let g = match &app.results {
        ResultsView::Done(g) => g,
        other => panic!("{other:?}"),
    };
    assert_eq!(g.grid.rows(), ROWS);
    println!(
        "{:<52} {:>8.1} MiB held ({:.1} MiB before, {:.1} after; goal < 64 MiB)",
        format!("{ROWS} rows × 6 columns loaded in pages of {PAGE}"),
        (after.saturating_sub(before)) as f64 / 1024.0,
        before as f64 / 1024.0,
        after as f64 / 1024.0
    );

    let mut app = app;
    let mut term = Terminal::new(TestBackend::new(200, 60)).unwrap();
    for (label, start) in [
        ("frame at 200×60, cursor near the top", 0),
        ("frame at 200×60, cursor at row 99,000", 99_000),
    ] {
        app.update(Action::Move {
            motion: Motion::Top,
        });
        for _ in 0..start / 1000 {
            app.update(Action::Move {
                motion: Motion::PageDown,
            });
        }
        if let ResultsView::Done(g) = &mut app.results {
            g.row = start;
        }
        let mut samples = Vec::new();
        for i in 0..2000 {
            let motion = if i % 2 == 0 { Motion::Down } else { Motion::Up };
            app.update(Action::Move { motion });
            let t = Instant::now();
            term.draw(|f| ui::render(black_box(&app), f)).unwrap();
            samples.push(t.elapsed());
        }
        report(&format!("{label} (goal < 1 ms)"), samples);
    }

    if let Ok(url) = std::env::var("TDB_BENCH_PG_URL") {
        page_fetches(&url);
    } else {
        println!("(set TDB_BENCH_PG_URL to time page fetches from PostgreSQL)");
    }
}

/// Through the real backend: a query of the `big` table held open, then pages of 1,000
/// asked for one after the other, each timed from the request to its rows.
fn page_fetches(url: &str) {
    let dir = std::env::temp_dir().join(format!("tdb-rows-bench-{}", std::process::id()));
    let home = tdb::home::Home::at(dir.join("home"));
    home.ensure().unwrap();
    let mut registry = tdb::registry::Registry::open(&home).unwrap();
    let new = tdb::core::source::RegisterRequest::from_json_text(
        &serde_json::json!({"name": "big", "source_type": "postgres",
            "connection": {"url": url, "table": "big"}})
        .to_string(),
    )
    .unwrap()
    .validate(
        tdb::connector::find_kind,
        &tdb::core::kind::Context {
            cwd: std::path::Path::new("/"),
            user_home: None,
        },
    )
    .unwrap();
    let rec = registry.add(new, "bench").unwrap();
    drop(registry);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut handle = tdb::backend::spawn(home).unwrap();
    let query = RequestId(1);
    handle
        .requests
        .send(Request::Query {
            id: query,
            source_id: rec.id.clone(),
            sql: "SELECT * FROM data ORDER BY id".into(),
            limit: 100,
            idle: Duration::from_secs(120),
        })
        .unwrap();
    rt.block_on(async {
        loop {
            match handle.responses.recv().await {
                Some(Response::QueryDone { result, .. }) => {
                    let outcome = result.unwrap();
                    assert!(outcome.result.truncated);
                    break;
                }
                Some(_) => {}
                None => panic!("the backend stopped"),
            }
        }
        let mut samples = Vec::new();
        for i in 0..200u64 {
            let t = Instant::now();
            handle
                .requests
                .send(Request::FetchMore {
                    id: RequestId(100 + i),
                    query,
                    rows: PAGE,
                })
                .unwrap();
            loop {
                match handle.responses.recv().await {
                    Some(Response::Fetched { result, .. }) => {
                        let (rows, _) = result.unwrap();
                        assert_eq!(rows.len(), PAGE);
                        samples.push(t.elapsed());
                        break;
                    }
                    Some(_) => {}
                    None => panic!("the backend stopped"),
                }
            }
        }
        report(
            "next page of 1,000 PostgreSQL rows (loopback; goal < 10 ms)",
            samples,
        );
        handle.shutdown(Duration::from_secs(2)).await;
    });
    let _ = std::fs::remove_dir_all(&dir);
}
