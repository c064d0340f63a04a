//! A throwaway PostgreSQL cluster for tests.
//!
//! [`shared()`] starts one cluster per test binary on first use (initdb into a temp dir,
//! a free loopback port, scram passwords over TCP, TLS with a test CA) and stops it when the
//! binary exits. Tests that stop or crash the server take a [`Cluster::start`] of their own,
//! so they never disturb the others. When the machine has no PostgreSQL server binaries the
//! tests fail loudly: a skipped database test looks exactly like a passing one.

use super::server::{check, free_port, make_certificates};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use tdb::connector::postgres::{PgConnection, SslMode};

/// The superuser initdb creates; its password is random per cluster.
pub const SUPERUSER: &str = "tdb_super";

static SHARED: OnceLock<Cluster> = OnceLock::new();
static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The cluster every test of this binary shares. Create your own databases and roles in it
/// ([`Cluster::create_database`], [`Cluster::create_role`]) so tests stay independent.
pub fn shared() -> &'static Cluster {
    SHARED.get_or_init(|| {
        let c = Cluster::start_with(Options {
            tls: true,
            ..Options::default()
        });
        // Statics are never dropped: stop the server when the test binary exits.
        // SAFETY: registering a plain `extern "C" fn` has no preconditions.
        unsafe {
            libc::atexit(stop_shared);
        }
        c
    })
}

extern "C" fn stop_shared() {
    if let Some(c) = SHARED.get() {
        c.teardown();
    }
}

/// A name no other test (nor another run of this binary) uses.
pub fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Serve TLS with a certificate for `localhost` signed by [`Cluster::ca_cert`].
    pub tls: bool,
    /// Ask TCP clients for their password in cleartext (pg_hba `password`), not scram.
    pub cleartext_passwords: bool,
    /// Run the server in this network namespace (`ip netns`), where 127.0.0.1 is the
    /// namespace's own loopback: only what runs there (an sshd) reaches it over TCP.
    pub netns: Option<&'static str>,
}

pub struct Cluster {
    root: PathBuf,
    bin: PathBuf,
    port: u16,
    password: String,
    /// uid/gid to run the server as when the tests run as root (initdb refuses root).
    owner: Option<(u32, u32)>,
    tls: bool,
    netns: Option<&'static str>,
}

impl Cluster {
    /// A private cluster, stopped and removed when dropped.
    pub fn start() -> Cluster {
        Cluster::start_with(Options::default())
    }

