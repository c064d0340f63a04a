//! The real binary in tmux, as a newcomer would use it: add a CSV source through the form
//! (tested before saving), complete a column name in the editor, run queries, find one in
//! the history search and run it again, and come back to the same SQL after a restart.

mod common;

use common::tmux::Tmux;

#[test]
fn add_a_source_complete_a_column_and_run_a_query_from_history() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(
        &csv,
        "id,name,city\n1,Ada,London\n2,Grace,New York\n3,Linus,Helsinki\n",
    )
    .unwrap();
    let home = dir.path().join("home");
    let t = Tmux::start(dir.path());
    t.wait_for("the shell prompt", |s| s.contains("e2e$"));
    let start = format!("{} --home {}", env!("CARGO_BIN_EXE_tdb"), home.display());
    t.type_text(&start);
    t.keys(&["Enter"]);
    t.wait_for("an empty registry", |s| s.contains("no sources yet"));

    // Tab to the sources pane (editor, results, sources) and add one with the form.
    t.keys(&["Tab", "Tab", "a"]);
    t.wait_for("the form", |s| s.contains("Add a source"));
    t.type_text("people");
    t.keys(&["Tab", "Right", "Tab"]);
    t.wait_for("the csv fields", |s| s.contains("header row"));
    t.type_text(&csv.display().to_string());
    t.keys(&["C-t"]);
    t.wait_for("the test", |s| s.contains("✓ reachable"));
    t.keys(&["C-s"]);
    t.wait_for("the new source", |s| {
        s.contains("● people csv") && s.contains("added csv source people")
    });

    // To the editor; once the schema is read, complete a column name.
    t.keys(&["Tab", "Tab"]);
    t.wait_for("the schema", |s| s.contains("city VARCHAR"));
    t.keys(&["C-a", "C-k"]);
    t.type_text("SELECT na");
    t.keys(&["C-Space"]);
    t.wait_for("the completion popup", |s| {
        s.lines()
            .any(|l| l.contains("name") && l.contains("VARCHAR"))
    });
    t.keys(&["Enter"]);
    t.wait_for("the completed name", |s| s.contains("SELECT name"));
    t.type_text(" FROM data WHERE id = 2");
    t.keys(&["F5"]);
    t.wait_for("Grace", |s| s.contains("Grace") && s.contains("1 row"));

    // Another query, then the first one again from the history search.
    t.keys(&["C-a", "C-k"]);
    t.type_text("SELECT city FROM data ORDER BY id");
    t.keys(&["F5"]);
    t.wait_for("the cities", |s| {
        s.contains("Helsinki") && s.contains("3 rows")
    });
    t.keys(&["C-r"]);
    t.wait_for("the history", |s| s.contains("History · people"));
    t.type_text("id = 2");
    t.keys(&["Enter"]);
    t.wait_for("the query back in the editor", |s| {
        s.contains("SELECT name FROM data WHERE id = 2") && !s.contains("History · people")
    });
    t.keys(&["F5"]);
    let s = t.wait_for("Grace again", |s| {
        s.contains("Grace") && s.contains("1 row") && !s.contains("Helsinki")
    });
    assert!(s.contains("● people csv"), "{s}");

    // Quit and start again: the editor holds what was left in it.
    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| !s.contains("Sources"));
    t.type_text(&start);
    t.keys(&["Enter"]);
    t.wait_for("the saved SQL", |s| {
        s.contains("● people csv") && s.contains("SELECT name FROM data WHERE id = 2")
    });
    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| !s.contains("Sources"));

    // The command line sees the source.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tdb"))
        .arg("--home")
        .arg(&home)
        .args(["source", "list", "--json"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"people\""));
}
