//! A throwaway MariaDB server for tests.
//!
//! [`shared()`] starts one server per test binary on first use and stops it when the binary
//! exits; tests that kill or restart the server take a [`Server::start`] of their own. Every
//! server is `mariadbd --no-defaults` (no `/etc/mysql` option file is read) on a temp dir: a
//! free loopback port, TLS with a test CA, and `tdb_root`, the one account, holding every
//! privilege with a random password. The system tables are made once per test binary with
//! `mariadb-install-db` (seconds: its SQL is synced row by row) and copied for each server,
//! as mysql-test-run does. When the machine has no MariaDB the tests fail loudly: a skipped
//! database test looks exactly like a passing one.

use super::server::{check, free_port, make_certificates};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, MutexGuard, Once, OnceLock};
use std::time::{Duration, Instant};

use serde_json::json;

/// `ALL PRIVILEGES ON *.* WITH GRANT OPTION` at `127.0.0.1`, `localhost` and `%`: the worst
/// case a source's user can be. The installation's own `root` accounts are dropped.
pub const ROOT_USER: &str = "tdb_root";

const MISSING: &str = "MariaDB server binaries not found: install mariadb-server and \
                       mariadb-client (apt-get install mariadb-server mariadb-client), or run \
                       .ci/run which does";

/// How long a starting server may take to accept connections before the test fails.
const START_WAIT: Duration = Duration::from_secs(60);

static SHARED: OnceLock<Server> = OnceLock::new();
static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();

/// The server every test of this binary shares. Create your own databases and users in it
/// (names from [`unique`]) so tests stay independent.
pub fn shared() -> &'static Server {
    SHARED.get_or_init(|| {
        at_exit();
        Server::start()
    })
}

/// A name no other test (nor another run of this binary) uses; the same counter as
/// [`super::pg::unique`].
pub fn unique(prefix: &str) -> String {
    super::pg::unique(prefix)
}

pub struct Server {
    root: PathBuf,
    port: u16,
    password: String,
    child: Mutex<Option<Child>>,
    /// The network namespace the server runs in (`ip netns`), if not the test's own.
    netns: Option<&'static str>,
}

impl Server {
    /// A private server, stopped and removed when dropped.
    pub fn start() -> Server {
        Server::start_in(None)
    }

    /// [`Server::start`] in the network namespace `netns`, where 127.0.0.1 is the
    /// namespace's own loopback: only what runs there (an sshd) reaches it over TCP.
    pub fn start_in(netns: Option<&'static str>) -> Server {
        let bins = bins();
        let dir = tempfile::Builder::new()
            .prefix("tdb-mariadb-")
            .tempdir()
            .expect("create a temp dir for the test server")
            .keep();
        // From here on a panic drops `s`, which stops whatever runs and removes the dir.
        let mut s = Server {
            root: dir,
            port: 0,
            password: format!("pw-{}", uuid::Uuid::new_v4().simple()),
            child: Mutex::new(None),
            netns,
        };
        // Unix sockets take at most 107 bytes of path.
        let sock = s.socket();
        assert!(
            sock.as_os_str().len() < 100,
            "the test server's socket path {} is too long for a Unix socket: set TMPDIR to a \
             shorter folder",
            sock.display()
        );
        std::fs::create_dir(s.secure_file_dir()).expect("create the secure_file_priv dir");
        std::fs::create_dir(s.root.join("tmp")).expect("create the server's tmpdir");
        copy_tree(template(), &s.data_dir());
        make_certificates(&s.root, "DNS:localhost,IP:127.0.0.1");
        chown_tree(&s.root);

        // A port picked now may be taken by the time the server binds it (other test binaries
        // start servers too), so try a few.
        for attempt in 0..5 {
            s.port = free_port();
            match s.spawn_and_wait() {
                Ok(()) => break,
                Err(log) if attempt < 4 && log.contains("Address already in use") => {}
                Err(log) => panic!("mariadbd did not start:\n{log}"),
            }
        }

        // The first start: make tdb_root, and drop the passwordless root accounts
        // mariadb-install-db left (localhost, the host's name, and over TCP 127.0.0.1, ::1).
        let pw = &s.password;
        let grants: String = ["127.0.0.1", "localhost", "%"]
            .iter()
            .map(|h| {
                format!(
                    "CREATE USER '{ROOT_USER}'@'{h}' IDENTIFIED BY '{pw}';\n\
                     GRANT ALL PRIVILEGES ON *.* TO '{ROOT_USER}'@'{h}' WITH GRANT OPTION;\n"
                )
            })
            .collect();
        let setup = format!(
            "{grants}SELECT CONCAT('DROP USER ', GROUP_CONCAT(CONCAT(QUOTE(User), '@', \
             QUOTE(Host)))) INTO @drop FROM mysql.user WHERE User = 'root';\n\
             PREPARE drop_root FROM @drop;\nEXECUTE drop_root;\n"
        );
        let out = client(&bins.mariadb)
            .arg(format!("--socket={}", s.socket().display()))
            .args(["--user=root", "--batch", "-e", &setup])
            .output()
            .expect("run mariadb");
        check(&out, "creating tdb_root");
        s
    }

