//! The cases every source kind must pass, and the [`Fixture`] a kind provides for them.
//!
//! Everything goes through the real `tdb` binary on a fresh home per test, so a case checks
//! what a user or a script sees (exit codes, `--json` shapes, stderr notes, audit lines)
//! and not how a connector is built inside; the internals may move freely under it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::process::{error_detail, run_stdin, tdb, text};

/// Only a failure waits this long.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// One row of the standard `samples` table, the same logical rows for every kind.
pub struct Sample {
    pub id: i64,
    pub label: &'static str,
    pub note: Option<&'static str>,
}

/// The standard `samples` table: `id` (integer), `label` (text, never NULL), `note` (text).
/// Each kind stores these values in its own way; what comes back must be these values.
pub const SAMPLES: &[Sample] = &[
    Sample {
        id: 1,
        label: "plain",
        note: Some("ascii text"),
    },
    Sample {
        id: 2,
        label: "unicode",
        note: Some(UNICODE),
    },
    Sample {
        id: 3,
        label: "null",
        note: None,
    },
    Sample {
        id: 4,
        label: "empty",
        note: Some(""),
    },
    Sample {
        id: 5,
        label: "csi",
        note: Some(CSI),
    },
    Sample {
        id: 6,
        label: "osc52",
        note: Some(OSC52),
    },
    Sample {
        id: 7,
        label: "bidi",
        note: Some(BIDI),
    },
];

/// Accents (precomposed and combining), CJK, Hebrew, an emoji and a ZWJ sequence.
pub const UNICODE: &str = "héllo wörld e\u{301} — 日本語 עברית 😀 👩\u{200D}💻";
/// An SGR sequence: would colour the rest of a terminal red.
pub const CSI: &str = "\u{1b}[31mred\u{1b}[0m";
/// OSC 52: would put text on the user's clipboard through the terminal.
pub const OSC52: &str = "\u{1b}]52;c;ZWNobyBwd25lZA==\u{7}";
/// U+202E RIGHT-TO-LEFT OVERRIDE: `exe.txt` would read as `txt.exe`.
pub const BIDI: &str = "invoice\u{202E}txt.exe";

/// Rows of the standard `numbers` table (`n`, integer, 1 to this): more than `--limit`'s
/// maximum, for the limit cases.
pub const NUMBERS: i64 = 1500;

/// Which standard table a source's `data` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Table {
    Samples,
    Numbers,
}

impl Table {
    pub fn name(self) -> &'static str {
        match self {
            Table::Samples => "samples",
            Table::Numbers => "numbers",
        }
    }
}

/// A connection field that holds a secret: `source show` prints `"********"` in its place,
/// and its value must appear in no output, no audit line and not in the registry's bytes.
pub struct Secret {
    pub key: &'static str,
    pub value: String,
}

/// A source that cannot be reached, as its fixture registered and broke it.
pub struct Unreachable {
    /// What the error must name so a user knows where tdb looked (`host:port`, a path).
    pub target: String,
    /// A secret its registration carried, if any.
    pub secret: Option<String>,
}

/// What one source kind brings to the suite. One value per test: [`Fixture::create`] may
/// share an expensive engine (a server) between tests, but never a home.
pub trait Fixture: Sized {
    /// The `source_type` tdb knows the kind by.
    const KIND: &'static str;

    /// Creates (or reuses) the engine or files holding the standard dataset: [`SAMPLES`] as
    /// `samples` and [`NUMBERS`] rows as `numbers`.
    fn create() -> Self;

    /// The `connection` object registering a source whose `data` is `table`. Queries must
    /// run long enough for the cancel case (a statement timeout of a minute or more).
    fn connection(&self, table: Table) -> Value;

    /// The secret [`Fixture::connection`] carries, if the kind takes one.
    fn secret(&self) -> Option<Secret>;

    /// A connection to the whole dataset with no `table`, when the kind has such a view:
    /// its schema then lists `samples` and `numbers` under `tables`.
    fn whole_database(&self) -> Option<Value>;

