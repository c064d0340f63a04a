//! The `tdb` kind against a real `tdb serve`: a query through it gives the rows `tdb query`
//! gives on the server's own home, both sides audit it, and a revoked key is a clear error
//! (exit 13, the source cannot be reached with that key).

mod common;

use common::process::{add_csv_source, error_detail, run_stdin, tdb, text};
use common::serve::{Server, create_key};
use serde_json::{Value, json};

fn query(home: &std::path::Path, source: &str, sql: &str) -> std::process::Output {
    tdb(home)
        .args(["query", "--source", source, "--json", "--sql", sql])
        .output()
        .unwrap()
}

#[test]
fn the_tdb_kind_queries_through_the_api_and_a_revoked_key_is_refused() {
    let bastion = tempfile::tempdir().unwrap();
    let csv = bastion.path().join("people.csv");
    std::fs::write(
        &csv,
        "id,email,country\n1,alice@example.com,US\n2,bob@example.com,US\n3,chloe@example.fr,FR\n",
    )
    .unwrap();
    add_csv_source(bastion.path(), "people", &csv);
    let key = create_key(bastion.path(), "laptop", &["--sources", "people"]);
    let server = Server::start(bastion.path());

    let laptop = tempfile::tempdir().unwrap();
    let body = json!({"name": "team-people", "source_type": "tdb",
                      "connection": {"url": format!("http://{}", server.addr), "api_key": key, "source": "people"}});
    let added = run_stdin(
        tdb(laptop.path()).args(["source", "add", "--from-json", "-", "--json"]),
        &body.to_string(),
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let rec: Value = serde_json::from_slice(&added.stdout).unwrap();
    assert_eq!(rec["connection"]["api_key"], "********");

    let sql = "SELECT id, email, country FROM data WHERE country = 'US' ORDER BY id";
    let through = query(laptop.path(), "team-people", sql);
    assert!(through.status.success(), "{}", text(&through.stderr));
    let direct = query(bastion.path(), "people", sql);
    let (a, b): (Value, Value) = (
        serde_json::from_slice(&through.stdout).unwrap(),
        serde_json::from_slice(&direct.stdout).unwrap(),
    );
    for k in ["columns", "rows", "rows_returned", "truncated"] {
        assert_eq!(a[k], b[k], "{k}");
    }

    let schema = tdb(laptop.path())
        .args(["source", "schema", "team-people", "--json"])
        .output()
        .unwrap();
    assert!(schema.status.success(), "{}", text(&schema.stderr));
    let s: Value = serde_json::from_slice(&schema.stdout).unwrap();
    assert_eq!(s["columns"][1]["name"], "email");

    let refused = query(laptop.path(), "team-people", "DELETE FROM data");
    assert_eq!(refused.status.code(), Some(10));
    assert!(error_detail(&refused).starts_with("SQL validation failed: "));

    // The server's audit line names the key's prefix; the key itself is in no file.
    let audit = std::fs::read_to_string(bastion.path().join("tdb_audit.jsonl")).unwrap();
    let ran: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|l| l["event"] == "query" && l["api_key"].is_string())
        .collect();
    assert_eq!(ran.len(), 1);
    assert_eq!(ran[0]["api_key"], key[..13]);
    let laptop_audit = std::fs::read_to_string(laptop.path().join("tdb_audit.jsonl")).unwrap();
    assert!(!audit.contains(&key) && !laptop_audit.contains(&key));

    let revoked = tdb(bastion.path())
        .args(["key", "revoke", "laptop"])
        .output()
        .unwrap();
    assert!(revoked.status.success());
    let after = query(laptop.path(), "team-people", sql);
    assert_eq!(after.status.code(), Some(13), "{}", text(&after.stderr));
    let detail = error_detail(&after);
    assert!(
        detail.contains("refused the API key") && detail.contains("revoked"),
        "{detail}"
    );
    assert!(!detail.contains(&key));
    let test = tdb(laptop.path())
        .args(["source", "test", "team-people"])
        .output()
        .unwrap();
    assert_eq!(test.status.code(), Some(13), "{}", text(&test.stdout));
}