    pub fn start_with(opts: Options) -> Cluster {
        let bin = find_bin_dir();
        let owner = postgres_owner();
        let root = tempfile::Builder::new()
            .prefix("tdb-pg-")
            .tempdir()
            .expect("create a temp dir for the test cluster")
            .keep();
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        let mut c = Cluster {
            root,
            bin,
            port: 0,
            password,
            owner,
            tls: opts.tls,
            netns: opts.netns,
        };
        std::fs::create_dir_all(c.socket_dir()).unwrap();
        let pwfile = c.root.join("pwfile");
        std::fs::write(&pwfile, format!("{}\n", c.password)).unwrap();
        if opts.tls {
            // For `localhost` only, not 127.0.0.1, so tests can tell verify-ca (chain only)
            // from verify-full (chain and name).
            make_certificates(&c.root, "DNS:localhost");
        }
        c.chown_all();

        let out = c
            .command("initdb")
            .arg("-D")
            .arg(c.data_dir())
            .args(["-U", SUPERUSER, "-E", "UTF8", "--no-locale", "--no-sync"])
            .arg("--auth-local=trust")
            .arg(if opts.cleartext_passwords {
                "--auth-host=password"
            } else {
                "--auth-host=scram-sha-256"
            })
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .expect("run initdb");
        check(&out, "initdb");
        let _ = std::fs::remove_file(&pwfile);

        // A port picked now may be taken by the time the server binds it (other test binaries
        // start clusters too), so try a few.
        for attempt in 0..5 {
            c.port = free_port();
            c.write_config();
            let out = c.pg_ctl_start();
            if out.status.success() {
                return c;
            }
            let log = std::fs::read_to_string(c.log_file()).unwrap_or_default();
            if attempt == 4 || !log.contains("could not bind") {
                panic!(
                    "pg_ctl start failed:\n{}{}\nserver log:\n{log}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        unreachable!()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    pub fn superuser_password(&self) -> &str {
        &self.password
    }

    /// The CA that signed the server certificate (for `verify-ca` / `verify-full`).
    pub fn ca_cert(&self) -> PathBuf {
        assert!(self.tls, "this cluster was started without TLS");
        self.root.join("ca.crt")
    }

    /// A program of the server's own installation (`psql`, `pg_ctl`).
    pub fn bin_path(&self, tool: &str) -> PathBuf {
        self.bin.join(tool)
    }

    pub fn socket_dir(&self) -> PathBuf {
        self.root.join("sock")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    fn log_file(&self) -> PathBuf {
        self.root.join("server.log")
    }

    /// A libpq-style URL for the superuser (for tools and CLI tests).
    pub fn superuser_url(&self, db: &str) -> String {
        format!(
            "postgres://{SUPERUSER}:{}@{}:{}/{db}",
            self.password,
            self.host(),
            self.port
        )
    }

    /// tdb's connection spec for `user` on `db` (the password travels separately).
    pub fn pg_connection(&self, db: &str, user: &str) -> PgConnection {
        PgConnection {
            host: self.host().into(),
            port: self.port,
            dbname: db.into(),
            user: user.into(),
            password_env: None,
            table: None,
            schema: "public".into(),
            sslmode: SslMode::Prefer,
            connect_timeout_s: 10,
            statement_timeout_s: 30,
            allow_functions: Vec::new(),
            ssh: None,
        }
    }

    /// The `connection` object of a registration body (`tdb source add --from-json`).
    pub fn connection_json(&self, db: &str, user: &str, password: &str) -> serde_json::Value {
        json!({
            "host": self.host(), "port": self.port, "dbname": db,
            "user": user, "password": password, "sslmode": "prefer",
        })
    }

    /// A superuser session over TCP (password auth, no TLS).
    pub async fn connect(&self, db: &str) -> tokio_postgres::Client {
        self.connect_as(db, SUPERUSER, &self.password).await
    }

    pub async fn connect_as(&self, db: &str, user: &str, password: &str) -> tokio_postgres::Client {
        let mut cfg = tokio_postgres::Config::new();
        cfg.host(self.host())
            .port(self.port)
            .dbname(db)
            .user(user)
            .password(password)
            .application_name("tdb-test-harness");
        let (client, conn) = cfg
            .connect(tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("harness connect to {db} as {user}: {e}"));
        tokio::spawn(async move {
            let _ = conn.await;
        });
        client
    }

    /// Runs setup SQL (several statements allowed) as the superuser.
    pub async fn exec(&self, db: &str, sql: &str) {
        self.connect(db)
            .await
            .batch_execute(sql)
            .await
            .unwrap_or_else(|e| panic!("setup SQL failed on {db}: {e}\n{sql}"));
    }

    /// A fresh, empty database; the name is returned.
    pub async fn create_database(&self, prefix: &str) -> String {
        let name = unique(prefix);
        self.exec("postgres", &format!("CREATE DATABASE \"{name}\""))
            .await;
        name
    }

    /// A plain LOGIN role (no superuser, no CREATEDB) with a random password.
    pub async fn create_role(&self, prefix: &str) -> (String, String) {
        let name = unique(prefix);
        let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
        self.exec(
            "postgres",
            &format!(
                "CREATE ROLE \"{name}\" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE \
                 PASSWORD '{password}'"
            ),
        )
        .await;
        (name, password)
    }

    /// Lets `role` read everything in schema `public` of `db`, now and later.
    pub async fn grant_read(&self, db: &str, role: &str) {
        self.exec(
            db,
            &format!(
                "GRANT CONNECT ON DATABASE \"{db}\" TO \"{role}\";
                 GRANT USAGE ON SCHEMA public TO \"{role}\";
                 GRANT SELECT ON ALL TABLES IN SCHEMA public TO \"{role}\";
                 GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO \"{role}\";
                 ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO \"{role}\";"
            ),
        )
        .await;
    }

    /// Runs SQL with the cluster's own `psql` over its socket, as the superuser; for tests
    /// without a tokio runtime. Returns unaligned, tuples-only output.
    pub fn psql(&self, db: &str, sql: &str) -> String {
        let out = Command::new(self.bin.join("psql"))
            .arg("-h")
            .arg(self.socket_dir())
            .args(["-p", &self.port.to_string(), "-U", SUPERUSER, "-d", db])
            .args(["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
            .output()
            .expect("run psql");
        check(&out, "psql");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Stops the server the hard way (every backend is killed at once), like a crash.
    pub fn kill(&self) {
        let out = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .output()
            .expect("run pg_ctl stop");
        check(&out, "pg_ctl stop");
    }

    /// Starts the server again on the same port after [`Cluster::kill`].
    pub fn restart(&self) {
        let out = self.pg_ctl_start();
        check(&out, "pg_ctl start");
    }

    fn pg_ctl_start(&self) -> Output {
        self.command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .args(["-w", "-t", "120", "start"])
            .output()
            .expect("run pg_ctl start")
    }

    fn write_config(&self) {
        let conf = self.data_dir().join("postgresql.conf");
        let base = std::fs::read_to_string(&conf).unwrap();
        let base = base
            .split("\n# tdb test settings\n")
            .next()
            .unwrap_or_default()
            .to_string();
        let mut extra = format!(
            "\n# tdb test settings\n\
             listen_addresses = '127.0.0.1'\n\
             port = {}\n\
             unix_socket_directories = '{}'\n\
             max_connections = 200\n\
             shared_buffers = 16MB\n\
             fsync = off\n\
             synchronous_commit = off\n\
             full_page_writes = off\n",
            self.port,
            self.socket_dir().display()
        );
        if self.tls {
            extra.push_str(&format!(
                "ssl = on\nssl_cert_file = '{}'\nssl_key_file = '{}'\n",
                self.root.join("server.crt").display(),
                self.root.join("server.key").display()
            ));
        }
        std::fs::write(&conf, base + &extra).unwrap();
    }

    /// Runs a server binary, as the `postgres` user when we are root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        let mut cmd = if let Some(ns) = self.netns {
            let mut c = Command::new("ip");
            c.args(["netns", "exec", ns]);
            if self.owner.is_some() {
                c.arg(runuser()).args(["-u", "postgres", "--"]);
            }
            c.arg(path);
            c
        } else if self.owner.is_some() {
            let mut c = Command::new(runuser());
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        // The server user may not be able to enter the test's working directory.
        cmd.current_dir(&self.root);
        cmd
    }

    fn chown_all(&self) {
        let Some((uid, gid)) = self.owner else {
            return;
        };
        let mut stack = vec![self.root.clone()];
        while let Some(p) = stack.pop() {
            std::os::unix::fs::chown(&p, Some(uid), Some(gid)).unwrap();
            if p.is_dir() {
                for e in std::fs::read_dir(&p).unwrap() {
                    stack.push(e.unwrap().path());
                }
            }
        }
    }

    fn teardown(&self) {
        let _ = self
            .command("pg_ctl")
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// `runuser`, to start the server as the postgres user when the tests run as root.
fn runuser() -> &'static Path {
    static RUNUSER: OnceLock<PathBuf> = OnceLock::new();
    RUNUSER.get_or_init(|| {
        ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .expect(
                "running as root needs runuser (util-linux) to start the test server as the \
                 postgres user",
            )
    })
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// `$TDB_PG_BIN`, else the directory of `pg_ctl` on PATH (symlinks followed, so Debian's
/// wrappers lead to the real binaries), else the newest `/usr/lib/postgresql/*/bin`.
fn find_bin_dir() -> PathBuf {
    let complete = |d: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|b| d.join(b).is_file())
    };
    if let Some(d) = std::env::var_os("TDB_PG_BIN").map(PathBuf::from) {
        assert!(
            complete(&d),
            "TDB_PG_BIN={} lacks initdb, pg_ctl or postgres",
            d.display()
        );
        return d;
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let pg_ctl = dir.join("pg_ctl");
            if !pg_ctl.is_file() {
                continue;
            }
            if let Some(real) = std::fs::canonicalize(&pg_ctl)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf))
                .filter(|d| complete(d))
            {
                return real;
            }
            if complete(&dir) {
                return dir;
            }
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            complete(&bin).then_some((v, bin))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH nor \
             under /usr/lib/postgresql/*/bin. These tests need a real server: install it \
             (Debian/Ubuntu: apt-get install postgresql) or set TDB_PG_BIN to the folder \
             holding the binaries."
        ),
    }
}

/// The `postgres` user's ids when we run as root; `None` otherwise.
fn postgres_owner() -> Option<(u32, u32)> {
    static OWNER: OnceLock<Option<(u32, u32)>> = OnceLock::new();
    *OWNER.get_or_init(|| {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return None;
        }
        let name = std::ffi::CString::new("postgres").unwrap();
        // SAFETY: a valid C string; the record is read at once, and the OnceLock keeps other
        // threads from calling getpwnam here meanwhile.
        let pw = unsafe { libc::getpwnam(name.as_ptr()) };
        assert!(
            !pw.is_null(),
            "running as root, and initdb refuses root: create a `postgres` user to run the \
             test server as (Debian/Ubuntu: apt-get install postgresql creates it)"
        );
        // SAFETY: pw is non-null and points to a valid passwd record.
        Some(unsafe { ((*pw).pw_uid, (*pw).pw_gid) })
    })
}
