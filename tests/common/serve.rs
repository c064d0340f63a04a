//! A real `tdb serve` on a free loopback port, and a small HTTP/1.1 client over a plain TCP
//! socket: it sends exactly the bytes a test gives (a seed's body verbatim, a 1 MiB body,
//! a broken header) and reads whatever comes back.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::process::{tdb, text};

/// A server process; SIGTERM'd and waited for on drop.
pub struct Server {
    child: Option<Child>,
    pub addr: SocketAddr,
    pub home: PathBuf,
    /// Everything the server wrote on stderr so far.
    stderr: Arc<Mutex<String>>,
}

/// One answer.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}), status {}: {}", self.status, self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn detail(&self) -> String {
        self.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Makes a key on `home` with `args` after the name; returns the `tdbk_…` key.
pub fn create_key(home: &Path, name: &str, args: &[&str]) -> String {
    let out = tdb(home)
        .args(["key", "create", name, "--json"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["key"].as_str().unwrap().to_string()
}

impl Server {
    pub fn start(home: &Path) -> Server {
        Server::start_with(home, &[])
    }

    /// Starts `tdb serve ARGS` (on `--listen 127.0.0.1:0` unless ARGS say where) and waits
    /// for its listening line.
    pub fn start_with(home: &Path, args: &[&str]) -> Server {
        let mut cmd = tdb(home);
        cmd.arg("serve");
        if !args.contains(&"--listen") {
            cmd.args(["--listen", "127.0.0.1:0"]);
        }
        let mut child = cmd
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start tdb serve");
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let mut err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        out.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .rsplit("://")
            .next()
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "tdb serve did not say where it listens: {line:?}; stderr: {}",
                    stderr.lock().unwrap()
                )
            });
        // Keep the pipe open so a later line cannot kill the server with SIGPIPE.
        std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
        Server {
            child: Some(child),
            addr,
            home: home.to_path_buf(),
            stderr,
        }
    }

    /// Sends one request on a fresh connection and reads the whole answer.
    pub fn request(&self, method: &str, path: &str, key: Option<&str>, body: Option<&str>) -> Resp {
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if let Some(k) = key {
            head.push_str(&format!("Authorization: Bearer {k}\r\n"));
        }
        let body = body.unwrap_or("");
        if !body.is_empty() || method == "POST" || method == "PATCH" {
            head.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        head.push_str("\r\n");
        let mut raw = head.into_bytes();
        raw.extend_from_slice(body.as_bytes());
        self.raw(&raw)
    }

    pub fn get(&self, path: &str, key: &str) -> Resp {
        self.request("GET", path, Some(key), None)
    }

    pub fn post(&self, path: &str, key: &str, body: &str) -> Resp {
        self.request("POST", path, Some(key), Some(body))
    }

    /// Sends these bytes as they are and parses the answer.
    pub fn raw(&self, bytes: &[u8]) -> Resp {
        let mut s = TcpStream::connect(self.addr).expect("connect to tdb serve");
        s.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
        s.write_all(bytes).expect("send the request");
        let mut got = Vec::new();
        s.read_to_end(&mut got).expect("read the answer");
        parse(&got)
    }

    /// What the server wrote on stderr so far.
    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The server's process id, to signal it.
    pub fn pid(&self) -> libc::pid_t {
        let child = self.child.as_ref().expect("the server is running");
        libc::pid_t::try_from(child.id()).unwrap()
    }

    /// SIGTERM, then waits for the process; returns its exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        // SAFETY: kill only sends a signal to the child this struct started.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        child.wait().ok().and_then(|s| s.code())
    }

    /// The server's own log file (`<home>/tdb.log`), if it wrote one.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.home.join("tdb.log")).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn parse(raw: &[u8]) -> Resp {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no header end in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let rest = &raw[split + 4..];
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked {
        dechunk(rest)
    } else {
        rest.to_vec()
    };
    Resp {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = rest.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size_text = String::from_utf8_lossy(&rest[..eol]).into_owned();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            return out;
        }
        let start = eol + 2;
        out.extend_from_slice(&rest[start..start + size]);
        rest = &rest[start + size + 2..];
    }
}
