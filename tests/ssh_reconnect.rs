//! A long-lived connector (as the terminal UI holds one) whose bastion dies mid-session: the
//! query then fails naming the tunnel, and once the bastion is back the next one works
//! through a new tunnel. One test in this binary: it sets `$HOME`, which the tunnel reads.

mod common;

use common::mariadb;
use common::pg::{Cluster, Options, SUPERUSER};
use common::sshd::{self, Netns, Sshd};
use secrecy::SecretString;
use tdb::connector::Connector;
use tdb::connector::mysql::{self, MARIADB, MySqlConnection, MySqlConnector};
use tdb::connector::postgres::{PgConnection, PgConnector, Postgres, SslMode};
use tdb::connector::ssh::{SshHop, SshSpec};
use tdb::core::guard::Guarded;
use tdb::core::secret::StoredSecret;
use tdb::core::source::{SourceRecord, Status};
use tdb::core::value::Value;
use tokio_util::sync::CancellationToken;

fn sql(text: &str) -> Guarded {
    Guarded {
        executed_sql: text.into(),
        limit: 10,
        calls: Default::default(),
        positions: Default::default(),
    }
}

#[test]
fn a_bastion_that_dies_mid_session_is_reconnected_on_the_next_query() {
    let net = Netns::new();
    let pg = Cluster::start_with(Options {
        netns: Some(net.name),
        ..Options::default()
    });
    let bastion = Sshd::start(Some(&net), &net.inner_ip);
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(home.path().join(".ssh")).unwrap();
    std::fs::write(
        home.path().join(".ssh/known_hosts"),
        bastion.known_hosts_line(),
    )
    .unwrap();
    // SAFETY: set before the runtime or any tunnel thread exists; no other test runs here.
    unsafe {
        std::env::set_var("HOME", home.path());
    }

    let hop = SshSpec::Hop(SshHop {
        host: net.inner_ip.clone(),
        port: Some(bastion.port),
        user: Some(sshd::user()),
        identity_file: Some(sshd::client_key().display().to_string()),
        proxy_jump: None,
    });
    let spec = PgConnection {
        host: "127.0.0.1".into(),
        port: pg.port(),
        dbname: "postgres".into(),
        user: SUPERUSER.into(),
        password_env: None,
        table: None,
        schema: "public".into(),
        sslmode: SslMode::Disable,
        connect_timeout_s: 5,
        statement_timeout_s: 30,
        allow_functions: Vec::new(),
        ssh: Some(hop.clone()),
    };
    let record = SourceRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: "behind".into(),
        connection: Postgres::connection(&spec).unwrap(),
        has_password: true,
        description: String::new(),
        tags: Vec::new(),
        registered_by: "test".into(),
        registered_at: "2026-01-01T00:00:00Z".into(),
        status: Status::Active,
    };
    let secret = StoredSecret::Present(SecretString::from(pg.superuser_password().to_string()));
    let c = PgConnector::new(&record, spec, secret).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let run = |text: &str| rt.block_on(c.query(&sql(text), CancellationToken::new()));

    let first = run("SELECT 1 AS n").unwrap();
    assert_eq!(first.rows[0][0], Value::Int(1));
    let logins = |s: &Sshd| s.log().matches("Accepted publickey").count();
    assert_eq!(logins(&bastion), 1);
    // Warm: the second query rides the same tunnel and the same login.
    run("SELECT 2").unwrap();
    assert_eq!(logins(&bastion), 1);

    bastion.kill();
    let e = run("SELECT 3").unwrap_err();
    let label = format!("{}@{}:{}", sshd::user(), net.inner_ip, bastion.port);
    assert!(
        e.detail().contains(&format!("ssh {label}"))
            || e.detail().contains(&format!("through {label}")),
        "{e}"
    );

    bastion.restart();
    let back = run("SELECT 4 AS n").unwrap();
    assert_eq!(back.rows[0][0], Value::Int(4));
    assert_eq!(
        logins(&bastion),
        1,
        "a new tunnel, a new login on the restarted sshd"
    );
    drop(c);

    // The same for MariaDB, whose pool knows the tunnel's port: a restarted tunnel keeps it,
    // even after a failed start while the bastion was down.
    let maria = mariadb::Server::start_in(Some(net.name));
    let db = mariadb::unique("rc");
    maria.create_database(&db);
    let spec = MySqlConnection {
        host: "127.0.0.1".into(),
        port: maria.port(),
        dbname: db,
        user: mariadb::ROOT_USER.into(),
        password_env: None,
        table: None,
        ssl_mode: mysql::SslMode::Disabled,
        ssl_ca: None,
        connect_timeout_s: 5,
        statement_timeout_s: 30,
        allow_functions: Vec::new(),
        ssh: Some(hop.clone()),
    };
    let record = SourceRecord {
        connection: MARIADB.connection(&spec).unwrap(),
        ..record
    };
    let secret = StoredSecret::Present(SecretString::from(maria.root_password().to_string()));
    let m = MySqlConnector::new(&record, spec, secret).unwrap();
    let run = |text: &str| rt.block_on(m.query(&sql(text), CancellationToken::new()));
    assert_eq!(run("SELECT 1").unwrap().rows.len(), 1);
    bastion.kill();
    assert!(run("SELECT 2").is_err());
    assert!(run("SELECT 3").is_err(), "the bastion is still down");
    bastion.restart();
    assert_eq!(run("SELECT 4").unwrap().rows.len(), 1);
    drop(m);
    drop(rt);
}
