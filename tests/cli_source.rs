//! `tdb source …` through the real binary, in a temporary home.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

const PLAINTEXT: &str = "s3cret-PLAINTEXT-9f2c";

fn seed_body(name: &str) -> Value {
    json!({
        "name": name,
        "source_type": "postgres",
        "connection": {
            "host": "db.internal", "port": 5432, "dbname": "production",
            "user": "tdb_reader", "password": PLAINTEXT, "table": "orders", "schema": "public"
        },
        "description": "Order records",
        "tags": ["production", "finance"]
    })
}

struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tdb"));
        c.arg("--home").arg(self.path()).args(args);
        c.env_remove("TDB_MASTER_KEY")
            .env_remove("TDB_HOME")
            .env_remove("TDB_AUDIT_LOG");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }

    fn run_stdin(&self, args: &[&str], stdin: &str) -> Output {
        common::process::run_stdin(&mut self.cmd(args), stdin)
    }

    fn add_json(&self, body: &Value) -> Output {
        self.run_stdin(
            &["source", "add", "--from-json", "-", "--json"],
            &body.to_string(),
        )
    }

    fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// The error line `--json` prints on stderr.
fn error_detail(out: &Output) -> String {
    let v: Value = serde_json::from_slice(&out.stderr)
        .unwrap_or_else(|_| panic!("stderr is not one JSON line: {}", text(&out.stderr)));
    v["error"]["detail"].as_str().unwrap().to_string()
}

