//! SSH tunnels for the network kinds: the `ssh` connection field, and one OpenSSH client per
//! source that forwards a loopback port to the database as the bastion sees it.
//!
//! The transport is the system's `ssh`: it already knows the user's config, agent, keys,
//! ProxyJump, certificates and known hosts. One `ssh -N -L 127.0.0.1:P:host:port` process
//! per source (not one `ssh -W` per connection): every connection of the pool, and the
//! cancel requests, go through the same authenticated session, so a warm tunnel costs one
//! channel open, not a handshake. `BatchMode=yes`: keys or the agent only, never a prompt.
//! The process lives in its own session (no terminal to read, no Ctrl-C of ours) and dies
//! with tdb (`PR_SET_PDEATHSIG`), is restarted once when found dead, and is stopped when
//! the connector that owns it goes.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

use crate::core::kind::{Context, FieldSpec, Fields};
use crate::core::{Error, Result};

/// The `ssh` field, as the form and the command line offer it.
pub const FIELD: FieldSpec = FieldSpec::text(
    "ssh",
    "ssh",
    "reach the server through this SSH host: a Host alias of ~/.ssh/config, [user@]host, or \
     {\"host\",\"port\",\"user\",\"identity_file\",\"proxy_jump\"}; host/port are then as it sees them",
)
.placeholder("bastion (optional)");

/// At most this many lines of what `ssh` said are kept for messages.
const KEPT_LINES: usize = 40;

/// How a source reaches its bastion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SshSpec {
    /// What `ssh` is given as its destination: a Host alias, `user@host` or
    /// `ssh://user@host:port`; the user's config says the rest.
    Destination(String),
    /// The hop spelled out.
    Hop(SshHop),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshHop {
    pub host: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// An absolute path (resolved at registration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_file: Option<String>,
    /// `[user@]host[:port]`, comma-separated, as OpenSSH's `-J` takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_jump: Option<String>,
}

impl SshSpec {
    /// The hop as messages name it: `bastion`, `alice@10.0.0.1:2222`.
    pub fn label(&self) -> String {
        match self {
            SshSpec::Destination(d) => d.clone(),
            SshSpec::Hop(h) => {
                let mut s = String::new();
                if let Some(u) = &h.user {
                    s.push_str(u);
                    s.push('@');
                }
                s.push_str(&h.host);
                if let Some(p) = h.port {
                    s.push_str(&format!(":{p}"));
                }
                s
            }
        }
    }

    /// The arguments naming the hop, ending with the destination after `--`.
    fn args(&self) -> Vec<OsString> {
        let mut out: Vec<OsString> = Vec::new();
        let dest = match self {
            SshSpec::Destination(d) => d.clone(),
            SshSpec::Hop(h) => {
                if let Some(p) = h.port {
                    out.extend(["-p".into(), p.to_string().into()]);
                }
                if let Some(u) = &h.user {
                    out.extend(["-l".into(), u.into()]);
                }
                if let Some(i) = &h.identity_file {
                    // ssh expands %-tokens in identity paths; a literal % is %%.
                    out.extend(["-i".into(), i.replace('%', "%%").into()]);
                }
                if let Some(j) = &h.proxy_jump {
                    out.extend(["-J".into(), j.into()]);
                }
                h.host.clone()
            }
        };
        out.push("--".into());
        out.push(dest.into());
        out
    }
}

/// A word ssh takes as a host, user or jump: no option can hide in it.
fn plain(s: &str, extra: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c) || extra.contains(c))
}

