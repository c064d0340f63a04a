//! SSH tunnels against real OpenSSH servers: the databases listen in a network namespace
//! (its own 127.0.0.1) that the test cannot reach, and an sshd there forwards for tdb.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use common::clickhouse;
use common::mariadb;
use common::pg::{Cluster, Options, SUPERUSER};
use common::process::{error_detail, run_stdin, text};
use common::sshd::{self, Netns, Sshd};
use serde_json::{Value, json};

/// The private network and what runs in it, shared by the tests of this binary.
struct World {
    pg: Cluster,
    maria: mariadb::Server,
    /// Reachable from the test, on the namespace's veth address.
    bastion: Sshd,
    /// Only on the namespace's loopback: reachable through `bastion` alone (ProxyJump).
    inner: Sshd,
    net: Netns,
}

static WORLD: OnceLock<Mutex<Option<&'static World>>> = OnceLock::new();

fn world() -> &'static World {
    let slot = WORLD.get_or_init(|| {
        let net = Netns::new();
        let pg = Cluster::start_with(Options {
            netns: Some(net.name),
            ..Options::default()
        });
        let maria = mariadb::Server::start_in(Some(net.name));
        let bastion = Sshd::start(Some(&net), &net.inner_ip);
        let inner = Sshd::start(Some(&net), "127.0.0.1");
        let w: &'static World = Box::leak(Box::new(World {
            pg,
            maria,
            bastion,
            inner,
            net,
        }));
        // SAFETY: registering a plain `extern "C" fn` has no preconditions.
        unsafe {
            libc::atexit(stop_world);
        }
        Mutex::new(Some(w))
    });
    slot.lock()
        .unwrap_or_else(|p| p.into_inner())
        .expect("the test network is up")
}

extern "C" fn stop_world() {
    if let Some(w) = WORLD
        .get()
        .and_then(|m| m.lock().ok().and_then(|mut w| w.take()))
    {
        // SAFETY: the world was leaked from a Box and nothing uses it once the binary exits.
        drop(unsafe { Box::from_raw(std::ptr::from_ref(w).cast_mut()) });
    }
}

/// A tdb home and a user home (`$HOME`, with its own `.ssh`) for one test.
struct User {
    dir: tempfile::TempDir,
}

impl User {
    /// With the client key as `~/.ssh/id_ed25519` and the servers' keys in known_hosts.
    fn new(w: &World) -> User {
        let u = User::bare();
        std::fs::copy(sshd::client_key(), u.ssh_dir().join("id_ed25519")).unwrap();
        std::fs::write(
            u.ssh_dir().join("known_hosts"),
            w.bastion.known_hosts_line() + &w.inner.known_hosts_line(),
        )
        .unwrap();
        u
    }

    /// No key, no known hosts.
    fn bare() -> User {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home/.ssh")).unwrap();
        User { dir }
    }

    fn ssh_dir(&self) -> PathBuf {
        self.dir.path().join("home/.ssh")
    }

    fn tdb_home(&self) -> PathBuf {
        self.dir.path().join("tdb")
    }

    fn tdb(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut c = common::process::tdb(&self.tdb_home());
        c.env("HOME", self.dir.path().join("home"))
            .env_remove("SSH_AUTH_SOCK")
            .args(args);
        c
    }

    fn add(&self, name: &str, kind: &str, connection: Value) {
        let body = json!({"name": name, "source_type": kind, "connection": connection});
        let out = run_stdin(
            &mut self.command(&["source", "add", "--from-json", "-", "--json"]),
            &body.to_string(),
        );
        assert!(out.status.success(), "{}", text(&out.stderr));
    }

    fn query(&self, source: &str, sql: &str) -> Output {
        self.tdb(&["query", "--source", source, "--sql", sql, "--json"])
    }
}

/// The bastion as an `ssh` object, logging in with `key`.
fn via_bastion(w: &World, key: &Path) -> Value {
    json!({"host": w.bastion.ip, "port": w.bastion.port, "user": sshd::user(),
           "identity_file": key})
}

fn pg_connection(w: &World, ssh: Option<Value>) -> Value {
    let mut c = json!({"host": "127.0.0.1", "port": w.pg.port(), "dbname": "postgres",
        "user": SUPERUSER, "password": w.pg.superuser_password(), "sslmode": "disable",
        "connect_timeout_s": 5});
    if let Some(s) = ssh {
        c["ssh"] = s;
    }
    c
}