#[test]
fn seed_register_body_round_trips() {
    let home = Home::new();
    let out = home.add_json(&seed_body("orders"));
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let rec: Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = rec["id"].as_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID");
    assert_eq!(rec["name"], "orders");
    assert_eq!(rec["source_type"], "postgres");
    assert_eq!(rec["connection"]["host"], "db.internal");
    assert_eq!(rec["connection"]["port"], 5432);
    assert_eq!(rec["connection"]["table"], "orders");
    assert_eq!(rec["connection"]["password"], "********");
    assert_eq!(rec["description"], "Order records");
    assert_eq!(rec["tags"], json!(["production", "finance"]));
    assert_eq!(rec["status"], "active");
    assert!(rec["registered_by"].as_str().unwrap().contains('@'));
    let at = rec["registered_at"].as_str().unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    assert!(at.ends_with('Z'));

    // show, by name and by id, gives the same record.
    assert_eq!(home.json(&["source", "show", "orders", "--json"]), rec);
    assert_eq!(home.json(&["source", "show", id, "--json"]), rec);

    // list gives the summary: no connection.
    let list = home.json(&["source", "list", "--json"]);
    assert_eq!(
        list,
        json!([{
            "id": id, "name": "orders", "source_type": "postgres",
            "description": "Order records", "tags": ["production", "finance"],
            "registered_at": at
        }])
    );
    assert_eq!(
        home.json(&["source", "list", "--tag", "finance", "--json"]),
        list
    );
    assert_eq!(
        home.json(&["source", "list", "--tag", "nope", "--json"]),
        json!([])
    );

    let out = home.run(&["source", "rm", "orders"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert_eq!(home.json(&["source", "list", "--json"]), json!([]));
    let out = home.run(&["source", "show", "orders", "--json"]);
    assert_eq!(code(&out), 11);
    assert_eq!(error_detail(&out), "source not found: orders");
}

#[test]
fn duplicate_names_exit_12() {
    let home = Home::new();
    assert_eq!(code(&home.add_json(&seed_body("orders"))), 0);
    let out = home.add_json(&seed_body("orders"));
    assert_eq!(code(&out), 12);
    assert!(error_detail(&out).contains("orders"));
}

#[test]
fn invalid_input_exits_10_naming_the_field() {
    let home = Home::new();
    let missing_csv = home.dir.path().join("nope.csv");
    let mut cases: Vec<(Value, &str)> = Vec::new();
    let mut v = seed_body("a");
    v["source_type"] = json!("nosuchtype");
    cases.push((v, "source_type"));
    cases.push((seed_body(&"n".repeat(101)), "name"));
    let mut v = seed_body("b");
    v["description"] = json!("d".repeat(501));
    cases.push((v, "description"));
    cases.push((
        json!({"name":"c","source_type":"csv","connection":{"path": missing_csv}}),
        "connection.path",
    ));
    cases.push((
        json!({"name":"d","source_type":"postgres","connection":{"url":"postgres://u:pw@host:99999/db"}}),
        "connection.url",
    ));
    cases.push((
        json!({"name":"e","source_type":"postgres","connection":{"url":"http://example.com"}}),
        "connection.url",
    ));
    for (body, field) in cases {
        let out = home.add_json(&body);
        assert_eq!(code(&out), 10, "{body}: {}", text(&out.stderr));
        let detail = error_detail(&out);
        assert!(detail.contains(field), "{field} not named in: {detail}");
    }
    // The unknown type's message lists what this build has.
    let mut v = seed_body("a");
    v["source_type"] = json!("nosuchtype");
    let detail = error_detail(&home.add_json(&v));
    assert!(
        detail.contains("postgres") && detail.contains("csv"),
        "{detail}"
    );
    // Nothing was registered.
    assert_eq!(home.json(&["source", "list", "--json"]), json!([]));
    // A 100-character name and a 500-character description are fine.
    let mut v = seed_body(&"n".repeat(100));
    v["description"] = json!("d".repeat(500));
    assert_eq!(code(&home.add_json(&v)), 0);
}

#[test]
fn flags_register_csv_and_postgres() {
    let home = Home::new();
    let csv = home.dir.path().join("people.csv");
    std::fs::write(&csv, "id,name\n1,ada\n").unwrap();
    let rec = home.json(&[
        "source",
        "add",
        "people",
        "--type",
        "csv",
        "--path",
        csv.to_str().unwrap(),
        "--description",
        "People",
        "--tag",
        "demo",
        "--tag",
        "hr",
        "--json",
    ]);
    assert_eq!(rec["source_type"], "csv");
    assert_eq!(
        rec["connection"]["path"],
        csv.canonicalize().unwrap().to_str().unwrap()
    );
    assert_eq!(rec["connection"]["delimiter"], ",");
    assert_eq!(rec["connection"]["has_header"], true);
    assert_eq!(rec["tags"], json!(["demo", "hr"]));

    let rec = home.json(&[
        "source",
        "add",
        "pg",
        "--type",
        "postgres",
        "--url",
        &format!("postgres://reader:{PLAINTEXT}@db.internal:6432/prod?sslmode=require"),
        "--connection",
        r#"{"table":"orders"}"#,
        "--json",
    ]);
    let c = &rec["connection"];
    assert_eq!(c["host"], "db.internal");
    assert_eq!(c["port"], 6432);
    assert_eq!(c["dbname"], "prod");
    assert_eq!(c["user"], "reader");
    assert_eq!(c["sslmode"], "require");
    assert_eq!(c["password"], "********");
    assert_eq!(c["table"], "orders");
    assert!(!rec.to_string().contains(PLAINTEXT));

    // Missing --type is a field error, not a crash.
    let out = home.run(&["source", "add", "x", "--path", "y", "--json"]);
    assert_eq!(code(&out), 10);
    assert!(error_detail(&out).contains("source_type"));
}

#[test]
fn rm_twice_exits_11_and_the_name_is_free_again() {
    let home = Home::new();
    let first: Value = serde_json::from_slice(&home.add_json(&seed_body("orders")).stdout).unwrap();
    assert_eq!(code(&home.run(&["source", "rm", "orders"])), 0);
    let out = home.run(&["source", "rm", "orders", "--json"]);
    assert_eq!(code(&out), 11);
    assert_eq!(error_detail(&out), "source not found: orders");
    // By id too.
    let out = home.run(&["source", "rm", first["id"].as_str().unwrap()]);
    assert_eq!(code(&out), 11);

    let again = home.add_json(&seed_body("orders"));
    assert_eq!(code(&again), 0, "{}", text(&again.stderr));
    let second: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_ne!(first["id"], second["id"]);
    assert_eq!(code(&home.run(&["source", "rm", "orders", "--purge"])), 0);
    assert_eq!(home.json(&["source", "list", "--json"]), json!([]));
}

#[test]
fn edit_and_set_password_change_what_show_reports() {
    let home = Home::new();
    let mut body = seed_body("orders");
    body["connection"]
        .as_object_mut()
        .unwrap()
        .remove("password");
    assert_eq!(code(&home.add_json(&body)), 0);
    let before = home.json(&["source", "show", "orders", "--json"]);
    assert!(before["connection"].get("password").is_none());

    let after = home.json(&[
        "source",
        "edit",
        "orders",
        "--name",
        "orders_eu",
        "--description",
        "EU orders",
        "--tag",
        "eu",
        "--connection",
        r#"{"port": 6543, "sslmode": "require"}"#,
        "--json",
    ]);
    assert_eq!(after["id"], before["id"]);
    assert_eq!(after["name"], "orders_eu");
    assert_eq!(after["description"], "EU orders");
    assert_eq!(after["tags"], json!(["eu"]));
    assert_eq!(after["connection"]["port"], 6543);
    assert_eq!(after["connection"]["sslmode"], "require");
    assert_eq!(after["connection"]["host"], "db.internal");
    assert_eq!(home.json(&["source", "show", "orders_eu", "--json"]), after);
    assert_eq!(code(&home.run(&["source", "show", "orders"])), 11);

    // A bad edit changes nothing.
    let out = home.run(&[
        "source",
        "edit",
        "orders_eu",
        "--connection",
        r#"{"port": 0}"#,
        "--json",
    ]);
    assert_eq!(code(&out), 10);
    assert!(error_detail(&out).contains("connection.port"));
    assert_eq!(home.json(&["source", "show", "orders_eu", "--json"]), after);

    let out = home.run_stdin(
        &["source", "set-password", "orders_eu", "--json"],
        &format!("{PLAINTEXT}\n"),
    );
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(!text(&out.stdout).contains(PLAINTEXT));
    let shown = home.json(&["source", "show", "orders_eu", "--json"]);
    assert_eq!(shown["connection"]["password"], "********");

    // Switching to password_env drops the stored password.
    let shown = home.json(&[
        "source",
        "edit",
        "orders_eu",
        "--connection",
        r#"{"password_env": "PGPASS_EU"}"#,
        "--json",
    ]);
    assert_eq!(shown["connection"]["password_env"], "PGPASS_EU");
    assert!(shown["connection"].get("password").is_none());

    // An edit that takes another source's name is a conflict.
    let mut other = seed_body("other");
    other["connection"]
        .as_object_mut()
        .unwrap()
        .remove("password");
    assert_eq!(code(&home.add_json(&other)), 0);
    let out = home.run(&["source", "edit", "other", "--name", "orders_eu", "--json"]);
    assert_eq!(code(&out), 12);

    // csv sources have no password.
    let csv = home.dir.path().join("a.csv");
    std::fs::write(&csv, "a\n1\n").unwrap();
    home.json(&[
        "source",
        "add",
        "a",
        "--type",
        "csv",
        "--path",
        csv.to_str().unwrap(),
        "--json",
    ]);
    let out = home.run_stdin(&["source", "set-password", "a", "--json"], "pw\n");
    assert_eq!(code(&out), 10);
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn the_plaintext_password_is_in_no_file_and_no_output() {
    let home = Home::new();
    let mut outputs = Vec::new();
    outputs.push(home.add_json(&seed_body("orders")));
    outputs.push(home.run(&["source", "show", "orders"]));
    outputs.push(home.run(&["source", "show", "orders", "--json"]));
    outputs.push(home.run(&["source", "list"]));
    outputs.push(home.run_stdin(
        &["source", "set-password", "orders"],
        &format!("{PLAINTEXT}-2\n"),
    ));
    outputs.push(home.run(&["source", "edit", "orders", "--description", "x"]));
    outputs.push(home.run(&[
        "source",
        "add",
        "viaurl",
        "--type",
        "postgres",
        "--url",
        &format!("postgres://u:{PLAINTEXT}@h/d"),
    ]));
    // A failing URL must not echo the password either.
    outputs.push(home.run(&[
        "source",
        "add",
        "badurl",
        "--type",
        "postgres",
        "--url",
        &format!("postgres://u:{PLAINTEXT}@h:notaport/d"),
    ]));
    outputs.push(home.run(&["audit"]));
    for out in &outputs {
        for stream in [&out.stdout, &out.stderr] {
            assert!(
                !text(stream).contains(PLAINTEXT),
                "leaked: {}",
                text(stream)
            );
        }
    }
    let files = files_under(&home.path());
    assert!(files.iter().any(|f| f.ends_with("registry.db")));
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes
                .windows(PLAINTEXT.len())
                .any(|w| w == PLAINTEXT.as_bytes()),
            "plaintext found in {}",
            f.display()
        );
    }
}

#[test]
fn home_and_files_are_private() {
    let home = Home::new();
    assert_eq!(code(&home.add_json(&seed_body("orders"))), 0);
    let mode = |p: PathBuf| std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(home.path()), 0o700);
    assert_eq!(mode(home.path().join("registry.db")), 0o600);
    assert_eq!(mode(home.path().join("master.key")), 0o600);
    assert_eq!(mode(home.path().join("tdb_audit.jsonl")), 0o600);
}