/// The `ssh` field: `None` when absent, or when wrong (the problem is on `f`).
pub fn read(f: &mut Fields<'_>, input: &Map<String, Json>, cx: &Context<'_>) -> Option<SshSpec> {
    let field = "ssh";
    let parsed;
    let object = match input.get(field) {
        None | Some(Json::Null) => return None,
        Some(Json::String(s)) if s.trim_start().starts_with('{') => {
            match serde_json::from_str::<Json>(s) {
                Ok(Json::Object(o)) => {
                    parsed = o;
                    &parsed
                }
                _ => {
                    f.error(field, "starts with { but is not a JSON object");
                    return None;
                }
            }
        }
        Some(Json::String(s)) => {
            let s = s.trim();
            let uri = s.strip_prefix("ssh://");
            let ok = match uri {
                Some(rest) => plain(rest, "@:[]"),
                None => plain(s, "@:[]"),
            };
            if !ok {
                f.error(
                    field,
                    format!(
                        "\"{}\" is not an ssh destination (a Host alias, user@host or \
                         ssh://user@host:port: letters, digits and . _ - @ : [ ] only)",
                        s.escape_debug()
                    ),
                );
                return None;
            }
            return Some(SshSpec::Destination(s.to_string()));
        }
        Some(Json::Object(o)) => o,
        Some(_) => {
            f.error(
                field,
                "must be a Host alias (\"bastion\") or an object {\"host\", \"port\", \"user\", \
                 \"identity_file\", \"proxy_jump\"}",
            );
            return None;
        }
    };
    const KEYS: [&str; 5] = ["host", "port", "user", "identity_file", "proxy_jump"];
    if let Some(k) = object.keys().find(|k| !KEYS.contains(&k.as_str())) {
        f.error(
            field,
            format!(
                "unknown key \"{}\" (keys: {})",
                k.escape_debug(),
                KEYS.join(", ")
            ),
        );
        return None;
    }
    let text = |k: &str| -> std::result::Result<Option<String>, String> {
        match object.get(k) {
            None | Some(Json::Null) => Ok(None),
            Some(Json::String(s)) if !s.trim().is_empty() => Ok(Some(s.trim().to_string())),
            Some(_) => Err(format!("{k} must be a non-empty string")),
        }
    };
    let hop = (|| {
        let host = text("host")?.ok_or("host is required")?;
        if !plain(&host, ":[]") {
            return Err(format!(
                "host \"{}\" is not a host name or address",
                host.escape_debug()
            ));
        }
        let port = match object.get("port") {
            None | Some(Json::Null) => None,
            Some(v) => Some(
                v.as_u64()
                    .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    .and_then(|p| u16::try_from(p).ok())
                    .filter(|p| *p > 0)
                    .ok_or("port must be a number from 1 to 65535")?,
            ),
        };
        let user = text("user")?;
        if let Some(u) = &user
            && !plain(u, "@\\")
        {
            return Err(format!("user \"{}\" is not a user name", u.escape_debug()));
        }
        let identity_file = match text("identity_file")? {
            None => None,
            Some(p) if p.chars().any(char::is_control) => {
                return Err("identity_file must not hold control characters".into());
            }
            Some(p) => Some(cx.resolve(&p).display().to_string()),
        };
        let proxy_jump = text("proxy_jump")?;
        if let Some(j) = &proxy_jump {
            let ok = j.split(',').all(|hop| {
                let hop = hop.strip_prefix("ssh://").unwrap_or(hop);
                plain(hop, "@:[]")
            });
            if !ok {
                return Err(format!(
                    "proxy_jump \"{}\" is not a list of [user@]host[:port]",
                    j.escape_debug()
                ));
            }
        }
        Ok(SshHop {
            host,
            port,
            user,
            identity_file,
            proxy_jump,
        })
    })();
    match hop {
        Ok(h) => Some(SshSpec::Hop(h)),
        Err(why) => {
            f.error(field, why);
            None
        }
    }
}

/// Where the bastion connects for us.
#[derive(Debug, Clone)]
pub enum Forward {
    Tcp {
        host: String,
        port: u16,
    },
    /// A Unix socket on the bastion's side (a PostgreSQL socket directory's `.s.PGSQL.N`).
    Socket(PathBuf),
}

impl Forward {
    fn spec(&self, local: u16) -> String {
        match self {
            Forward::Tcp { host, port } if host.contains(':') => {
                format!("127.0.0.1:{local}:[{host}]:{port}")
            }
            Forward::Tcp { host, port } => format!("127.0.0.1:{local}:{host}:{port}"),
            Forward::Socket(p) => format!("127.0.0.1:{local}:{}", p.display()),
        }
    }

