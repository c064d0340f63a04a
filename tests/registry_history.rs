//! The registry's query history and editor texts: the migration from a version-1 registry,
//! the cap per source, removal, and two processes writing history at once.

use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::json;
use tdb::core::history::{HistoryEntry, KEEP_PER_SOURCE, Outcome};
use tdb::core::source::RegisterRequest;
use tdb::home::Home;
use tdb::registry::{Registry, Removal};

/// The registry schema exactly as version 1 of tdb created it.
const V1_SCHEMA: &str = "CREATE TABLE sources (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        source_type   TEXT NOT NULL,
        connection    TEXT NOT NULL,
        secret        BLOB,
        description   TEXT NOT NULL DEFAULT '',
        tags          TEXT NOT NULL DEFAULT '[]',
        registered_by TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        status        TEXT NOT NULL DEFAULT 'active',
        deleted_at    TEXT
    );
    CREATE UNIQUE INDEX sources_live_name ON sources(name) WHERE deleted_at IS NULL;
    PRAGMA user_version = 1;";

fn entry(source_id: &str, sql: &str, outcome: Outcome) -> HistoryEntry {
    HistoryEntry {
        source_id: source_id.into(),
        sql: sql.into(),
        started_at: "2026-05-22T09:15:00.000Z".into(),
        duration_ms: 12,
        rows: (outcome == Outcome::Ok).then_some(3),
        truncated: false,
        outcome,
        error: (outcome != Outcome::Ok).then(|| "SQL validation failed: nope".into()),
    }
}

fn csv_source(reg: &mut Registry, dir: &Path, name: &str) -> String {
    let path = dir.join(format!("{name}.csv"));
    std::fs::write(&path, "id,name\n1,alice\n2,bob\n").unwrap();
    let body = json!({"name": name, "source_type": "csv", "connection": {"path": path}});
    let new = RegisterRequest::from_json_text(&body.to_string())
        .unwrap()
        .validate(
            tdb::connector::find_kind,
            &tdb::core::kind::Context {
                cwd: dir,
                user_home: None,
            },
        )
        .unwrap();
    reg.add(new, "tester").unwrap().id
}

#[test]
fn a_version_1_registry_gains_history_and_keeps_its_sources() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    home.ensure().unwrap();
    {
        let db = rusqlite::Connection::open(home.registry_path()).unwrap();
        db.execute_batch(V1_SCHEMA).unwrap();
        db.execute(
            "INSERT INTO sources (id, name, source_type, connection, registered_by, registered_at)
             VALUES ('s1', 'people', 'csv', ?1, 'alice@old', '2026-01-01T00:00:00Z')",
            [
                json!({"path": "/data/people.csv", "delimiter": ",", "has_header": true})
                    .to_string(),
            ],
        )
        .unwrap();
    }
    let reg = Registry::open(&home).unwrap();
    let sources = reg.list(None).unwrap();
    assert_eq!(sources.len(), 1);
    assert_eq!(sources[0].name, "people");
    reg.record_history(&entry("s1", "SELECT 1", Outcome::Ok))
        .unwrap();
    reg.save_editor_text("s1", "SELECT name FROM data").unwrap();
    assert_eq!(reg.history("s1", 10).unwrap()[0].sql, "SELECT 1");
    assert_eq!(
        reg.editor_text("s1").unwrap().as_deref(),
        Some("SELECT name FROM data")
    );
    drop(reg);
    let db = rusqlite::Connection::open(home.registry_path()).unwrap();
    let version: i64 = db
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 3);
}

#[test]
fn history_is_newest_first_capped_and_goes_with_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    let mut reg = Registry::open(&home).unwrap();
    let a = csv_source(&mut reg, dir.path(), "a");
    let b = csv_source(&mut reg, dir.path(), "b");
    for i in 0..KEEP_PER_SOURCE + 5 {
        reg.record_history(&entry(&a, &format!("SELECT {i}"), Outcome::Ok))
            .unwrap();
    }
    reg.record_history(&entry(&b, "SELECT * FROM nope", Outcome::Rejected))
        .unwrap();
    let history = reg.history(&a, usize::MAX).unwrap();
    assert_eq!(history.len(), KEEP_PER_SOURCE);
    assert_eq!(history[0].sql, format!("SELECT {}", KEEP_PER_SOURCE + 4));
    assert_eq!(history.last().unwrap().sql, "SELECT 5");
    let other = reg.history(&b, 10).unwrap();
    assert_eq!(other.len(), 1, "a cap per source");
    assert_eq!(other[0].outcome, Outcome::Rejected);
    assert_eq!(
        other[0].error.as_deref(),
        Some("SQL validation failed: nope")
    );

    reg.save_editor_text(&a, "SELECT 1").unwrap();
    reg.save_editor_text(&a, "SELECT 2").unwrap();
    assert_eq!(reg.editor_text(&a).unwrap().as_deref(), Some("SELECT 2"));
    reg.remove(&a, Removal::Soft).unwrap();
    assert!(reg.history(&a, 10).unwrap().is_empty());
    assert_eq!(reg.editor_text(&a).unwrap(), None);
    reg.save_editor_text(&b, "SELECT 3").unwrap();
    reg.remove(&b, Removal::Purge).unwrap();
    assert!(reg.history(&b, 10).unwrap().is_empty());
    assert_eq!(reg.editor_text(&b).unwrap(), None);
}

