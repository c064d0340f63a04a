//! The audit log from outside: tampering is found and named, many processes can share one
//! log, and the file stays private.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::Value;
use tdb::audit::{AuditLog, Event, Verification};

fn query(source_name: &str, rows: u64) -> Event {
    Event::Query {
        query_id: "9b1e0c2a-0000-4000-8000-000000000001".into(),
        source_id: "3f0c2a4e-0000-4000-8000-000000000001".into(),
        source_name: source_name.into(),
        sql: "SELECT * FROM data".into(),
        executed_sql: "SELECT * FROM \"public\".\"orders\" LIMIT 101".into(),
        rows_returned: rows,
        truncated: false,
        duration_ms: 7,
        bytes: None,
    }
}

/// A five-line log whose lines have rows_returned 11..=15, and its lines.
fn five_line_log(dir: &Path) -> (AuditLog, Vec<String>) {
    let log = AuditLog::new(dir.join("tdb_audit.jsonl"));
    for rows in 11..=15 {
        log.record(&query("orders", rows)).unwrap();
    }
    let lines = fs::read_to_string(log.path())
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    (log, lines)
}

fn write_lines(log: &AuditLog, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    fs::write(log.path(), text).unwrap();
}

fn broken_line(log: &AuditLog) -> usize {
    match log.verify().unwrap() {
        Verification::Broken { line, reason } => {
            assert!(!reason.is_empty());
            line
        }
        Verification::Intact { lines } => panic!("tampering not found ({lines} lines intact)"),
    }
}

#[test]
fn an_untouched_log_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let (log, lines) = five_line_log(dir.path());
    assert_eq!(lines.len(), 5);
    assert_eq!(log.verify().unwrap(), Verification::Intact { lines: 5 });
}

#[test]
fn changing_a_digit_in_any_line_is_found_on_that_line() {
    let dir = tempfile::tempdir().unwrap();
    let (log, original) = five_line_log(dir.path());
    for k in 1..=5 {
        let mut lines = original.clone();
        let from = format!("\"rows_returned\":{}", 10 + k);
        let to = format!("\"rows_returned\":{}", 90 + k);
        assert!(lines[k - 1].contains(&from));
        lines[k - 1] = lines[k - 1].replace(&from, &to);
        write_lines(&log, &lines);
        assert_eq!(broken_line(&log), k, "edited line {k}");
    }
}

#[test]
fn deleting_any_line_is_found_where_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let (log, original) = five_line_log(dir.path());
    for k in 1..=5 {
        let mut lines = original.clone();
        lines.remove(k - 1);
        write_lines(&log, &lines);
        assert_eq!(broken_line(&log), k, "deleted line {k}");
    }
}

#[test]
fn swapping_two_lines_is_found_on_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let (log, original) = five_line_log(dir.path());
    for k in 1..=4 {
        let mut lines = original.clone();
        lines.swap(k - 1, k);
        write_lines(&log, &lines);
        assert_eq!(broken_line(&log), k, "swapped lines {k} and {}", k + 1);
    }
}

#[test]
fn inserting_a_line_anywhere_is_found_on_it() {
    let dir = tempfile::tempdir().unwrap();
    let (log, original) = five_line_log(dir.path());
    for k in 1..=6 {
        // A copy of a real line (not of a neighbour: a line next to its own copy could be
        // either of the two).
        let mut lines = original.clone();
        let copy = original[if k <= 2 { 3 } else { 0 }].clone();
        lines.insert(k - 1, copy);
        write_lines(&log, &lines);
        assert_eq!(broken_line(&log), k, "copy inserted at {k}");

        // A forged line that has the right seq for its place.
        let mut forged: Value = serde_json::from_str(&original[0]).unwrap();
        forged["seq"] = (k as u64).into();
        forged["prev_sha256"] = "ab".repeat(32).into();
        let mut lines = original.clone();
        lines.insert(k - 1, forged.to_string());
        write_lines(&log, &lines);
        assert_eq!(broken_line(&log), k, "forged line inserted at {k}");
    }
}