    fn describe(&self) -> String {
        match self {
            Forward::Tcp { host, port } => super::net::target(host, *port),
            Forward::Socket(p) => p.display().to_string(),
        }
    }
}

/// What the `ssh` process said, shared between its reader thread and the connector.
#[derive(Default)]
struct Log {
    /// Its last lines, debug chatter left out.
    lines: Mutex<VecDeque<String>>,
    /// Forwarded connections the bastion could not open: (sequence number, reason).
    refused: Mutex<VecDeque<(u64, String)>>,
    /// Counts forwarded connections asked for, so a failure is matched to its attempt.
    seq: AtomicU64,
}

impl Log {
    fn push(&self, line: String) {
        if let Ok(mut l) = self.lines.lock() {
            if l.len() == KEPT_LINES {
                l.pop_front();
            }
            l.push_back(line);
        }
    }

    fn lines(&self) -> Vec<String> {
        self.lines
            .lock()
            .map(|l| l.iter().cloned().collect())
            .unwrap_or_default()
    }

    fn refusal_after(&self, mark: u64) -> Option<String> {
        let r = self.refused.lock().ok()?;
        r.iter()
            .find(|(s, _)| *s > mark)
            .map(|(_, why)| why.clone())
    }
}

enum Event {
    Spawned(u32),
    Ready,
    Exited(String),
}

struct Running {
    pid: u32,
    port: u16,
    /// Set while the process runs (the keeper clears it once it is reaped).
    alive: Arc<AtomicBool>,
    /// Set when a connection found the tunnel unusable: it is replaced on next use.
    broken: AtomicBool,
    keeper: Option<std::thread::JoinHandle<()>>,
    /// Holds the generated config (see [`home_config`]) while ssh may read it.
    _config: Option<tempfile::TempDir>,
}

impl Running {
    fn usable(&self) -> bool {
        self.alive.load(Ordering::SeqCst) && !self.broken.load(Ordering::SeqCst)
    }

    fn stop(&mut self) {
        if self.alive.load(Ordering::SeqCst)
            && let Ok(pid) = i32::try_from(self.pid)
            && pid > 0
        {
            // SAFETY: kill(2) on the process group of our own child (its own session, so
            // its group), which the keeper thread has not reaped while `alive` is set; the
            // group holds a ProxyJump's inner ssh too.
            unsafe {
                libc::kill(-pid, libc::SIGTERM);
            }
        }
        if let Some(k) = self.keeper.take() {
            let _ = k.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop();
    }
}

/// One source's tunnel: started on first use, shared by its connections.
pub struct Tunnel {
    spec: SshSpec,
    forward: Forward,
    connect_timeout: Duration,
    log: Arc<Log>,
    running: tokio::sync::Mutex<Option<Running>>,
    /// How long the last start took, for `tdb source test`.
    last_start: Mutex<Option<Duration>>,
    /// The loopback port once a start succeeded (0 before): restarts keep it, as a
    /// connection pool may know the address.
    port: std::sync::atomic::AtomicU16,
}

impl Tunnel {
    pub fn new(spec: SshSpec, forward: Forward, connect_timeout: Duration) -> Tunnel {
        Tunnel {
            spec,
            forward,
            connect_timeout,
            log: Arc::default(),
            running: tokio::sync::Mutex::new(None),
            last_start: Mutex::new(None),
            port: std::sync::atomic::AtomicU16::new(0),
        }
    }

    /// `bastion`, as messages name the hop.
    pub fn label(&self) -> String {
        self.spec.label()
    }

    /// Where the tunnel's count of forwarded connections stands, for [`Tunnel::refusal`].
    pub fn mark(&self) -> u64 {
        self.log.seq.load(Ordering::SeqCst)
    }

