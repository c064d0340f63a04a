//! Throwaway OpenSSH servers, and a network namespace for the databases behind them.
//!
//! [`Netns`] is a private network (`ip netns` + a veth pair): the test reaches
//! [`Netns::inner_ip`] through the veth, but the namespace's own 127.0.0.1 (where its
//! databases listen) only from inside. [`Sshd`] is Debian's `sshd -D` with a config, a host
//! key and an authorized key of its own, on a port of its own, in that namespace or in the
//! test's. So a direct connection to a database fails and one through the bastion works.
//!
//! Network namespaces need root (CI runs as root). Without root, or without `sshd`/`ip`,
//! the tests fail and say what is missing: a skipped tunnel test looks like a passing one.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use super::server::check;

static NEXT_NET: AtomicU32 = AtomicU32::new(0);

/// A network namespace joined to the test's by a veth pair: the test's end is
/// [`Netns::host_ip`], the namespace's [`Netns::inner_ip`].
pub struct Netns {
    pub name: &'static str,
    host_link: String,
    pub host_ip: String,
    pub inner_ip: String,
}

fn ip(args: &[&str]) {
    let out = Command::new("ip").args(args).output().unwrap_or_else(|e| {
        panic!("cannot run ip ({e}); the SSH tests need iproute2 (apt-get install iproute2)")
    });
    check(&out, &format!("ip {}", args.join(" ")));
}

impl Netns {
    pub fn new() -> Netns {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        assert!(
            root,
            "the SSH tunnel tests need root: they put the databases in a network namespace \
             (ip netns) that only the test's sshd can reach; run scripts/test as root (CI does)"
        );
        let n = NEXT_NET.fetch_add(1, Ordering::SeqCst);
        let pid = std::process::id();
        // 198.18.0.0/15 is for network tests; one /30 per namespace of this process.
        let a = 18 + (pid % 2);
        let b = (pid / 2) % 256;
        let c = (n * 4) % 256;
        let name: &'static str = Box::leak(format!("tdb{pid}n{n}").into_boxed_str());
        let host_link = format!("tdbh{}x{n}", pid % 100_000);
        let peer = format!("tdbi{}x{n}", pid % 100_000);
        let host_ip = format!("198.{a}.{b}.{}", c + 1);
        let inner_ip = format!("198.{a}.{b}.{}", c + 2);
        // Left over from a killed run of the same pid.
        let _ = Command::new("ip")
            .args(["netns", "del", name])
            .stderr(Stdio::null())
            .status();
        ip(&["netns", "add", name]);
        let ns = Netns {
            name,
            host_link,
            host_ip,
            inner_ip,
        };
        ip(&[
            "link",
            "add",
            &ns.host_link,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
        ]);
        ip(&["link", "set", &peer, "netns", name]);
        ip(&[
            "addr",
            "add",
            &format!("{}/30", ns.host_ip),
            "dev",
            &ns.host_link,
        ]);
        ip(&["link", "set", &ns.host_link, "up"]);
        let inside = |args: &[&str]| {
            let mut all = vec!["netns", "exec", name, "ip"];
            all.extend(args);
            ip(&all);
        };
        inside(&["addr", "add", &format!("{}/30", ns.inner_ip), "dev", &peer]);
        inside(&["link", "set", &peer, "up"]);
        inside(&["link", "set", "lo", "up"]);
        ns
    }

    /// `program` run inside the namespace.
    pub fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", self.name]).arg(program);
        c
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_link])
            .stderr(Stdio::null())
            .status();
        let _ = Command::new("ip")
            .args(["netns", "del", self.name])
            .stderr(Stdio::null())
            .status();
    }
}

fn sshd_bin() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        ["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.is_file())
            .expect(
                "the SSH tunnel tests need OpenSSH's server: apt-get install openssh-server \
                 (scripts/test installs it)",
            )
    })
}

/// Runs `ssh-keygen` to make an ed25519 key pair at `path` (and `path.pub`).
pub fn make_key(path: &Path) {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "tdb-test", "-f"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ssh-keygen ({e}); install openssh-client"));
    check(&out, "ssh-keygen");
}

/// The client key every sshd of this test binary accepts.
pub fn client_key() -> &'static Path {
    static KEY: OnceLock<PathBuf> = OnceLock::new();
    KEY.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("tdb-sshkey-")
            .tempdir()
            .expect("temp dir for the client key")
            .keep();
        let key = dir.join("id_ed25519");
        make_key(&key);
        key
    })
}

/// This process's user name, whom the servers let in with [`client_key`].
pub fn user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "root".to_string())
}

pub struct Sshd {
    dir: PathBuf,
    pub ip: String,
    pub port: u16,
    netns: Option<&'static str>,
    child: Mutex<Option<Child>>,
}

