//! tdb's local files and output against hostile or broken surroundings, through the real
//! binary in a temp home: a FIFO where a CSV file should be, control characters in `--json`
//! output, the rules for `TDB_MASTER_KEY`, the modes of the files tdb creates, and a damaged
//! registry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A command that has not ended by then is hung: the test fails instead of hanging the run.
/// Far above any honest run (a FIFO used to block forever).
const HUNG: Duration = Duration::from_secs(120);

struct Env {
    dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Env {
    fn new() -> Self {
        Env {
            dir: tempfile::tempdir().unwrap(),
            vars: Vec::new(),
        }
    }

    fn with_key(mut self, key: &str) -> Self {
        self.vars.push(("TDB_MASTER_KEY".into(), key.into()));
        self
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    fn tdb(&self, args: &[&str]) -> Output {
        self.tdb_in(&self.home(), args)
    }

    fn tdb_in(&self, home: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tdb"));
        cmd.arg("--home")
            .arg(home)
            .args(args)
            .env_remove("TDB_MASTER_KEY")
            .env_remove("TDB_MASTER_KEY_OLD")
            .env_remove("TDB_AUDIT_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > HUNG {
                child.kill().unwrap();
                panic!("tdb {args:?} hung");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.tdb(args);
        assert!(
            out.status.success(),
            "tdb {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn add_csv(&self, name: &str, path: &Path) {
        self.ok(&[
            "source",
            "add",
            name,
            "--type",
            "csv",
            "--path",
            path.to_str().unwrap(),
        ]);
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

// ---- FIFOs and other non-regular files as a CSV path ----

#[test]
fn fifo_at_source_add_is_invalid_input_naming_the_path() {
    let env = Env::new();
    let fifo = env.dir.path().join("pipe.csv");
    mkfifo(&fifo);
    let out = env.tdb(&[
        "source",
        "add",
        "p",
        "--type",
        "csv",
        "--path",
        fifo.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("named pipe"), "{err}");
    assert!(err.contains(fifo.to_str().unwrap()), "{err}");

    let out = env.tdb(&["source", "add", "d", "--type", "csv", "--path", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("character device"),
        "{}",
        stderr(&out)
    );
}

/// The file is swapped for a FIFO after registration, before and after a cache exists:
/// query, test and schema each end at once, "unreachable", naming the path.
#[test]
fn fifo_swapped_in_after_add_is_unreachable_for_every_command() {
    for cached in [false, true] {
        let env = Env::new();
        let csv = env.file("people.csv", "id,name\n1,ann\n");
        env.add_csv("people", &csv);
        if cached {
            env.ok(&["query", "--source", "people", "--sql", "SELECT * FROM data"]);
        }
        std::fs::remove_file(&csv).unwrap();
        mkfifo(&csv);
        let commands: [&[&str]; 3] = [
            &["query", "--source", "people", "--sql", "SELECT * FROM data"],
            &["source", "test", "people"],
            &["source", "schema", "people"],
        ];
        for args in commands {
            let out = env.tdb(args);
            assert_eq!(out.status.code(), Some(13), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains("named pipe"), "{args:?}: {err}");
            assert!(err.contains(csv.to_str().unwrap()), "{args:?}: {err}");
        }
    }
}

// ---- `--json` escapes C1 and bidi controls ----

/// Characters that must never leave `--json` raw: CSI, OSC, NEL (C1) and RIGHT-TO-LEFT
/// OVERRIDE.
const HOSTILE: [char; 4] = ['\u{9B}', '\u{9D}', '\u{85}', '\u{202E}'];

fn assert_escaped(what: &str, bytes: &[u8]) {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    for c in HOSTILE {
        assert!(
            !text.contains(c),
            "{what}: raw U+{:04X} in {text:?}",
            c as u32
        );
    }
    assert!(
        text.contains("\\u009b") || text.contains("\\u202e"),
        "{what}: {text:?}"
    );
}

#[test]
fn json_output_escapes_c1_and_bidi_controls() {
    let env = Env::new();
    let csv = env.file(
        "evil.csv",
        "id,na\u{9B}me\n1,x\u{9D}y\u{85}\u{202E}txt.exe\u{9B}2J\n",
    );
    env.add_csv("evil", &csv);

    // A value and a column name of a query result, and the SQL echoed back.
    let out = env.ok(&[
        "--json",
        "query",
        "--source",
        "evil",
        "--sql",
        "SELECT *, '\u{9B}31m' AS lit FROM data",
    ]);
    assert_escaped("query", &out.stdout);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["columns"][1], "na\u{9B}me");
    assert_eq!(
        v["rows"][0]["na\u{9B}me"],
        "x\u{9D}y\u{85}\u{202E}txt.exe\u{9B}2J"
    );

    // An error line on stderr.
    let out = env.tdb(&["--json", "source", "show", "no\u{202E}such\u{9B}"]);
    assert_eq!(out.status.code(), Some(11));
    assert_escaped("error line", &out.stderr);
    let v: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(
        v["error"]["detail"],
        "source not found: no\u{202E}such\u{9B}"
    );

    // The audit log as `tdb --json audit` and `audit --tail` print it.
    for args in [
        &["--json", "audit"][..],
        &["--json", "audit", "--tail", "1"],
    ] {
        let out = env.ok(args);
        assert_escaped("audit", &out.stdout);
        let last: Value = serde_json::from_slice(
            out.stdout
                .trim_ascii_end()
                .rsplit(|b| *b == b'\n')
                .next()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(last["sql"], "SELECT *, '\u{9B}31m' AS lit FROM data");
    }
}
