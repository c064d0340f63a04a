//! `tdb serve --tls-cert F --tls-key F`: HTTPS with a certificate a client checks against
//! its CA; the `tdb` kind over https; plain HTTP on the same port gets nothing; a bad
//! certificate file is a clear error before anything listens.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use common::process::{add_csv_source, run_stdin, tdb, text};
use common::serve::{Server, create_key};
use common::server::make_certificates;
use rustls::pki_types::pem::PemObject;

/// One HTTPS request, the CA at `ca` trusted; returns the status line and the body.
fn https_get(server: &Server, ca: &std::path::Path, path: &str, key: &str) -> (String, String) {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls::pki_types::CertificateDer::pem_file_iter(ca).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let conn = rustls::ClientConnection::new(Arc::new(config), name).unwrap();
    let tcp = TcpStream::connect(server.addr).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, tcp);
    write!(
        tls,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Bearer {key}\r\n\r\n"
    )
    .unwrap();
    let mut got = Vec::new();
    // A server that closes without close_notify ends the read with an error after the data.
    let _ = tls.read_to_end(&mut got);
    let got = String::from_utf8_lossy(&got).into_owned();
    let (head, body) = got.split_once("\r\n\r\n").unwrap_or((&got, ""));
    (
        head.lines().next().unwrap_or_default().to_string(),
        body.to_string(),
    )
}

#[test]
fn https_serves_the_api_and_the_tdb_kind_uses_it() {
    let home = tempfile::tempdir().unwrap();
    let certs = tempfile::tempdir().unwrap();
    make_certificates(certs.path(), "DNS:localhost,IP:127.0.0.1");
    let csv = home.path().join("p.csv");
    std::fs::write(&csv, "id,name\n1,ann\n").unwrap();
    add_csv_source(home.path(), "p", &csv);
    let key = create_key(home.path(), "alice", &[]);
    let cert = certs.path().join("server.crt");
    let tls_key = certs.path().join("server.key");
    let server = Server::start_with(
        home.path(),
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            tls_key.to_str().unwrap(),
        ],
    );
    let ca = certs.path().join("ca.crt");
    let (status, body) = https_get(&server, &ca, "/v1/sources", &key);
    assert_eq!(status, "HTTP/1.1 200 OK", "{body}");
    assert!(body.contains("\"name\":\"p\""), "{body}");

    // Plain HTTP to the TLS port is no request at all.
    let mut plain = TcpStream::connect(server.addr).unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let _ = plain.read_to_end(&mut got);
    assert!(!String::from_utf8_lossy(&got).contains("200 OK"));

    // The tdb kind checks the certificate against the system's roots, which do not hold
    // the test CA: a clear exit 13 naming TLS, never a fallback to plain HTTP.
    let laptop = tempfile::tempdir().unwrap();
    let body = serde_json::json!({"name": "remote", "source_type": "tdb", "connection":
        {"url": format!("https://{}", server.addr), "api_key": key, "source": "p"}});
    let added = run_stdin(
        tdb(laptop.path()).args(["source", "add", "--from-json", "-"]),
        &body.to_string(),
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let q = tdb(laptop.path())
        .args(["query", "--source", "remote", "--sql", "SELECT 1", "--json"])
        .output()
        .unwrap();
    assert_eq!(q.status.code(), Some(13), "{}", text(&q.stderr));
    assert!(text(&q.stderr).contains("TLS"), "{}", text(&q.stderr));
    assert!(!text(&q.stderr).contains(&key));

    // With the team's CA named in ssl_ca, the same server answers over https.
    let body = serde_json::json!({"name": "trusted", "source_type": "tdb", "connection":
        {"url": format!("https://localhost:{}", server.addr.port()), "api_key": key,
         "source": "p", "ssl_ca": ca}});
    let added = run_stdin(
        tdb(laptop.path()).args(["source", "add", "--from-json", "-"]),
        &body.to_string(),
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let q = tdb(laptop.path())
        .args([
            "query",
            "--source",
            "trusted",
            "--sql",
            "SELECT 1 AS one",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(q.status.success(), "{}", text(&q.stderr));
    let v: serde_json::Value = serde_json::from_slice(&q.stdout).unwrap();
    assert_eq!(v["rows"], serde_json::json!([{"one": 1}]), "{v}");
    // A CA file that is not one is a clear exit 13, naming the file.
    let junk = laptop.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let body = serde_json::json!({"name": "junk", "source_type": "tdb", "connection":
        {"url": format!("https://localhost:{}", server.addr.port()), "api_key": key,
         "source": "p", "ssl_ca": junk}});
    let added = run_stdin(
        tdb(laptop.path()).args(["source", "add", "--from-json", "-"]),
        &body.to_string(),
    );
    assert!(added.status.success(), "{}", text(&added.stderr));
    let q = tdb(laptop.path())
        .args(["query", "--source", "junk", "--sql", "SELECT 1", "--json"])
        .output()
        .unwrap();
    assert_eq!(q.status.code(), Some(13), "{}", text(&q.stderr));
    assert!(text(&q.stderr).contains("junk.pem"), "{}", text(&q.stderr));
}

#[test]
fn a_certificate_that_cannot_be_read_is_refused_before_listening() {
    let home = tempfile::tempdir().unwrap();
    let missing = home.path().join("nope.pem");
    let out = tdb(home.path())
        .args(["serve", "--listen", "127.0.0.1:0", "--json", "--tls-cert"])
        .arg(&missing)
        .arg("--tls-key")
        .arg(&missing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("tls-cert") && text(&out.stderr).contains("nope.pem"));
    assert!(out.stdout.is_empty(), "nothing listened");
}
