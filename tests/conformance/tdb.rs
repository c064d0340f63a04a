//! The `tdb` kind for the conformance suite: a real `tdb serve` started per test on a home
//! of its own, serving the SQLite fixture's `samples` and `numbers` under those names; the
//! suite's sources reach them through the API with a key of that server.

use serde_json::{Value, json};

use super::sqlite::Sqlite;
use super::suite::{Fixture, Secret, Table, Unreachable};
use crate::common::process::{tdb, text};
use crate::common::serve::{Server, create_key};

pub struct Tdb {
    backing: Sqlite,
    server: Server,
    key: String,
    _home: tempfile::TempDir,
}

impl Tdb {
    fn url(&self) -> String {
        format!("http://{}", self.server.addr)
    }
}

impl Fixture for Tdb {
    const KIND: &'static str = "tdb";

    fn create() -> Self {
        let backing = Sqlite::create();
        let home = tempfile::tempdir().unwrap();
        for table in [Table::Samples, Table::Numbers] {
            let body = json!({"name": table.name(), "source_type": "sqlite",
                              "connection": backing.connection(table)});
            let out = crate::common::process::run_stdin(
                tdb(home.path()).args(["source", "add", "--from-json", "-"]),
                &body.to_string(),
            );
            assert!(out.status.success(), "{}", text(&out.stderr));
        }
        let key = create_key(home.path(), "suite", &[]);
        let server = Server::start(home.path());
        Tdb {
            backing,
            server,
            key,
            _home: home,
        }
    }

    fn connection(&self, table: Table) -> Value {
        json!({"url": self.url(), "api_key": self.key, "source": table.name()})
    }

    fn secret(&self) -> Option<Secret> {
        Some(Secret {
            key: "api_key",
            value: self.key.clone(),
        })
    }

    fn whole_database(&self) -> Option<Value> {
        None
    }

    fn sample_types(&self) -> [&'static str; 3] {
        self.backing.sample_types()
    }

    fn empty_string(&self) -> Value {
        self.backing.empty_string()
    }

    fn slow_sql(&self, marker: &str) -> String {
        self.backing.slow_sql(marker)
    }

    /// The server's own count of running queries: each test has a server of its own.
    fn running(&self, _marker: &str) -> Option<usize> {
        let m = self.server.get("/v1/metrics", &self.key).json();
        m["queries"]["running"].as_u64().map(|n| n as usize)
    }

    fn has_statement_timeout(&self) -> bool {
        false
    }

    fn unreachable(&self, add: &mut dyn FnMut(Value)) -> Unreachable {
        let port = crate::common::server::free_port();
        let url = format!("http://127.0.0.1:{port}");
        add(json!({"url": url, "api_key": self.key, "source": "samples"}));
        Unreachable {
            target: url,
            secret: Some(self.key.clone()),
        }
    }

    fn hostile(&self) -> Vec<String> {
        self.backing.hostile()
    }

    fn state(&self) -> Vec<String> {
        self.backing.state()
    }
}