    /// How long the tunnel took to come up, if it was started since the last call.
    pub fn take_start_time(&self) -> Option<Duration> {
        self.last_start.lock().ok()?.take()
    }

    /// The loopback address that reaches the database, starting the tunnel if it is not
    /// up, or restarting it (once, on the same port) if it has died.
    pub async fn addr(&self) -> Result<SocketAddr> {
        let mut running = self.running.lock().await;
        if let Some(r) = running.as_ref()
            && r.usable()
        {
            return Ok(SocketAddr::from((Ipv4Addr::LOCALHOST, r.port)));
        }
        if let Some(mut r) = running.take() {
            r.stop();
        }
        let again = Some(self.port.load(Ordering::SeqCst)).filter(|p| *p != 0);
        let started = Instant::now();
        let r = match again {
            Some(port) => self.start(port).await?,
            None => match self.start(free_port()?).await {
                // Another program took the port between our look and ssh's bind.
                Err(e) if e.detail().contains("Address already in use") => {
                    self.start(free_port()?).await?
                }
                other => other?,
            },
        };
        if let Ok(mut t) = self.last_start.lock() {
            *t = Some(started.elapsed());
        }
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, r.port));
        self.port.store(r.port, Ordering::SeqCst);
        *running = Some(r);
        Ok(addr)
    }

    /// A connection to the database through the tunnel, and a mark for
    /// [`Tunnel::refusal`].
    pub async fn connect(&self) -> Result<(TcpStream, u64)> {
        for attempt in 0..2 {
            let addr = self.addr().await?;
            let mark = self.log.seq.load(Ordering::SeqCst);
            match TcpStream::connect(addr).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    return Ok((s, mark));
                }
                // ssh died between our look and the connection: start it again, once.
                Err(_) if attempt == 0 => {
                    self.mark_dead().await;
                }
                Err(e) => {
                    return Err(Error::Unreachable(format!(
                        "ssh {}: the tunnel's local port {addr} refused: {e}{}",
                        self.label(),
                        last_words(&self.log.lines())
                            .map(|w| format!(" (ssh said: {w})"))
                            .unwrap_or_default()
                    )));
                }
            }
        }
        Err(Error::Unreachable(format!(
            "ssh {}: the tunnel did not come up",
            self.label()
        )))
    }

    /// Has the next use replace the tunnel: a connection to its loopback end was refused.
    pub async fn mark_dead(&self) {
        if let Some(r) = self.running.lock().await.as_ref() {
            r.broken.store(true, Ordering::SeqCst);
        }
    }

    /// Why the bastion closed a connection made after `mark`: it could not reach the
    /// database (`through bastion: db:5432: Connection refused`), or the tunnel itself
    /// ended. Waits briefly, as ssh says so just as it closes the connection.
    pub async fn refusal(&self, mark: u64) -> Option<String> {
        for _ in 0..20 {
            if let Some(why) = self.log.refusal_after(mark) {
                let why = why.strip_prefix("connect failed: ").unwrap_or(&why);
                return Some(format!(
                    "through {}: {}: {why}",
                    self.label(),
                    self.forward.describe()
                ));
            }
            let dead = match self.running.try_lock() {
                Ok(r) => r.as_ref().is_some_and(|r| !r.alive.load(Ordering::SeqCst)),
                Err(_) => false,
            };
            if dead {
                return Some(format!(
                    "ssh {}: the tunnel ended{}",
                    self.label(),
                    last_words(&self.log.lines())
                        .map(|w| format!(": {w}"))
                        .unwrap_or_default()
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        None
    }

    /// Whether the tunnel's process has ended (the message when it has).
    pub fn ended(&self) -> Option<String> {
        let r = self.running.try_lock().ok()?;
        let gone = r.as_ref().is_some_and(|r| !r.alive.load(Ordering::SeqCst));
        gone.then(|| {
            format!(
                "the ssh tunnel through {} ended{}",
                self.label(),
                last_words(&self.log.lines())
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default()
            )
        })
    }

    fn command(&self, port: u16, config: Option<&Path>) -> Command {
        let mut c = Command::new("ssh");
        c.arg("-N").arg("-v");
        for o in [
            "BatchMode=yes".to_string(),
            "ExitOnForwardFailure=yes".to_string(),
            format!("ConnectTimeout={}", self.connect_timeout.as_secs().max(1)),
            "ServerAliveInterval=15".to_string(),
            "ServerAliveCountMax=3".to_string(),
            // This process is ours alone: no sharing of a user's master connection, no
            // local command of theirs.
            "ControlMaster=no".to_string(),
            "ControlPath=none".to_string(),
            "PermitLocalCommand=no".to_string(),
        ] {
            c.arg("-o").arg(o);
        }
        if let Some(cfg) = config {
            c.arg("-F").arg(cfg);
        }
        c.arg("-L").arg(self.forward.spec(port));
        c.args(self.spec.args());
        // No askpass window either: keys or the agent only.
        c.env("SSH_ASKPASS_REQUIRE", "never");
        c.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let parent = std::process::id();
        // SAFETY: only async-signal-safe calls between fork and exec.
        unsafe {
            c.pre_exec(move || {
                // Its own session: no controlling terminal to prompt on, and the terminal's
                // Ctrl-C reaches tdb (which cancels through the tunnel), not ssh.
                libc::setsid();
                // Dies with the thread that started it (which lives as long as it does),
                // and so with tdb, even on SIGKILL.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                if u32::try_from(libc::getppid()).ok() != Some(parent) {
                    libc::_exit(1);
                }
                Ok(())
            });
        }
        c
    }

    async fn start(&self, port: u16) -> Result<Running> {
        let config = home_config();
        let mut cmd = self.command(port, config.as_ref().map(|(_, p)| p.as_path()));
        let (tx, mut rx) = mpsc::unbounded_channel();
        let alive = Arc::new(AtomicBool::new(true));
        let log = Arc::clone(&self.log);
        if let Ok(mut l) = log.lines.lock() {
            l.clear();
        }
        let keeper_alive = Arc::clone(&alive);
        let keeper = std::thread::Builder::new()
            .name("ssh-tunnel".into())
            .spawn(move || keep(&mut cmd, port, &tx, &log, &keeper_alive))
            .map_err(|e| Error::internal("cannot start a thread for the ssh tunnel", e))?;
        let mut running = Running {
            pid: 0,
            port,
            alive,
            broken: AtomicBool::new(false),
            keeper: Some(keeper),
            _config: config.map(|(dir, _)| dir),
        };
        let label = self.label();
        let wait = async {
            loop {
                match rx.recv().await {
                    Some(Event::Spawned(pid)) => running.pid = pid,
                    Some(Event::Ready) => return Ok(()),
                    Some(Event::Exited(why)) => return Err(why),
                    None => return Err("the ssh process ended without a word".to_string()),
                }
            }
        };
        // ssh's own ConnectTimeout bounds the TCP connect; this bounds the whole handshake.
        let outcome =
            tokio::time::timeout(self.connect_timeout + Duration::from_secs(1), wait).await;
        match outcome {
            Ok(Ok(())) => Ok(running),
            Ok(Err(why)) => {
                running.stop();
                Err(Error::Unreachable(self.explain(&why)))
            }
            Err(_) => {
                running.stop();
                Err(Error::Unreachable(format!(
                    "ssh {label}: no answer within {} s (connect_timeout_s)",
                    self.connect_timeout.as_secs()
                )))
            }
        }
    }

    /// What to tell the user when ssh gave up before the tunnel was up.
    fn explain(&self, why: &str) -> String {
        let label = self.label();
        let lines = self.log.lines();
        let said = |needle: &str| lines.iter().find(|l| l.contains(needle));
        if why.starts_with("cannot run ssh") {
            return format!("ssh {label}: {why}");
        }
        if let Some(l) = said("has changed and you have requested strict checking") {
            let host = l
                .strip_prefix("Host key for ")
                .and_then(|r| r.split_once(" has changed"))
                .map_or_else(|| label.clone(), |(h, _)| h.to_string());
            return format!(
                "ssh {label}: the host key of {host} has CHANGED since it was recorded in \
                 known_hosts (someone may be impersonating it, or the host was reinstalled); \
                 check with its administrator, then remove the old key with `ssh-keygen -R \
                 '{host}'` and accept the new one by connecting once with `ssh {label}`"
            );
        }
        if said("Host key verification failed").is_some() {
            let host = said("host key is known for")
                .and_then(|l| l.split_once(" host key is known for "))
                .and_then(|(_, r)| r.split_once(" and you"))
                .map_or_else(|| label.clone(), |(h, _)| h.to_string());
            return format!(
                "ssh {label}: the host key of {host} is not known (not in known_hosts); \
                 check its fingerprint and accept it by connecting once in a terminal with \
                 `ssh {label}`"
            );
        }
        if let Some(l) = said("Permission denied") {
            let what = l.split_once(": ").map_or(l.as_str(), |(_, r)| r);
            return format!(
                "ssh {label}: {} (tdb logs in with keys or the ssh agent only, never a \
                 password prompt)",
                what.trim_end_matches('.')
            );
        }
        match last_words(&lines) {
            Some(w) => format!("ssh {label}: {w}"),
            None => format!("ssh {label}: {why}"),
        }
    }
}

/// ssh's last line worth showing, without its `ssh: ` prefix.
fn last_words(lines: &[String]) -> Option<String> {
    lines
        .iter()
        .rev()
        .find(|l| {
            !l.starts_with("Transferred:")
                && !l.starts_with("Bytes per second")
                && !l.starts_with("OpenSSH_")
                && !l.starts_with("Killed by signal")
        })
        .map(|l| {
            l.strip_prefix("ssh: ")
                .unwrap_or(l)
                .trim_end_matches('.')
                .to_string()
        })
}

/// Runs on the tunnel's own thread: starts ssh, reads what it says until it ends.
fn keep(
    cmd: &mut Command,
    port: u16,
    tx: &mpsc::UnboundedSender<Event>,
    log: &Log,
    alive: &AtomicBool,
) {
    // ssh sets up our forward only after logging in: it names the port as it starts, then
    // makes the listening socket's channel. (A ProxyJump's inner ssh writes to the same
    // pipe, and makes no port listener.) Ready is the channel, not the name: the name is
    // said before the socket listens.
    let listening = format!("Local forwarding listening on 127.0.0.1 port {port}.");
    let mut named = false;
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            alive.store(false, Ordering::SeqCst);
            let hint = if e.kind() == std::io::ErrorKind::NotFound {
                " (install the OpenSSH client: apt-get install openssh-client)"
            } else {
                ""
            };
            let _ = tx.send(Event::Exited(format!("cannot run ssh: {e}{hint}")));
            return;
        }
    };
    let _ = tx.send(Event::Spawned(child.id()));
    let mut ready = false;
    if let Some(err) = child.stderr.take() {
        let mut reader = BufReader::new(err);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.by_ref().take(8192).read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&buf).trim_end().to_string();
            if let Some(rest) = line.strip_prefix("debug1: ") {
                if rest == listening {
                    named = true;
                } else if named && !ready && rest.contains(": new port-listener ") {
                    ready = true;
                    let _ = tx.send(Event::Ready);
                } else if rest.starts_with("Connection to port ") {
                    log.seq.fetch_add(1, Ordering::SeqCst);
                } else if rest.contains(" host key is known for ") {
                    log.push(rest.to_string());
                }
                continue;
            }
            if let Some((_, why)) = line.split_once(": open failed: ") {
                let seq = log.seq.load(Ordering::SeqCst);
                if let Ok(mut r) = log.refused.lock() {
                    if r.len() == KEPT_LINES {
                        r.pop_front();
                    }
                    r.push_back((seq, why.to_string()));
                }
            }
            log.push(line);
        }
    }
    let status = child.wait();
    alive.store(false, Ordering::SeqCst);
    if !ready {
        let why = match status {
            Ok(s) => format!("ssh ended ({s})"),
            Err(e) => format!("ssh ended: {e}"),
        };
        let _ = tx.send(Event::Exited(why));
    }
}