#[test]
fn queries_from_the_command_line_are_kept_in_the_history() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    let id = csv_source(&mut Registry::open(&home).unwrap(), dir.path(), "people");
    let tdb = |sql: &str| {
        Command::new(env!("CARGO_BIN_EXE_tdb"))
            .arg("--home")
            .arg(home.root())
            .args(["query", "--source", "people", "--sql", sql, "--json"])
            .env_remove("TDB_MASTER_KEY")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
    };
    assert!(tdb("SELECT name FROM data").success());
    assert_eq!(tdb("DELETE FROM data").code(), Some(10));
    assert_eq!(tdb("SELECT nope FROM data").code(), Some(14));
    let history = Registry::open(&home).unwrap().history(&id, 10).unwrap();
    let got: Vec<(&str, Outcome, Option<u64>)> = history
        .iter()
        .map(|h| (h.sql.as_str(), h.outcome, h.rows))
        .collect();
    assert_eq!(
        got,
        [
            ("SELECT nope FROM data", Outcome::Failed, None),
            ("DELETE FROM data", Outcome::Rejected, None),
            ("SELECT name FROM data", Outcome::Ok, Some(2)),
        ]
    );
    assert!(
        history[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("nope")),
        "{:?}",
        history[0].error
    );
}

#[test]
fn two_processes_writing_history_at_once_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    let id = csv_source(&mut Registry::open(&home).unwrap(), dir.path(), "people");
    // Two shells, each running queries back to back, both against the same registry.
    let script = format!(
        "for i in 1 2 3 4 5 6 7 8; do '{}' --home '{}' query --source people --sql \"SELECT $i AS n FROM data\" >/dev/null || exit 1; done",
        env!("CARGO_BIN_EXE_tdb"),
        home.root().display()
    );
    let children: Vec<_> = (0..2)
        .map(|_| {
            Command::new("sh")
                .args(["-c", &script])
                .env_remove("TDB_MASTER_KEY")
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "every query succeeds");
    }
    let history = Registry::open(&home).unwrap().history(&id, 100).unwrap();
    assert_eq!(history.len(), 16, "every run of both processes is kept");
    assert!(history.iter().all(|h| h.outcome == Outcome::Ok));
}

#[test]
fn two_registries_recording_in_a_tight_loop_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    let id = csv_source(&mut Registry::open(&home).unwrap(), dir.path(), "people");
    let writers: Vec<_> = (0..2)
        .map(|w| {
            let (home, id) = (home.clone(), id.clone());
            std::thread::spawn(move || {
                let reg = Registry::open(&home).unwrap();
                for i in 0..200 {
                    reg.record_history(&entry(&id, &format!("SELECT {w}, {i}"), Outcome::Ok))
                        .unwrap();
                    reg.save_editor_text(&id, &format!("-- writer {w}"))
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().unwrap();
    }
    let reg = Registry::open(&home).unwrap();
    assert_eq!(reg.history(&id, usize::MAX).unwrap().len(), 400);
    assert!(reg.editor_text(&id).unwrap().is_some());
}

/// Each `tdb` command is a process of its own that opens the registry, writes a little and
/// exits. The WAL is kept between them (no checkpoint on close, for speed), so it must still
/// be folded back now and then instead of growing with every run.
#[test]
fn the_wal_stays_small_across_many_tdb_processes() {
    let dir = tempfile::tempdir().unwrap();
    let home = Home::at(dir.path().join("home"));
    let id = csv_source(&mut Registry::open(&home).unwrap(), dir.path(), "people");
    // 200 queries, each kept in the history with its ~9 KB of SQL: ~4 MiB of WAL unfolded.
    let padding = "x".repeat(9_000);
    let script = format!(
        "i=0; while [ $i -lt 200 ]; do i=$((i+1)); '{}' --home '{}' query --source people --sql \"SELECT $i AS n FROM data -- {padding}\" >/dev/null || exit 1; stat -c %s '{}/registry.db-wal' >> '{}/sizes'; done",
        env!("CARGO_BIN_EXE_tdb"),
        home.root().display(),
        home.root().display(),
        dir.path().display(),
    );
    let status = Command::new("sh")
        .args(["-c", &script])
        .env_remove("TDB_MASTER_KEY")
        .status()
        .unwrap();
    assert!(status.success(), "every query succeeds");
    let sizes = std::fs::read_to_string(dir.path().join("sizes")).unwrap();
    let largest = sizes
        .lines()
        .map(|l| l.parse::<u64>().unwrap())
        .max()
        .unwrap();
    assert!(largest < 512 << 10, "the WAL grew to {largest} bytes");
    let history = Registry::open(&home).unwrap().history(&id, 1000).unwrap();
    assert_eq!(history.len(), 200, "every run is kept");
    assert!(history[0].sql.starts_with("SELECT 200 AS n"));
}
