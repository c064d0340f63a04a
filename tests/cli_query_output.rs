//! What `tdb query` prints around its rows: a leading comment in `--sql`, the note on stderr
//! when `--csv`/`--tsv` are cut at the limit, and a reader that goes away early (`| head`).

mod common;

use common::process::tdb;
use std::process::Command;

/// A home with source `wide`: 1,000 rows of about 300 bytes each.
fn home_with_rows() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wide.csv");
    let mut text = String::from("id,payload\n");
    for i in 0..1000 {
        text.push_str(&format!("{i},{}\n", "x".repeat(300)));
    }
    std::fs::write(&file, text).unwrap();
    let home = dir.path().join("home");
    let out = tdb(&home)
        .args(["source", "add", "wide", "--type", "csv", "--path"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (dir, home)
}

#[test]
fn sql_may_start_with_a_comment() {
    let (_dir, home) = home_with_rows();
    let out = tdb(&home)
        .args([
            "query",
            "--source",
            "wide",
            "--sql",
            "-- the first ids\nSELECT id FROM data ORDER BY id",
            "--limit",
            "2",
            "--csv",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "id\n0\n1\n");
}

#[test]
fn csv_and_tsv_cut_at_the_limit_say_so_on_stderr() {
    let (_dir, home) = home_with_rows();
    for format in ["--csv", "--tsv"] {
        let out = tdb(&home)
            .args([
                "query",
                "--source",
                "wide",
                "--sql",
                "SELECT id FROM data",
                "--limit",
                "3",
                format,
            ])
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "tdb: 3 rows shown, more exist (--limit 3)\n",
            "{format}"
        );
        let whole = tdb(&home)
            .args([
                "query",
                "--source",
                "wide",
                "--sql",
                "SELECT id FROM data WHERE id < 3",
                "--limit",
                "3",
                format,
            ])
            .output()
            .unwrap();
        assert!(
            whole.stderr.is_empty(),
            "{format}: a complete result says nothing"
        );
    }
}

#[test]
fn a_reader_that_goes_away_ends_it_quietly() {
    let (_dir, home) = home_with_rows();
    for format in ["--csv", "--tsv", "--json"] {
        let script = format!(
            "\"$TDB\" --home \"$HOME_DIR\" query --source wide --sql 'SELECT * FROM data' \
             --limit 1000 {format} 2>\"$ERR\" | head -c 10 >/dev/null; echo \"${{PIPESTATUS[0]}}\""
        );
        let err = home.parent().unwrap().join("stderr.txt");
        let out = Command::new("bash")
            .arg("-c")
            .arg(&script)
            .env("TDB", env!("CARGO_BIN_EXE_tdb"))
            .env("HOME_DIR", &home)
            .env("ERR", &err)
            .output()
            .unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "{format}");
        assert_eq!(std::fs::read_to_string(&err).unwrap(), "", "{format}");
    }
}

#[test]
fn a_signal_during_a_csv_import_stops_the_import() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("big.csv");
    let mut text = String::with_capacity(64 << 20);
    text.push_str("id,note,amount\n");
    let mut i = 0u64;
    while text.len() < 60 << 20 {
        text.push_str(&format!("{i},\"row {i}, with a comma\",{}.25\n", i % 977));
        i += 1;
    }
    std::fs::write(&file, text).unwrap();
    let home = dir.path().join("home");
    let out = tdb(&home)
        .args(["source", "add", "big", "--type", "csv", "--path"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut child = tdb(&home)
        .args([
            "query",
            "--source",
            "big",
            "--sql",
            "SELECT count(*) FROM data",
            "--json",
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the import is under way (its temp file exists), then interrupt it.
    let cache = home.join("cache");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !std::fs::read_dir(&cache)
        .map(|d| {
            d.flatten()
                .any(|e| e.file_name().to_string_lossy().contains("tmp"))
        })
        .unwrap_or(false)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the import never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // SAFETY: kill(2) on our own child's pid has no memory-safety preconditions.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    // The import stopped: no finished cache was left behind for the next query to use.
    let finished: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sqlite"))
        .collect();
    assert!(
        finished.is_empty(),
        "the import ran to the end: {finished:?}"
    );
    let audit = std::fs::read_to_string(home.join("tdb_audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "query_failed", "{last}");
}
