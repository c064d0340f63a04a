//! Copy and export in the real binary, inside tmux with its default settings and no display
//! server: the keys of the results pane put the cell, the row and the whole result into the
//! tmux buffer (as a person pastes them with prefix-]), control characters never arrive,
//! and an export writes the query's rows to the file named in the prompt.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::tmux::{Tmux, text};

/// A CSV with a value that would end a shell's bracketed paste (`ESC [ 201 ~`) and run the
/// rest as a command.
const CSV: &str = "id,name,note\n1,alice,hello world\n2,bob,\"x\u{1b}[201~echo pwned\"\n";

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

fn records(csv: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect()
}

#[test]
fn y_copies_into_the_tmux_buffer_and_export_writes_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, CSV).unwrap();
    let home = dir.path().join("home");
    register(&home, &csv);
    // The shell keeps tmux's TMUX (the clipboard chain looks for it) and nothing else: no
    // DISPLAY, no WAYLAND_DISPLAY.
    let t = Tmux::start_with(dir.path(), "TMUX=\"$TMUX\"");
    t.wait_for("the shell prompt", |s| s.contains("e2e$"));
    t.type_text("echo display=[$DISPLAY$WAYLAND_DISPLAY] tmux=[${TMUX:+set}]");
    t.keys(&["Enter"]);
    t.wait_for("the environment", |s| s.contains("display=[] tmux=[set]"));
    t.type_text(&format!(
        "{} --home {}",
        env!("CARGO_BIN_EXE_tdb"),
        home.display()
    ));
    t.keys(&["Enter"]);
    t.wait_for("the UI", |s| s.contains("SELECT * FROM data"));
    t.keys(&["F5"]);
    t.wait_for("the rows", |s| {
        s.contains("2 rows · ") && s.contains("alice")
    });
    t.keys(&["Tab"]); // editor -> results

    t.keys(&["y"]);
    t.wait_for_buffer("the cell", "1");
    t.wait_for("the status", |s| {
        s.contains("copied cell · 1 B · via tmux buffer")
    });
    t.keys(&["Right", "y"]);
    t.wait_for_buffer("the next cell", "alice");
    t.keys(&["Y"]);
    t.wait_for_buffer("the row", "id\tname\tnote\n1\talice\thello world\n");
    t.keys(&["C-y"]);
    t.wait_for_buffer(
        "the whole result",
        "id\tname\tnote\n1\talice\thello world\n2\tbob\tx[201~echo pwned\n",
    );
    t.wait_for("the status", |s| s.contains("copied 2 rows · "));
    // The hostile cell alone: it arrives without its ESC, so a paste cannot end early.
    t.keys(&["Down", "End", "y"]);
    t.wait_for_buffer("the hostile cell", "x[201~echo pwned");
    assert!(!t.show_buffer().unwrap().contains(&0x1b));

    // Another format for the session: CSV.
    t.keys(&["c", "Down", "Enter"]);
    t.wait_for("the new format", |s| s.contains("copies are CSV now"));
    t.keys(&["C-y"]);
    t.wait_for_buffer(
        "the result as CSV",
        "id,name,note\n1,alice,hello world\n2,bob,x[201~echo pwned\n",
    );

    // Export to ~/people.csv (HOME is the test's folder), read back; then again, replacing.
    t.keys(&["E"]);
    t.wait_for("the prompt", |s| s.contains("Export 2 rows to a file"));
    t.keys(&["C-u"]);
    t.type_text("~/people-out.csv");
    t.keys(&["Enter"]);
    t.wait_for("the export", |s| {
        s.contains("exported 2 rows · ") && s.contains(" · ~/people-out.csv")
    });
    let written = std::fs::read_to_string(dir.path().join("people-out.csv")).unwrap();
    assert_eq!(
        records(&written),
        records(CSV),
        "the file holds the query's rows as they are, ESC included: a file must round-trip"
    );
    t.keys(&["E"]);
    t.wait_for("the prompt", |s| s.contains("Export 2 rows to a file"));
    t.keys(&["Tab", "Enter"]);
    t.wait_for("the export", |s| s.contains(" · ~/people-out.json"));
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("people-out.json")).unwrap())
            .unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"id": 1, "name": "alice", "note": "hello world"},
            {"id": 2, "name": "bob", "note": "x\u{1b}[201~echo pwned"},
        ])
    );
    t.keys(&["E"]);
    t.wait_for("the prompt", |s| s.contains("people-out.json"));
    t.keys(&["Enter"]);
    t.wait_for("the question", |s| {
        s.contains("exists.") && s.contains("Replace it?")
    });
    t.keys(&["y"]);
    t.wait_for("the export", |s| s.contains("exported 2 rows · "));

    // A click (an SGR mouse report, as terminals send it) on the first cell of the first
    // row: the cursor goes there. The grid's cells start at column 32, row 14 (0-based) in
    // a 120×40 terminal; reports count from 1.
    t.wait_for("the position", |s| s.contains("row 2/2 · col 3/3"));
    t.type_text("\u{1b}[<0;33;15M\u{1b}[<0;33;15m");
    t.wait_for("the click", |s| s.contains("row 1/2 · col 1/3"));

    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| !s.contains("SELECT * FROM data"));
}

