//! `GET /openapi.json` checked against the running server by schemathesis: every operation
//! fuzzed and run through stateful scenarios with an admin key; no 5xx, and every status,
//! content type, header and body is the one the document declares. scripts/test installs
//! schemathesis (PyPI) when it is missing and names it in `$TDB_SCHEMATHESIS`.

mod common;

use std::process::Command;

use common::process::{add_csv_source, text};
use common::serve::{Server, create_key};

fn schemathesis() -> String {
    if let Ok(path) = std::env::var("TDB_SCHEMATHESIS") {
        return path;
    }
    let found = Command::new("schemathesis").arg("--version").output();
    match found {
        Ok(out) if out.status.success() => "schemathesis".into(),
        _ => panic!(
            "schemathesis is not installed: run scripts/test (it installs it), or \
             `pip install schemathesis` and set TDB_SCHEMATHESIS to its path"
        ),
    }
}

#[test]
fn the_openapi_document_matches_the_running_server() {
    let home = tempfile::tempdir().unwrap();
    let csv = home.path().join("people.csv");
    std::fs::write(&csv, "id,email,country\n1,a@example.com,US\n").unwrap();
    add_csv_source(home.path(), "people", &csv);
    let admin = create_key(home.path(), "ops", &["--admin"]);
    let server = Server::start(home.path());

    let doc = server.request("GET", "/openapi.json", None, None);
    assert_eq!(doc.status, 200);
    assert_eq!(doc.header("content-type"), Some("application/json"));
    assert_eq!(doc.json()["openapi"], "3.1.0");

    let out = Command::new(schemathesis())
        .arg("run")
        .arg(format!("http://{}/openapi.json", server.addr))
        .args(["-H", &format!("Authorization: Bearer {admin}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,response_headers_conformance",
            "--max-examples",
            "25",
            "--seed",
            "19",
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("run schemathesis");
    assert!(
        out.status.success(),
        "schemathesis found problems:\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = text(&out.stdout);
    assert!(report.contains("Tested: 12"), "{report}");
    assert!(!server.stderr().contains("panicked"), "{}", server.stderr());
}