/// A loopback port nobody listens on now.
fn free_port() -> Result<u16> {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::Unreachable(format!("cannot find a free loopback port: {e}")))
}

/// OpenSSH reads `~/.ssh` of the passwd entry, not `$HOME`. When the two differ (a test, a
/// `sudo -E`, a container), a config of ours makes it read `$HOME/.ssh` as the user expects:
/// their config first, then the system's, with `$HOME`'s known hosts and default keys.
fn home_config() -> Option<(tempfile::TempDir, PathBuf)> {
    let home = PathBuf::from(std::env::var_os("HOME")?);
    if !home.is_absolute() || passwd_home().as_deref() == Some(home.as_path()) {
        return None;
    }
    let ssh = home.join(".ssh");
    let q = |p: PathBuf| -> Option<String> {
        let s = p.to_str()?;
        (!s.contains('"') && !s.chars().any(char::is_control)).then(|| format!("\"{s}\""))
    };
    let mut text = format!(
        "# Written by tdb: ssh reads {} as $HOME says, not the passwd entry's home.\n\
         Include {}\nInclude /etc/ssh/ssh_config\nHost *\n  UserKnownHostsFile {} {}\n",
        ssh.display(),
        q(ssh.join("config"))?,
        q(ssh.join("known_hosts"))?,
        q(ssh.join("known_hosts2"))?,
    );
    for key in [
        "id_rsa",
        "id_ecdsa",
        "id_ecdsa_sk",
        "id_ed25519",
        "id_ed25519_sk",
    ] {
        text.push_str(&format!("  IdentityFile {}\n", q(ssh.join(key))?));
    }
    let dir = tempfile::Builder::new().prefix("tdb-ssh-").tempdir().ok()?;
    let path = dir.path().join("config");
    std::fs::write(&path, text).ok()?;
    Some((dir, path))
}

