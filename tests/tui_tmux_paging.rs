//! The real `tdb` binary in a real terminal (tmux) fetching a second page: F5 on a table of
//! 2,500 rows shows the first 100 and says more exist; `G` then `↓` past the last row loads
//! the next 1,000 from the statement held open, the edge says how many are loaded, the
//! status bar names the session cap, and the new rows are there to scroll to.

mod common;

use std::path::PathBuf;

use common::pg;
use common::process::{run_stdin, tdb};
use common::tmux::{Tmux, text};
use serde_json::json;

#[test]
fn a_second_page_is_fetched_in_a_real_terminal() {
    let c = pg::shared();
    let db = pg::unique("pages");
    c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
    c.psql(
        &db,
        "CREATE TABLE items (id int PRIMARY KEY, label text);
         INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 2500) g;",
    );
    let dir = tempfile::tempdir().unwrap();
    let home: PathBuf = dir.path().join("home");
    let mut conn = c.connection_json(&db, pg::SUPERUSER, c.superuser_password());
    conn["table"] = json!("items");
    let body = json!({"name": "items", "source_type": "postgres", "connection": conn});
    let out = run_stdin(
        tdb(&home).args(["source", "add", "--from-json", "-"]),
        &body.to_string(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));

    let t = Tmux::start(dir.path());
    t.wait_for("the shell prompt", |s| s.contains("e2e$"));
    t.type_text(&format!(
        "{} --home {}",
        env!("CARGO_BIN_EXE_tdb"),
        home.display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("the UI", |s| s.contains("● items postgres"));
    t.keys(&["C-a", "C-k"]);
    t.type_text("SELECT id, label FROM data ORDER BY id");
    t.keys(&["F5"]);
    t.wait_for("the first page", |s| {
        s.contains("100 rows · more exist (↓)") && s.contains("item 1 ")
    });

    // To the results, to the last row, then past it.
    t.keys(&["Tab"]);
    t.keys(&["G"]);
    t.wait_for("the last row of the page", |s| s.contains("row 100/100"));
    t.keys(&["Down"]);
    let s = t.wait_for("the second page", |s| {
        s.contains("1100 rows loaded · more exist (↓)") && s.contains("row 101/1100")
    });
    assert!(s.contains("item 101"), "the first new row shows:\n{s}");
    assert!(
        s.contains("session cap 100000 rows"),
        "the cap is named:\n{s}"
    );
    t.keys(&["G"]);
    t.wait_for("the new last row", |s| {
        s.contains("row 1100/1100") && s.contains("item 1100")
    });

    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| s.trim_end().ends_with("e2e$"));
}