#[test]
fn a_correctly_chained_line_appended_by_hand_is_found() {
    let dir = tempfile::tempdir().unwrap();
    let (log, original) = five_line_log(dir.path());
    let mut forged: Value = serde_json::from_str(&original[4]).unwrap();
    forged["seq"] = 6.into();
    forged["prev_sha256"] = sha256_hex(&original[4]).into();
    let mut lines = original.clone();
    lines.push(forged.to_string());
    write_lines(&log, &lines);
    assert_eq!(broken_line(&log), 6);
}

#[test]
fn later_writes_do_not_hide_a_change_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    let (log, original) = five_line_log(dir.path());

    // The last line edited, then tdb carries on.
    let mut lines = original.clone();
    lines[4] = lines[4].replace("\"rows_returned\":15", "\"rows_returned\":16");
    write_lines(&log, &lines);
    assert_eq!(log.record(&query("orders", 1)).unwrap(), 6);
    assert_eq!(log.record(&query("orders", 2)).unwrap(), 7);
    assert_eq!(broken_line(&log), 5);

    // The last line removed, then tdb carries on.
    let dir = tempfile::tempdir().unwrap();
    let (log, original) = five_line_log(dir.path());
    write_lines(&log, &original[..4]);
    assert_eq!(log.record(&query("orders", 1)).unwrap(), 6);
    assert_eq!(broken_line(&log), 5);

    // A change in the middle is not sealed either.
    let dir = tempfile::tempdir().unwrap();
    let (log, original) = five_line_log(dir.path());
    let mut lines = original.clone();
    lines[2] = lines[2].replace("orders", "ordenes");
    write_lines(&log, &lines);
    log.record(&query("orders", 1)).unwrap();
    assert_eq!(broken_line(&log), 3);
}

#[test]
fn the_log_and_its_head_are_private() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = five_line_log(dir.path());
    for p in [log.path().to_path_buf(), log.head_path()] {
        let mode = fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", p.display());
    }
}

fn sha256_hex(line: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(line.as_bytes()))
}

const WRITERS: usize = 8;
const EVENTS_PER_WRITER: u64 = 500;
const WRITER_LOG_ENV: &str = "TDB_TEST_AUDIT_WRITER_LOG";
const WRITER_ID_ENV: &str = "TDB_TEST_AUDIT_WRITER_ID";

/// A child of `eight_processes_share_one_log`; does nothing in a normal test run.
#[test]
fn audit_writer_child() {
    let (Ok(path), Ok(id)) = (std::env::var(WRITER_LOG_ENV), std::env::var(WRITER_ID_ENV)) else {
        return;
    };
    let log = AuditLog::new(&path);
    // Start together: wait for the parent's signal that every child is running.
    let go = Path::new(&path).with_extension("go");
    while !go.exists() {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    for i in 0..EVENTS_PER_WRITER {
        log.record(&query(&format!("writer-{id}"), i)).unwrap();
    }
}

#[test]
fn eight_processes_share_one_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tdb_audit.jsonl");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..WRITERS)
        .map(|id| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "audit_writer_child",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(WRITER_LOG_ENV, &path)
                .env(WRITER_ID_ENV, id.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    fs::write(path.with_extension("go"), "").unwrap();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "writer failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let total = WRITERS as u64 * EVENTS_PER_WRITER;
    let text = fs::read_to_string(&path).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let seqs: Vec<u64> = lines.iter().map(|v| v["seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, (1..=total).collect::<Vec<_>>());
    // Each writer's events are all there, in the order it wrote them.
    for id in 0..WRITERS {
        let name = format!("writer-{id}");
        let rows: Vec<u64> = lines
            .iter()
            .filter(|v| v["source_name"] == name.as_str())
            .map(|v| v["rows_returned"].as_u64().unwrap())
            .collect();
        assert_eq!(rows, (0..EVENTS_PER_WRITER).collect::<Vec<_>>(), "{name}");
    }
    assert_eq!(
        AuditLog::new(&path).verify().unwrap(),
        Verification::Intact {
            lines: total as usize
        }
    );
}