fn rows(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "query failed ({}): {}",
        out.status,
        text(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["rows"].as_array().cloned().unwrap_or_default()
}

/// The pids of `ssh` processes whose command line mentions `needle`.
fn ssh_processes(needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().map(String::from) else {
            continue;
        };
        if !pid.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let args: Vec<String> = cmd
            .split(|b| *b == 0)
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if args.first().is_some_and(|a| a == "ssh") && args.iter().any(|a| a.contains(needle)) {
            out.push(format!("{pid}: {}", args.join(" ")));
        }
    }
    out
}

#[test]
fn a_query_goes_through_the_bastion_where_a_direct_one_cannot_reach() {
    let w = world();
    let u = User::new(w);
    // The key under the test's own folder, so its ssh processes can be told apart.
    let key = u.dir.path().join("key");
    std::fs::copy(sshd::client_key(), &key).unwrap();

    // Neither the namespace's loopback nor its address on the veth lets the test in.
    u.add("direct", "postgres", pg_connection(w, None));
    let out = u.query("direct", "SELECT 1");
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    let mut c = pg_connection(w, None);
    c["host"] = json!(w.net.inner_ip);
    u.add("direct2", "postgres", c);
    let out = u.query("direct2", "SELECT 1");
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));

    u.add(
        "tunnelled",
        "postgres",
        pg_connection(w, Some(via_bastion(w, &key))),
    );
    let r = rows(&u.query(
        "tunnelled",
        "SELECT host(inet_server_addr()) AS addr, current_setting('port') AS port",
    ));
    assert_eq!(r[0]["addr"], "127.0.0.1");
    assert_eq!(r[0]["port"], w.pg.port().to_string());
    // The bastion says it forwarded to the database.
    let log = w.bastion.log();
    assert!(
        log.contains(&format!("target 127.0.0.1 port {}", w.pg.port())),
        "sshd's log has no forwarding to the database:\n{log}"
    );
    // The tunnel ended with tdb.
    assert_eq!(
        ssh_processes(&u.dir.path().display().to_string()),
        Vec::<String>::new()
    );

    // The record says how it is reached, and holds no key.
    let show = u.tdb(&["source", "show", "tunnelled", "--json"]);
    let v: Value = serde_json::from_slice(&show.stdout).unwrap();
    assert_eq!(v["connection"]["ssh"]["host"], w.bastion.ip);
    let registry = std::fs::read_dir(u.tdb_home())
        .unwrap()
        .flatten()
        .filter(|e| e.path().is_file())
        .map(|e| std::fs::read_to_string(e.path()).unwrap_or_default())
        .collect::<String>();
    assert!(!registry.contains("PRIVATE KEY"));
    assert!(!registry.contains(w.pg.superuser_password()));
}