#[test]
fn tdb_home_and_xdg_are_honoured() {
    let t = tempfile::tempdir().unwrap();
    let run = |envs: &[(&str, &Path)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_tdb"));
        c.args(["source", "list", "--json"])
            .env_remove("TDB_HOME")
            .env_remove("XDG_DATA_HOME")
            .env_remove("TDB_AUDIT_LOG");
        for (k, v) in envs {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    };
    run(&[("TDB_HOME", &t.path().join("a"))]);
    assert!(t.path().join("a/registry.db").exists());
    run(&[("XDG_DATA_HOME", &t.path().join("xdg"))]);
    assert!(t.path().join("xdg/tdb/registry.db").exists());
    run(&[("HOME", &t.path().join("h"))]);
    assert!(t.path().join("h/.local/share/tdb/registry.db").exists());
}

#[test]
fn a_registry_without_its_key_still_lists_and_asks_for_the_password() {
    let home = Home::new();
    assert_eq!(code(&home.add_json(&seed_body("orders"))), 0);
    std::fs::remove_file(home.path().join("master.key")).unwrap();
    let list = home.json(&["source", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 1);
    let out = home.run(&["source", "show", "orders", "--json"]);
    assert_eq!(code(&out), 0);
    assert!(
        text(&out.stderr).contains("set-password"),
        "{}",
        text(&out.stderr)
    );
    // Entering it again makes it usable (a new key is created).
    let out = home.run_stdin(&["source", "set-password", "orders"], "new-pw\n");
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let out = home.run(&["source", "show", "orders"]);
    assert!(!text(&out.stderr).contains("set-password"));
}

#[test]
fn two_processes_adding_at_once_both_succeed() {
    let home = Home::new();
    // Create the home first so both writers meet an existing registry... and also race on
    // a brand-new one below.
    let csv = home.dir.path().join("a.csv");
    std::fs::write(&csv, "a\n1\n").unwrap();
    let writers: Vec<_> = ["x", "y"]
        .iter()
        .map(|prefix| {
            let script = (0..50)
                .map(|i| {
                    format!(
                        "{} --home {} source add {prefix}{i} --type csv --path {} >/dev/null || exit 1",
                        env!("CARGO_BIN_EXE_tdb"),
                        home.path().display(),
                        csv.display()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Command::new("sh")
                .arg("-c")
                .arg(script)
                .env_remove("TDB_MASTER_KEY")
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for w in writers {
        let out = w.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "a writer failed: {}",
            text(&out.stderr)
        );
    }
    let list = home.json(&["source", "list", "--json"]);
    assert_eq!(list.as_array().unwrap().len(), 100);
}

#[test]
fn usage_errors_exit_2_and_help_has_examples() {
    let home = Home::new();
    let out = home.run(&["source", "frobnicate"]);
    assert_eq!(code(&out), 2);
    let out = home.run(&["source", "add", "--help"]);
    assert_eq!(code(&out), 0);
    assert!(text(&out.stdout).contains("Examples:"));
    let out = home.run(&["--version"]);
    assert_eq!(code(&out), 0);
    assert!(text(&out.stdout).starts_with("tdb "));
    let out = home.run(&["source", "frobnicate", "--json"]);
    assert_eq!(code(&out), 2);
    let v: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert!(v["error"]["detail"].is_string());
}

#[test]
fn rm_drops_the_csv_cache_at_once() {
    let home = Home::new();
    let csv = home.dir.path().join("p.csv");
    std::fs::write(&csv, "id,name\n1,ada\n2,grace\n").unwrap();
    let rec = home.json(&[
        "source",
        "add",
        "p",
        "--type",
        "csv",
        "--path",
        csv.to_str().unwrap(),
        "--json",
    ]);
    let id = rec["id"].as_str().unwrap().to_string();
    let q = home.json(&[
        "query",
        "--source",
        "p",
        "--sql",
        "SELECT count(*) AS n FROM data",
        "--json",
    ]);
    assert_eq!(q["rows"], json!([{"n": 2}]));
    let cached = |home: &Home| -> Vec<String> {
        std::fs::read_dir(home.path().join("cache"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with(&id))
                    .collect()
            })
            .unwrap_or_default()
    };
    assert!(!cached(&home).is_empty(), "the query left no cache");
    assert_eq!(code(&home.run(&["source", "rm", "p"])), 0);
    assert_eq!(cached(&home), Vec::<String>::new());
}
