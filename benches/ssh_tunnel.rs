//! What an SSH tunnel costs, paired in one run against a direct connection on loopback
//! (targets in brackets):
//!
//! - warm: `SELECT 1` through a connector whose tunnel is up (as the terminal UI holds it)
//!   against the same through a direct connector, interleaved [the tunnel adds < 2 ms];
//! - fresh: a whole `tdb query` (process start, the tunnel's login, the query) against a
//!   direct `tdb query` and `psql`, interleaved: the time to the first row a person waits.
//!
//!     cargo bench --bench ssh_tunnel
//!
//! A throwaway PostgreSQL cluster and sshd (tests/common) listen on 127.0.0.1.

#[allow(dead_code)]
#[path = "../tests/common/pg.rs"]
mod pg;

#[path = "../tests/common/server.rs"]
mod server;

#[allow(dead_code)]
#[path = "../tests/common/sshd.rs"]
mod sshd;

use std::process::Command;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde_json::json;
use tdb::connector::Connector;
use tdb::connector::postgres::{PgConnection, PgConnector, Postgres, SslMode};
use tdb::connector::ssh::{SshHop, SshSpec};
use tdb::core::guard::Guarded;
use tdb::core::secret::StoredSecret;
use tdb::core::source::{SourceRecord, Status};
use tokio_util::sync::CancellationToken;

const WARM_ROUNDS: usize = 300;
const FRESH_ROUNDS: usize = 15;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p90(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() * 9 / 10]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1000.0)
}

fn connector(pg: &pg::Cluster, ssh: Option<SshSpec>) -> PgConnector {
    let spec = PgConnection {
        host: "127.0.0.1".into(),
        port: pg.port(),
        dbname: "postgres".into(),
        user: pg::SUPERUSER.into(),
        password_env: None,
        table: None,
        schema: "public".into(),
        sslmode: SslMode::Disable,
        connect_timeout_s: 10,
        statement_timeout_s: 30,
        allow_functions: Vec::new(),
        ssh,
    };
    let record = SourceRecord {
        id: uuid::Uuid::new_v4().to_string(),
        name: "bench".into(),
        connection: Postgres::connection(&spec).expect("a connection"),
        has_password: true,
        description: String::new(),
        tags: Vec::new(),
        registered_by: "bench".into(),
        registered_at: "2026-01-01T00:00:00Z".into(),
        status: Status::Active,
    };
    let secret = StoredSecret::Present(SecretString::from(pg.superuser_password().to_string()));
    PgConnector::new(&record, spec, secret).expect("a connector")
}

fn main() {
    let pg = pg::Cluster::start();
    let bastion = sshd::Sshd::start(None, "127.0.0.1");
    let home = tempfile::tempdir().expect("a temp home");
    std::fs::create_dir_all(home.path().join(".ssh")).expect("~/.ssh");
    std::fs::write(
        home.path().join(".ssh/known_hosts"),
        bastion.known_hosts_line(),
    )
    .expect("known_hosts");
    std::fs::copy(sshd::client_key(), home.path().join(".ssh/id_ed25519")).expect("the key");
    // SAFETY: before the runtime or any other thread exists.
    unsafe {
        std::env::set_var("HOME", home.path());
    }
    let hop = SshSpec::Hop(SshHop {
        host: "127.0.0.1".into(),
        port: Some(bastion.port),
        user: Some(sshd::user()),
        identity_file: None,
        proxy_jump: None,
    });

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let direct = connector(&pg, None);
    let tunnelled = connector(&pg, Some(hop.clone()));
    let q = Guarded {
        executed_sql: "SELECT 1".into(),
        limit: 10,
        calls: Default::default(),
        positions: Default::default(),
    };
    let time = |c: &PgConnector| {
        let t = Instant::now();
        rt.block_on(c.query(&q, CancellationToken::new()))
            .expect("the query");
        t.elapsed()
    };
    let first_tunnelled = time(&tunnelled);
    let first_direct = time(&direct);
    let (mut d, mut t) = (Vec::new(), Vec::new());
    for _ in 0..WARM_ROUNDS {
        d.push(time(&direct));
        t.push(time(&tunnelled));
    }
    let (dm, tm) = (median(d.clone()), median(t.clone()));

    // Whole commands, as a person runs them.
    let tdb_home = tempfile::tempdir().expect("a tdb home");
    let tdb = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tdb"))
            .arg("--home")
            .arg(tdb_home.path())
            .env("HOME", home.path())
            .env("BENCH_PG_PASSWORD", pg.superuser_password())
            .args(args)
            .output()
            .expect("run tdb");
        assert!(
            out.status.success(),
            "tdb {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let base = json!({"host": "127.0.0.1", "port": pg.port(), "dbname": "postgres",
        "user": pg::SUPERUSER, "password_env": "BENCH_PG_PASSWORD", "sslmode": "disable"});
    let mut via = base.clone();
    via["ssh"] = serde_json::to_value(&hop).expect("json");
    for (name, c) in [("direct", &base), ("tunnelled", &via)] {
        tdb(&[
            "source",
            "add",
            name,
            "--type",
            "postgres",
            "--connection",
            &c.to_string(),
        ]);
    }
    let psql = pg.bin_path("psql");
    let port = pg.port().to_string();
    let (mut fd, mut ft, mut fp) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..FRESH_ROUNDS {
        let s = Instant::now();
        tdb(&["query", "--source", "direct", "--sql", "SELECT 1", "--json"]);
        fd.push(s.elapsed());
        let s = Instant::now();
        tdb(&[
            "query",
            "--source",
            "tunnelled",
            "--sql",
            "SELECT 1",
            "--json",
        ]);
        ft.push(s.elapsed());
        let s = Instant::now();
        let out = Command::new(&psql)
            .args(["-X", "-q", "-A", "-t", "-h", "127.0.0.1", "-p", &port])
            .args(["-U", pg::SUPERUSER, "-d", "postgres", "-c", "SELECT 1"])
            .env("PGPASSWORD", pg.superuser_password())
            .output()
            .expect("run psql");
        assert!(out.status.success());
        fp.push(s.elapsed());
    }

    println!("SSH tunnel cost, PostgreSQL on loopback, sshd on loopback (ms)");
    println!("{:<44} {:>9} {:>9}", "", "median", "p90");
    println!(
        "{:<44} {:>9} {:>9}",
        "warm SELECT 1, direct connector",
        ms(dm),
        ms(p90(d))
    );
    println!(
        "{:<44} {:>9} {:>9}",
        "warm SELECT 1, through the tunnel",
        ms(tm),
        ms(p90(t))
    );
    println!(
        "{:<44} {:>9}    [target < 2 ms]",
        "  the warm tunnel adds",
        ms(tm.saturating_sub(dm))
    );
    println!(
        "{:<44} {:>9}",
        "first query of a connector, direct",
        ms(first_direct)
    );
    println!(
        "{:<44} {:>9}",
        "first query of a connector, fresh tunnel",
        ms(first_tunnelled)
    );
    println!(
        "{:<44} {:>9} {:>9}",
        "tdb query (whole process), direct",
        ms(median(fd.clone())),
        ms(p90(fd))
    );
    println!(
        "{:<44} {:>9} {:>9}",
        "tdb query (whole process), fresh tunnel",
        ms(median(ft.clone())),
        ms(p90(ft))
    );
    println!(
        "{:<44} {:>9} {:>9}",
        "psql -c (whole process), direct",
        ms(median(fp.clone())),
        ms(p90(fp))
    );
}
