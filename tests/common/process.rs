//! Running a command with text on its standard input.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The real binary on the home `home`, with the variables that would change what it does
/// (a developer's own key, audit log or result budget) cleared.
pub fn tdb(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tdb"));
    c.arg("--home")
        .arg(home)
        .env_remove("TDB_MASTER_KEY")
        .env_remove("TDB_AUDIT_LOG")
        .env_remove("TDB_RESULT_BYTES");
    c
}

/// Registers a PostgreSQL source on `home` through `source add --from-json -`, the seed's
/// request body; the test fails with tdb's message if it is refused.
pub fn add_postgres_source(home: &Path, name: &str, connection: serde_json::Value) {
    let body =
        serde_json::json!({"name": name, "source_type": "postgres", "connection": connection});
    let out = run_stdin(
        tdb(home).args(["source", "add", "--from-json", "-", "--json"]),
        &body.to_string(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// Registers the CSV file `csv` as source `name` on `home`; the test fails with tdb's
/// message if it is refused.
pub fn add_csv_source(home: &Path, name: &str, csv: &Path) {
    let out = tdb(home)
        .args(["source", "add", name, "--type", "csv", "--path"])
        .arg(csv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// A process's output as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The `detail` of the `--json` error line a failed command wrote on stderr.
pub fn error_detail(out: &Output) -> String {
    let v: serde_json::Value = serde_json::from_slice(&out.stderr)
        .unwrap_or_else(|_| panic!("stderr is not JSON: {}", text(&out.stderr)));
    v["error"]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Runs `cmd` with `input` on its standard input and collects its output.
pub fn run_stdin(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn the command");
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for the command")
}
