//! The throwaway MariaDB servers of `common/mariadb.rs` are what the MySQL/MariaDB tests
//! think they are: SQL round trips, TLS with the test CA, tdb_root over TCP with its password
//! only, the server's file and infile limits, and kill + restart of a private server.

mod common;

use std::process::Command;

use common::mariadb::{self, ROOT_USER, Server};
use common::process::text;

/// `mariadb` over TCP to `s` as `user`, TLS verified against the test CA.
fn tcp_cli(s: &Server, user: &str, password: &str) -> Command {
    let mut c = Command::new("mariadb");
    c.arg("--no-defaults")
        .args(["--protocol=TCP", "--host", s.host()])
        .arg(format!("--port={}", s.port()))
        .arg(format!("--user={user}"))
        .arg(format!("--password={password}"))
        .arg(format!("--ssl-ca={}", s.ca_cert().display()))
        .args(["--ssl-verify-server-cert", "--batch", "--skip-column-names"]);
    c
}

#[test]
fn shared_server_round_trips_a_row() {
    let s = mariadb::shared();
    let db = mariadb::unique("harness");
    s.create_database(&db);
    s.sql(
        &db,
        "CREATE TABLE t (id INT PRIMARY KEY, name TEXT); INSERT INTO t VALUES (1, 'Zoë ✓')",
    );
    assert_eq!(s.sql(&db, "SELECT id, name FROM t"), "id\tname\n1\tZoë ✓\n");
    assert_eq!(s.value(&db, "SELECT name FROM t WHERE id = 1"), "Zoë ✓");
}

#[test]
fn tls_is_on_and_tdb_root_needs_its_password_over_tcp() {
    let s = mariadb::shared();
    assert_eq!(
        s.value("", "SHOW VARIABLES LIKE 'have_ssl'"),
        "have_ssl\tYES"
    );

    let out = tcp_cli(s, ROOT_USER, s.root_password())
        .args(["-e", "SELECT CURRENT_USER(); SHOW STATUS LIKE 'Ssl_cipher'"])
        .output()
        .expect("run mariadb");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[0], format!("{ROOT_USER}@127.0.0.1"));
    let cipher = lines[1].strip_prefix("Ssl_cipher\t").unwrap_or_default();
    assert!(!cipher.is_empty(), "no TLS over TCP: {stdout}");

    let out = tcp_cli(s, ROOT_USER, "not-the-password")
        .args(["-e", "SELECT 1"])
        .output()
        .expect("run mariadb");
    assert!(!out.status.success(), "a wrong password was let in");
    assert!(
        text(&out.stderr).contains("Access denied"),
        "{}",
        text(&out.stderr)
    );

    // tdb_root is the worst case, and the only way in: no passwordless root is left.
    let grants = s.sql("", &format!("SHOW GRANTS FOR '{ROOT_USER}'@'%'"));
    assert!(
        grants.contains("GRANT ALL PRIVILEGES ON *.* TO `tdb_root`@`%`")
            && grants.contains("WITH GRANT OPTION"),
        "{grants}"
    );
    let roots = s.value("", "SELECT COUNT(*) FROM mysql.user WHERE User = 'root'");
    assert_eq!(roots, "0");
}

#[test]
fn files_are_confined_to_an_empty_secure_file_dir() {
    let s = mariadb::shared();
    let dir = s.value("", "SELECT @@secure_file_priv");
    assert_eq!(
        dir.trim_end_matches('/'),
        s.secure_file_dir().to_str().expect("a UTF-8 temp path")
    );
    assert!(s.secure_file_dir().is_dir());
    assert_eq!(s.value("", "SELECT @@local_infile"), "0");
}

#[test]
fn a_private_server_survives_kill_and_restart() {
    let s = Server::start();
    let dir = s.data_dir();
    assert_ne!(s.port(), mariadb::shared().port());
    s.create_database("kept");
    s.sql("kept", "CREATE TABLE t (n INT); INSERT INTO t VALUES (42)");

    s.kill();
    let out = s
        .mariadb_cli()
        .args(["-e", "SELECT 1"])
        .output()
        .expect("run mariadb");
    assert!(!out.status.success(), "a killed server answered");

    s.restart();
    assert_eq!(s.value("kept", "SELECT n FROM t"), "42");

    let pid_file = dir.with_file_name("mysqld.pid");
    let pid: libc::pid_t = std::fs::read_to_string(&pid_file)
        .expect("read the pid file")
        .trim()
        .parse()
        .expect("a pid");
    drop(s);
    assert!(!dir.exists(), "the private server's dir outlived it");
    // SAFETY: signal 0 only asks whether the process exists.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    assert!(!alive, "mariadbd {pid} outlived its Server");
}