    /// The types `source schema` reports for `samples`' `id`, `label` and `note`, as the
    /// kind spells them; `numbers.n` has the type of `id`.
    fn sample_types(&self) -> [&'static str; 3];

    /// What the dataset's empty string reads back as: `""`, or `null` for a kind that
    /// cannot tell it from a missing value (its README section says so).
    fn empty_string(&self) -> Value;

    /// A statement of the kind's dialect that runs for a minute or more and holds `marker`.
    fn slow_sql(&self, marker: &str) -> String;

    /// How many statements holding `marker` the engine is running now; `None` when the
    /// engine lives inside the `tdb` process, so it stops when tdb exits.
    fn running(&self, marker: &str) -> Option<usize>;

    /// Whether the kind takes `statement_timeout_s` in its connection.
    fn has_statement_timeout(&self) -> bool;

    /// Registers a source that cannot be reached through `add` (a `connection` object; it
    /// must be accepted) and breaks it if registering needed it whole (a file deleted after).
    fn unreachable(&self, add: &mut dyn FnMut(Value)) -> Unreachable;

    /// Statements of the kind's dialect that must be refused (exit 10) beside the suite's
    /// [`GENERIC_HOSTILE`]; any path they name should be one [`Fixture::state`] watches.
    fn hostile(&self) -> Vec<String>;

    /// Everything hostile SQL could change about the source, comparable before and after:
    /// relations and row digests on a server, bytes, mtimes and neighbours of a file.
    fn state(&self) -> Vec<String>;

    /// `name` as a quoted identifier of the kind's dialect (`"data"`; MySQL's `` `data` ``).
    fn quoted(name: &str) -> String {
        format!("\"{name}\"")
    }

    /// Whether the engine takes `WITH name AS (subquery)` (ClickHouse 18.16 does not: its
    /// `WITH` names expressions only).
    fn subquery_ctes(&self) -> bool {
        true
    }
}

/// [`Fixture::unreachable`] for a server kind: a loopback port nothing listens on (bound,
/// read, and released), with host, port, dbname, user and a password that must not leak.
pub fn unreachable_server(add: &mut dyn FnMut(Value)) -> Unreachable {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .unwrap()
        .port();
    let secret = format!("do-not-leak-{}", uuid::Uuid::new_v4().simple());
    add(json!({
        "host": "127.0.0.1", "port": port, "dbname": "nowhere", "user": "nobody",
        "password": secret, "table": "samples", "connect_timeout_s": 5,
    }));
    Unreachable {
        target: format!("127.0.0.1:{port}"),
        secret: Some(secret),
    }
}

/// Hostile statements every SQL dialect spells the same way; `data` is `samples`.
pub const GENERIC_HOSTILE: &[&str] = &[
    "DELETE FROM data",
    "INSERT INTO data (id, label) VALUES (99, 'x')",
    "UPDATE data SET label = 'pwned'",
    "DROP TABLE data",
    "CREATE TABLE evil (x int)",
    "ALTER TABLE data ADD COLUMN pwned int",
    "CREATE VIEW evil AS SELECT 1 AS x",
    "CREATE INDEX evil ON data (id)",
    "SELECT 1; DELETE FROM data",
    "SELECT 1; DROP TABLE data",
    "SELECT 'x'; -- harmless\nDROP TABLE data",
    "SELECT 1 /* ; */ ; DELETE FROM data -- ",
    "WITH d AS (DELETE FROM data RETURNING *) SELECT * FROM d",
    "WITH d AS (UPDATE data SET label = 'x' RETURNING id) SELECT 1",
    "BEGIN; DELETE FROM data; COMMIT",
    "COMMIT; DELETE FROM data",
];

/// A description in several scripts, to see it come back unchanged.
const DESCRIPTION: &str = "the standard dataset — 日本語, ünïcödé ✓";

/// The keys every audit line ends with, in CONTRACT.md's order.
const AUDIT_TAIL: &[&str] = &["actor", "ssh_client", "session", "timestamp", "prev_sha256"];

/// One test's world: the kind's fixture and a fresh home of its own.
struct Case<F> {
    f: F,
    dir: tempfile::TempDir,
}

impl<F: Fixture> Case<F> {
    fn new() -> Self {
        Case {
            f: F::create(),
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn cmd(&self) -> Command {
        tdb(&self.home())
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd().args(args).output().unwrap()
    }

    /// `tdb source add NAME --type KIND --connection JSON [extra…] --json`, as a user would
    /// type it; returns the command's output, accepted or not.
    fn try_add(&self, name: &str, connection: &Value, extra: &[&str]) -> Output {
        let conn = connection.to_string();
        let mut args = vec![
            "source",
            "add",
            name,
            "--type",
            F::KIND,
            "--connection",
            &conn,
        ];
        args.extend(extra);
        args.push("--json");
        self.run(&args)
    }

    /// Registers a source; the test fails with tdb's message if it is refused.
    fn add(&self, name: &str, connection: &Value) -> Value {
        let out = self.try_add(name, connection, &[]);
        assert!(
            out.status.success(),
            "{}: registering {connection} failed: {}",
            F::KIND,
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn add_table(&self, name: &str, table: Table) -> Value {
        self.add(name, &self.f.connection(table))
    }

    /// `tdb query --source S --sql SQL [extra…]`; SQL too long for argv goes through stdin.
    fn query(&self, source: &str, sql: &str, extra: &[&str]) -> Output {
        let mut c = self.cmd();
        c.args(["query", "--source", source]);
        c.args(extra);
        if sql.len() > 100_000 {
            c.args(["--sql", "-"]);
            return run_stdin(&mut c, sql);
        }
        c.args(["--sql", sql]);
        c.stdin(Stdio::null()).output().unwrap()
    }

    /// A `--json` query that must succeed; its result.
    fn ok(&self, source: &str, sql: &str, extra: &[&str]) -> Value {
        let mut args = extra.to_vec();
        args.push("--json");
        let out = self.query(source, sql, &args);
        assert!(
            out.status.success(),
            "{}: {sql}: exit {:?}: {}",
            F::KIND,
            out.status.code(),
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    fn rows(&self, source: &str, sql: &str) -> Value {
        self.ok(source, sql, &[])["rows"].clone()
    }

    fn show(&self, reference: &str) -> Output {
        self.run(&["source", "show", reference, "--json"])
    }

    fn log_path(&self) -> PathBuf {
        self.home().join("tdb_audit.jsonl")
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.log_path())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// The audit lines of the query whose `sql` is `sql`, in order.
    fn audit_of(&self, sql: &str) -> Vec<Value> {
        self.audit()
            .into_iter()
            .filter(|l| l["sql"] == sql)
            .collect()
    }

    /// Fails if `secret` is in `outputs`, the audit log or the registry's files on disk.
    fn assert_hidden(&self, secret: &str, outputs: &[&Output]) {
        for o in outputs {
            // The message names the stream, never the secret.
            for (name, stream) in [("stdout", &o.stdout), ("stderr", &o.stderr)] {
                assert!(
                    !text(stream).contains(secret),
                    "{}: a secret was printed on {name}",
                    F::KIND
                );
            }
        }
        let audit = std::fs::read_to_string(self.log_path()).unwrap_or_default();
        assert!(!audit.contains(secret), "{}: a secret is audited", F::KIND);
        for entry in std::fs::read_dir(self.home()).unwrap().flatten() {
            if entry
                .file_name()
                .to_string_lossy()
                .starts_with("registry.db")
            {
                let bytes = std::fs::read(entry.path()).unwrap();
                assert!(
                    !contains(&bytes, secret.as_bytes()),
                    "{}: {} holds the secret in clear",
                    F::KIND,
                    entry.path().display()
                );
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn keys(v: &Value) -> Vec<&str> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .map(String::as_str)
        .collect()
}

/// `2026-05-22T09:00:00Z`, with or without fractional seconds.
fn assert_utc_timestamp(v: &Value) {
    let s = v.as_str().unwrap_or_else(|| panic!("not a timestamp: {v}"));
    let b = s.as_bytes();
    assert!(
        s.len() >= 20 && s.ends_with('Z') && b[4] == b'-' && b[10] == b'T' && b[13] == b':',
        "not an ISO 8601 UTC timestamp: {s}"
    );
}

/// Waits for `child` to end, killing it and failing the test if it takes too long.
fn wait_bounded(mut child: std::process::Child, what: &str) -> Output {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("{what} did not end: {}", text(&out.stderr));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until the engine no longer runs statements holding `marker`.
fn assert_stops_running<F: Fixture>(f: &F, marker: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while f.running(marker).is_some_and(|n| n > 0) {
        assert!(
            Instant::now() < deadline,
            "{}: the engine still runs the statement",
            F::KIND
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `sql`'s lines in the audit log: a `query_started`, then one `closing` line with its
/// `query_id`, and nothing else. Returns the closing line.
fn started_then<F: Fixture>(c: &Case<F>, sql: &str, closing: &str) -> Value {
    let mine = c.audit_of(sql);
    let events: Vec<&str> = mine.iter().map(|l| l["event"].as_str().unwrap()).collect();
    assert_eq!(events, ["query_started", closing], "{}: {sql}", F::KIND);
    assert_eq!(mine[0]["query_id"], mine[1]["query_id"]);
    assert!(uuid::Uuid::parse_str(mine[0]["query_id"].as_str().unwrap()).is_ok());
    mine[1].clone()
}

/// add → the record as `--json` prints it → show by name and id → list (and by tag) → a
/// duplicate refused → rm → gone from show, list and query → the name free again; secrets
/// masked everywhere and encrypted at rest; each step audited.
pub fn registration_round_trip<F: Fixture>() {
    let c = Case::<F>::new();
    let conn = c.f.connection(Table::Samples);
    let out = c.try_add(
        "samples",
        &conn,
        &[
            "--description",
            DESCRIPTION,
            "--tag",
            "conformance",
            "--tag",
            F::KIND,
        ],
    );
    assert!(out.status.success(), "{}: {}", F::KIND, text(&out.stderr));
    let rec: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut outputs = vec![out];
    assert_eq!(
        keys(&rec),
        [
            "id",
            "name",
            "source_type",
            "connection",
            "description",
            "tags",
            "registered_by",
            "registered_at",
            "status"
        ]
    );
    let id = rec["id"].as_str().unwrap().to_string();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "id {id}");
    assert_eq!(rec["name"], "samples");
    assert_eq!(rec["source_type"], F::KIND);
    assert_eq!(rec["description"], DESCRIPTION);
    assert_eq!(rec["tags"], json!(["conformance", F::KIND]));
    assert!(!rec["registered_by"].as_str().unwrap().is_empty());
    assert_utc_timestamp(&rec["registered_at"]);
    assert_eq!(rec["status"], "active");
    // Every field given comes back as given, except a secret, which is masked.
    let secret = c.f.secret();
    for (k, v) in conn.as_object().unwrap() {
        let want = match &secret {
            Some(s) if s.key == k => json!("********"),
            _ => v.clone(),
        };
        assert_eq!(rec["connection"][k], want, "{}: connection.{k}", F::KIND);
    }

    // The seed's request body registers the same record.
    let body = json!({"name": "from_json", "source_type": F::KIND, "connection": conn,
                      "description": DESCRIPTION, "tags": ["conformance", F::KIND]});
    let out = run_stdin(
        c.cmd()
            .args(["source", "add", "--from-json", "-", "--json"]),
        &body.to_string(),
    );
    assert!(out.status.success(), "{}: {}", F::KIND, text(&out.stderr));
    let twin: Value = serde_json::from_slice(&out.stdout).unwrap();
    outputs.push(out);
    for k in ["source_type", "connection", "description", "tags", "status"] {
        assert_eq!(twin[k], rec[k], "{}: --from-json gave another {k}", F::KIND);
    }

    for reference in ["samples", id.as_str()] {
        let out = c.show(reference);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert_eq!(serde_json::from_slice::<Value>(&out.stdout).unwrap(), rec);
        outputs.push(out);
    }
    let human = c.run(&["source", "show", "samples"]);
    assert!(human.status.success());
    assert!(text(&human.stdout).contains("samples"));
    assert!(text(&human.stdout).contains(DESCRIPTION));
    outputs.push(human);

    let list = |tag: Option<&str>| -> Vec<Value> {
        let mut args = vec!["source", "list", "--json"];
        if let Some(t) = tag {
            args.extend(["--tag", t]);
        }
        let out = c.run(&args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    };
    let summaries = list(None);
    let mine = summaries
        .iter()
        .find(|s| s["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{}: not listed", F::KIND));
    assert_eq!(
        keys(mine),
        [
            "id",
            "name",
            "source_type",
            "description",
            "tags",
            "registered_at"
        ]
    );
    for k in keys(mine) {
        assert_eq!(mine[k], rec[k], "{}: list's {k}", F::KIND);
    }
    assert!(list(Some(F::KIND)).iter().any(|s| s["id"] == id.as_str()));
    assert!(list(Some("no-such-tag")).is_empty());

    let out = c.try_add("samples", &conn, &[]);
    assert_eq!(out.status.code(), Some(12), "{}: a duplicate name", F::KIND);

    let out = c.run(&["source", "test", "samples", "--json"]);
    assert!(out.status.success(), "{}: {}", F::KIND, text(&out.stderr));
    let test: Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["source_id", "ok", "latency_ms", "status", "detail"] {
        assert!(test.get(k).is_some(), "{}: test lacks {k}: {test}", F::KIND);
    }
    assert_eq!(test["source_id"], rec["id"]);
    assert_eq!(
        (&test["ok"], &test["status"]),
        (&json!(true), &json!("active"))
    );
    assert!(test["latency_ms"].as_f64().is_some_and(|ms| ms >= 0.0));
    outputs.push(out);

    assert_eq!(
        c.rows("samples", "SELECT count(*) AS n FROM data"),
        json!([{"n": SAMPLES.len()}])
    );

    let out = c.run(&["source", "rm", "samples", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        json!({"id": id, "name": "samples", "deleted": true, "purged": false})
    );
    for reference in ["samples", id.as_str()] {
        assert_eq!(c.show(reference).status.code(), Some(11), "{reference}");
    }
    let out = c.query("samples", "SELECT 1 AS one", &["--json"]);
    assert_eq!(out.status.code(), Some(11), "{}", text(&out.stderr));
    assert!(!list(None).iter().any(|s| s["id"] == id.as_str()));
    // The name is free again; the new source is another record.
    let again = c.add("samples", &conn);
    assert_ne!(again["id"], rec["id"]);
    let out = c.run(&["source", "rm", "samples", "--purge", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    outputs.push(out);

    let audit = c.audit();
    let events_of = |id: &Value| -> Vec<Value> {
        audit
            .iter()
            .filter(|l| l["source_id"] == *id && l["event"] != "query_started")
            .filter(|l| l["event"] != "query")
            .cloned()
            .collect()
    };
    let first = events_of(&rec["id"]);
    assert_eq!(first.len(), 2, "{}: {first:?}", F::KIND);
    assert_eq!(
        (&first[0]["event"], &first[0]["source_type"]),
        (&json!("source_registered"), &json!(F::KIND))
    );
    assert_eq!(
        (&first[1]["event"], &first[1]["purged"]),
        (&json!("source_deleted"), &json!(false))
    );
    let second = events_of(&again["id"]);
    assert_eq!(second[1]["purged"], true, "{second:?}");

    if let Some(s) = secret {
        let refs: Vec<&Output> = outputs.iter().collect();
        c.assert_hidden(&s.value, &refs);
    }
}

/// `source edit` changes the connection and the next query follows it (no stale cache or
/// pooled session), a rename frees the old name, an unknown field is refused by name, and
/// the change is audited without a secret.
pub fn edit_follows_the_connection<F: Fixture>() {
    let c = Case::<F>::new();
    let rec = c.add_table("s", Table::Samples);
    let count = "SELECT count(*) AS n FROM data";
    assert_eq!(c.rows("s", count), json!([{"n": SAMPLES.len()}]));

    let numbers = c.f.connection(Table::Numbers);
    let conn = numbers.to_string();
    let out = c.run(&[
        "source",
        "edit",
        "s",
        "--connection",
        &conn,
        "--description",
        "now the numbers",
        "--json",
    ]);
    assert!(out.status.success(), "{}: {}", F::KIND, text(&out.stderr));
    let edited: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(edited["id"], rec["id"]);
    assert_eq!(edited["description"], "now the numbers");
    let secret = c.f.secret();
    for (k, v) in numbers.as_object().unwrap() {
        let want = match &secret {
            Some(s) if s.key == k => json!("********"),
            _ => v.clone(),
        };
        assert_eq!(edited["connection"][k], want, "{}: connection.{k}", F::KIND);
    }
    assert_eq!(c.rows("s", count), json!([{"n": NUMBERS}]));

    let updated = c
        .audit()
        .into_iter()
        .find(|l| l["event"] == "source_updated")
        .unwrap_or_else(|| panic!("{}: the edit was not audited", F::KIND));
    assert_eq!(updated["source_id"], rec["id"]);
    let changed: Vec<&str> = updated["changed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(changed.contains(&"description"), "{changed:?}");
    assert!(
        changed
            .iter()
            .any(|k| k.starts_with("connection.") && !k.contains("password")),
        "{}: {changed:?}",
        F::KIND
    );

    let out = c.run(&["source", "edit", "s", "--name", "renamed", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(c.show("s").status.code(), Some(11));
    assert_eq!(c.rows("renamed", count), json!([{"n": NUMBERS}]));
    c.add_table("s", Table::Samples);

    let out = c.run(&[
        "source",
        "edit",
        "renamed",
        "--connection",
        r#"{"no_such_field": 1}"#,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    assert!(
        error_detail(&out).contains("no_such_field"),
        "{}",
        text(&out.stderr)
    );
    if let Some(s) = secret {
        c.assert_hidden(&s.value, &[&out]);
    }
}

/// `data` names the registered table wherever a table may stand, and a CTE named `data`
/// shadows it.
pub fn data_alias<F: Fixture>() {
    let c = Case::<F>::new();
    c.add_table("s", Table::Samples);
    let n = json!([{"n": SAMPLES.len()}]);
    assert_eq!(c.rows("s", "SELECT count(*) AS n FROM data"), n);
    assert_eq!(c.rows("s", "SELECT count(*) AS n FROM DATA"), n);
    assert_eq!(
        c.rows(
            "s",
            &format!("SELECT count(*) AS n FROM {}", F::quoted("data"))
        ),
        n
    );
    assert_eq!(
        c.rows("s", "SELECT d.label FROM data d WHERE d.id = 1"),
        json!([{"label": "plain"}])
    );
    assert_eq!(
        c.rows("s", "SELECT data.id FROM data ORDER BY data.id LIMIT 1"),
        json!([{"id": 1}])
    );
    assert_eq!(
        c.rows(
            "s",
            "SELECT count(*) AS n FROM data a JOIN data b ON a.id = b.id"
        ),
        n
    );
    assert_eq!(
        c.rows(
            "s",
            "SELECT count(*) AS n FROM (SELECT * FROM data WHERE id > 5) x"
        ),
        json!([{"n": 2}])
    );
    assert_eq!(
        c.rows(
            "s",
            "SELECT label FROM data WHERE id = (SELECT max(id) FROM data)"
        ),
        json!([{"label": "bidi"}])
    );
    let cte = "WITH data AS (SELECT 42 AS id) SELECT id FROM data";
    if c.f.subquery_ctes() {
        assert_eq!(c.rows("s", cte), json!([{"id": 42}]));
    } else {
        // The guard lets it through untouched; the engine's own refusal is a query failure.
        let out = c.query("s", cte, &["--json"]);
        assert_eq!(out.status.code(), Some(14), "{}", text(&out.stderr));
    }
    // Each source's `data` is its own table.
    c.add_table("numbers", Table::Numbers);
    assert_eq!(
        // Not `AS n`: in ClickHouse an alias shadows the column of that name everywhere.
        c.rows(
            "numbers",
            "SELECT count(*) AS rows_, max(n) AS top FROM data"
        ),
        json!([{"rows_": NUMBERS, "top": NUMBERS}])
    );
}

/// `--limit` caps the rows, `truncated` is true exactly when more existed, and `--csv` /
/// `--tsv` say so on stderr and nowhere else.
pub fn limit_and_truncated<F: Fixture>() {
    let c = Case::<F>::new();
    c.add_table("n", Table::Numbers);
    // (sql, --limit, rows returned, truncated)
    let cases: &[(&str, Option<usize>, usize, bool)] = &[
        ("SELECT n FROM data ORDER BY n", None, 100, true),
        ("SELECT n FROM data ORDER BY n", Some(1000), 1000, true),
        (
            "SELECT n FROM data WHERE n <= 1000 ORDER BY n",
            Some(1000),
            1000,
            false,
        ),
        (
            "SELECT n FROM data WHERE n <= 1001 ORDER BY n",
            Some(1000),
            1000,
            true,
        ),
        (
            "SELECT n FROM data WHERE n <= 100 ORDER BY n",
            None,
            100,
            false,
        ),
        ("SELECT n FROM data ORDER BY n LIMIT 5", None, 5, false),
        (
            "SELECT n FROM data ORDER BY n LIMIT 500",
            Some(10),
            10,
            true,
        ),
        (
            "SELECT n FROM data ORDER BY n LIMIT 10",
            Some(10),
            10,
            false,
        ),
        ("SELECT n FROM data ORDER BY n", Some(1), 1, true),
    ];
    for (sql, limit, n, truncated) in cases {
        let l = limit.map(|l| l.to_string());
        let extra: Vec<&str> = match &l {
            Some(l) => vec!["--limit", l],
            None => vec![],
        };
        let v = c.ok("n", sql, &extra);
        let want: Vec<Value> = (1..=*n).map(|i| json!({"n": i})).collect();
        assert_eq!(v["rows"], json!(want), "{}: {sql} {limit:?}", F::KIND);
        assert_eq!(v["rows_returned"], *n, "{}: {sql} {limit:?}", F::KIND);
        assert_eq!(v["truncated"], *truncated, "{}: {sql} {limit:?}", F::KIND);
        assert_eq!(v["columns"], json!(["n"]));
    }
    assert_eq!(
        c.rows("n", "SELECT count(*) AS n FROM data"),
        json!([{"n": NUMBERS}])
    );

    let all = "SELECT n FROM data ORDER BY n";
    let out = c.query("n", all, &["--limit", "1000", "--csv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let want: String = std::iter::once("n".to_string())
        .chain((1..=1000).map(|i| i.to_string()))
        .map(|l| l + "\n")
        .collect();
    assert_eq!(text(&out.stdout), want);
    assert_eq!(
        text(&out.stderr),
        "tdb: 1000 rows shown, more exist (--limit 1000)\n"
    );
    let out = c.query("n", all, &["--limit", "3", "--tsv"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "n\n1\n2\n3\n");
    assert_eq!(
        text(&out.stderr),
        "tdb: 3 rows shown, more exist (--limit 3)\n"
    );
    // A result that fits says nothing.
    let out = c.query(
        "n",
        "SELECT n FROM data WHERE n <= 3 ORDER BY n",
        &["--csv"],
    );
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "n\n1\n2\n3\n");
    assert_eq!(text(&out.stderr), "");
    // The table for people says so itself.
    let out = c.query("n", all, &["--limit", "2"]);
    assert!(out.status.success());
    assert!(
        text(&out.stdout).contains("2 rows · more exist"),
        "{}",
        text(&out.stdout)
    );

    // The audit line of a cut result says so too.
    let audited = c
        .audit_of(all)
        .into_iter()
        .filter(|l| l["event"] == "query")
        .collect::<Vec<_>>();
    assert!(
        audited
            .iter()
            .any(|l| l["rows_returned"] == 1000 && l["truncated"] == true),
        "{audited:?}"
    );

    for bad in ["0", "1001", "-5"] {
        let out = c.query("n", "SELECT 1 AS one", &["--limit", bad, "--json"]);
        assert_eq!(out.status.code(), Some(10), "--limit {bad}");
        assert!(error_detail(&out).starts_with("limit:"), "--limit {bad}");
    }
}

/// `source schema --json`: the record's id and name, the table's columns with their types in
/// order, a UTC `inspected_at`; with no table, every table under `tables`.
pub fn schema_shape<F: Fixture>() {
    let c = Case::<F>::new();
    let rec = c.add_table("s", Table::Samples);
    let schema = |name: &str| -> Value {
        let out = c.run(&["source", "schema", name, "--json"]);
        assert!(out.status.success(), "{}: {}", F::KIND, text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let names_types = |columns: &Value| -> Vec<(String, String)> {
        columns
            .as_array()
            .unwrap()
            .iter()
            .map(|col| {
                (
                    col["name"].as_str().unwrap().to_string(),
                    col["type"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let [t_id, t_label, t_note] = c.f.sample_types();
    let want = |cols: &[(&str, &str)]| -> Vec<(String, String)> {
        cols.iter()
            .map(|(n, t)| (n.to_string(), t.to_string()))
            .collect()
    };

    let v = schema("s");
    // README "Sources": every column has these keys, whatever the kind can tell of them.
    for col in v["columns"].as_array().unwrap() {
        assert_eq!(
            keys(col),
            [
                "name",
                "type",
                "not_null",
                "primary_key",
                "references",
                "comment"
            ],
            "{}: {col}",
            F::KIND
        );
    }
    for k in ["source_id", "source_name", "columns", "inspected_at"] {
        assert!(v.get(k).is_some(), "{}: schema lacks {k}: {v}", F::KIND);
    }
    assert_eq!(v["source_id"], rec["id"]);
    assert_eq!(v["source_name"], "s");
    assert_utc_timestamp(&v["inspected_at"]);
    assert!(v.get("tables").is_none(), "{}: {v}", F::KIND);
    assert_eq!(
        names_types(&v["columns"]),
        want(&[("id", t_id), ("label", t_label), ("note", t_note)]),
        "{}",
        F::KIND
    );

    c.add_table("n", Table::Numbers);
    assert_eq!(names_types(&schema("n")["columns"]), want(&[("n", t_id)]));

    let out = c.run(&["source", "schema", "s"]);
    assert!(out.status.success());
    for col in ["id", "label", "note"] {
        assert!(text(&out.stdout).contains(col), "{}", text(&out.stdout));
    }

    if let Some(conn) = c.f.whole_database() {
        c.add("whole", &conn);
        let v = schema("whole");
        let tables = v["tables"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no tables: {v}", F::KIND));
        for (table, cols) in [
            (
                "samples",
                want(&[("id", t_id), ("label", t_label), ("note", t_note)]),
            ),
            ("numbers", want(&[("n", t_id)])),
        ] {
            let t = tables
                .iter()
                .find(|t| t["name"] == table)
                .unwrap_or_else(|| panic!("{}: {table} not in {v}", F::KIND));
            assert!(t.get("schema").is_some(), "{t}");
            assert_eq!(names_types(&t["columns"]), cols, "{}: {table}", F::KIND);
        }
    }
}

/// NULL is `null`, an empty CSV field and `\N`; the empty string is whatever the kind
/// documents (`""` where it can tell the two apart), in every format.
pub fn null_and_empty_string<F: Fixture>() {
    let c = Case::<F>::new();
    c.add_table("s", Table::Samples);
    let empty = c.f.empty_string();
    let sql = "SELECT id, note FROM data WHERE id IN (3, 4) ORDER BY id";
    assert_eq!(
        c.rows("s", sql),
        json!([{"id": 3, "note": null}, {"id": 4, "note": empty}])
    );
    let nulls = if empty.is_null() { 2 } else { 1 };
    assert_eq!(
        c.rows("s", "SELECT count(*) AS n FROM data WHERE note IS NULL"),
        json!([{"n": nulls}])
    );
    assert_eq!(
        c.rows(
            "s",
            "SELECT count(*) AS n FROM data WHERE coalesce(note, '') = ''"
        ),
        json!([{"n": 2}])
    );

    let out = c.query("s", sql, &["--csv"]);
    let empty_csv = if empty.is_null() { "" } else { "\"\"" };
    assert_eq!(text(&out.stdout), format!("id,note\n3,\n4,{empty_csv}\n"));
    let out = c.query("s", sql, &["--tsv"]);
    let empty_tsv = if empty.is_null() { "\\N" } else { "" };
    assert_eq!(
        text(&out.stdout),
        format!("id\tnote\n3\t\\N\n4\t{empty_tsv}\n")
    );
    let out = c.query("s", sql, &[]);
    let human = text(&out.stdout);
    let line_of = |id: &str| {
        human
            .lines()
            .find(|l| l.trim_start().starts_with(id))
            .unwrap_or_else(|| panic!("no row {id} in {human}"))
            .to_string()
    };
    assert!(line_of("3 ").contains("NULL"), "{human}");
    assert_eq!(line_of("4 ").contains("NULL"), empty.is_null(), "{human}");
}

/// Text in any script comes back byte for byte, in values, in column names and through a
/// literal in the SQL.
pub fn unicode_exact<F: Fixture>() {
    let c = Case::<F>::new();
    c.add_table("s", Table::Samples);
    assert_eq!(
        c.rows("s", "SELECT note FROM data WHERE id = 2"),
        json!([{"note": UNICODE}])
    );
    let sql = format!("SELECT id FROM data WHERE note = '{UNICODE}'");
    assert_eq!(c.rows("s", &sql), json!([{"id": 2}]));
    let v = c.ok(
        "s",
        "SELECT note AS \"名前 ünï\", 'ß→😀' AS lit FROM data WHERE id = 2",
        &[],
    );
    assert_eq!(v["columns"], json!(["名前 ünï", "lit"]));
    assert_eq!(v["rows"], json!([{"名前 ünï": UNICODE, "lit": "ß→😀"}]));
    let out = c.query("s", "SELECT note FROM data WHERE id = 2", &["--csv"]);
    assert_eq!(text(&out.stdout), format!("note\n{UNICODE}\n"));
    let out = c.query("s", "SELECT note FROM data WHERE id = 2", &[]);
    assert!(text(&out.stdout).contains(UNICODE), "{}", text(&out.stdout));
}

/// What a terminal would act on (ESC, BEL, bidi overrides) never reaches it raw, in values,
/// column names or error messages; `--json` escapes it and decodes to the exact value, and
/// CSV piped to another program keeps the exact bytes.
pub fn escapes_sanitised<F: Fixture>() {
    let c = Case::<F>::new();
    c.add_table("s", Table::Samples);
    let raw = ['\u{1b}', '\u{7}', '\u{202E}', '\u{9b}'];
    let assert_clean = |what: &str, s: &str| {
        for ch in raw {
            assert!(
                !s.contains(ch),
                "{}: {what} holds raw U+{:04X}: {s:?}",
                F::KIND,
                u32::from(ch)
            );
        }
    };
    let sql = "SELECT id, note FROM data WHERE id IN (5, 6, 7) ORDER BY id";

    let out = c.query("s", sql, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let human = text(&out.stdout);
    assert_clean("the table", &human);
    for shown in [
        "␛[31mred␛[0m",
        "␛]52;c;ZWNobyBwd25lZA==\\x07",
        "invoice<U+202E>txt.exe",
    ] {
        assert!(human.contains(shown), "{}: {shown} not in {human}", F::KIND);
    }

    let out = c.query("s", sql, &["--json"]);
    assert!(out.status.success());
    let line = text(&out.stdout);
    assert_clean("--json", &line);
    assert!(line.contains("\\u202e"), "{line}");
    let v: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(
        v["rows"],
        json!([{"id": 5, "note": CSI}, {"id": 6, "note": OSC52}, {"id": 7, "note": BIDI}])
    );

    // Redirected CSV is data for another program: the values leave as they are.
    let out = c.query("s", sql, &["--csv"]);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        format!("id,note\n5,{CSI}\n6,{OSC52}\n7,{BIDI}\n"),
        "{}",
        F::KIND
    );

    // A column name chosen by the query.
    let named = "SELECT 1 AS \"x\u{1b}]0;owned\u{7}\u{202E}\"";
    let out = c.query("s", named, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_clean("a column name", &text(&out.stdout));
    let v = c.ok("s", named, &[]);
    assert_eq!(v["columns"], json!(["x\u{1b}]0;owned\u{7}\u{202E}"]));

    // An engine's error message quoting the user's text.
    let bad = "SELECT * FROM \"\u{1b}[2Jnope\u{202E}\"";
    for extra in [&[][..], &["--json"][..]] {
        let out = c.query("s", bad, extra);
        assert!(!out.status.success(), "{}: {bad:?} ran", F::KIND);
        assert_clean("an error message", &text(&out.stderr));
        assert!(text(&out.stderr).contains("nope"), "{}", text(&out.stderr));
    }
}

/// SIGINT to a running `tdb query` stops the statement in the engine, exits 130 and leaves
/// a `query_failed` line that says it was cancelled.
pub fn cancel<F: Fixture>() {
    let c = Case::<F>::new();
    c.add_table("s", Table::Samples);
    let marker = format!("cancel_{}", uuid::Uuid::new_v4().simple());
    let sql = c.f.slow_sql(&marker);
    let child = c
        .cmd()
        .args(["query", "--source", "s", "--json", "--sql", &sql])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The `query_started` line is on disk before the statement is sent, and tdb listens for
    // signals from then on.
    let deadline = Instant::now() + PATIENCE;
    while !c
        .audit_of(&sql)
        .iter()
        .any(|l| l["event"] == "query_started")
    {
        assert!(
            Instant::now() < deadline,
            "{}: the query never started",
            F::KIND
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    match c.f.running(&marker) {
        Some(_) => {
            while c.f.running(&marker) == Some(0) {
                assert!(
                    Instant::now() < deadline,
                    "{}: the statement never reached the engine",
                    F::KIND
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // Nothing to watch: give the engine a moment to be inside the statement.
        None => std::thread::sleep(Duration::from_millis(500)),
    }
    // SAFETY: signalling our own child, which is not reaped until wait_bounded.
    assert_eq!(unsafe { libc::kill(child.id() as i32, libc::SIGINT) }, 0);
    let out = wait_bounded(child, "the cancelled query");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}: {:?}: {}",
        F::KIND,
        out.status,
        text(&out.stderr)
    );
    assert!(
        error_detail(&out).contains("cancelled"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let failed = started_then(&c, &sql, "query_failed");
    assert!(
        failed["detail"].as_str().unwrap().contains("cancelled"),
        "{failed}"
    );
    assert_stops_running(&c.f, &marker);
}

/// With `statement_timeout_s` = 1 a slow statement ends as a failure (exit 14) that says it
/// timed out, and the engine stops it. A kind without the field refuses it rather than
/// ignoring a limit the user asked for.
pub fn statement_timeout<F: Fixture>() {
    let c = Case::<F>::new();
    let mut conn = c.f.connection(Table::Samples);
    conn["statement_timeout_s"] = json!(1);
    if !c.f.has_statement_timeout() {
        let out = c.try_add("t", &conn, &[]);
        assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
        assert!(
            error_detail(&out).contains("statement_timeout_s"),
            "{}",
            text(&out.stderr)
        );
        return;
    }
    c.add("t", &conn);
    let marker = format!("timeout_{}", uuid::Uuid::new_v4().simple());
    let sql = c.f.slow_sql(&marker);
    let child = c
        .cmd()
        .args(["query", "--source", "t", "--json", "--sql", &sql])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_bounded(child, "a query past its statement timeout");
    assert_eq!(out.status.code(), Some(14), "{}", text(&out.stderr));
    let says_timeout = |d: &str| d.contains("timed out") || d.contains("timeout");
    let detail = error_detail(&out);
    assert!(says_timeout(&detail), "{}: {detail}", F::KIND);
    assert!(out.stdout.is_empty());
    let failed = started_then(&c, &sql, "query_failed");
    assert!(says_timeout(failed["detail"].as_str().unwrap()), "{failed}");
    assert_stops_running(&c.f, &marker);
}

/// A source that cannot be reached: exit 13 from query and test, a message naming where tdb
/// looked and never a secret, `status` failed.
pub fn unreachable<F: Fixture>() {
    let c = Case::<F>::new();
    let u = c.f.unreachable(&mut |conn| {
        c.add("gone", &conn);
    });
    let mut outputs = Vec::new();
    let out = c.query("gone", "SELECT 1 AS one", &["--json"]);
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(v["error"]["status"], 503);
    let detail = error_detail(&out);
    assert!(detail.contains(&u.target), "{}: {detail}", F::KIND);
    assert!(out.stdout.is_empty());
    outputs.push(out);
    let out = c.query("gone", "SELECT 1 AS one", &[]);
    assert_eq!(out.status.code(), Some(13));
    assert!(
        text(&out.stderr).contains(&u.target),
        "{}",
        text(&out.stderr)
    );
    outputs.push(out);

    let out = c.run(&["source", "test", "gone", "--json"]);
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((&v["ok"], &v["status"]), (&json!(false), &json!("failed")));
    assert!(v["detail"].as_str().unwrap().contains(&u.target), "{v}");
    outputs.push(out);
    let out = c.run(&["source", "schema", "gone", "--json"]);
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    assert!(
        error_detail(&out).contains(&u.target),
        "{}",
        text(&out.stderr)
    );
    outputs.push(out);
    let out = c.show("gone");
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["status"],
        "failed"
    );
    outputs.push(out);

    // The failed query is audited, and nothing else pretends it ran.
    let lines = c.audit_of("SELECT 1 AS one");
    assert!(
        lines.iter().all(|l| l["event"] != "query"),
        "{}: {lines:?}",
        F::KIND
    );
    assert_eq!(
        lines.last().map(|l| l["event"].clone()),
        Some(json!("query_failed"))
    );

    if let Some(secret) = u.secret {
        let refs: Vec<&Output> = outputs.iter().collect();
        c.assert_hidden(&secret, &refs);
    }
}

/// Writes, DDL, several statements, write CTEs, transaction control and the dialect's own
/// dangerous statements are refused (exit 10) before they reach the engine, audited as
/// refused, and the source is exactly as it was.
pub fn hostile_statements_refused<F: Fixture>() {
    let c = Case::<F>::new();
    c.add_table("s", Table::Samples);
    // Anything built lazily (a cache, a connection) exists before the snapshot.
    c.rows("s", "SELECT count(*) AS n FROM data");
    let before = c.f.state();
    let mut statements: Vec<String> = GENERIC_HOSTILE.iter().map(|s| s.to_string()).collect();
    statements.extend(c.f.hostile());
    for sql in &statements {
        let out = c.query("s", sql, &["--json"]);
        assert_eq!(
            out.status.code(),
            Some(10),
            "{}: not refused: {sql}\nstdout: {}\nstderr: {}",
            F::KIND,
            text(&out.stdout),
            text(&out.stderr)
        );
        let d = error_detail(&out);
        assert!(d.starts_with("SQL validation failed: "), "{sql}: {d}");
        assert!(out.stdout.is_empty(), "{sql}: printed rows");
        // Refused before it was sent: no `query_started` line.
        let events: Vec<Value> = c.audit_of(sql).iter().map(|l| l["event"].clone()).collect();
        assert_eq!(events, [json!("query_rejected")], "{}: {sql}", F::KIND);
    }
    // Longer than any statement may be, through stdin: refused and audited by its size.
    let oversize = format!("SELECT {}1", "1+".repeat(60_000));
    let out = c.query("s", &oversize, &["--json"]);
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    let last = c.audit().pop().unwrap();
    assert_eq!(last["event"], "query_rejected");
    assert_eq!(last["sql_chars"], oversize.chars().count());

    assert_eq!(c.f.state(), before, "{}: the source changed", F::KIND);
    assert_eq!(
        c.rows("s", "SELECT count(*) AS n FROM data"),
        json!([{"n": SAMPLES.len()}])
    );
}

/// A success, a refusal and a failure each leave the lines CONTRACT.md describes, keys in
/// order; `tdb audit --json` prints the same lines, and the chain verifies.
pub fn audit_lines<F: Fixture>() {
    let c = Case::<F>::new();
    let rec = c.add_table("s", Table::Samples);
    let id = rec["id"].clone();
    let with_tail = |head: &[&str]| -> Vec<String> {
        let mut k: Vec<String> = ["seq", "event"].iter().map(|s| s.to_string()).collect();
        k.extend(head.iter().map(|s| s.to_string()));
        k.extend(AUDIT_TAIL.iter().map(|s| s.to_string()));
        k
    };
    let keys_of = |l: &Value| -> Vec<String> { keys(l).into_iter().map(String::from).collect() };
    let common = |l: &Value| {
        assert_eq!(l["source_id"], id);
        assert_eq!(l["source_name"], "s");
        assert!(!l["actor"].as_str().unwrap().is_empty());
        assert_utc_timestamp(&l["timestamp"]);
        assert_eq!(l["prev_sha256"].as_str().unwrap().len(), 64);
    };

    let ok = "SELECT id, label FROM data WHERE id <= 2 ORDER BY id";
    let v = c.ok("s", ok, &[]);
    assert_eq!(v["rows_returned"], 2);
    let done = started_then(&c, ok, "query");
    let started = &c.audit_of(ok)[0];
    assert_eq!(
        keys_of(started),
        with_tail(&[
            "query_id",
            "source_id",
            "source_name",
            "sql",
            "executed_sql"
        ])
    );
    assert_eq!(
        keys_of(&done),
        with_tail(&[
            "query_id",
            "source_id",
            "source_name",
            "sql",
            "executed_sql",
            "rows_returned",
            "truncated",
            "duration_ms"
        ])
    );
    common(started);
    common(&done);
    assert_eq!(done["executed_sql"], started["executed_sql"]);
    assert_eq!(
        (&done["rows_returned"], &done["truncated"]),
        (&json!(2), &json!(false))
    );
    assert!(done["duration_ms"].is_u64());

    let refused = "DELETE FROM data WHERE id = 1";
    let out = c.query("s", refused, &["--json"]);
    assert_eq!(out.status.code(), Some(10));
    let lines = c.audit_of(refused);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["event"], "query_rejected");
    assert_eq!(
        keys_of(&lines[0]),
        with_tail(&["source_id", "source_name", "sql", "detail"])
    );
    common(&lines[0]);
    assert_eq!(lines[0]["detail"], error_detail(&out));

    let failing = "SELECT * FROM no_such_table_anywhere";
    let out = c.query("s", failing, &["--json"]);
    assert_eq!(out.status.code(), Some(14), "{}", text(&out.stderr));
    let failed = started_then(&c, failing, "query_failed");
    assert_eq!(
        keys_of(&failed),
        with_tail(&[
            "query_id",
            "source_id",
            "source_name",
            "sql",
            "executed_sql",
            "detail",
            "duration_ms"
        ])
    );
    common(&failed);
    assert!(
        failed["detail"]
            .as_str()
            .unwrap()
            .contains("no_such_table_anywhere"),
        "{failed}"
    );

    // `tdb audit --json` prints exactly the file's lines; seq counts up and the chain holds.
    let file = c.audit();
    let out = c.run(&["audit", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(printed, file);
    for (i, l) in file.iter().enumerate() {
        assert_eq!(l["seq"], file[0]["seq"].as_u64().unwrap() + i as u64);
    }
    let out = c.run(&["audit", "verify", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["ok"],
        true
    );
    if let Some(s) = c.f.secret() {
        c.assert_hidden(&s.value, &[]);
    }
}

/// The files in `dir` (names, sizes, digests, modification times), for [`Fixture::state`]
/// of file kinds: a write, a new file or a touch shows as a difference.
pub fn folder_state(dir: &Path) -> Vec<String> {
    use sha2::Digest;
    let mut entries: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let meta = std::fs::metadata(e.path()).unwrap();
            let digest = if meta.is_file() {
                hex::encode(sha2::Sha256::digest(std::fs::read(e.path()).unwrap()))
            } else {
                "folder".into()
            };
            format!(
                "{} {} {digest} {:?}",
                e.file_name().to_string_lossy(),
                meta.len(),
                meta.modified().unwrap()
            )
        })
        .collect();
    entries.sort();
    entries
}