fn passwd_home() -> Option<PathBuf> {
    use std::ffi::CStr;
    use std::os::unix::ffi::OsStrExt;
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    // SAFETY: getpwuid_r with a buffer and passwd of ours; the result points into them.
    unsafe {
        let mut pw: libc::passwd = std::mem::zeroed();
        let mut out: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(
            libc::getuid(),
            &mut pw,
            buf.as_mut_ptr(),
            buf.len(),
            &mut out,
        );
        if rc != 0 || out.is_null() || pw.pw_dir.is_null() {
            return None;
        }
        let dir = CStr::from_ptr(pw.pw_dir);
        Some(PathBuf::from(std::ffi::OsStr::from_bytes(dir.to_bytes())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cx() -> Context<'static> {
        Context {
            cwd: Path::new("/work"),
            user_home: Some(Path::new("/home/ann")),
        }
    }

    fn read_one(v: Json) -> std::result::Result<Option<SshSpec>, String> {
        let Json::Object(input) = json!({ "ssh": v }) else {
            unreachable!()
        };
        let mut f = Fields::new(&input, "postgres", &[FIELD]);
        let out = read(&mut f, &input, &cx());
        match f.errors.first() {
            Some(e) => Err(e.to_string()),
            None => Ok(out),
        }
    }

    #[test]
    fn destinations_and_hops_are_read_and_checked() {
        assert_eq!(
            read_one(json!("bastion")).unwrap(),
            Some(SshSpec::Destination("bastion".into()))
        );
        assert_eq!(
            read_one(json!("ssh://ann@10.0.0.1:2222")).unwrap(),
            Some(SshSpec::Destination("ssh://ann@10.0.0.1:2222".into()))
        );
        let hop = read_one(json!({"host":"b.example","port":"2222","user":"ann",
            "identity_file":"~/.ssh/id_tdb","proxy_jump":"j1,ann@j2:22"}))
        .unwrap();
        assert_eq!(
            hop,
            Some(SshSpec::Hop(SshHop {
                host: "b.example".into(),
                port: Some(2222),
                user: Some("ann".into()),
                identity_file: Some("/home/ann/.ssh/id_tdb".into()),
                proxy_jump: Some("j1,ann@j2:22".into()),
            }))
        );
        // The form and --ssh give the object as text.
        assert_eq!(
            read_one(json!(r#"{"host":"b.example"}"#))
                .unwrap()
                .map(|s| s.label()),
            Some("b.example".into())
        );
        assert_eq!(read_one(Json::Null).unwrap(), None);
    }

    #[test]
    fn nothing_can_smuggle_an_option_into_ssh() {
        for bad in [
            json!("-oProxyCommand=touch /tmp/x"),
            json!("bastion -oProxyCommand=x"),
            json!("host;rm"),
            json!({"host":"-oProxyCommand=x"}),
            json!({"host":"b","user":"-F/tmp/x"}),
            json!({"host":"b","proxy_jump":"j1,-oProxyCommand=x"}),
            json!({"host":"b","port":0}),
            json!({"host":"b","password":"x"}),
            json!({"port":22}),
            json!(42),
            json!("{not json"),
        ] {
            let e = read_one(bad.clone()).unwrap_err();
            assert!(e.starts_with("connection.ssh: "), "{bad}: {e}");
        }
    }

    #[test]
    fn the_command_forwards_a_loopback_port_and_never_prompts() {
        let spec = SshSpec::Hop(SshHop {
            host: "b".into(),
            port: Some(2222),
            user: Some("ann".into()),
            identity_file: Some("/k/id%1".into()),
            proxy_jump: Some("j".into()),
        });
        let t = Tunnel::new(
            spec,
            Forward::Tcp {
                host: "::1".into(),
                port: 5432,
            },
            Duration::from_secs(3),
        );
        let c = t.command(40000, None);
        let args: Vec<String> = c
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let joined = args.join(" ");
        assert!(joined.contains("-o BatchMode=yes"), "{joined}");
        assert!(joined.contains("-o ConnectTimeout=3"), "{joined}");
        assert!(joined.contains("-L 127.0.0.1:40000:[::1]:5432"), "{joined}");
        assert!(
            joined.ends_with("-p 2222 -l ann -i /k/id%%1 -J j -- b"),
            "{joined}"
        );
        let socket = Forward::Socket(PathBuf::from("/run/postgresql/.s.PGSQL.5432"));
        assert_eq!(socket.spec(1), "127.0.0.1:1:/run/postgresql/.s.PGSQL.5432");
    }

    #[test]
    fn ssh_messages_become_ones_that_name_the_hop() {
        let t = Tunnel::new(
            SshSpec::Destination("bastion".into()),
            Forward::Tcp {
                host: "db".into(),
                port: 5432,
            },
            Duration::from_secs(3),
        );
        t.log
            .push("ann@10.0.0.1: Permission denied (publickey).".into());
        assert!(
            t.explain("ssh ended")
                .starts_with("ssh bastion: Permission denied (publickey) (tdb logs in"),
            "{}",
            t.explain("x")
        );
        t.log.push(
            "No ED25519 host key is known for [10.0.0.1]:22 and you have requested strict checking."
                .into(),
        );
        t.log.push("Host key verification failed.".into());
        let e = t.explain("ssh ended");
        assert!(
            e.starts_with("ssh bastion: the host key of [10.0.0.1]:22 is not known"),
            "{e}"
        );
        assert!(e.contains("`ssh bastion`"), "{e}");
        if let Ok(mut l) = t.log.lines.lock() {
            l.clear();
        }
        t.log
            .push("ssh: connect to host 10.0.0.1 port 22: Connection refused".into());
        assert_eq!(
            t.explain("ssh ended"),
            "ssh bastion: connect to host 10.0.0.1 port 22: Connection refused"
        );
    }
}
