//! The real `tdb` binary in a real terminal (tmux): start it, run a query with F5, cancel a
//! slow PostgreSQL query with Esc and watch the server drop it, show hostile data without
//! it retitling or clearing anything, and quit with Ctrl-Q back to a working shell.

mod common;

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::pg;
use common::process::{run_stdin, tdb};
use common::tmux::{PATIENCE, Tmux, text};
use serde_json::json;

/// A database whose `orders` hold a note with a window-title escape, a screen clear, a
/// carriage return and a right-to-left override.
fn database() -> String {
    let c = pg::shared();
    let db = pg::unique("e2e");
    c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
    c.psql(
        &db,
        "CREATE TABLE orders (id int PRIMARY KEY, customer text, note text);
         INSERT INTO orders SELECT g, CASE WHEN g % 2 = 0 THEN '山田 ' || g ELSE 'Ngozi ' || g END,
                CASE WHEN g = 3 THEN E'evil \\x1b]0;pwned\\x07 \\x1b[2J\\r\\u202Eexe' ELSE 'note ' || g END
         FROM generate_series(1, 250) g;",
    );
    db
}

fn register(home: &Path, db: &str) {
    let c = pg::shared();
    let mut conn = c.connection_json(db, pg::SUPERUSER, c.superuser_password());
    conn["table"] = json!("orders");
    let body = json!({"name": "orders", "source_type": "postgres", "connection": conn});
    let out = run_stdin(
        tdb(home).args(["source", "add", "--from-json", "-"]),
        &body.to_string(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn the_real_binary_in_a_real_terminal() {
    let db = database();
    let dir = tempfile::tempdir().unwrap();
    let home: PathBuf = dir.path().join("home");
    register(&home, &db);
    let t = Tmux::start(dir.path());
    t.wait_for("the shell prompt", |s| s.contains("e2e$"));
    let title_before = t.format("#{pane_title}");

    // Start: the first source is selected, its starter SQL in the editor.
    t.type_text(&format!(
        "{} --home {}",
        env!("CARGO_BIN_EXE_tdb"),
        home.display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("the UI", |s| {
        s.contains("SELECT * FROM data") && s.contains("● orders postgres")
    });
    assert_eq!(
        t.format("#{alternate_on}"),
        "1",
        "the UI is on the alternate screen"
    );

    // F5: rows, with the truncation notice; hostile data shown visibly.
    t.keys(&["F5"]);
    let s = t.wait_for("the rows", |s| s.contains("100 rows · more exist (↓)"));
    assert!(s.contains("山田 2"), "{s}");
    assert!(
        s.contains("evil ␛]0;pwned\\x07 ␛[2J␍<U+202E>exe"),
        "the escape sequences show as text:\n{s}"
    );
    assert!(
        s.contains("SELECT * FROM data"),
        "nothing cleared the screen:\n{s}"
    );
    assert_eq!(
        t.format("#{pane_title}"),
        title_before,
        "nothing retitled the pane"
    );

    // A slow query: Esc cancels it on the server.
    let marker = pg::unique("slow");
    t.keys(&["C-a", "C-k"]);
    t.type_text(&format!("SELECT pg_sleep(60), '{marker}' AS m"));
    t.keys(&["F5"]);
    t.wait_for("the spinner", |s| s.contains("running on orders"));
    let c = pg::shared();
    let active = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' \
         AND query LIKE '%{marker}%' AND state = 'active' AND pid <> pg_backend_pid()"
    );
    let deadline = Instant::now() + PATIENCE;
    while c.psql("postgres", &active).trim() != "1" {
        assert!(Instant::now() < deadline, "the slow query never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    t.keys(&["Escape"]);
    t.wait_for("the cancel", |s| s.contains("Query on orders cancelled."));
    while c.psql("postgres", &active).trim() != "0" {
        assert!(
            Instant::now() < deadline,
            "the server still runs the cancelled query"
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // Resizing redraws; too small a terminal says so, and growing again brings it back.
    t.resize(50, 12);
    t.wait_for("the too-small notice", |s| s.contains("Terminal too small"));
    t.resize(100, 30);
    t.wait_for("the panes again", |s| {
        s.contains("Query on orders cancelled.")
            && s.lines().next().is_some_and(|l| l.chars().count() == 100)
    });

    // Ctrl-Q: back to the shell, with the terminal as it was.
    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| !s.contains("SELECT * FROM data"));
    // The screen may be cleared a moment before tmux reads the escape that leaves it.
    let left = Instant::now() + PATIENCE;
    while t.format("#{alternate_on}") != "0" {
        assert!(Instant::now() < left, "the alternate screen is never left");
        std::thread::sleep(Duration::from_millis(20));
    }
    t.type_text("echo restored-$((40 + 2))");
    t.keys(&["Enter"]);
    let s = t.wait_for("a working shell", |s| s.contains("restored-42"));
    assert!(s.contains("e2e$"), "{s}");
    assert_eq!(t.format("#{pane_title}"), title_before);
}

#[test]
fn demo_runs_from_anywhere_and_cleans_up_even_on_hangup() {
    let dir = tempfile::tempdir().unwrap();
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let t = Tmux::start_with(dir.path(), &format!("TMPDIR='{}'", tmp.display()));
    t.wait_for("the shell prompt", |s| s.contains("e2e$"));
    t.type_text(&format!("{} demo", env!("CARGO_BIN_EXE_tdb")));
    t.keys(&["Enter"]);
    t.wait_for("the demo sources", |s| {
        s.contains("● customers csv") && s.contains("● orders csv") && s.contains("● events csv")
    });
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        1,
        "one temporary home"
    );
    t.keys(&["F5"]);
    t.wait_for("customers", |s| s.contains("100 rows · more exist (↓)"));
    // The terminal goes away (an SSH session closing): tdb still removes its home.
    drop(t);
    let deadline = Instant::now() + PATIENCE;
    while std::fs::read_dir(&tmp).unwrap().count() > 0 {
        assert!(Instant::now() < deadline, "the demo's home is still there");
        std::thread::sleep(Duration::from_millis(25));
    }
}

#[test]
fn without_a_terminal_tdb_says_what_to_use_instead() {
    let dir = tempfile::tempdir().unwrap();
    let out = tdb(&dir.path().join("home"))
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10));
    assert!(
        text(&out.stderr).contains("the terminal UI needs a terminal; for scripts use `tdb query`"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "no escape sequences on a pipe");
}