#[test]
fn source_test_reports_the_tunnel_and_the_database_apart() {
    let w = world();
    let u = User::new(w);
    u.add(
        "t",
        "postgres",
        pg_connection(w, Some(via_bastion(w, &u.ssh_dir().join("id_ed25519")))),
    );
    let out = u.tdb(&["source", "test", "t", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    let via = format!("{}@{}:{}", sshd::user(), w.bastion.ip, w.bastion.port);
    assert_eq!(v["tunnel"]["via"], via.as_str());
    let setup = v["tunnel"]["setup_ms"].as_f64().unwrap();
    let db = v["tunnel"]["database_ms"].as_f64().unwrap();
    let total = v["latency_ms"].as_f64().unwrap();
    assert!(setup > 0.0 && db > 0.0, "{v}");
    assert!((setup + db - total).abs() < 0.2, "{v}");
    let people = u.tdb(&["source", "test", "t"]);
    let said = text(&people.stdout);
    assert!(said.contains(&format!("ssh {via} came up in")), "{said}");
}

#[test]
fn proxy_jump_reaches_a_bastion_behind_the_bastion() {
    let w = world();
    let u = User::new(w);
    let before = w.inner.log().len();
    let ssh = json!({"host": "127.0.0.1", "port": w.inner.port, "user": sshd::user(),
        "proxy_jump": format!("{}@{}:{}", sshd::user(), w.bastion.ip, w.bastion.port)});
    u.add("jump", "postgres", pg_connection(w, Some(ssh)));
    let r = rows(&u.query("jump", "SELECT 7 AS n"));
    assert_eq!(r[0]["n"], 7);
    // The inner sshd, reachable only through the first, did the forwarding.
    let log = w.inner.log();
    assert!(
        log[before..].contains(&format!("target 127.0.0.1 port {}", w.pg.port())),
        "{log}"
    );
}

#[test]
fn a_host_alias_of_the_users_ssh_config_is_enough() {
    let w = world();
    let u = User::new(w);
    std::fs::write(
        u.ssh_dir().join("config"),
        format!(
            "Host tdb-bastion\n  HostName {}\n  Port {}\n  User {}\n",
            w.bastion.ip,
            w.bastion.port,
            sshd::user()
        ),
    )
    .unwrap();
    u.add(
        "alias",
        "postgres",
        pg_connection(w, Some(json!("tdb-bastion"))),
    );
    let r = rows(&u.query("alias", "SELECT 'via alias' AS s"));
    assert_eq!(r[0]["s"], "via alias");
    // Also from flags.
    let port = w.pg.port().to_string();
    let out = u.tdb(&[
        "source",
        "add",
        "flags",
        "--type",
        "postgres",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--dbname",
        "postgres",
        "--user",
        SUPERUSER,
        "--sslmode",
        "disable",
        "--ssh",
        "tdb-bastion",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let mut q = u.command(&[
        "query",
        "--source",
        "flags",
        "--sql",
        "SELECT 1 AS one",
        "--json",
    ]);
    q.env("PGPASSWORD_TEST", w.pg.superuser_password());
    let out = u.tdb(&[
        "source",
        "edit",
        "flags",
        "--connection",
        &json!({"password_env": "PGPASSWORD_TEST"}).to_string(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = q.output().unwrap();
    assert_eq!(rows(&out)[0]["one"], 1);
}

#[test]
fn an_unknown_or_changed_host_key_is_refused_and_never_accepted() {
    let w = world();
    let u = User::bare();
    std::fs::copy(sshd::client_key(), u.ssh_dir().join("id_ed25519")).unwrap();
    let key = u.ssh_dir().join("id_ed25519");
    u.add(
        "t",
        "postgres",
        pg_connection(w, Some(via_bastion(w, &key))),
    );
    let out = u.query("t", "SELECT 1");
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    let detail = error_detail(&out);
    let label = format!("{}@{}:{}", sshd::user(), w.bastion.ip, w.bastion.port);
    assert!(
        detail.starts_with(&format!("ssh {label}: the host key of"))
            && detail.contains("not known"),
        "{detail}"
    );
    assert!(detail.contains(&format!("`ssh {label}`")), "{detail}");
    // Nothing was written to known_hosts behind the user's back.
    let known = u.ssh_dir().join("known_hosts");
    assert!(
        std::fs::read_to_string(&known)
            .unwrap_or_default()
            .is_empty()
    );

    // A recorded key that does not match: someone else answers.
    let wrong = w.inner.known_hosts_line();
    let (_, key_part) = wrong.split_once(' ').unwrap();
    std::fs::write(
        &known,
        format!("[{}]:{} {key_part}", w.bastion.ip, w.bastion.port),
    )
    .unwrap();
    let out = u.query("t", "SELECT 1");
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    let detail = error_detail(&out);
    assert!(detail.contains("has CHANGED"), "{detail}");
    assert!(detail.contains("ssh-keygen -R"), "{detail}");
}

#[test]
fn a_key_the_bastion_does_not_know_is_refused_without_a_prompt() {
    let w = world();
    let u = User::new(w);
    std::fs::remove_file(u.ssh_dir().join("id_ed25519")).unwrap();
    let other = u.dir.path().join("other");
    sshd::make_key(&other);
    u.add(
        "t",
        "postgres",
        pg_connection(w, Some(via_bastion(w, &other))),
    );
    let started = Instant::now();
    let out = u
        .command(&["query", "--source", "t", "--sql", "SELECT 1", "--json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(6));
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    let detail = error_detail(&out);
    assert!(
        detail.contains("Permission denied (publickey)") && detail.starts_with("ssh "),
        "{detail}"
    );
}

#[test]
fn a_database_the_bastion_cannot_reach_is_named_with_the_hop() {
    let w = world();
    let u = User::new(w);
    let mut c = pg_connection(w, Some(via_bastion(w, &u.ssh_dir().join("id_ed25519"))));
    // Nothing listens there inside the namespace.
    let closed = common::server::free_port();
    c["port"] = json!(closed);
    u.add("t", "postgres", c);
    let out = u.query("t", "SELECT 1");
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    let detail = error_detail(&out);
    let label = format!("{}@{}:{}", sshd::user(), w.bastion.ip, w.bastion.port);
    assert_eq!(
        detail,
        format!("through {label}: 127.0.0.1:{closed}: Connection refused"),
    );

    // An unreachable bastion: within the connect timeout, naming the hop.
    let dead_port = common::server::free_port();
    let mut c = pg_connection(w, Some(json!({"host": "127.0.0.1", "port": dead_port})));
    c["connect_timeout_s"] = json!(3);
    u.add("nobastion", "postgres", c);
    let started = Instant::now();
    let out = u.query("nobastion", "SELECT 1");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));
    assert_eq!(
        error_detail(&out),
        format!(
            "ssh 127.0.0.1:{dead_port}: connect to host 127.0.0.1 port {dead_port}: Connection refused"
        )
    );
}

#[test]
fn no_ssh_outlives_a_killed_tdb() {
    let w = world();
    let u = User::new(w);
    let key = u.dir.path().join("key");
    std::fs::copy(sshd::client_key(), &key).unwrap();
    u.add(
        "t",
        "postgres",
        pg_connection(w, Some(via_bastion(w, &key))),
    );
    let mut child = u
        .command(&["query", "--source", "t", "--sql", "SELECT pg_sleep(30)"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let needle = key.display().to_string();
    let until = Instant::now() + Duration::from_secs(15);
    while ssh_processes(&needle).is_empty() {
        assert!(Instant::now() < until, "no ssh process appeared");
        std::thread::sleep(Duration::from_millis(20));
    }
    // What `ps` shows of the tunnel names no secret.
    for p in ssh_processes(&needle) {
        assert!(!p.contains(w.pg.superuser_password()), "{p}");
    }
    // Let the query reach the server, then kill tdb outright.
    std::thread::sleep(Duration::from_millis(300));
    child.kill().unwrap();
    child.wait().unwrap();
    let until = Instant::now() + Duration::from_secs(2);
    loop {
        let left = ssh_processes(&needle);
        if left.is_empty() {
            break;
        }
        assert!(Instant::now() < until, "ssh outlived tdb: {left:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_mariadb_source_goes_through_the_bastion_too() {
    let w = world();
    let u = User::new(w);
    let db = mariadb::unique("tun");
    w.maria.create_database(&db);
    w.maria.sql(
        &db,
        "CREATE TABLE t (n int); INSERT INTO t VALUES (1), (2);",
    );
    let mut c = w
        .maria
        .connection_json(&db, mariadb::ROOT_USER, w.maria.root_password());
    c["connect_timeout_s"] = json!(5);
    u.add("direct", "mariadb", c.clone());
    let out = u.query("direct", "SELECT 1");
    assert_eq!(out.status.code(), Some(13), "{}", text(&out.stderr));

    c["ssh"] = via_bastion(w, &u.ssh_dir().join("id_ed25519"));
    u.add("tunnelled", "mariadb", c);
    let r = rows(&u.query("tunnelled", "SELECT COUNT(*) AS s, @@port AS port FROM t"));
    assert_eq!(r[0]["s"], 2);
    assert_eq!(r[0]["port"], w.maria.port());
    let log = w.bastion.log();
    assert!(
        log.contains(&format!("target 127.0.0.1 port {}", w.maria.port())),
        "{log}"
    );
}

#[test]
fn a_socket_directory_on_the_bastion_is_reached_through_the_tunnel() {
    let w = world();
    let u = User::new(w);
    let mut c = pg_connection(w, Some(via_bastion(w, &u.ssh_dir().join("id_ed25519"))));
    // As the bastion sees it: PostgreSQL's Unix socket directory there.
    c["host"] = json!(w.pg.socket_dir());
    u.add("sock", "postgres", c);
    let r = rows(&u.query("sock", "SELECT inet_server_addr() IS NULL AS over_socket"));
    assert_eq!(r[0]["over_socket"], true);
    let log = w.bastion.log();
    assert!(
        log.contains(&format!(".s.PGSQL.{}", w.pg.port())),
        "sshd's log has no forwarding to the socket:\n{log}"
    );
}

#[test]
fn a_clickhouse_source_goes_through_a_bastion_too() {
    // ClickHouse and this sshd listen on the test's own loopback: the bastion's log, not a
    // failing direct connection, shows the query went through it.
    let ch = clickhouse::shared();
    let local = Sshd::start(None, "127.0.0.1");
    let u = User::new(world());
    let known = u.ssh_dir().join("known_hosts");
    let mut lines = std::fs::read_to_string(&known).unwrap();
    lines.push_str(&local.known_hosts_line());
    std::fs::write(&known, lines).unwrap();
    let mut c = ch.connection_json(None);
    c["ssh"] = json!({"host": "127.0.0.1", "port": local.port, "user": sshd::user()});
    u.add("ch", "clickhouse", c);
    let r = rows(&u.query("ch", "SELECT 40 + 2 AS n"));
    assert_eq!(r[0]["n"], 42);
    let log = local.log();
    assert!(
        log.contains(&format!("target 127.0.0.1 port {}", ch.http_port())),
        "sshd's log has no forwarding to ClickHouse:\n{log}"
    );
}
