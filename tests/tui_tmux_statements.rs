//! The statement under the cursor in the real binary, inside tmux: the first key typed
//! replaces the starter SQL, F5 runs only the statement the cursor is in (a `;` inside a
//! string does not split), and the Alt-L prompt's number is replaced by typing.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::tmux::{Tmux, text};

const CSV: &str = "id,name\n1,alice\n2,bob\n3,carol\n";

fn register(home: &Path, csv: &Path) {
    let out = Command::new(env!("CARGO_BIN_EXE_tdb"))
        .arg("--home")
        .arg(home)
        .args(["source", "add", "people", "--type", "csv", "--path"])
        .arg(csv)
        .env_remove("TDB_MASTER_KEY")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn f5_runs_the_statement_under_the_cursor_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, CSV).unwrap();
    let home = dir.path().join("home");
    register(&home, &csv);
    let t = Tmux::start(dir.path());
    t.wait_for("the shell prompt", |s| s.contains("e2e$"));
    t.type_text(&format!(
        "{} --home {}",
        env!("CARGO_BIN_EXE_tdb"),
        home.display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("the UI", |s| s.contains("SELECT * FROM data"));

    // Typing replaces the starter SQL at once.
    // (A space after the `;`: tmux reads an argument ending in `;` as its own separator.)
    t.type_text("SELECT name, 'x;y' AS s FROM data WHERE id = 1; ");
    t.keys(&["Enter"]);
    t.type_text("SELECT name FROM data WHERE id > 1");
    let s = t.wait_for("the typed text", |s| s.contains("WHERE id > 1"));
    assert!(
        !s.contains("SELECT * FROM data"),
        "the starter is gone:\n{s}"
    );

    // The cursor on the second line: only that statement runs.
    t.keys(&["F5"]);
    let s = t.wait_for("the second statement's rows", |s| s.contains("2 rows · "));
    assert!(s.contains("carol") && !s.contains("alice"), "{s}");

    // Up into the first: its `;` inside the string did not split it.
    t.keys(&["Up", "F5"]);
    let s = t.wait_for("the first statement's rows", |s| s.contains("1 row · "));
    assert!(s.contains("alice") && s.contains("x;y"), "{s}");

    // The limit prompt: typing replaces the number in it.
    t.keys(&["M-l"]);
    t.wait_for("the limit prompt", |s| s.contains("100"));
    t.type_text("7");
    t.keys(&["Enter"]);
    t.wait_for("the new limit", |s| s.contains("limit 7 "));
    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| !s.contains("WHERE id > 1"));
}

#[test]
fn tabs_pin_run_all_and_switch_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, CSV).unwrap();
    let home = dir.path().join("home");
    register(&home, &csv);
    let t = Tmux::start(dir.path());
    t.wait_for("the shell prompt", |s| s.contains("e2e$"));
    t.type_text(&format!(
        "{} --home {}",
        env!("CARGO_BIN_EXE_tdb"),
        home.display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("the UI", |s| s.contains("SELECT * FROM data"));

    // Two statements, run all: a tab each, the cap named in the status bar.
    t.type_text("SELECT name FROM data WHERE id = 1; ");
    t.keys(&["Enter"]);
    t.type_text("SELECT id FROM data");
    t.keys(&["S-F5"]);
    let s = t.wait_for("two tabs", |s| {
        s.contains("tab 2/2 (up to 8 tabs, 100000 rows in all)") && s.contains("3 rows · ")
    });
    assert!(s.contains(" 1 SELECT name FROM … · 1 · "), "{s}");
    assert!(s.contains(" 2 SELECT id FROM da… · 3 · "), "{s}");

    // To the results, back to the first tab: its row shows.
    t.keys(&["Tab", "["]);
    t.wait_for("the first tab", |s| {
        s.contains("1 row · ") && s.contains("alice")
    });
    // Pinned, a run from the editor opens a third tab and leaves this one.
    t.keys(&["p"]);
    t.wait_for("the pin", |s| s.contains("⚲ 1 SELECT name"));
    t.keys(&["BTab", "F5"]);
    t.wait_for("a third tab", |s| s.contains("tab 3/3"));
    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| !s.contains("SELECT id FROM data"));
}

#[test]
fn slash_filters_the_rows_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, CSV).unwrap();
    let home = dir.path().join("home");
    register(&home, &csv);
    let t = Tmux::start(dir.path());
    t.wait_for("the shell prompt", |s| s.contains("e2e$"));
    t.type_text(&format!(
        "{} --home {}",
        env!("CARGO_BIN_EXE_tdb"),
        home.display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("the UI", |s| s.contains("SELECT * FROM data"));
    t.keys(&["F5"]);
    t.wait_for("the rows", |s| {
        s.contains("3 rows · ") && s.contains("carol")
    });
    t.keys(&["Tab", "/"]);
    t.type_text("AR");
    let s = t.wait_for("the filtered rows", |s| s.contains("/AR▏ · 1 of 3"));
    assert!(
        s.contains("carol") && !s.contains("alice") && !s.contains("bob"),
        "{s}"
    );
    t.keys(&["BSpace", "BSpace"]);
    t.type_text("name:b");
    t.wait_for("one column", |s| {
        s.contains("/name:b▏ · 1 of 3") && s.contains("bob")
    });
    t.keys(&["Escape"]);
    let s = t.wait_for("every row again", |s| s.contains("3 rows · "));
    assert!(s.contains("alice") && s.contains("carol"), "{s}");
    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| !s.contains("3 rows · "));
}
