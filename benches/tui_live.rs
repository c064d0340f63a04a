//! The real `tdb` binary in a pseudo-terminal, timed from the outside as a person would
//! feel it (targets in brackets):
//!
//! - first frame: from spawning the process until its first full frame has been written to
//!   the terminal [< 20 ms]; and until the frame listing the registry's sources;
//! - F5 to rows: from writing F5 until the frame showing a 1,000-row result over loopback
//!   has been written, from PostgreSQL and from MariaDB [< 15 ms each];
//! - peak memory (VmHWM) of the process holding that result [< 15 MiB].
//!
//!     cargo bench --bench tui_live
//!
//! A throwaway PostgreSQL cluster (tests/common/pg.rs) and MariaDB server
//! (tests/common/mariadb.rs) are started, as the tests do.

#[allow(dead_code)]
#[path = "../tests/common/pg.rs"]
mod pg;

#[allow(dead_code)]
#[path = "../tests/common/mariadb.rs"]
mod mariadb;

#[path = "../tests/common/server.rs"]
mod server;

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

const PATIENCE: Duration = Duration::from_secs(30);

/// A child process on a pseudo-terminal of 120×40, and everything it wrote.
struct Pty {
    child: Child,
    master: File,
    out: Vec<u8>,
}

impl Pty {
    fn spawn(cmd: &mut Command) -> Pty {
        let (mut master, mut slave) = (0, 0);
        let ws = libc::winsize {
            ws_row: 40,
            ws_col: 120,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        // SAFETY: openpty writes two fds into the out-pointers; name and termios may be null.
        let rc = unsafe {
            libc::openpty(
                &mut master,
                &mut slave,
                std::ptr::null_mut(),
                std::ptr::null(),
                &ws,
            )
        };
        assert_eq!(rc, 0, "openpty");
        // SAFETY: both fds were just opened and are owned here alone.
        let (master, slave) = unsafe { (File::from_raw_fd(master), File::from_raw_fd(slave)) };
        cmd.stdin(Stdio::from(slave.try_clone().unwrap()))
            .stdout(Stdio::from(slave.try_clone().unwrap()))
            .stderr(Stdio::from(slave));
        // SAFETY: between fork and exec only async-signal-safe calls: a new session whose
        // controlling terminal is the pty (stdin).
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                libc::ioctl(0, libc::TIOCSCTTY as _, 0);
                Ok(())
            });
        }
        let child = cmd.spawn().unwrap();
        Pty {
            child,
            master,
            out: Vec::new(),
        }
    }

    /// Reads until the output since `from` holds `needle`; returns when it was seen.
    fn wait_for(&mut self, from: usize, needle: &str) -> Instant {
        let deadline = Instant::now() + PATIENCE;
        let mut buf = [0u8; 65536];
        loop {
            if find(&self.out[from.min(self.out.len())..], needle.as_bytes()) {
                return Instant::now();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "never saw {needle:?}");
            let mut pfd = libc::pollfd {
                fd: self.master.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(1000) as i32) };
            if n > 0 {
                let got = self.master.read(&mut buf).unwrap_or(0);
                assert!(got > 0, "the terminal closed before {needle:?}");
                self.out.extend_from_slice(&buf[..got]);
            }
        }
    }

    /// Reads whatever arrives within `quiet` of silence, so the next wait starts clean.
    fn drain(&mut self, quiet: Duration) {
        let mut buf = [0u8; 65536];
        loop {
            let mut pfd = libc::pollfd {
                fd: self.master.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd.
            let n = unsafe { libc::poll(&mut pfd, 1, quiet.as_millis() as i32) };
            if n <= 0 {
                return;
            }
            match self.master.read(&mut buf) {
                Ok(got) if got > 0 => self.out.extend_from_slice(&buf[..got]),
                _ => return,
            }
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
    }

    fn quit(mut self) {
        self.send(b"\x11"); // Ctrl-Q
        let deadline = Instant::now() + PATIENCE;
        loop {
            if self.child.try_wait().unwrap().is_some() {
                return;
            }
            assert!(Instant::now() < deadline, "tdb did not quit");
            self.drain(Duration::from_millis(10));
        }
    }

    /// `VmHWM`, `VmRSS`, `RssAnon` and `RssFile` of the process, in KiB.
    fn memory(&self) -> [u64; 4] {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let field = |name: &str| -> u64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        ["VmHWM:", "VmRSS:", "RssAnon:", "RssFile:"].map(field)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn tdb(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tdb"));
    c.arg("--home")
        .arg(home)
        .env("TERM", "xterm-256color")
        .env("LANG", "C.UTF-8")
        .env_remove("TMUX")
        .env_remove("DISPLAY");
    c
}

fn report(label: &str, mut ms: Vec<f64>) {
    ms.sort_by(|a, b| a.total_cmp(b));
    let n = ms.len();
    println!(
        "{label:<44} median {:>7.2} ms   min {:>7.2}   p90 {:>7.2}   (n={n})",
        ms[n / 2],
        ms[0],
        ms[(n * 9 / 10).min(n - 1)]
    );
}

/// Registers one source in `home` from a `tdb source add --from-json` body.
fn add_source(home: &Path, body: &serde_json::Value) {
    let mut add = tdb(home)
        .args(["source", "add", "--from-json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(body.to_string().as_bytes())
        .unwrap();
    assert!(add.wait().unwrap().success());
}

/// F5 to rows for 1,000 rows × 10 columns of the one source in `home`, the connection
/// already pooled by the schema read (the starter SQL is `SELECT * FROM data`).
fn f5_to_rows(home: &Path, engine: &str) {
    let mut p = Pty::spawn(&mut tdb(home));
    p.wait_for(0, "▾ data");
    p.drain(Duration::from_millis(100));
    let from = p.out.len();
    for _ in 0..3 {
        p.send(b"\x1b[1;3A"); // Alt-Up: the limit from 100 to 200, 500, 1,000
    }
    // Only changed cells are written: from `limit 500` to `limit 1000` that is `limit 10`.
    p.wait_for(from, "limit 10");
    p.drain(Duration::from_millis(100));
    let mut f5 = Vec::new();
    for _ in 0..30 {
        let from = p.out.len();
        let t0 = Instant::now();
        p.send(b"\x1b[15~");
        let t1 = p.wait_for(from, "1000 rows");
        f5.push((t1 - t0).as_secs_f64() * 1000.0);
        p.drain(Duration::from_millis(50));
    }
    report(&format!("F5 to 1,000 rows visible ({engine})"), f5);
    let [hwm, rss, anon, file] = p.memory().map(|k| k as f64 / 1024.0);
    let label = format!("memory with the 1,000 rows ({engine})");
    println!(
        "{label:<44} peak {hwm:>6.1} MiB   now {rss:>6.1} MiB (heap and stacks {anon:.1}, code and files {file:.1})",
    );
    p.quit();
}

fn main() {
    let c = pg::shared();
    let db = pg::unique("bench");
    c.psql("postgres", &format!("CREATE DATABASE \"{db}\""));
    c.psql(
        &db,
        "CREATE TABLE orders AS
         SELECT g AS id, 'customer ' || (g % 97) AS customer, (g * 1.37)::numeric(10,2) AS total,
                CASE WHEN g % 3 = 0 THEN 'EUR' ELSE 'USD' END AS currency,
                CASE WHEN g % 4 = 0 THEN 'shipped' ELSE 'pending' END AS status,
                timestamptz '2026-01-01 00:00:00+00' + g * interval '37 minutes' AS created_at,
                CASE WHEN g % 11 = 0 THEN NULL ELSE 'note for order ' || g END AS note,
                g % 2 = 0 AS paid, md5(g::text) AS token, g * 7 AS quantity
         FROM generate_series(1, 5000) g;",
    );
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let mut conn = c.connection_json(&db, pg::SUPERUSER, c.superuser_password());
    conn["table"] = json!("orders");
    add_source(
        &home,
        &json!({"name": "bench", "source_type": "postgres", "connection": conn}),
    );

    // The same table in MariaDB, in a home of its own.
    let m = mariadb::shared();
    let mdb = mariadb::unique("bench");
    m.create_database(&mdb);
    m.sql(
        &mdb,
        "CREATE TABLE orders AS
         SELECT seq AS id, CONCAT('customer ', seq % 97) AS customer,
                CAST(seq * 1.37 AS DECIMAL(10,2)) AS total,
                IF(seq % 3 = 0, 'EUR', 'USD') AS currency,
                IF(seq % 4 = 0, 'shipped', 'pending') AS status,
                TIMESTAMP '2026-01-01 00:00:00' + INTERVAL seq * 37 MINUTE AS created_at,
                IF(seq % 11 = 0, NULL, CONCAT('note for order ', seq)) AS note,
                seq % 2 = 0 AS paid, MD5(seq) AS token, seq * 7 AS quantity
         FROM seq_1_to_5000",
    );
    let mhome = dir.path().join("home-mariadb");
    let mut conn = m.connection_json(&mdb, mariadb::ROOT_USER, m.root_password());
    conn["table"] = json!("orders");
    add_source(
        &mhome,
        &json!({"name": "bench", "source_type": "mariadb", "connection": conn}),
    );

    // First frame, and the first frame with the registry's sources in it.
    let (mut first, mut listed) = (Vec::new(), Vec::new());
    for _ in 0..20 {
        let t0 = Instant::now();
        let mut p = Pty::spawn(&mut tdb(&home));
        let t1 = p.wait_for(0, "quit");
        let t2 = p.wait_for(0, "bench");
        first.push((t1 - t0).as_secs_f64() * 1000.0);
        listed.push((t2 - t0).as_secs_f64() * 1000.0);
        p.quit();
    }
    report("first frame (spawn to frame written)", first);
    report("first frame listing the sources", listed);

    f5_to_rows(&home, "PostgreSQL");
    f5_to_rows(&mhome, "MariaDB");
}
