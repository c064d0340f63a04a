//! What `tdb query` prints around its rows: a leading comment in `--sql`, the note on stderr
//! when `--csv`/`--tsv` are cut at the limit, and a reader that goes away early (`| head`).

use std::path::Path;
use std::process::Command;

fn tdb(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tdb"));
    c.arg("--home").arg(home).env_remove("TDB_MASTER_KEY");
    c
}

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
