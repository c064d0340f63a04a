//! A throwaway ClickHouse server for tests: Debian's `clickhouse-server` on a temp dir with
//! its own config (data, tmp and user_files paths, logs, HTTP and native ports on free
//! loopback ports, `listen_host` 127.0.0.1 only) and a users.xml with `default` (no
//! password) and [`SECRET_USER`] (with [`SECRET_PASSWORD`]). Stopped and removed when
//! dropped. A machine without the binaries fails the test, naming what to install.

use super::server::{check, free_port};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

pub const SECRET_USER: &str = "tdb_secret";
pub const SECRET_PASSWORD: &str = "ch-pw-9f3e1c2b";

const MISSING: &str = "ClickHouse binaries not found: install clickhouse-server and \
                       clickhouse-client (apt-get install clickhouse-server clickhouse-client), \
                       or run scripts/test which does";

const START_WAIT: Duration = Duration::from_secs(60);

static SHARED: OnceLock<Server> = OnceLock::new();

/// The server every test of this binary shares, stopped and removed when the binary exits
/// (statics are never dropped).
pub fn shared() -> &'static Server {
    SHARED.get_or_init(|| {
        // SAFETY: registering a plain `extern "C" fn` has no preconditions.
        unsafe {
            libc::atexit(cleanup);
        }
        Server::start()
    })
}

extern "C" fn cleanup() {
    if let Some(s) = SHARED.get() {
        s.stop_child();
        let _ = std::fs::remove_dir_all(&s.root);
    }
}

pub struct Server {
    root: PathBuf,
    http_port: u16,
    tcp_port: u16,
    /// The server's `keep_alive_timeout` in seconds, when not its default.
    keep_alive_s: Option<u32>,
    child: Mutex<Option<Child>>,
}

fn bin(name: &str) -> PathBuf {
    ["/usr/bin", "/usr/sbin", "/usr/local/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .unwrap_or_else(|| panic!("{MISSING}"))
}

impl Server {
    pub fn start() -> Server {
        Server::start_with(None)
    }

    /// A server that closes an idle kept-alive connection after `seconds`.
    pub fn start_keeping_alive(seconds: u32) -> Server {
        Server::start_with(Some(seconds))
    }

    fn start_with(keep_alive_s: Option<u32>) -> Server {
        bin("clickhouse-client");
        let dir = tempfile::Builder::new()
            .prefix("tdb-clickhouse-")
            .tempdir()
            .expect("create a temp dir for the test server")
            .keep();
        let mut s = Server {
            root: dir,
            http_port: 0,
            tcp_port: 0,
            keep_alive_s,
            child: Mutex::new(None),
        };
        for sub in ["data", "tmp", "user_files", "log"] {
            std::fs::create_dir_all(s.root.join(sub)).expect("create the server's dirs");
        }
        std::fs::write(s.root.join("users.xml"), USERS).expect("write users.xml");
        for attempt in 0..5 {
            s.http_port = free_port();
            s.tcp_port = free_port();
            s.write_config();
            match s.spawn_and_wait() {
                Ok(()) => break,
                Err(log) if attempt < 4 && log.contains("Address already in use") => {}
                Err(log) => panic!("clickhouse-server did not start:\n{log}"),
            }
        }
        s
    }

    fn write_config(&self) {
        let r = self.root.display();
        let keep_alive = self
            .keep_alive_s
            .map(|s| format!("<keep_alive_timeout>{s}</keep_alive_timeout>"))
            .unwrap_or_default();
        let config = format!(
            r#"<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{r}/log/server.log</log><errorlog>{r}/log/err.log</errorlog><console>0</console></logger>
  <http_port>{}</http_port>
  <tcp_port>{}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{r}/data/</path>
  <tmp_path>{r}/tmp/</tmp_path>
  <user_files_path>{r}/user_files/</user_files_path>
  <users_config>{r}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709</mark_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  {keep_alive}
</yandex>
"#,
            self.http_port, self.tcp_port
        );
        std::fs::write(self.root.join("config.xml"), config).expect("write config.xml");
    }

    fn spawn_and_wait(&self) -> Result<(), String> {
        let log =
            std::fs::File::create(self.root.join("log/stdout.log")).map_err(|e| e.to_string())?;
        let child = Command::new(bin("clickhouse-server"))
            .arg(format!(
                "--config-file={}",
                self.root.join("config.xml").display()
            ))
            .current_dir(&self.root)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn clickhouse-server: {e}"))?;
        *self.child.lock().unwrap() = Some(child);
        let started = Instant::now();
        while started.elapsed() < START_WAIT {
            if self.ping() {
                return Ok(());
            }
            if let Some(c) = self.child.lock().unwrap().as_mut()
                && let Ok(Some(_)) = c.try_wait()
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.stop_child();
        let read = |f: &str| std::fs::read_to_string(self.root.join(f)).unwrap_or_default();
        Err(format!("{}{}", read("log/stdout.log"), read("log/err.log")))
    }

    /// `GET /ping` answers `Ok.`.
    fn ping(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.http_port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
        let req = "GET /ping HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
        let mut out = String::new();
        s.write_all(req.as_bytes()).is_ok()
            && s.read_to_string(&mut out).is_ok()
            && out.ends_with("Ok.\n")
    }

    /// Where `file()` would read and `INTO OUTFILE` write on the server.
    pub fn user_files(&self) -> PathBuf {
        self.root.join("user_files")
    }

    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    /// `clickhouse-client` on the native port as `default`.
    pub fn client(&self) -> Command {
        let mut c = Command::new(bin("clickhouse-client"));
        c.args(["--host", "127.0.0.1", "--port", &self.tcp_port.to_string()]);
        c
    }

    /// Runs one statement and returns its TabSeparated output.
    pub fn sql(&self, sql: &str) -> String {
        let out = self
            .client()
            .args(["--format", "TabSeparated", "--query", sql])
            .output()
            .expect("run clickhouse-client");
        check(&out, sql);
        String::from_utf8(out.stdout).expect("clickhouse-client prints UTF-8")
    }

    /// A source connection for the HTTP port.
    pub fn connection_json(&self, table: Option<&str>) -> serde_json::Value {
        serde_json::json!({"host": "127.0.0.1", "port": self.http_port, "table": table})
    }

    /// SIGKILLs the server, like a crash; [`Server::restart`] brings it back.
    pub fn kill(&self) {
        self.stop_child();
    }

    pub fn restart(&self) {
        if let Err(log) = self.spawn_and_wait() {
            panic!("clickhouse-server did not restart:\n{log}");
        }
    }

    fn stop_child(&self) {
        if let Some(mut c) = self.child.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop_child();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

const USERS: &str = r#"<?xml version="1.0"?>
<yandex>
  <profiles><default><allow_experimental_low_cardinality_type>1</allow_experimental_low_cardinality_type></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <tdb_secret><password>ch-pw-9f3e1c2b</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></tdb_secret>
  </users>
  <quotas><default></default></quotas>
</yandex>
"#;