impl Sshd {
    /// An sshd listening on `ip` (in `netns`, or in the test's own network), which lets
    /// [`client_key`] in and forwards TCP.
    pub fn start(netns: Option<&Netns>, ip: &str) -> Sshd {
        let dir = tempfile::Builder::new()
            .prefix("tdb-sshd-")
            .tempdir()
            .expect("temp dir for sshd")
            .keep();
        // The privilege separation directory Debian's sshd needs.
        let _ = std::fs::create_dir_all("/run/sshd");
        make_key(&dir.join("host_key"));
        let key_pub = std::fs::read_to_string(client_key().with_extension("pub"))
            .expect("read the client key");
        std::fs::write(dir.join("authorized_keys"), key_pub).expect("write authorized_keys");
        let s = Sshd {
            dir,
            ip: ip.to_string(),
            port: 0,
            netns: netns.map(|n| n.name),
            child: Mutex::new(None),
        };
        let mut s = s;
        for attempt in 0..5 {
            s.port = super::server::free_port();
            s.write_config();
            match s.spawn() {
                Ok(()) => return s,
                Err(log) if attempt < 4 && log.contains("Address already in use") => {}
                Err(log) => panic!("sshd did not start:\n{log}"),
            }
        }
        unreachable!()
    }

    fn write_config(&self) {
        let d = self.dir.display();
        let config = format!(
            "ListenAddress {ip}:{port}\n\
             HostKey {d}/host_key\n\
             PidFile {d}/sshd.pid\n\
             AuthorizedKeysFile {d}/authorized_keys\n\
             StrictModes no\n\
             UsePAM no\n\
             PasswordAuthentication no\n\
             KbdInteractiveAuthentication no\n\
             PermitRootLogin prohibit-password\n\
             AllowTcpForwarding yes\n\
             AllowStreamLocalForwarding yes\n\
             DisableForwarding no\n\
             LogLevel DEBUG1\n",
            ip = self.ip,
            port = self.port
        );
        std::fs::write(self.dir.join("sshd_config"), config).expect("write sshd_config");
    }

    fn spawn(&self) -> Result<(), String> {
        let log = self.log_file();
        let _ = std::fs::remove_file(&log);
        let mut cmd = match self.netns {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns]).arg(sshd_bin());
                c
            }
            None => Command::new(sshd_bin()),
        };
        cmd.arg("-D")
            .arg("-f")
            .arg(self.dir.join("sshd_config"))
            .arg("-E")
            .arg(&log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("spawn sshd");
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("Server listening on") {
                *self.child.lock().unwrap_or_else(|p| p.into_inner()) = Some(child);
                return Ok(());
            }
            if let Some(status) = child.try_wait().expect("poll sshd") {
                return Err(format!("sshd exited ({status}):\n{text}"));
            }
            if started.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("sshd did not listen within 20 s:\n{text}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn log_file(&self) -> PathBuf {
        self.dir.join("sshd.log")
    }

    /// What sshd has logged (DEBUG1: logins and every forwarded connection).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    /// `[ip]:port ssh-ed25519 AAAA…`, the line a known_hosts file holds for this server.
    pub fn known_hosts_line(&self) -> String {
        let public =
            std::fs::read_to_string(self.dir.join("host_key.pub")).expect("read the host key");
        let mut parts = public.split_whitespace();
        let (kind, key) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        format!("[{}]:{} {kind} {key}\n", self.ip, self.port)
    }

    /// Stops the server and every session it serves, like a crash of the bastion.
    pub fn kill(&self) {
        let Some(mut c) = self.child.lock().unwrap_or_else(|p| p.into_inner()).take() else {
            return;
        };
        // Each session is a child (and grandchild) of the listener, in a session of its
        // own: find them all before the listener goes, then end them together.
        let mut pids = Vec::new();
        if let Ok(pid) = i32::try_from(c.id()) {
            pids.push(pid);
            let mut i = 0;
            while i < pids.len() {
                pids.extend(children(pids[i]));
                i += 1;
            }
        }
        for pid in &pids {
            // SAFETY: kill has no memory preconditions.
            unsafe {
                libc::kill(*pid, libc::SIGKILL);
            }
        }
        let _ = c.wait();
    }

    /// Starts it again on the same port after [`Sshd::kill`].
    pub fn restart(&self) {
        self.spawn()
            .unwrap_or_else(|log| panic!("sshd did not restart:\n{log}"));
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The processes whose parent is `pid`.
fn children(pid: i32) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|p| {
            std::fs::read_to_string(format!("/proc/{p}/stat"))
                .ok()
                .and_then(|stat| {
                    // `pid (comm) state ppid …`; comm may hold spaces and parentheses.
                    let after = stat.rsplit_once(')')?.1;
                    after.split_whitespace().nth(1)?.parse::<i32>().ok()
                })
                == Some(pid)
        })
        .collect()
}