    /// TCP on [`Server::host`].
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn host(&self) -> &'static str {
        "127.0.0.1"
    }

    /// In a folder only the server's user (and root) may enter.
    pub fn socket(&self) -> PathBuf {
        self.root.join("mysqld.sock")
    }

    /// [`ROOT_USER`]'s password.
    pub fn root_password(&self) -> &str {
        &self.password
    }

    /// The CA that signed the server certificate (for `localhost` and `127.0.0.1`).
    pub fn ca_cert(&self) -> PathBuf {
        self.root.join("ca.crt")
    }

    /// The server's `secure_file_priv`: the one folder `SELECT … INTO OUTFILE` and
    /// `LOAD_FILE` may reach, empty unless something wrote there.
    pub fn secure_file_dir(&self) -> PathBuf {
        self.root.join("files")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.root.join("data")
    }

    /// A database (utf8mb4, the server's default) named exactly `name`.
    pub fn create_database(&self, name: &str) {
        self.sql("", &format!("CREATE DATABASE {}", ident(name)));
    }

    /// Runs SQL with the `mariadb` CLI as [`ROOT_USER`] over the socket (`--batch --raw`, column names
    /// included), panicking with the CLI's stderr when it fails; returns stdout.
    pub fn sql(&self, db: &str, sql: &str) -> String {
        self.run_cli(db, sql, &[])
    }

    /// Same, without column names (`--skip-column-names`), trimmed: for single values.
    pub fn value(&self, db: &str, sql: &str) -> String {
        self.run_cli(db, sql, &["--skip-column-names"])
            .trim()
            .to_string()
    }

    /// A connection object for `tdb source add --from-json` of kind "mariadb".
    pub fn connection_json(&self, db: &str, user: &str, password: &str) -> serde_json::Value {
        json!({
            "host": self.host(), "port": self.port, "dbname": db,
            "user": user, "password": password, "ssl_mode": "disabled",
        })
    }

    /// SIGKILLs mariadbd, like a crash; the datadir stays for [`Server::restart`].
    pub fn kill(&self) {
        let mut child = self.child();
        let mut c = child.take().expect("kill: the server is not running");
        c.kill().expect("SIGKILL mariadbd");
        c.wait().expect("reap mariadbd");
    }

    /// Starts the server again on the same port and datadir (after [`Server::kill`]) and
    /// waits until it accepts connections.
    pub fn restart(&self) {
        if let Err(log) = self.spawn_and_wait() {
            panic!("mariadbd did not restart on port {}:\n{log}", self.port);
        }
    }

    /// `mariadb` with `--no-defaults`, the socket, [`ROOT_USER`] and its password set.
    pub fn mariadb_cli(&self) -> Command {
        let mut c = client(&bins().mariadb);
        c.arg(format!("--socket={}", self.socket().display()))
            .arg(format!("--user={ROOT_USER}"))
            .arg(format!("--password={}", self.password))
            .arg("--default-character-set=utf8mb4");
        c
    }

    fn run_cli(&self, db: &str, sql: &str, extra: &[&str]) -> String {
        let mut c = self.mariadb_cli();
        c.args(["--batch", "--raw"]).args(extra);
        if !db.is_empty() {
            c.arg(format!("--database={db}"));
        }
        let out = c.args(["-e", sql]).output().expect("run mariadb");
        check(&out, &format!("SQL on {db:?}: {sql}"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn child(&self) -> MutexGuard<'_, Option<Child>> {
        // A test that panicked holding the lock left nothing half-done: the Option is whole.
        self.child.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn error_log(&self) -> PathBuf {
        self.root.join("error.log")
    }

    fn console_log(&self) -> PathBuf {
        self.root.join("console.log")
    }

    /// Spawns mariadbd and waits until it answers; on failure the server is gone and the
    /// error is the tail of its logs.
    fn spawn_and_wait(&self) -> Result<(), String> {
        let bins = bins();
        let mut slot = self.child();
        assert!(slot.is_none(), "mariadbd is already running");
        let console = File::create(self.console_log()).expect("create the server's console log");
        let mut cmd = match self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(&bins.mariadbd);
                c
            }
            None => Command::new(&bins.mariadbd),
        };
        // --no-defaults must come first.
        cmd.arg("--no-defaults");
        match run_as() {
            RunAs::Mysql(_) => cmd.arg("--user=mysql"),
            RunAs::Root => cmd.arg("--user=root"),
            RunAs::Me => &mut cmd,
        };
        let p = |name: &str, path: PathBuf| format!("--{name}={}", path.display());
        cmd.arg(p("datadir", self.data_dir()))
            .arg(p("socket", self.socket()))
            .arg(p("pid-file", self.root.join("mysqld.pid")))
            .arg(p("log-error", self.error_log()))
            .arg(p("secure-file-priv", self.secure_file_dir()))
            .arg(p("ssl-ca", self.ca_cert()))
            .arg(p("ssl-cert", self.root.join("server.crt")))
            .arg(p("ssl-key", self.root.join("server.key")))
            // Not $TMPDIR, which the mysql user may not be able to write.
            .arg(p("tmpdir", self.root.join("tmp")))
            .arg(format!("--port={}", self.port))
            .args(SERVER_OPTIONS)
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(console.try_clone().expect("dup the console log"))
            .stderr(console);
        let mut child = cmd.spawn().expect("spawn mariadbd");
        let started = Instant::now();
        loop {
            if let Some(status) = child.try_wait().expect("poll mariadbd") {
                return Err(format!("mariadbd exited ({status})\n{}", self.log_tail()));
            }
            if self.ping() {
                *slot = Some(child);
                return Ok(());
            }
            if started.elapsed() > START_WAIT {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "mariadbd did not accept connections on {} within {START_WAIT:?}\n{}",
                    self.socket().display(),
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the server answers on its socket (`mariadb-admin ping` succeeds even when the
    /// account is refused, as before tdb_root exists).
    fn ping(&self) -> bool {
        client(&bins().admin)
            .arg(format!("--socket={}", self.socket().display()))
            .arg(format!("--user={ROOT_USER}"))
            .arg(format!("--password={}", self.password))
            .args(["--connect-timeout=2", "ping"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn log_tail(&self) -> String {
        let tail = |path: PathBuf| {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let from = lines.len().saturating_sub(30);
            format!("--- {}:\n{}\n", path.display(), lines[from..].join("\n"))
        };
        tail(self.console_log()) + &tail(self.error_log())
    }

    /// SIGTERM (a clean shutdown), SIGKILL if it takes longer than 30 s, then the dir goes.
    fn teardown(&self) {
        if let Some(mut c) = self.child().take() {
            if let Ok(pid) = libc::pid_t::try_from(c.id()) {
                // SAFETY: kill has no memory preconditions; pid is our unreaped child.
                unsafe {
                    libc::kill(pid, libc::SIGTERM);
                }
            }
            let until = Instant::now() + Duration::from_secs(30);
            while matches!(c.try_wait(), Ok(None)) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// Small buffers and no fsync on commit (a killed server keeps what the OS has), so a server
/// starts in well under a second and stays small; utf8mb4 as Debian's own config sets it.
const SERVER_OPTIONS: &[&str] = &[
    "--bind-address=127.0.0.1",
    "--skip-name-resolve",
    "--local-infile=0",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
    "--innodb-buffer-pool-size=16M",
    "--innodb-log-file-size=8M",
    "--innodb-flush-log-at-trx-commit=2",
    "--innodb-doublewrite=0",
    "--max-connections=200",
];

/// Stops the shared server and removes the system-table template when the binary exits
/// (statics are never dropped).
fn at_exit() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // SAFETY: registering a plain `extern "C" fn` has no preconditions.
        unsafe {
            libc::atexit(cleanup);
        }
    });
}

extern "C" fn cleanup() {
    if let Some(s) = SHARED.get() {
        s.teardown();
    }
    if let Some(t) = TEMPLATE.get().and_then(|t| t.parent()) {
        let _ = std::fs::remove_dir_all(t);
    }
}

/// A datadir made by `mariadb-install-db` once for this test binary, never started.
fn template() -> &'static Path {
    TEMPLATE.get_or_init(|| {
        at_exit();
        let bins = bins();
        let dir = tempfile::Builder::new()
            .prefix("tdb-mariadb-template-")
            .tempdir()
            .expect("create a temp dir for the MariaDB template");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("create the template datadir");
        chown_tree(dir.path());
        let mut cmd = Command::new(&bins.install_db);
        cmd.arg("--no-defaults");
        match run_as() {
            RunAs::Mysql(_) => cmd.arg("--user=mysql"),
            RunAs::Root => cmd.arg("--user=root"),
            RunAs::Me => &mut cmd,
        };
        let out = cmd
            .args([
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=16M",
                "--innodb-log-file-size=8M",
            ])
            .arg(format!("--datadir={}", data.display()))
            // Not $TMPDIR, which the mysql user may not be able to write.
            .arg(format!("--tmpdir={}", dir.path().display()))
            .current_dir(dir.path())
            .output()
            .expect("run mariadb-install-db");
        // Kept only once it is whole; on a panic `dir` removes itself.
        check(&out, "mariadb-install-db");
        dir.keep().join("data")
    })
}

/// Who runs mariadbd: it refuses root unless told `--user=root`.
#[derive(Clone, Copy)]
enum RunAs {
    /// We are root and the `mysql` user (uid, gid) exists: the server setuids to it.
    Mysql((u32, u32)),
    /// We are root and there is no `mysql` user.
    Root,
    /// We are an ordinary user: the server runs as us.
    Me,
}

fn run_as() -> RunAs {
    static RUN_AS: OnceLock<RunAs> = OnceLock::new();
    *RUN_AS.get_or_init(|| {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return RunAs::Me;
        }
        let name = c"mysql";
        // SAFETY: passwd is plain data (integers and pointers); all zeroes is a valid value.
        let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
        let mut buf = vec![0 as libc::c_char; 16 * 1024];
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        // SAFETY: every pointer is valid for the call and buf's length is the one passed.
        let rc = unsafe {
            libc::getpwnam_r(
                name.as_ptr(),
                &mut pw,
                buf.as_mut_ptr(),
                buf.len(),
                &mut found,
            )
        };
        if rc == 0 && !found.is_null() {
            RunAs::Mysql((pw.pw_uid, pw.pw_gid))
        } else {
            RunAs::Root
        }
    })
}

/// Hands `root` and everything under it to the `mysql` user when the server runs as it.
fn chown_tree(root: &Path) {
    let RunAs::Mysql((uid, gid)) = run_as() else {
        return;
    };
    let mut stack = vec![root.to_path_buf()];
    while let Some(p) = stack.pop() {
        std::os::unix::fs::lchown(&p, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("chown {} to mysql: {e}", p.display()));
        if p.is_dir() {
            for e in std::fs::read_dir(&p).expect("read a test server dir") {
                stack.push(e.expect("read a test server dir entry").path());
            }
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap_or_else(|e| panic!("create {}: {e}", to.display()));
    for e in std::fs::read_dir(from).expect("read the MariaDB template") {
        let e = e.expect("read a MariaDB template entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("stat a template entry").is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest)
                .unwrap_or_else(|err| panic!("copy {}: {err}", e.path().display()));
        }
    }
}

struct Bins {
    mariadbd: PathBuf,
    install_db: PathBuf,
    mariadb: PathBuf,
    admin: PathBuf,
}

/// The MariaDB programs, from PATH or the usual sbin/bin folders (`/usr/sbin` is often not on
/// an ordinary user's PATH).
fn bins() -> &'static Bins {
    static BINS: OnceLock<Bins> = OnceLock::new();
    BINS.get_or_init(|| {
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        dirs.extend(
            ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin"].map(PathBuf::from),
        );
        let find = |name: &str| {
            dirs.iter()
                .map(|d| d.join(name))
                .find(|p| p.is_file())
                .unwrap_or_else(|| panic!("{MISSING} ({name} is missing)"))
        };
        Bins {
            mariadbd: find("mariadbd"),
            install_db: find("mariadb-install-db"),
            mariadb: find("mariadb"),
            admin: find("mariadb-admin"),
        }
    })
}

/// A MariaDB client program that reads no option file and no `MYSQL_*` variable.
fn client(program: &Path) -> Command {
    let mut c = Command::new(program);
    c.arg("--no-defaults");
    for v in [
        "MYSQL_PWD",
        "MYSQL_HOST",
        "MYSQL_TCP_PORT",
        "MYSQL_UNIX_PORT",
    ] {
        c.env_remove(v);
    }
    c
}

/// `name` as a quoted identifier.
fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}
