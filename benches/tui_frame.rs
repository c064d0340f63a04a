//! How long the terminal UI takes to draw one frame of a 1,000 × 20 result (target: under
//! 1 ms), and to prepare such a result for drawing when it arrives (done once).
//!
//!     cargo bench --bench tui_frame
//!
//! A frame is the whole screen as the real loop draws it (`Terminal::draw`, including
//! ratatui's diff), on a `TestBackend` so no terminal I/O is counted. The cursor moves every
//! frame, so each one really changes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tdb::backend::engine::QueryOutcome;
use tdb::backend::protocol::{Request, Response};
use tdb::connector::csv::{Csv, CsvConnection};
use tdb::core::source::{SourceRecord, Status};
use tdb::core::value::{Column, ResultSet, Value};
use tdb::tui::action::{Action, Motion};
use tdb::tui::app::AppState;
use tdb::tui::keymap::Keymap;
use tdb::tui::panes::grid::Grid;
use tdb::tui::ui;

fn result(rows: usize, cols: usize) -> ResultSet {
    let columns = (0..cols)
        .map(|c| Column {
            name: format!("column_{c}"),
            type_name: if c % 3 == 0 { "int8" } else { "text" }.into(),
        })
        .collect();
    let rows = (0..rows)
        .map(|r| {
            (0..cols)
                .map(|c| match c % 5 {
                    0 => Value::Int((r * cols + c) as i64),
                    1 => Value::Text(format!("customer {r} 山田")),
                    2 if r % 7 == 0 => Value::Null,
                    2 => Value::Numeric(format!("{}.{:02}", r * 13, c)),
                    3 => Value::Text(format!("a longer note for row {r}, cut at forty columns")),
                    _ => Value::Text("ok".into()),
                })
                .collect()
        })
        .collect();
    ResultSet {
        columns,
        rows,
        truncated: true,
    }
}

fn app_with(rs: ResultSet, width: u16, height: u16) -> AppState {
    let (mut app, startup) = AppState::new(
        Keymap::defaults().unwrap(),
        ratatui::layout::Rect::new(0, 0, width, height),
        Instant::now(),
    );
    let Request::ListSources { id } = startup[0] else {
        unreachable!()
    };
    let rec = SourceRecord {
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
        tags: vec!["bench".into()],
        registered_by: "bench".into(),
        registered_at: "2026-01-01T00:00:00Z".into(),
        status: Status::Active,
    };
    app.on_response(Response::Sources {
        id,
        result: Ok(vec![rec]),
    });
    for _ in 0..10 {
        app.update(Action::LimitUp);
    }
    let reqs = app.update(Action::RunQuery);
    let id = reqs
        .iter()
        .find_map(|r| match r {
            Request::Query { id, .. } => Some(*id),
            _ => None,
        })
        .unwrap();
    app.on_response(Response::QueryDone {
        id,
        result: Ok(QueryOutcome {
            source_id: "s".into(),
            source_name: "bench".into(),
            sql: "SELECT * FROM data".into(),
            executed_sql: "SELECT * FROM data LIMIT 1001".into(),
            result: rs,
            duration: Duration::from_millis(3),
            executed_at: String::new(),
        }),
    });
    app.update(Action::FocusNext);
    app
}

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let n = samples.len();
    let median = samples[n / 2];
    let p99 = samples[(n * 99 / 100).min(n - 1)];
    let mean = samples.iter().sum::<Duration>() / n as u32;
    println!(
        "{label:<46} median {:>8.3} ms   mean {:>8.3}   min {:>8.3}   p99 {:>8.3}   (n={n})",
        ms(median),
        ms(mean),
        ms(samples[0]),
        ms(p99)
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    // Preparing the result once, when it arrives: sanitizing, widths, cut texts.
    let rs = result(1000, 20);
    let mut build = Vec::new();
    for _ in 0..50 {
        let copy = rs.clone();
        let t = Instant::now();
        let grid = black_box(Grid::new(copy));
        build.push(t.elapsed());
        drop(grid);
    }
    report("prepare a 1,000 × 20 result (once per query)", build);

    for (w, h) in [(120u16, 40u16), (200, 60)] {
        let mut app = app_with(result(1000, 20), w, h);
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        let moves = [Motion::Down, Motion::Right, Motion::PageDown, Motion::Left];
        let mut samples = Vec::new();
        for i in 0..2000 {
            app.update(Action::Move {
                motion: moves[i % moves.len()],
            });
            let t = Instant::now();
            term.draw(|f| ui::render(&app, f)).unwrap();
            samples.push(t.elapsed());
        }
        report(&format!("draw a frame of 1,000 × 20 at {w}×{h}"), samples);
    }
}