/// Colour codes in an SGR sequence (`ESC [ … m`): 30–37, 90–97, 38;…, 40–47, 100–107, 48;….
fn has_colour(styled: &str) -> bool {
    styled.split("\u{1b}[").skip(1).any(|seq| {
        let Some(params) = seq.split_once('m').map(|(p, _)| p) else {
            return false;
        };
        params.split(';').any(|p| {
            matches!(
                p.parse::<u16>(),
                Ok(30..=38 | 40..=48 | 90..=97 | 100..=107)
            )
        })
    })
}

#[test]
fn a_bad_config_is_named_no_color_is_honoured_and_the_mouse_is_given_back() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("people.csv");
    std::fs::write(&csv, CSV).unwrap();
    let home = dir.path().join("home");
    register(&home, &csv);
    let config = dir.path().join(".config/tdb/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, "[theme]\nborder = \"red\"\nkey = \"blinking\"\n").unwrap();
    let t = Tmux::start(dir.path());
    t.wait_for("the shell prompt", |s| s.contains("e2e$"));
    let tdb = format!("{} --home {}", env!("CARGO_BIN_EXE_tdb"), home.display());
    t.type_text(&tdb);
    t.keys(&["Enter"]);
    let s = t.wait_for("the UI", |s| s.contains("SELECT * FROM data"));
    assert!(
        s.contains(
            "~/.config/tdb/config.toml line 3, column 7: unknown colour or style \"blinking\""
        ),
        "{s}"
    );
    assert!(has_colour(&t.screen_styled()), "the default colours");
    assert_eq!(t.format("#{mouse_any_flag}"), "1", "tdb takes the mouse");
    t.keys(&["C-q"]);
    let s = t.wait_for("the message after the UI", |s| {
        s.contains("tdb: ~/.config/tdb/config.toml line 3, column 7")
    });
    assert!(
        s.replace('\n', "")
            .contains("using the default keys and colours"),
        "{s}"
    );
    assert_eq!(t.format("#{mouse_any_flag}"), "0", "and gives it back");

    // A good file with NO_COLOR: no colour anywhere, and the user's keys work.
    std::fs::write(&config, "[keys.results]\nx = \"copy-all\"\n").unwrap();
    t.type_text(&format!("clear; NO_COLOR=1 {tdb}"));
    t.keys(&["Enter"]);
    t.wait_for("the UI", |s| s.contains("SELECT * FROM data"));
    t.keys(&["F5"]);
    t.wait_for("the rows", |s| {
        s.contains("2 rows · ") && s.contains("alice")
    });
    let styled = t.screen_styled();
    assert!(!has_colour(&styled), "NO_COLOR: {styled:?}");
    assert!(!t.screen().contains("config.toml"), "no complaint");
    t.keys(&["Tab", "x"]);
    t.wait_for("the copy", |s| s.contains("copied 2 rows · "));
    t.keys(&["C-q"]);
    t.wait_for("the shell again", |s| !s.contains("SELECT * FROM data"));
}
