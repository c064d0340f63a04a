//! The schema search and width, the plan view and the source detail in the real binary,
//! inside tmux: what a person sees after each key.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::tmux::{Tmux, text};

const CSV: &str = "id,name,home_city\n1,alice,Paris\n2,bob,Oslo\n3,carol,Lima\n";

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

/// tdb on a home with one CSV source, its UI up.
fn open(dir: &Path) -> Tmux {
    let csv = dir.join("people.csv");
    std::fs::write(&csv, CSV).unwrap();
    let home = dir.join("home");
    register(&home, &csv);
    let t = Tmux::start(dir);
    t.wait_for("the shell prompt", |s| s.contains("e2e$"));
    t.type_text(&format!(
        "{} --home {}",
        env!("CARGO_BIN_EXE_tdb"),
        home.display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("the UI and the schema", |s| {
        s.contains("SELECT * FROM data") && s.contains("home_city")
    });
    t
}

#[test]
fn f6_shows_the_plan_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let t = open(dir.path());
    t.keys(&["C-l"]);
    t.type_text("SELECT name FROM data ORDER BY name");
    t.keys(&["F6"]);
    t.wait_for("the plan", |s| s.contains("Plan · EXPLAIN · people"));
    let s = t.wait_for("its steps", |s| s.contains("ORDER_BY"));
    assert!(s.contains("a analyze"), "{s}");
    // DuckDB runs it for the times and rows of each step.
    t.keys(&["a"]);
    t.wait_for("the analyzed plan", |s| {
        s.contains("Plan · EXPLAIN ANALYZE · people") && s.contains("ORDER_BY")
    });
    t.keys(&["Escape"]);
    t.wait_for("the panes again", |s| {
        !s.contains("Plan · EXPLAIN") && s.contains("ORDER BY name")
    });
    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| !s.contains("ORDER BY name"));
}

#[test]
fn the_schema_search_and_width_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let t = open(dir.path());
    // Editor -> schema.
    t.keys(&["BTab"]);
    t.keys(&["/"]);
    t.type_text("city");
    let s = t.wait_for("the search", |s| s.contains("/city") && s.contains("1/1"));
    assert!(
        !s.contains("SELECT * FROM datacity"),
        "keys went to the search:\n{s}"
    );
    t.keys(&["Enter", "n"]);
    t.wait_for("still one match", |s| s.contains("1/1"));
    t.keys(&["Escape"]);
    t.wait_for("the search cleared", |s| !s.contains("/city"));
    // Wider by a few columns: the top border's corner moves right.
    let corner = |s: &str| s.lines().next().and_then(|l| l.find("┐┌")).unwrap_or(0);
    let before = corner(&t.screen());
    t.keys(&[">", ">"]);
    t.wait_for("a wider left column", |s| corner(s) > before);
    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| !s.contains("home_city"));
}

#[test]
fn i_shows_the_source_detail_in_a_real_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let t = open(dir.path());
    t.keys(&["F5"]);
    t.wait_for("the rows", |s| s.contains("3 rows · "));
    // Editor -> schema -> sources.
    t.keys(&["BTab", "BTab", "t"]);
    t.wait_for("the test", |s| s.contains("people: reachable"));
    t.keys(&["i"]);
    let s = t.wait_for("the detail", |s| {
        s.contains("Source · people") && s.contains("Recent queries (1 of 1)")
    });
    assert!(s.contains("reachable · "), "the last test:\n{s}");
    assert!(s.contains("100.0% of 2 tests and queries answered"), "{s}");
    t.wait_for("the cache size", |s| s.contains("a copy of the file"));
    t.keys(&["Escape"]);
    t.wait_for("the panes again", |s| !s.contains("Source · people"));
    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| !s.contains("home_city"));
}
