//! The real binary in tmux while another process holds the registry's write lock and the
//! audit log's lock: the screen keeps drawing and answering keys (the backend waits on its
//! own thread), and the query asked for under the locks finishes once they are let go.
//!
//! The frames are timed by tdb itself: with `TDB_LOG=trace` it logs each frame, when it
//! reached the terminal on its own clock and how long after it became due (a spinner tick's
//! deadline). A UI held up by a lock shows as a tick seconds late, or as no frames at all.

mod common;

use std::fs::File;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use common::process::{tdb, text};
use common::tmux::Tmux;

/// How long the locks are held after the query is asked for.
const HELD: Duration = Duration::from_secs(3);
/// How late a frame may reach the terminal after it was due: a generous bound for a debug
/// build on a loaded machine; a UI waiting on a lock is late by seconds.
const LATE_MAX_US: u64 = 50_000;
/// The spinner's period (tui::TICK) plus that bound: the most two frames may lie apart
/// while a query runs.
const GAP_MAX_US: u64 = 100_000 + LATE_MAX_US;

/// One frame of tdb's log.
#[derive(Debug)]
struct Frame {
    /// The wall clock when it was logged, to match it with the time the locks were held.
    logged: SystemTime,
    cause: String,
    at_us: u64,
    late_us: u64,
}

/// The frames tdb logged (`TDB_LOG=trace`): lines such as
/// `2026-12-02T01:40:00.123456Z TRACE tdb::frame: frame cause="tick" at_us=1 late_us=2`.
fn frames(log: &Path) -> Vec<Frame> {
    let log = std::fs::read_to_string(log).unwrap();
    log.lines()
        .filter(|l| l.contains("tdb::frame:"))
        .map(|l| {
            let stamp = l.split_whitespace().next().unwrap();
            let logged = chrono::DateTime::parse_from_rfc3339(stamp)
                .unwrap_or_else(|e| panic!("{stamp:?}: {e}"));
            let field = |name: &str| {
                l.split_whitespace()
                    .find_map(|w| w.strip_prefix(&format!("{name}=")))
                    .unwrap_or_else(|| panic!("no {name} in {l:?}"))
                    .trim_matches('"')
                    .to_string()
            };
            Frame {
                logged: SystemTime::from(logged),
                cause: field("cause"),
                at_us: field("at_us").parse().unwrap(),
                late_us: field("late_us").parse().unwrap(),
            }
        })
        .collect()
}

#[test]
fn the_screen_stays_live_while_another_process_holds_the_registry_and_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, "id,name\n1,Ada\n2,Grace\n3,Linus\n").unwrap();
    let home = dir.path().join("home");
    let out = tdb(&home)
        .args(["source", "add", "people", "--type", "csv", "--path"])
        .arg(&csv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));

    let t = Tmux::start_with(dir.path(), "TDB_LOG=trace");
    t.wait_for("the shell prompt", |s| s.contains("e2e$"));
    t.type_text(&format!(
        "{} --home {}",
        env!("CARGO_BIN_EXE_tdb"),
        home.display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("the imported schema", |s| {
        s.contains("● people csv") && s.contains("name VARCHAR")
    });
    t.keys(&["C-a", "C-k"]);
    t.type_text("SELECT name FROM data WHERE id = 2");
    t.wait_for("the SQL", |s| {
        s.contains("SELECT name FROM data WHERE id = 2") && !s.contains("SELECT *")
    });

    // Another process (this test) takes the registry's write lock, as a second tdb or a
    // `sqlite3 registry.db 'BEGIN IMMEDIATE'` would, and the audit log's lock.
    let registry = rusqlite::Connection::open(home.join("registry.db")).unwrap();
    registry.execute_batch("BEGIN IMMEDIATE").unwrap();
    let audit = File::open(home.join("tdb_audit.jsonl")).unwrap();
    audit.lock().unwrap();
    let locked_at = SystemTime::now();
    let locked = Instant::now();

    t.keys(&["F5"]);
    t.wait_for("the running query", |s| s.contains("running"));
    // Keys are answered meanwhile: the text typed shows while the locks are still held.
    t.type_text(" -- typed under the locks");
    t.wait_for("the typed text", |s| s.contains("typed under the locks"));
    std::thread::sleep(HELD.saturating_sub(locked.elapsed()));
    let s = t.screen();
    assert!(
        !s.contains("Grace") && s.contains("running"),
        "the query cannot have run while the audit log was locked:\n{s}"
    );
    let released_at = SystemTime::now();
    drop(audit);
    registry.execute_batch("COMMIT").unwrap();
    drop(registry);

    // The query asked for under the locks runs once they are gone.
    t.wait_for("the row", |s| s.contains("Grace") && s.contains("1 row"));
    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| !s.contains("Sources"));

    let all = frames(&home.join("tdb.log"));
    let held: Vec<&Frame> = all
        .iter()
        .filter(|f| f.logged >= locked_at && f.logged <= released_at)
        .collect();
    let ticks = held.iter().filter(|f| f.cause == "tick").count();
    // 3 s of a spinner turning every 100 ms; a frozen screen has none.
    assert!(
        ticks >= 20,
        "only {ticks} spinner frames under the locks: {held:#?}"
    );
    for f in &held {
        assert!(
            f.late_us < LATE_MAX_US,
            "a frame late under the locks: {f:?}"
        );
    }
    for pair in held.windows(2) {
        let gap = pair[1].at_us - pair[0].at_us;
        assert!(gap < GAP_MAX_US, "no frame for {gap} µs: {pair:?}");
    }
    let late = held.iter().map(|f| f.late_us).max().unwrap_or(0);
    eprintln!(
        "{} frames under the locks ({ticks} spinner ticks), the latest {late} µs after due",
        held.len()
    );
}
